"""Control characters never get past a form: every text and choice field of our base form
(portal, staff login, Flask-Admin's forms built on it) drops C0/C1 control characters, NUL
included, and lone surrogates before any validator runs; a text area keeps its line feeds and
tabs (CR LF becomes LF)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import (
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from talentadmin.accounts.models import StaffUser
from talentadmin.core.forms import Form
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.permits.models import PermitRevision
from talentadmin.reference.models import ReasonTemplate

from ..conftest import PASSWORD, csrf_in, permit_form_data
from ..declarations.test_portal import declaration_data

CONTROLS = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))


class Sample(Form):
    text = StringField()
    secret = PasswordField()
    hidden = HiddenField()
    area = TextAreaField()
    choice = SelectField(choices=["a", "b"], validate_choice=False)
    many = SelectMultipleField(choices=["a", "b"], validate_choice=False)


def test_every_text_and_choice_field_drops_control_characters(app):
    with app.test_request_context():
        form = Sample(formdata=MultiDict([
            ("text", "\x00张\x01三\t\n\r\x7f\x85\ud800"), ("secret", "pass\x00word\x1b"),
            ("hidden", "\x0012"), ("area", "第一行\r\n第二行\t尾\r末\x00\x0b\x0c\x9f\udfff"),
            ("choice", "a\x00"), ("many", "a\x00"), ("many", "\x1bb")]), meta={"csrf": False})
    assert form.text.data == "张三"
    assert form.secret.data == "password"
    assert form.hidden.data == "12"
    assert form.area.data == "第一行\n第二行\t尾\n末"
    assert form.choice.data == "a" and form.many.data == ["a", "b"]
    with app.test_request_context():
        assert Sample(formdata=MultiDict([("text", CONTROLS)]), meta={"csrf": False}
                      ).text.data == ""


def test_portal_declaration_is_stored_without_them(permitted, open_round, portal, app):
    permitted("13800138000")
    response = portal.post_multipart("/talent/declarations/new", declaration_data(
        name="张\x00三\x07", school="清华\x85大学\x1b", major="\t计算机\r\n科学"))
    assert response.status_code == 302
    with app.app_context():
        declaration = db.session.execute(select(Declaration)).scalar_one()
        assert (declaration.name, declaration.school, declaration.major) == (
            "张三", "清华大学", "计算机科学")


def test_a_text_area_keeps_its_lines(certified, portal, app):
    certified("13800138000")
    assert portal.login_password("13800138000", PASSWORD).status_code == 302
    response = portal.post_multipart("/talent/permit/apply", permit_form_data(
        intro="第一段\r\n\t第二段\x00\x1b\r\n第三段", contact_name="王\x00经办", tax_1="\x00125.5"))
    assert response.status_code == 302
    with app.app_context():
        revision = db.session.execute(select(PermitRevision)).scalar_one()
        assert revision.intro == "第一段\n\t第二段\n第三段"
        assert revision.contact_name == "王经办" and revision.tax_amount_1 == Decimal("125.5")


def test_staff_login_with_nul_bytes(client, make_staff):
    """The unauthenticated staff login never sends a NUL to the database (PostgreSQL refuses
    it: that was a 500)."""
    make_staff("staffer", "admin")
    html = client.get("/admin/login").get_data(as_text=True)
    response = client.post("/admin/login", data={
        "csrf_token": csrf_in(html), "username": "\x00staff\x00er", "password": PASSWORD + "\x00"})
    assert response.status_code == 302  # the same name and password once the NULs are gone


def test_admin_forms_drop_them_too(client, staff_login, app):
    """Flask-Admin's scaffolded forms (reason templates) and our own admin forms (staff
    accounts) are built on the same base form."""
    staff_login("boss", "admin")
    page = client.get("/admin/reason_template/new/").get_data(as_text=True)
    response = client.post("/admin/reason_template/new/", data={
        "csrf_token": csrf_in(page), "text": "\x00材料不全\r\n请补充\x1b", "position": "1",
        "active": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/admin/staff_user/new/").get_data(as_text=True)
    response = client.post("/admin/staff_user/new/", data={
        "csrf_token": csrf_in(page), "username": "rev\x00iewer", "full_name": "\x07王\x00五",
        "roles": "initial_reviewer", "active": "y", "password": "a long password 1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert "材料不全\n请补充" in db.session.execute(select(ReasonTemplate.text)).scalars()
        staff = db.session.execute(select(StaffUser).filter_by(username="reviewer")).scalar_one()
        assert staff.full_name == "王五"


def test_legacy_import_drops_them(app, runner, certified, open_round, tmp_path):
    """``flask import-legacy`` reads text from a file, not a form: the same rule applies
    (a NUL in a CSV was a database error on PostgreSQL)."""

    from ..declarations.test_importer import MAN, row, write_csv

    certified()
    path = write_csv(tmp_path / "old.csv", [row(1, 姓名="张\x00三\x1b", 院校="清华\x85大学",
                                                 年龄="\x00")])
    result = runner.invoke(args=["import-legacy", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        declaration = db.session.execute(select(Declaration)).scalar_one()
        assert (declaration.name, declaration.school, declaration.id_masked) == (
            "张三", "清华大学", f"{MAN[:4]}**********{MAN[-4:]}")
