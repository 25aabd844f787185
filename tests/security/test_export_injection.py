"""No exported cell runs as a formula (OWASP's CSV injection rule), in CSV and XLSX alike.

The property: for any cell texts (unicode with control characters, NUL, leading whitespace,
formula characters and their full-width forms), every cell of both files, once leading
whitespace is skipped, begins with something other than ``= + - @`` (the escaping puts an
apostrophe first), begins with no tab or line break, holds no control character but the tab
and the line feed, says what was typed otherwise; and openpyxl reads every XLSX text cell back
as a string (type ``s``), never a formula or an error value. 200 examples by default
(XLSX: 50 larger ones), 10,000 each under ``--slow``. Then the same end to end: typed through the portal, exported by the
supervisor.
"""

from __future__ import annotations

import csv
import io
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from talentadmin.core.export import FORMULA_CHARS, csv_chunks, safe_text, xlsx_file
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import SLOW_EXAMPLES, csrf_in
from ..declarations.test_portal import declaration_data
from ..declarations.test_review import bulk

FORMULA_STARTS = "=+-@"
# What a hostile or careless user puts in front: spaces of every kind, control characters,
# invisible format characters.
LEADS = st.text(st.sampled_from(" \t\r\n\x00\x01\x08\x0b\x0c\x1b\x1f\x7f\x85\x9f\xa0\u2028"
                                "\u3000\u200b\u200e\u202e\u2060\ufeff"), max_size=4)
STARTS = st.sampled_from(["", "=", "+", "-", "@", "＝", "＋", "－", "＠", "﹦", "⁼", "'",
                          "=1+2", '=HYPERLINK("http://x","y")', "@SUM(A1)", "-2+3", "#N/A",
                          "#DIV/0!", "=\x00", "\x00"])
TEXTS = st.one_of(st.builds(lambda lead, start, rest: lead + start + rest,
                            LEADS, STARTS, st.text(max_size=20)),
                  st.text(max_size=40))
CELLS = st.one_of(TEXTS, TEXTS, TEXTS, st.none(), st.integers(-10**6, 10**6))


def kept(text: str) -> str:
    """What of ``text`` a file may hold: control characters (and the non-characters XML
    refuses) dropped but the tab and the line feed; CR LF and CR as a line feed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(char for char in text if char in "\t\n" or not (
        unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff"))


def needs_apostrophe(text: str) -> bool:
    """OWASP's rule, on what the file may hold: a leading tab or line break, or ``= + - @``
    (or a compatibility form) first after whitespace and invisible format characters."""
    if text.startswith(("\t", "\n")):
        return True
    for char in text:
        if not (char.isspace() or unicodedata.category(char) == "Cf"):
            return unicodedata.normalize("NFKC", char)[0] in FORMULA_STARTS
    return False


def assert_safe(cell: str, typed) -> None:
    """``cell`` as a spreadsheet reads it cannot start a formula."""
    assert not cell.startswith(("\t", "\r", "\n")), (cell, typed)
    visible = cell.lstrip()
    assert not visible or unicodedata.normalize("NFKC", visible[0])[0] not in FORMULA_STARTS, (
        cell, typed)
    assert all(char in "\t\n" or unicodedata.category(char) not in ("Cc", "Cs")
               for char in cell), (cell, typed)


def expected(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    return ("'" if needs_apostrophe(kept(value)) else "") + kept(value)


def check_csv(header: list[str], rows: list[list]) -> None:
    text = "".join(csv_chunks(header, rows, per_chunk=3))
    assert "\x00" not in text
    table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert table == [[expected(value) for value in row] for row in [header, *rows]]
    for written, typed in zip(table, [header, *rows], strict=True):
        for cell, value in zip(written, typed, strict=True):
            if isinstance(value, str):  # numbers are numbers: -1 stays -1
                assert_safe(cell, value)


def check_xlsx(header: list[str], rows: list[list]) -> None:
    with xlsx_file(header, rows) as out:
        sheet = load_workbook(out).active
        table = sheet.iter_rows(max_row=len(rows) + 1, max_col=len(header))
        for written, typed in zip(table, [header, *rows], strict=True):
            for cell, value in zip(written, typed, strict=True):
                if isinstance(value, str) and expected(value):
                    assert cell.data_type == "s", (value, cell.value, cell.data_type)
                    assert cell.value == expected(value)
                    assert_safe(cell.value, value)
                elif value is None or isinstance(value, str):  # nothing left: no cell
                    assert cell.value is None
                else:
                    assert (cell.value, cell.data_type) == (value, "n")


def export_property(check, max_examples: int, max_rows: int):
    @settings(max_examples=max_examples)
    @given(header=st.lists(TEXTS, min_size=3, max_size=3),
           rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1,
                         max_size=max_rows))
    def run(header, rows):
        check(header, rows)

    return run


def test_csv_cells_never_start_a_formula():
    export_property(check_csv, 200, 8)()


def test_xlsx_cells_are_strings_never_formulas():
    """A workbook costs some 30 ms to write and read: fewer, larger examples by default."""
    export_property(check_xlsx, 50, 30)()


@pytest.mark.slow
def test_csv_cells_never_start_a_formula_long():
    export_property(check_csv, SLOW_EXAMPLES, 8)()


@pytest.mark.slow
def test_xlsx_cells_are_strings_never_formulas_long():
    export_property(check_xlsx, SLOW_EXAMPLES, 8)()


def test_formula_characters_cover_every_compatibility_form():
    """The escaping's table is every character whose NFKC form starts with = + - @."""
    found = {chr(code) for code in range(sys.maxunicode + 1)
             if not 0xD800 <= code < 0xE000
             and unicodedata.normalize("NFKC", chr(code))[:1] in tuple(FORMULA_STARTS)}
    assert set(FORMULA_CHARS) == found


