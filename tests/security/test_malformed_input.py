"""Malformed input (issue #9, defect 9): each of these answered 500 on SQLite or PostgreSQL.
Now a 400 page, a 404, or the form again with a message beside the field, input kept."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.permits.models import PermitRevision

from ..conftest import PASSWORD, csrf_in, pdf_bytes, permit_form_data

HUGE = str(2**70)  # past 64 bits
BIG = str(2**31)  # past the database's INTEGER
ID = "11010519491231002X"


@pytest.fixture
def unit(permitted, open_round, portal):
    permitted("13800138000")
    return portal


@pytest.fixture
def no_errors_logged(caplog):
    caplog.set_level(logging.ERROR)
    yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def _declaration(app) -> Declaration:
    with app.app_context():
        return db.session.execute(select(Declaration).order_by(Declaration.id)).scalars().first()


# --- page numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["-1", "-99", HUGE, "10000000", "x", "²"])
def test_negative_and_huge_page_numbers_show_a_grid(client, staff_login, page,
                                                    no_errors_logged):
    """``?page=-1`` was a negative OFFSET (PostgreSQL refuses it), ``?page=2**70`` one past
    64 bits (both databases)."""
    staff_login("boss", "admin")
    for grid in ("declaration_all", "declaration_initial", "permit_review", "round",
                 "audit_event", "staff_user", "reference_district"):
        response = client.get(f"/admin/{grid}/?page={page}")
        assert response.status_code == 200, (grid, response.status_code)


# --- NUL bytes ------------------------------------------------------------------------------


def test_nul_bytes_on_the_staff_login_show_the_form_again(client, make_staff,
                                                        no_errors_logged):
    """The unauthenticated staff login looked the username up with the NUL in it
    (PostgreSQL: "cannot contain NUL bytes")."""
    make_staff("boss", "admin")
    html = client.get("/admin/login").get_data(as_text=True)
    response = client.post("/admin/login", data={
        "csrf_token": csrf_in(html), "username": "bo\x00ss", "password": "x\x00y"})
    assert response.status_code in (200, 400)
    assert 'name="username"' in response.get_data(as_text=True)


def test_nul_bytes_in_query_arguments_are_not_sent_to_the_database(client, staff_login, unit,
                                                                  no_errors_logged):
    """Searches, filters and statuses read straight from the query string."""
    assert client.get("/talent/declare?status=pending\x00&round=1\x00").status_code == 200
    staff_login("boss", "admin")
    for url in ("/admin/declaration_all/?search=a\x00b", "/admin/round/?search=a\x00b",
                "/admin/audit_event/?flt0_0=a\x00b", "/admin/staff_user/?search=\x00",
                "/admin/declaration_all/?flt0_6=9111\x00"):
        response = client.get(url)
        assert response.status_code in (200, 302, 400), (url, response.status_code)


def test_a_nul_in_the_captcha_address_is_not_found(client, no_errors_logged):
    for url in ("/captcha/%00.png", "/captcha/a%00b.png", "/captcha/" + "a" * 5000 + ".png"):
        assert client.get(url).status_code == 404, url


# --- a file where text is expected ----------------------------------------------------------


def test_a_file_part_sent_for_a_text_field_is_ignored(client, make_staff, no_errors_logged):
    """WTForms gave the text field a ``FileStorage`` as its data: the validators crashed."""
    make_staff("boss", "admin")
    html = client.get("/admin/login").get_data(as_text=True)
    response = client.post("/admin/login", data={
        "csrf_token": csrf_in(html), "username": (io.BytesIO(b"boss"), "u.txt"),
        "password": PASSWORD}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "此项为必填项" in response.get_data(as_text=True)  # the username, as if empty


def test_a_file_part_for_a_portal_text_field_keeps_the_rest(unit, no_errors_logged):
    response = unit.post_multipart("/talent/declarations/new", {
        "name": "李四", "age": (io.BytesIO(b"30"), "age.txt"),
        "version": (io.BytesIO(b"1"), "v.txt"), "social_insurance_keep": (io.BytesIO(b"1"),
                                                                         "k.txt"),
        "save_draft": "1"})
    assert response.status_code == 302
    assert _declaration(unit.app).name == "李四"


@pytest.mark.parametrize("body", [{"username": {"a": 1}, "password": "x"},
                                  {"username": [1, 2], "password": None},
                                  {"username": 5, "password": 5.5}])
def test_wrong_types_in_a_json_body_show_the_form_again(client, make_staff, body,
                                                       no_errors_logged):
    """Flask-WTF reads a JSON body as form data: a number, list or object reached the
    text fields (``'dict' object has no attribute 'strip'``)."""
    make_staff("boss", "admin")
    token = csrf_in(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/login", data=json.dumps(body),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 400 and 'name="username"' in response.get_data(as_text=True)


# --- numbers past 64 bits ----------------------------------------------------------------------


def test_ids_past_64_bits_in_addresses_are_not_found(unit, client, no_errors_logged):
    for url in (f"/talent/declarations/{HUGE}", f"/talent/declarations/{BIG}/edit",
                f"/talent/permit/{HUGE}", f"/certification/{HUGE}/confirm",
                f"/talent/declarations/1/files/{HUGE}"):
        assert client.get(url).status_code == 404, url


def test_ids_past_64_bits_in_admin_arguments_are_not_found(client, staff_login,
                                                          no_errors_logged):
    staff_login("boss", "admin", "initial_reviewer")
    for url in (f"/admin/declaration_all/details/?id={HUGE}",
                f"/admin/round/edit/?id={BIG}",
                f"/admin/permit_review/file/?id=1&file_id={HUGE}",
                f"/admin/declaration_initial/file/?id={HUGE}&file_id={HUGE}",
                f"/admin/dashboard/?round={HUGE}",
                f"/admin/declaration_all/?flt0_0={HUGE}"):
        response = client.get(url)
        assert response.status_code in (200, 302, 404), (url, response.status_code)
    html = client.get("/admin/declaration_initial/").get_data(as_text=True)
    for form_url, data in (
            ("/admin/declaration_initial/decide/", {"id": HUGE, "action": "pass_initial"}),
            ("/admin/permit_review/decide/", {"id": BIG, "action": "approve"}),
            ("/admin/certification_queue/decide/", {"id": HUGE, "action": "approve"}),
            ("/admin/declaration_initial/action/", {"action": "pass_initial",
                                                     "rowid": [HUGE, "²", "1"]}),
            ("/admin/permit_review/action/", {"action": "approve", "rowid": [HUGE, "²"]})):
        response = client.post(form_url, data={"csrf_token": csrf_in(html), **data})
        assert response.status_code in (302, 404), (form_url, response.status_code)


def test_a_number_past_an_integer_column_is_refused_beside_the_field(client, staff_login,
                                                                    no_errors_logged):
    """Flask-Admin's scaffolded integer fields (a reference list's order) took any number;
    the database refused it after validation, and Flask-Admin logged the failure."""
    staff_login("boss", "admin")
    page = client.get("/admin/reason_template/new/").get_data(as_text=True)
    response = client.post("/admin/reason_template/new/", data={
        "csrf_token": csrf_in(page), "text": "材料不全", "position": HUGE, "active": "y"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "材料不全" in text
    assert "2147483647" in text  # the allowed range, beside the field


# --- age, keep-ids and versions -------------------------------------------------------------


def test_age_superscript_two_is_refused_beside_the_field(unit, no_errors_logged):
    """``"²".isdigit()`` is true and ``int("²")`` fails."""
    response = unit.post_multipart("/talent/declarations/new", {
        "name": "李四", "id_number": ID, "age": "²", "save_draft": "1"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and 'value="李四"' in text
    assert re.search(r"(年龄|数字)", text)


@pytest.mark.parametrize("kept", ["²", HUGE, f"²,{BIG}", "-1", "abc,,", "1" * 5000, "٣"])
def test_odd_keep_ids_of_a_refused_form_are_ignored(unit, kept, no_errors_logged):
    """The hidden "kept files" field carries the ids of what a refused submit stored (the
    account's own files are honoured; nothing here is an id)."""
    response = unit.post_multipart("/talent/declarations/new", {
        "name": "李四", "social_insurance_keep": kept, "evidence_keep": kept,
        "integrity_keep": kept, "save_draft": "1"})
    assert response.status_code == 302
    assert _declaration(unit.app).files == []


def test_odd_keep_ids_on_the_permit_form_are_ignored(certified, portal, no_errors_logged):
    certified("13800138000")
    portal.login_password("13800138000", PASSWORD)
    data = permit_form_data(tax_file_1=None, tax_file_1_keep=f"{HUGE},²")
    response = portal.post_multipart("/talent/permit/apply", data)
    assert response.status_code == 400
    assert "2025" in response.get_data(as_text=True) or "缴纳税费凭证" in \
        response.get_data(as_text=True)


@pytest.mark.parametrize("version", [None, "", "abc", "²", HUGE, BIG, "-1"])
def test_a_missing_or_odd_version_is_refused_as_changed_elsewhere(unit, client, staff_login,
                                                                  app, version,
                                                                  no_errors_logged):
    """Admin corrections of a permit and a declaration; the enterprise's own edit."""
    unit.post_multipart("/talent/declarations/new", {"name": "王五", "save_draft": "1"})
    declaration = _declaration(app)
    data = {"name": "王五六", "save_draft": "1",
            "social_insurance": (io.BytesIO(pdf_bytes()), "s.pdf")}
    if version is not None:
        data["version"] = version
    response = unit.post_multipart(f"/talent/declarations/{declaration.id}/edit", data)
    assert response.status_code == 400 and "已在别处被修改" in response.get_data(as_text=True)

    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("boss", "admin")
    with app.app_context():
        revision = db.session.execute(select(PermitRevision)).scalars().first()
    page = client.get(f"/admin/permit_review/edit/?id={revision.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_in(page), "registered_district": "chaoyang",
            "tax_district": "haidian", "field": "ai", "contact_name": "伪造",
            "contact_mobile": "13900001111", "intro": "x"}
    if version is not None:
        data["version"] = version
    response = client.post(f"/admin/permit_review/edit/?id={revision.id}", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "已在别处被修改" in text and 'value="伪造"' in text


# --- return addresses ----------------------------------------------------------------------


def test_a_line_feed_in_the_admin_return_url_is_a_400(client, staff_login, no_errors_logged):
    """Flask-Admin checked where ``url`` points, then put it in the Location header as
    sent: werkzeug refused the line feed (a 500)."""
    staff_login("boss", "admin")
    for url in ("/admin/certification_all/edit/?id=1&url=/admin/%0AX-Evil:%201",
                "/admin/round/edit/?url=/admin/round/%0D%0A",
                "/admin/round/new/?url=%0D/admin/"):
        assert client.get(url).status_code == 400, url
    assert client.get("/admin/round/edit/?url=/admin/round/").status_code == 302


def test_a_line_feed_in_next_goes_home(client, staff_login, no_errors_logged):
    """``safe_next`` let a path with a line feed through to the Location header."""
    token = csrf_in(client.get("/login").get_data(as_text=True))
    response = client.post("/language/en", data={"csrf_token": token, "next": "/x\nSet-Cookie: a=b"})
    assert response.status_code == 302 and response.location.endswith("/")
    staff_login("boss", "admin")
    response = client.get("/admin/login?next=/admin/%0D%0Ax")
    assert response.status_code == 302 and "\n" not in response.location


# --- the safety net -----------------------------------------------------------------------------


def test_input_the_database_refuses_is_a_400_and_is_logged(app, caplog):
    """The net under every parser: a 400 page for the user, an ERROR in the log for us."""
    caplog.set_level(logging.ERROR)
    for error in (DataError("UPDATE x", {}, Exception("integer out of range")),
                  OverflowError("Python int too large to convert to SQLite INTEGER")):
        with app.test_request_context("/admin/anything"):
            response = app.make_response(app.handle_user_exception(error))
        assert response.status_code == 400
        assert "请求有误" in response.get_data(as_text=True)
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 2
