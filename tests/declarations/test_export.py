"""The municipal export's pieces: dates in the office's zone, cells safe for Excel."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from talentadmin import create_app
from talentadmin.core.export import csv_chunks, safe_cell
from talentadmin.declarations.export import _local_dates

from .test_review import IDS, _complete_all, three  # noqa: F401 - fixture


@pytest.mark.parametrize("zone_name", ["Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu",
                                       "America/New_York", "Australia/Lord_Howe"])
def test_local_times_match_a_full_conversion(tmp_path, zone_name):
    """The per-hour offset cache gives what a full conversion gives, in zones with half- and
    quarter-hour offsets and with daylight saving (Lord Howe moves by 30 minutes); the
    export's dates use it in the office's zone."""
    from zoneinfo import ZoneInfo

    from talentadmin.core.timeutil import local_formatter

    zone = ZoneInfo(zone_name)
    local = local_formatter(zone, "%Y-%m-%d %H:%M")
    rnd = random.Random(zone_name)
    start = datetime(2026, 1, 1)
    moments = [start + timedelta(seconds=rnd.randrange(366 * 86400)) for _ in range(20000)]
    moments += [start + timedelta(minutes=m) for m in range(0, 366 * 1440, 15)]
    for moment in moments:
        expected = moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        assert local(moment) == expected, moment
    assert local(None) == ""
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x",
                      "INSTANCE_PATH": str(tmp_path), "BABEL_DEFAULT_TIMEZONE": zone_name})
    with app.test_request_context():
        assert _local_dates()(moments[0]) == expected_date(moments[0], zone)


def expected_date(moment, zone) -> str:
    return moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d")


def test_csv_cells_are_escaped_as_safe_cell_does():
    row = ["=SUM(A1)", "+1", "-2", "@x", "\tTab", "\rCR", "plain", None, 42, "中文"]
    text = "".join(csv_chunks(["h"] * len(row), [row], per_chunk=1))
    assert text.startswith("\ufeff")
    body = text.split("\r\n", 1)[1]
    import csv
    import io

    (cells,) = list(csv.reader(io.StringIO(body)))
    assert cells == [str(safe_cell(value)) for value in row]


# --- long numbers stay text in Excel; the unit's data beside each person ---------------------

UNIT_COLUMNS = ["单位资质", "注册地所在区", "纳税所在区", "从事领域", "单位联系人", "联系电话"]
UNIT_VALUES = ["高新技术企业", "朝阳区", "朝阳区", "人工智能", "王经办", "13900001111"]


def _csv_table(client, query: str = "") -> list[list[str]]:
    import csv
    import io

    response = client.get(f"/admin/declaration_all/municipal/csv/{query}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def _xlsx_rows(client, query: str = "") -> list:
    import io

    from openpyxl import load_workbook

    response = client.get(f"/admin/declaration_all/municipal/xlsx/{query}")
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows())


def test_excel_text_marks_digit_strings_only():
    from talentadmin.core.export import excel_text

    assert excel_text("110105198001010016") == "\t110105198001010016"
    assert excel_text("13900001111") == "\t13900001111"
    assert excel_text("0101") == "\t0101"  # a leading zero Excel would drop
    for kept in ("11010519491231002X", "91110105MA01R8DQ2M", "１２３", "", "12.5", "1e5",
                 "'=1+2", None, 42):
        assert excel_text(kept) == kept


def test_text_columns_keep_the_injection_guard():
    """The tab goes to digit strings only, after the guard: a formula or a typed leading tab
    in a text column still gets its apostrophe, and columns not named are left alone."""
    import csv
    import io

    row = ["=1+2", "\t123", "110105198001010016", "110105198001010016", "-1"]
    text = "".join(csv_chunks(["h"] * 5, [row], text_columns=(0, 1, 2, 4)))
    (_, cells) = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert cells == ["'=1+2", "'\t123", "\t110105198001010016", "110105198001010016", "'-1"]


def test_csv_keeps_id_and_mobile_numbers_text_for_excel(client, staff_login, three):  # noqa: F811
    """Read back as a spreadsheet reads it: each ID number of digits only (and the contact's
    mobile) starts with a tab, so Excel shows all 18 digits; an ID ending in X and a credit
    code with letters are text already; stripped, every cell is the number itself."""
    _complete_all(client, three, staff_login)
    table = _csv_table(client)
    header = table[0]
    ids = [row[header.index("身份证号")] for row in table[1:]]
    assert ids == [IDS[0], *("\t" + number for number in IDS[1:])]
    assert [cell.strip() for cell in ids] == IDS
    assert {row[header.index("联系电话")] for row in table[1:]} == {"\t13900001111"}
    assert {row[header.index("统一社会信用代码")] for row in table[1:]} == {"91110105MA01R8DQ2M"}
    assert table[1][header.index("最高学历(学位)所在院校")] == "'=HYPERLINK(\"x\")"
    assert [row[0] for row in table[1:]] == ["1", "2", "3"]  # numbers stay numbers


def test_xlsx_keeps_long_numbers_as_string_cells(client, staff_login, three):  # noqa: F811
    _complete_all(client, three, staff_login)
    rows = _xlsx_rows(client)
    header = [cell.value for cell in rows[0]]
    for title in ("身份证号", "统一社会信用代码", "联系电话"):
        cells = [row[header.index(title)] for row in rows[1:]]
        assert {cell.data_type for cell in cells} == {"s"}, title
    assert [row[header.index("身份证号")].value for row in rows[1:]] == IDS  # no tab here
    assert rows[1][header.index("联系电话")].value == "13900001111"
    assert rows[1][0].data_type == "n" and rows[1][0].value == 1


@pytest.mark.parametrize("language", ["zh", "en"])
def test_unit_columns_in_both_files_in_either_language(client, staff_login, three,  # noqa: F811
                                                       language):
    """The unit's business permission beside each person, after the sixteen columns the
    bureau already reads; the layout is the bureau's, in Chinese, whichever language the
    supervisor's back office speaks."""
    from ..conftest import csrf_in

    _complete_all(client, three, staff_login)
    if language == "en":
        page = client.get("/admin/declaration_all/").get_data(as_text=True)
        client.post("/language/en", data={"csrf_token": csrf_in(page)})
        assert "Export CSV" in client.get("/admin/declaration_all/").get_data(as_text=True)
    table = _csv_table(client)
    assert table[0][16:22] == UNIT_COLUMNS and table[0][:5] == [
        "序号", "单位名称", "统一社会信用代码", "姓名", "身份证号"]
    for row in table[1:]:
        assert [cell.strip() for cell in row[16:22]] == UNIT_VALUES
    rows = _xlsx_rows(client)
    assert [cell.value for cell in rows[0]][16:22] == UNIT_COLUMNS
    for row in rows[1:]:
        assert [cell.value for cell in row[16:22]] == UNIT_VALUES