@pytest.mark.parametrize(("typed", "written"), [
    ("\x01=1+2", "'=1+2"),
    ('\x00=HYPERLINK("x")', '\'=HYPERLINK("x")'),
    ("  \u3000=1", "'  \u3000=1"),
    ("\u200b@SUM(A1)", "'\u200b@SUM(A1)"),
    ("\tTab", "'\tTab"),
    ("\r\n+1", "'\n+1"),
    ("＝1+2", "'＝1+2"),
    ("a\r\nb\x00c\x85", "a\nbc"),
    ("\ud800=1", "'=1"),
    ("#N/A", "#N/A"),
    ("清华大学", "清华大学"),
    (" 1", " 1"),
])
def test_safe_text(typed, written):
    assert safe_text(typed) == written


TYPED = {"name": '\x00=HYPERLINK("x")', "school": "\x01=1+2", "major": "\x1b@SUM(A1)",
         "title": "\t-2+3"}


def test_formulas_typed_in_the_portal_leave_as_text(app, client, permitted, open_round, portal,
                                                   staff_login):
    """Control characters go at the form; the export then escapes what they hid."""
    permitted("13800138000")
    response = portal.post_multipart("/talent/declarations/new", declaration_data(**TYPED))
    assert response.status_code == 302
    with app.app_context():
        declaration = db.session.execute(select(Declaration)).scalar_one()
        stored = {name: getattr(declaration, name) for name in TYPED}
    assert stored == {"name": '=HYPERLINK("x")', "school": "=1+2", "major": "@SUM(A1)",
                      "title": "-2+3"}
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("boss", "initial_reviewer", "second_reviewer", "supervisor")
    bulk(client, "declaration_initial", "pass_initial", [declaration.id])
    bulk(client, "declaration_second", "pass_second", [declaration.id])

    response = client.get("/admin/declaration_all/municipal/csv/")
    assert response.status_code == 200 and b"\x00" not in response.get_data()
    header, row = csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")))
    cells = dict(zip(header, row, strict=True))
    assert (cells["姓名"], cells["职称"], cells["最高学历(学位)所在院校"], cells["所学专业"]) == (
        "'=HYPERLINK(\"x\")", "'-2+3", "'=1+2", "'@SUM(A1)")

    response = client.get("/admin/declaration_all/municipal/xlsx/")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows())
    assert len(rows) == 2
    assert {cell.data_type for row in rows for cell in row} <= {"s", "n"}
    written = {head.value: cell.value for head, cell in zip(rows[0], rows[1], strict=True)}
    assert written["姓名"] == "'=HYPERLINK(\"x\")" and written["所学专业"] == "'@SUM(A1)"
    assert written["最高学历(学位)所在院校"] == "'=1+2" and written["职称"] == "'-2+3"
