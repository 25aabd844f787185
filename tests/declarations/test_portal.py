"""Declarations (需求申报): drafts, submission, bad input, access, duplicates, timeline."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select, text, update

from talentadmin.core.models import AuditEvent
from talentadmin.core.timeutil import utcnow
from talentadmin.declarations.models import Declaration, Round
from talentadmin.extensions import db

from ..conftest import (
    DECLARATION_ID,
    PASSWORD,
    UNIT,
    csrf_in,
    declaration_form_data,
    png_bytes,
)

ID = DECLARATION_ID  # female, born 1949-12-31
ID_MALE = "110105198001010011"


def declaration_data(**overrides) -> dict:
    return declaration_form_data(**overrides)


def declarations(app) -> list[Declaration]:
    with app.app_context():
        return list(db.session.execute(select(Declaration).order_by(Declaration.id)).scalars())


@pytest.fixture
def unit(permitted, open_round, portal):
    permitted("13800138000")
    return portal


def _errors(response) -> str:
    return " ".join(re.findall(r'class="invalid-feedback[^>]*>(.*?)</div>\s*</div>',
                               response.get_data(as_text=True), re.S))


def test_submit_with_gender_and_age_from_the_id(unit, client, app):
    response = unit.post_multipart("/talent/declarations/new", declaration_data())
    assert response.status_code == 302, _errors(response)
    (d,) = declarations(app)
    assert (d.status, d.gender, d.name, d.unit_name) == ("pending_initial", "female", "张三", UNIT)
    assert d.age == 76 and d.id_masked == "1101**********002X"
    assert [f.label for f in d.files] == ["北京市社会保险个人权益记录", "诚信声明",
                                          "相应数量的发明专利证书1", "相应数量的发明专利证书2"]
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert "1101**********002X" in hub and "待审核" in hub and ID not in hub
    detail = client.get(f"/talent/declarations/{d.id}").get_data(as_text=True)
    assert "待审核" in detail and ID not in detail and "拥有发明专利" in detail


def test_id_number_is_encrypted_at_rest_with_a_blind_index(unit, app):
    unit.post_multipart("/talent/declarations/new", declaration_data())
    with app.app_context():
        row = db.session.execute(text(
            "SELECT id_number_enc, id_hash, id_masked FROM declaration")).one()
        blob = bytes(row[0])
        assert ID.encode() not in blob and ID[:6].encode() not in blob
        assert len(row[1]) == 64 and ID not in row[1]
        d = db.session.execute(select(Declaration)).scalar_one()
        assert d.id_number == ID
        from talentadmin.declarations.operations import find_by_id_number

        assert db.session.execute(find_by_id_number(ID)).scalar_one().id == d.id
        events = " ".join(str(e.detail) for e in db.session.execute(select(AuditEvent)).scalars())
        assert ID not in events


def test_download_named_unit_person_material(unit, client, app):
    unit.post_multipart("/talent/declarations/new", declaration_data())
    (d,) = declarations(app)
    response = client.get(f"/talent/declarations/{d.id}/files/{d.files[1].id}")
    name = unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert name == f"{UNIT}-张三-诚信声明.png"


def test_save_draft_with_little_filled_in(unit, client, app):
    response = unit.post_multipart("/talent/declarations/new", {
        "name": "李四", "save_draft": "1"})
    assert response.status_code == 302
    (d,) = declarations(app)
    assert d.status == "draft" and d.id_hash is None
    hub = client.get("/talent/declare?status=draft").get_data(as_text=True)
    assert "李四" in hub and "草稿" in hub
    assert "李四" not in client.get("/talent/declare?status=pending_initial").get_data(
        as_text=True)
    # then complete and submit it from the edit page (the version travels in the form)
    page = client.get(f"/talent/declarations/{d.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    response = unit.post_multipart(f"/talent/declarations/{d.id}/edit",
                                   declaration_data(name="李四", version=version))
    assert response.status_code == 302, _errors(response)
    assert declarations(app)[0].status == "pending_initial"


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"id_number": "110105194912310021"}, "id_number", "校验码不符"),
    ({"id_number": "110105199002300021"}, "id_number", "不是有效日期"),  # 30 February
    ({"id_number": "110105203001010020"}, "id_number", "晚于今天"),
    ({"id_number": "11010519491231002"}, "id_number", "身份证号为 18 位"),
    ({"id_number": "11010519491231002x"}, "id_number", "末位 X 请使用大写"),
    ({"gender": "male"}, "gender", "性别与身份证号不符"),
    ({"age": "30"}, "age", "年龄与身份证号不符（应为 76）"),
    ({"name": ""}, "name", "此项为必填项"),
    ({"title": ""}, "title", "此项为必填项"),
    ({"condition": "nonsense"}, "condition", "请从列表中选择"),
    ({"social_insurance": (io.BytesIO(png_bytes()), "社保.pdf")}, "social_insurance",
     "此处只接受 PDF 文件"),
    ({"integrity": (io.BytesIO(b"MZ\x90\x00" + b"\0" * 64), "诚信.pdf")}, "integrity",
     "只接受 JPG、PNG 或 PDF"),
    ({"evidence": None}, "evidence", "请上传此文件"),
])
def test_bad_input_refused_beside_the_field_and_the_rest_kept(unit, app, overrides, field,
                                                              message):
    response = unit.post_multipart("/talent/declarations/new", declaration_data(**overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in _errors(response), _errors(response)
    assert f'id="{field}-error"' in page
    assert "清华大学" in page and "计算机科学与技术" in page  # typed values kept
    if field != "integrity":
        assert "诚信声明.png" in page  # uploaded files kept
    assert declarations(app) == []


def test_none_is_accepted_where_nothing_applies(unit, app):
    response = unit.post_multipart("/talent/declarations/new", declaration_data(
        title="无", school="无", major="none"))
    assert response.status_code == 302


def test_same_person_twice_in_a_round_is_refused_within_the_unit(unit, app):
    unit.post_multipart("/talent/declarations/new", declaration_data())
    response = unit.post_multipart("/talent/declarations/new", declaration_data())
    assert response.status_code == 400
    assert "本单位在本批次已申报过此人" in _errors(response)
    assert len(declarations(app)) == 1


def test_same_person_in_another_unit_is_flagged(unit, app, client, permitted, portal):
    unit.post_multipart("/talent/declarations/new", declaration_data())
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    permitted("13900139000", name="北京另一家科技有限公司", code="91110108MA00GH4T3U")
    response = portal.post_multipart("/talent/declarations/new", declaration_data())
    assert response.status_code == 302
    first, second = declarations(app)
    assert first.duplicate and second.duplicate


def test_double_submit_creates_one_declaration(unit, client, app):
    page = client.get("/talent/declarations/new").get_data(as_text=True)
    key = re.search(r'name="form_key"[^>]*value="([^"]+)"', page).group(1)
    token = csrf_in(page)
    for _ in range(2):
        response = client.post("/talent/declarations/new", data={
            "csrf_token": token, "form_key": key, **declaration_data()},
            content_type="multipart/form-data")
        assert response.status_code == 302
    assert len(declarations(app)) == 1


def test_stale_edit_is_refused(unit, client, app):
    unit.post_multipart("/talent/declarations/new", {"name": "王五", "save_draft": "1"})
    (d,) = declarations(app)
    page = client.get(f"/talent/declarations/{d.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    unit.post_multipart(f"/talent/declarations/{d.id}/edit", {
        "name": "王五五", "version": version, "save_draft": "1"})  # another tab saves first
    response = unit.post_multipart(f"/talent/declarations/{d.id}/edit", {
        "name": "王五六", "version": version, "save_draft": "1"})
    assert response.status_code == 400
    assert "已在别处被修改" in response.get_data(as_text=True)
    assert declarations(app)[0].name == "王五五"


def test_no_declaring_without_an_approved_permission(certified, portal, client, open_round, app):
    certified("13800138000")
    portal.login_password("13800138000", PASSWORD)
    assert client.get("/talent/declarations/new").status_code == 302
    response = portal.client.post("/talent/declarations/new", data={
        "csrf_token": csrf_in(client.get("/").get_data(as_text=True)), **declaration_data()},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "业务权限审核通过后方可填报个人信息" in response.get_data(as_text=True)
    assert declarations(app) == []


@pytest.mark.parametrize("window", ["closed", "not_yet_open"])
def test_no_declaring_outside_the_round(unit, client, app, open_round, window):
    now = utcnow()
    dates = {"closed": (now - timedelta(days=30), now - timedelta(days=1)),
             "not_yet_open": (now + timedelta(days=1), now + timedelta(days=30))}[window]
    with app.app_context():
        db.session.execute(update(Round).values(opens_at=dates[0], closes_at=dates[1]))
        db.session.commit()
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert "当前没有开放的申报批次" in hub
    response = client.post("/talent/declarations/new", data={
        "csrf_token": csrf_in(hub), **declaration_data()}, content_type="multipart/form-data")
    assert response.status_code == 400 and "当前没有开放的申报批次" in response.get_data(
        as_text=True)


def test_resubmission_in_a_closed_round_is_refused(unit, client, app):
    unit.post_multipart("/talent/declarations/new", {"name": "赵六", "save_draft": "1"})
    (d,) = declarations(app)
    with app.app_context():
        db.session.execute(update(Round).values(closes_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    response = unit.post_multipart(f"/talent/declarations/{d.id}/edit", declaration_data(
        name="赵六", version=str(d.version)))
    assert response.status_code == 400 and "该申报所属批次已截止" in response.get_data(as_text=True)


def test_another_units_declaration_is_404_and_audited(unit, client, app, permitted, portal):
    unit.post_multipart("/talent/declarations/new", declaration_data())
    (d,) = declarations(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    permitted("13900139000", name="北京另一家科技有限公司", code="91110108MA00GH4T3U")
    for url in (f"/talent/declarations/{d.id}", f"/talent/declarations/{d.id}/edit",
                f"/talent/declarations/{d.id}/files/{d.files[0].id}",
                f"/talent/declarations/{d.id}/integrity-statement",
                f"/files/{d.files[0].attachment_id}"):
        assert client.get(url).status_code == 404, url
    response = portal.client.post(f"/talent/declarations/{d.id}/edit", data={
        "csrf_token": csrf_in(client.get("/").get_data(as_text=True)), **declaration_data()},
        content_type="multipart/form-data")
    assert response.status_code == 404
    with app.app_context():
        actions = {e.action for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.outcome == "failure")).scalars()}
    assert {"declaration.denied", "file.denied"} <= actions


def test_integrity_statement_is_prefilled(unit, client, app):
    unit.post_multipart("/talent/declarations/new", declaration_data())
    (d,) = declarations(app)
    page = client.get(f"/talent/declarations/{d.id}/integrity-statement").get_data(as_text=True)
    assert "诚信声明" in page and UNIT in page and "张三" in page and ID in page  # its owner
    blank = client.get("/talent/integrity-statement").get_data(as_text=True)
    # the signature lines (法定代表人（签字）…) are msgids: tests/declarations/
    # test_integrity_statement.py reads them in English
    assert UNIT in blank and 'class="signatures"' in blank