def test_unit_columns_of_a_unit_without_a_permit_in_force_are_empty(app, client, staff_login,
                                                                   three):  # noqa: F811
    """A declaration whose unit has no business permission in force (one imported from the
    old system) exports with its unit columns empty — never dropped, never a 500."""
    from sqlalchemy import update

    from talentadmin.extensions import db
    from talentadmin.permits.models import Permit

    _complete_all(client, three, staff_login)
    with app.app_context():
        db.session.execute(update(Permit).values(in_force_id=None))
        db.session.commit()
    table = _csv_table(client)
    assert len(table) == 4 and all(row[16:22] == [""] * 6 for row in table[1:])
    rows = _xlsx_rows(client)
    assert len(rows) == 4 and all(cell.value is None for row in rows[1:] for cell in row[16:22])


def test_the_export_page_says_which_file_is_for_excel(client, staff_login, three):  # noqa: F811
    from ..conftest import csrf_in

    _complete_all(client, three, staff_login)
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_in(page)})
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    assert "Excel: open the XLSX. The CSV is for other systems." in page
    assert 'id="municipal-zip"' in page and "Export attachments (ZIP)" in page
    assert 'href="/admin/declaration_all/municipal/zip/"' in page


# --- the names inside the ZIP of attachments -------------------------------------------------

def test_zip_names_follow_the_guide_and_are_safe_and_unique():
    from talentadmin.declarations.export import NAME_LIMIT, ZipNames

    names = ZipNames()
    assert names.name("北京云帆智联科技有限公司", "张三", "学历证书", ".pdf") == \
        "北京云帆智联科技有限公司-张三-学历证书.pdf"
    assert names.name("北京云帆智联科技有限公司", "张三", "学历证书", ".pdf") == \
        "北京云帆智联科技有限公司-张三-学历证书 (2).pdf"
    assert names.name("北京云帆智联科技有限公司", "张三", "学历证书", ".pdf") == \
        "北京云帆智联科技有限公司-张三-学历证书 (3).pdf"
    assert names.name("北京云帆智联科技有限公司", "张三", "学历证书", ".png") == \
        "北京云帆智联科技有限公司-张三-学历证书.png"  # another type: another name
    assert names.name("Acme Ltd", "J. Smith", "cv", ".pdf") == "Acme Ltd-J. Smith-cv.pdf"
    assert names.name("ACME LTD", "j. smith", "CV", ".pdf") == "ACME LTD-j. smith-CV (2).pdf"
    assert names.name("A/B", "C\\D", "../..", ".pdf") == "A_B-C_D-.._.pdf"
    assert names.name("..", "", "", ".pdf") == "--.pdf"  # no leading dot
    odd = names.name("单位\u202efdp.exe", "王\x00五\n六", 'a<b>c:"d"|e?f*', ".pdf")
    assert odd == "单位fdp.exe-王五 六-a_b_c__d__e_f_.pdf"
    long = names.name("长" * 300, "名", "材料", ".pdf")
    assert long == "长" * NAME_LIMIT + ".pdf"
    private_use = names.name("单位", "王\ue000", "材料", ".jpg")  # a rare character kept
    assert private_use == "单位-王\ue000-材料.jpg"
    for name in names.taken:
        assert "/" not in name and "\\" not in name and not name.startswith(".")
