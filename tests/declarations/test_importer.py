"""``flask import-legacy``: declarations of the old system, kept without their permissions."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from talentadmin.certification.models import Certification
from talentadmin.core.models import AuditEvent, StatusChange
from talentadmin.core.validators import age_on, credit_code_check_char, id_check_char
from talentadmin.declarations import importer as legacy
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.permits.models import Permit, PermitRevision

from ..conftest import UNIT, UNIT_CODE

ROUND = "2026年引进人才需求申报"  # the name the open_round fixture gives
OTHER_UNIT = "北京星河数智科技有限公司"
OTHER_CODE = "91110108MA0000000" + credit_code_check_char("91110108MA0000000")
NOBODY_CODE = "91110000100000000" + credit_code_check_char("91110000100000000")
BAD_CODE = NOBODY_CODE[:17] + ("0" if NOBODY_CODE[17] != "0" else "1")  # wrong check char
HEADER = ["序号", "单位名称", "统一社会信用代码", "姓名", "身份证号", "性别", "年龄", "政治面貌",
          "职称", "最高学历", "最高学位", "院校", "所学专业", "引进依据及条件", "状态", "批次"]
ENGLISH = ["no", "unit_name", "credit_code", "name", "id_number", "gender", "age",
           "political_status", "title", "education", "degree", "school", "major", "condition",
           "status", "round"]


def make_id(born: date, seq: str = "001", area: str = "110105") -> str:
    """A GB 11643 number; an odd third digit of ``seq`` is a man, even a woman."""
    first17 = f"{area}{born:%Y%m%d}{seq}"
    return first17 + id_check_char(first17)


MAN = make_id(date(1985, 6, 15), "011")
WOMAN = make_id(date(1990, 3, 8), "022")
THIRD = make_id(date(1979, 11, 30), "035")


def row(no: int = 1, **values) -> list:
    data = {
        "序号": str(no), "单位名称": UNIT, "统一社会信用代码": UNIT_CODE, "姓名": "张三",
        "身份证号": MAN, "性别": "", "年龄": "", "政治面貌": "中共党员", "职称": "高级工程师",
        "最高学历": "研究生（博士）", "最高学位": "博士", "院校": "清华大学",
        "所学专业": "计算机科学与技术", "引进依据及条件": "拥有发明专利（专利条款）",
        "状态": "待审核", "批次": ROUND,
    }
    data.update(values)
    return [data[name] for name in HEADER] + data.get("_extra", [])


def write_csv(path, rows, *, header=HEADER, encoding="utf-8-sig"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, rows, *, header=HEADER):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    workbook.save(path)
    return path


@pytest.fixture
def cli(app, runner):
    """Invoke ``flask import-legacy``."""

    def invoke(*args):
        result = runner.invoke(args=["import-legacy", *map(str, args)])
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.exception
        return result

    return invoke


@pytest.fixture
def unit(certified, open_round):
    return certified()


def counts(app) -> dict:
    with app.app_context():
        return {model.__name__: db.session.execute(select(func.count()).select_from(model))
                .scalar_one() for model in (Declaration, StatusChange, AuditEvent, Permit,
                                            PermitRevision)}


def imported(app) -> list[Declaration]:
    with app.app_context():
        found = list(db.session.execute(select(Declaration).order_by(Declaration.id)).scalars())
        db.session.expunge_all()
        return found


def test_good_rows_are_imported_with_their_status_and_encrypted_ids(app, cli, unit, tmp_path):
    path = write_csv(tmp_path / "old.csv", [
        row(1, 状态="待审核", 单位名称="云帆智联（旧名）"),
        row(2, 姓名="李四", 身份证号=WOMAN, 性别="女", 年龄=str(age_on(date(1990, 3, 8),
                                                                     date.today())),
            状态="已完成", 政治面貌="群众", 最高学历="大学本科", 最高学位="学士",
            引进依据及条件="具有高级专业技术职称"),
        row(3, 姓名="王五", 身份证号=THIRD, 状态="未通过", 职称="", 院校="", 所学专业=""),
    ])
    result = cli(path)
    assert result.exit_code == 0, result.output
    declarations = imported(app)
    lines = result.output.splitlines()
    assert lines[:3] == [
        f"row 2: imported as declaration #{declarations[0].id} (张三, {MAN[:4]}**********"
        f"{MAN[-4:]}); note: 单位名称 in the file '云帆智联(旧名)' differs from the certified "
        f"'{UNIT}' (the certified name is kept)",
        f"row 3: imported as declaration #{declarations[1].id} (李四, {WOMAN[:4]}**********"
        f"{WOMAN[-4:]})",
        f"row 4: imported as declaration #{declarations[2].id} (王五, {THIRD[:4]}**********"
        f"{THIRD[-4:]})",
    ]
    assert lines[-1] == "imported 3, refused 0"
    for number in (MAN, WOMAN, THIRD):  # never a full ID number on the screen
        assert number not in result.output

    first, second, third = declarations
    assert [d.status for d in declarations] == ["pending_initial", "completed", "rejected"]
    assert {d.enterprise_user_id for d in declarations} == {unit}
    assert {(d.unit_name, d.credit_code) for d in declarations} == {(UNIT, UNIT_CODE)}
    with app.app_context():
        assert [db.session.get(Declaration, d.id).id_number for d in declarations] == \
            [MAN, WOMAN, THIRD]
    assert all(MAN.encode() not in (d.id_number_enc or b"") for d in declarations)
    assert first.id_masked == f"{MAN[:4]}**********{MAN[-4:]}"
    assert (first.gender, first.age) == ("male", age_on(date(1985, 6, 15), date.today()))
    assert (second.gender, second.name) == ("female", "李四")
    assert (first.political_status, first.education, first.degree, first.condition) == \
        ("01", "10", "2", "patent")
    assert (second.political_status, second.education, second.degree, second.condition) == \
        ("13", "20", "4", "senior_title")
    assert (first.title, first.school, first.major) == ("高级工程师", "清华大学", "计算机科学与技术")
    assert (third.title, third.school) == (None, None)
    assert third.reason == "旧系统导入" and first.reason is None
    assert all(d.submitted_at is not None and not d.duplicate for d in declarations)

    with app.app_context():
        timeline = list(db.session.execute(select(StatusChange).order_by(StatusChange.id))
                        .scalars())
        events = list(db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "declaration.import")
            .order_by(AuditEvent.id)).scalars())
        run = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "declaration.import_file")).scalar_one()
    assert [(c.target_id, c.action, c.from_status, c.to_status, c.actor_type)
            for c in timeline] == [(d.id, "import", None, d.status, "system")
                                   for d in declarations]
    assert [(e.target_type, e.target_id, e.actor_type) for e in events] == \
        [("declaration", d.id, "system") for d in declarations]
    assert events[0].detail["row"] == 2 and events[0].detail["status"] == "pending_initial"
    for event in (*events, run):
        assert not any(n in str(event.detail) for n in (MAN, WOMAN, THIRD))
    assert run.detail == {"source": "old.csv", "rows": 3, "imported": 3, "refused": 0}
    # the business permission is not carried over: it must be opened again (guide 三.3)
    assert counts(app)["Permit"] == counts(app)["PermitRevision"] == 0


def test_a_wrong_header_imports_nothing(app, cli, unit, tmp_path):
    swapped = HEADER.copy()
    swapped[3], swapped[4] = swapped[4], swapped[3]
    before = counts(app)
    result = cli(write_csv(tmp_path / "swapped.csv", [row(1)], header=swapped))
    assert result.exit_code != 0
    assert "column 4 is '身份证号', not '姓名'" in result.output
    assert ", ".join(HEADER) in result.output  # the expected columns are named
    assert "Nothing was imported" in result.output
    assert counts(app) == before

    result = cli(write_csv(tmp_path / "short.csv", [row(1)[:10]], header=HEADER[:10]))
    assert result.exit_code != 0 and "missing the columns 最高学位, 院校, 所学专业" in result.output
    result = cli(write_csv(tmp_path / "extra.csv", [row(1, _extra=["x"])],
                           header=[*HEADER, "备注"]))
    assert result.exit_code != 0 and "unexpected column 17 '备注'" in result.output
    assert counts(app) == before


def test_unreadable_files_import_nothing(app, cli, unit, tmp_path):
    before = counts(app)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip at all")
    result = cli(broken)
    assert result.exit_code != 0 and "unreadable XLSX file" in result.output
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\xff\xfe\xff\x00\x81")
    result = cli(garbage)
    assert result.exit_code != 0 and "neither UTF-8 nor GB18030" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert cli(empty).exit_code != 0
    other = tmp_path / "old.txt.json"
    other.write_text("{}")
    assert cli(other).exit_code != 0
    # a row longer than the header: the file is refused before anything is written
    result = cli(write_csv(tmp_path / "long.csv", [row(1), row(2, 身份证号=WOMAN, _extra=["?"])]))
    assert result.exit_code != 0 and "row 3 has more cells" in result.output
    assert counts(app) == before


def test_unknown_enterprise_is_refused(app, cli, unit, certified, tmp_path):
    # an account whose certification with this code is not approved yet
    other = certified("13800138001", name=OTHER_UNIT, code=OTHER_CODE)
    with app.app_context():
        db.session.execute(db.update(Certification).where(
            Certification.enterprise_user_id == other).values(status="manual_review"))
        db.session.commit()
    unknown = NOBODY_CODE  # valid, but nobody holds it
    result = cli(write_csv(tmp_path / "units.csv", [
        row(1, 统一社会信用代码=OTHER_CODE),
        row(2, 统一社会信用代码=unknown, 身份证号=WOMAN),
        row(3, 统一社会信用代码=BAD_CODE, 身份证号=THIRD),
        row(4),
    ]))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"row 2: refused: unknown enterprise: no approved certification "
                               f"with the credit code {OTHER_CODE}")
    assert lines[1].startswith(f"row 3: refused: unknown enterprise: no approved certification "
                               f"with the credit code {unknown}")
    assert lines[2].startswith(f"row 4: refused: bad credit code '{BAD_CODE}' (check)")
    assert lines[3].startswith("row 5: imported as declaration #")
    assert lines[-1] == "imported 1, refused 3"
    assert [d.enterprise_user_id for d in imported(app)] == [unit]


def test_bad_id_numbers_are_refused(app, cli, unit, tmp_path):
    wrong_check = MAN[:17] + ("0" if MAN[17] != "0" else "1")
    feb30 = "11010519900230001"
    feb30 += id_check_char(feb30)
    result = cli(write_csv(tmp_path / "ids.csv", [
        row(1, 身份证号=wrong_check),
        row(2, 身份证号=feb30),
        row(3, 身份证号="11010519491231002x"),
        row(4, 身份证号=""),
        row(5, 身份证号=WOMAN, 性别="男"),
        row(6, 身份证号=THIRD, 年龄="20"),
        row(7, 身份证号=MAN),
    ]))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("row 2: refused: bad ID number: wrong check character")
    assert lines[1].startswith("row 3: refused: bad ID number: the birth date in it is not a "
                               "real date")
    assert lines[2].startswith("row 4: refused: bad ID number: ends in a lower-case x")
    assert lines[3].startswith("row 5: refused: bad ID number: not 18 characters")
    assert lines[4].startswith("row 6: refused: 性别 '男' contradicts the ID number")
    assert lines[5].startswith("row 7: refused: 年龄 20 contradicts the ID number")
    assert lines[6].startswith("row 8: imported")
    assert lines[-1] == "imported 1, refused 6"
    assert wrong_check not in result.output and feb30 not in result.output
    assert [d.id_number_enc is not None for d in imported(app)] == [True]


def test_unknown_status_codes_and_rounds_are_refused(app, cli, unit, tmp_path):
    result = cli(write_csv(tmp_path / "values.csv", [
        row(1, 状态="已归档"),
        row(2, 政治面貌="党员"),
        row(3, 最高学历="博士后"),
        row(4, 引进依据及条件="关系户"),
        row(5, 批次="2019年申报"),
        row(6, 批次=""),
        row(7, 姓名=""),
        row(8, 状态="completed", 政治面貌="01", 最高学历="Undergraduate", 最高学位="无",
            引进依据及条件="other"),
    ]))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("row 2: refused: unknown status '已归档'")
    assert lines[1].startswith("row 3: refused: unknown 政治面貌 '党员'")
    assert lines[2].startswith("row 4: refused: unknown 最高学历 '博士后'")
    assert lines[3].startswith("row 5: refused: unknown 引进依据及条件 '关系户'")
    assert lines[4].startswith("row 6: refused: unknown round '2019年申报': create it first "
                               "or pass --round")
    assert lines[5].startswith("row 7: refused: no 批次")
    assert lines[6].startswith("row 8: refused: no 姓名")
    assert lines[7].startswith("row 9: imported")
    (declaration,) = imported(app)
    assert (declaration.status, declaration.political_status, declaration.education,
            declaration.degree, declaration.condition) == ("completed", "01", "20", "0", "other")


def test_round_option_overrides_the_column(app, cli, unit, tmp_path):
    path = write_csv(tmp_path / "rounds.csv", [row(1, 批次="2019年申报")])
    result = cli(path, "--round", "没有这个批次")
    assert result.exit_code != 0 and "no round has this name" in result.output
    assert imported(app) == []
    result = cli(path, "--round", ROUND)
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "imported 1, refused 0"
    with app.app_context():
        (declaration,) = db.session.execute(select(Declaration)).scalars()
        assert declaration.round.name == ROUND


def test_duplicates_are_refused(app, cli, unit, certified, tmp_path):
    other = certified("13800138001", name=OTHER_UNIT, code=OTHER_CODE)
    result = cli(write_csv(tmp_path / "dupes.csv", [
        row(1),
        row(2, 姓名="张三（重复）"),  # twice in the file
        row(3, 统一社会信用代码=OTHER_CODE),  # the same person, another unit: allowed, flagged
        row(4, 身份证号=WOMAN, 状态="草稿"),
    ]))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("row 3: refused: duplicate: the same person as row 2")
    assert lines[2].startswith("row 4: imported") and lines[3].startswith("row 5: imported")
    first, by_other, draft = imported(app)
    assert (first.enterprise_user_id, by_other.enterprise_user_id) == (unit, other)
    assert first.duplicate and by_other.duplicate and not draft.duplicate
    assert by_other.unit_name == OTHER_UNIT and draft.submitted_at is None

    # already declared: importing the file again refuses every row
    before = counts(app)
    result = cli(tmp_path / "dupes.csv")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == (f"row 2: refused: duplicate: already declared by this unit in the round "
                        f"'{ROUND}' (declaration #{first.id}) (张三, {first.id_masked})")
    assert lines[-1] == "imported 0, refused 4"
    after = counts(app)
    assert after["Declaration"] == before["Declaration"]
    assert after["StatusChange"] == before["StatusChange"]


def test_a_dry_run_changes_nothing(app, cli, unit, tmp_path):
    path = write_csv(tmp_path / "dry.csv", [row(1), row(2, 身份证号=WOMAN, 状态="未通过"),
                                            row(3), row(4, 统一社会信用代码=OTHER_CODE)])
    before = counts(app)
    result = cli(path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"row 2: would be imported (张三, {MAN[:4]}**********{MAN[-4:]})",
        f"row 3: would be imported (张三, {WOMAN[:4]}**********{WOMAN[-4:]})",
        f"row 4: refused: duplicate: the same person as row 2 (same unit and round) (张三, "
        f"{MAN[:4]}**********{MAN[-4:]})",
        f"row 5: refused: unknown enterprise: no approved certification with the credit code "
        f"{OTHER_CODE} (张三, {MAN[:4]}**********{MAN[-4:]})",
        "imported 2, refused 2 (dry run: nothing saved)",
    ]
    assert counts(app) == before
    # and the real run does what the dry run said
    result = cli(path)
    assert result.output.splitlines()[-1] == "imported 2, refused 2"
    assert counts(app)["Declaration"] == 2


def test_a_row_is_imported_whole_or_not_at_all(app, cli, unit, tmp_path, monkeypatch):
    """A failure while writing a row (here: its timeline row and audit event) leaves
    nothing of that row."""
    real = legacy.created

    def failing(record, *args, **kwargs):
        if kwargs["detail"]["row"] == 3:
            raise IntegrityError("INSERT INTO audit_event", {}, Exception("simulated"))
        return real(record, *args, **kwargs)

    monkeypatch.setattr(legacy, "created", failing)
    result = cli(write_csv(tmp_path / "half.csv", [row(1), row(2, 身份证号=WOMAN),
                                                   row(3, 身份证号=THIRD)]))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("row 3: refused: the database refused the row (Exception)")
    assert lines[-1] == "imported 2, refused 1"
    declarations = imported(app)
    with app.app_context():
        assert [d.id_number for d in
                db.session.execute(select(Declaration).order_by(Declaration.id)).scalars()] \
            == [MAN, THIRD]
        timeline = db.session.execute(select(StatusChange.target_id)).scalars().all()
        events = db.session.execute(select(AuditEvent.target_id).where(
            AuditEvent.action == "declaration.import")).scalars().all()
    assert sorted(timeline) == sorted(events) == [d.id for d in declarations]


def test_xlsx_files(app, cli, unit, tmp_path):
    from datetime import datetime

    path = write_xlsx(tmp_path / "old.xlsx", [
        [1, UNIT, UNIT_CODE, "张三", MAN, "男", age_on(date(1985, 6, 15), date.today()),
         "中共党员", "高级工程师", "研究生（博士）", "博士", "清华大学", "计算机", "拥有发明专利（专利条款）",
         "待复审", ROUND, datetime(2024, 5, 6, 9, 30)],
        [None] * 17,  # empty rows are skipped
        [3, UNIT, UNIT_CODE, "李四", WOMAN, None, None, "群众", None, "大学本科", "学士", None,
         None, None, "未通过", ROUND, "2023-12-01", "材料不全"],
    ], header=[*HEADER, "提交时间", "未通过原因"])
    result = cli(path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "imported 2, refused 0"
    first, second = imported(app)
    assert first.status == "pending_second" and first.gender == "male"
    assert first.submitted_at == datetime(2024, 5, 6, 1, 30)  # 09:30 in Beijing, kept as UTC
    assert (second.status, second.reason, second.condition) == ("rejected", "材料不全", None)
    assert second.submitted_at == datetime(2023, 11, 30, 16, 0)
    with app.app_context():
        assert db.session.get(Declaration, second.id).id_number == WOMAN
        reasons = db.session.execute(select(StatusChange.reason).order_by(StatusChange.id)) \
            .scalars().all()
    assert reasons == ["旧系统导入", "材料不全"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_encodings(app, cli, unit, tmp_path, encoding):
    path = write_csv(tmp_path / f"{encoding}.csv", [row(1), row(2, 身份证号=WOMAN, 姓名="李四")],
                     encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    result = cli(path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "imported 2, refused 0"
    assert [(d.name, d.unit_name, d.education) for d in imported(app)] == \
        [("张三", UNIT, "10"), ("李四", UNIT, "10")]


def test_english_header_and_read_rows(app, unit, tmp_path):
    path = write_csv(tmp_path / "english.csv", [row(1)], header=[*ENGLISH, "submitted_at"])
    rows = legacy.read_rows(path)
    assert rows == [{"row": 2, "no": "1", "unit_name": UNIT, "credit_code": UNIT_CODE,
                     "name": "张三", "id_number": MAN, "gender": "", "age": "",
                     "political_status": "中共党员", "title": "高级工程师",
                     "education": "研究生(博士)", "degree": "博士", "school": "清华大学",
                     "major": "计算机科学与技术", "condition": "拥有发明专利(专利条款)",
                     "status": "待审核", "round": ROUND, "submitted_at": ""}]
    with app.app_context():
        report = legacy.import_file(path, dry_run=True)
        assert (report.imported, report.refused, report.dry_run) == (1, 0, True)
        assert db.session.execute(select(func.count()).select_from(Declaration)).scalar_one() \
            == 0
        report = legacy.import_file(path)
        assert report.imported == 1 and report.rows[0].declaration_id is not None


def test_every_state_has_a_chinese_name():
    from talentadmin.declarations import workflow

    legacy_states = {workflow.DRAFT, workflow.PENDING_INITIAL, workflow.PENDING_SECOND,
                     workflow.COMPLETED, workflow.REJECTED}
    assert set(legacy.STATUSES.values()) == legacy_states <= set(workflow.LABELS)
    assert {legacy.STATUSES[name] for name in ("草稿", "待审核", "待复审", "已完成", "未通过")} \
        == legacy_states
    assert all(legacy.STATUSES[state] == state for state in legacy_states)
    assert "withdrawn" not in legacy.STATUSES  # not a state of the old system




def test_import_rows_takes_list_names_as_written_in_the_lists(app, unit, tmp_path):
    """Rows handed straight to import_rows (not read from a file) are matched as the
    aliases are: "研究生（博士）" with full-width brackets, as the list writes it."""
    path = write_csv(tmp_path / "one.csv", [row(1)])
    (record,) = legacy.read_rows(path)
    record.update(education="研究生（博士）", condition="拥有发明专利（专利条款）")
    with app.app_context():
        report = legacy.import_rows([record], source="test")
        assert (report.imported, report.refused) == (1, 0), report.rows[0].reason


def test_an_imported_rejection_comes_back_only_with_a_permission(app, cli, unit, portal,
                                                                tmp_path):
    """The old system's 未通过 declaration of a certified unit with no business permission
    (permissions are opened again, the guide says) may be corrected as a draft, but not
    submitted until the permission is approved."""
    from ..conftest import PASSWORD, csrf_in, declaration_form_data

    path = write_csv(tmp_path / "old.csv", [row(1, 状态="未通过")])
    assert "imported 1" in cli(path).output
    with app.app_context():
        declaration = db.session.execute(select(Declaration)).scalar_one()
        declaration_id, version = declaration.id, declaration.version
        assert declaration.status == "rejected"
    assert portal.login_password("13800138000", PASSWORD).status_code == 302
    url = f"/talent/declarations/{declaration_id}/edit"
    page = portal.client.get(url).get_data(as_text=True)
    response = portal.client.post(url, data=declaration_form_data(
        csrf_token=csrf_in(page), version=str(version), submit="1"),
        content_type="multipart/form-data")
    assert response.status_code == 400

    assert "业务权限" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Declaration, declaration_id).status == "rejected"
