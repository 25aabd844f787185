"""Spreadsheet exports that Excel on Chinese Windows opens correctly, at any size.

CSV: UTF-8 with a BOM, generated row by row as the response streams. XLSX: openpyxl's
write-only mode into a temporary file, then streamed. Rows come from an iterator (a
``yield_per`` query), never a list.

Every text cell of both goes through ``safe_text()`` (OWASP's rule against CSV injection):

* control characters are dropped — C0 and C1 (NUL included), DEL, lone surrogates and the
  non-characters U+FFFE/U+FFFF, none of which XML (so XLSX) can hold — except the tab and
  the line feed; a carriage return becomes a line feed (CR LF one line feed);
* a cell that begins with a tab or a line feed, or whose first character after any leading
  whitespace and invisible format characters is ``=``, ``+``, ``-`` or ``@`` (or one of
  their compatibility forms, such as the full-width ``＝``), is prefixed with an apostrophe,
  so no spreadsheet reads it as a formula.

XLSX text cells are written as strings (cell type ``s``), never as formulas or error values.

Long digit strings (ID numbers, credit codes, mobile numbers) stay text in Excel:

* XLSX keeps the type: a ``str`` is a string cell, ``110105198001010016`` shows in full. It
  is the file to open in Excel (the export page says so).
* CSV has no types: Excel reads ``110105198001010016`` as a number, shows ``1.10105E+17``
  and, saved back, writes ``110105198001010000`` (15 significant digits). In the columns a
  caller names (``text_columns``), a value made only of ASCII digits is written with a
  leading tab (``"\\t110105198001010016"``): Excel takes the cell as text and shows every
  digit. Of the two conventions in use, the tab and not ``="110105198001010016"``: that
  is a formula, the very thing the guard above keeps out of every cell (LibreOffice, and
  scanners that look for formulas, show or flag it as one), and a system reading the CSV
  would get ``="…"`` where the tab is whitespace that importers strip. The tab is added
  after ``safe_text()``, only to digit strings, so it never hides a formula (a text a
  user typed that starts with a tab still gets its apostrophe).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from urllib.parse import quote

from flask import Response, stream_with_context

# Every character whose NFKC form starts with = + - @ (a test checks it against the whole
# Unicode table): the ASCII four, their superscript, subscript, small and full-width forms.
FORMULA_CHARS = tuple("=+-@\u207a\u207c\u208a\u208c\u2a75\u2a76\ufb29\ufe62\ufe63\ufe66"
                      "\ufe6b\uff0b\uff0d\uff1d\uff20")
# A printable text (``str.isprintable()``: no control, format, surrogate or separator
# character but the ASCII space) needs a closer look only when it starts with one of these.
_RISKY_STARTS = frozenset((*FORMULA_CHARS, " "))
_DROPPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
BOM = "\ufeff"


def safe_text(text: str) -> str:
    """``text`` as a spreadsheet may hold it: control characters dropped, and a leading
    apostrophe where it could otherwise start a formula (see the module's docstring)."""
    if text.isprintable():
        return "'" + text if text.lstrip(" ").startswith(FORMULA_CHARS) else text
    text = _DROPPED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if text.startswith(("\t", "\n")):
        return "'" + text
    for char in text:
        if not (char.isspace() or unicodedata.category(char) == "Cf"):
            return "'" + text if char in FORMULA_CHARS else text
    return text


def safe_cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    return value


def excel_text(value) -> object:
    """``value`` for a CSV cell Excel must keep as text: a string of ASCII digits gets a
    leading tab (see the module's docstring); anything else is returned unchanged."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return "\t" + value
    return value


def csv_chunks(header: list[str], rows: Iterable[list], per_chunk: int = 500, *,
               text_columns: Iterable[int] = ()) -> Iterator[str]:
    """The CSV text in chunks of ``per_chunk`` rows. Each cell as ``safe_cell()`` makes it,
    the common case (printable text with a harmless first character, a number, ``None``,
    which the csv module writes empty) decided inline: a function call per cell was a
    third of the export's time. The cells of ``text_columns`` (indexes) then go through
    ``excel_text()``."""
    text_columns = tuple(text_columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(title) for title in header])
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        cells = [value if not isinstance(value, str) or (
            value[:1] not in _RISKY_STARTS and value.isprintable())
            else safe_text(value) for value in row]
        for index in text_columns:
            cells[index] = excel_text(cells[index])
        writer.writerow(cells)
        pending += 1
        if pending == per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, header: list[str], rows: Iterable[list], *,
                 text_columns: Iterable[int] = ()) -> Response:
    response = Response(stream_with_context(csv_chunks(header, rows,
                                                       text_columns=text_columns)),
                        mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = _disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def xlsx_file(header: list[str], rows: Iterable[list], *, sheet: str = "Sheet1"):
    """A temporary file holding the workbook (write-only mode: rows are not kept)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)

    def text_cell(text: str):
        """A string cell whatever the text; no cell for no text. openpyxl types a ``str``
        as a string (``s``) unless it starts with ``=`` (a formula; after ``safe_text()``
        none does) or is an error code such as ``#N/A``: those are made string cells
        explicitly. (A cell object for every text costs a quarter of the export's time.)"""
        text = safe_text(text)
        if not text:
            return None
        if text[0] not in "=#":
            return text
        cell = WriteOnlyCell(worksheet, text)
        cell.data_type = "s"
        return cell

    bold = Font(bold=True)
    head = []
    for title in header:
        cell = WriteOnlyCell(worksheet, safe_text(title) or None)
        cell.data_type = "s"
        cell.font = bold
        head.append(cell)
    worksheet.append(head)
    for row in rows:
        worksheet.append([text_cell(value) if isinstance(value, str) else value
                          for value in row])
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, closed there
    workbook.save(out)
    out.seek(0)
    return out


def xlsx_response(filename: str, header: list[str], rows: Iterable[list]) -> Response:
    out = xlsx_file(header, rows)

    def chunks():
        try:
            while block := out.read(64 * 1024):
                yield block
        finally:
            out.close()

    response = Response(
        chunks(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = _disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
