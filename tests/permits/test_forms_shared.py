"""One permit form: the admin's correction form is the portal's, less the evidence."""

from __future__ import annotations

import re

from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from talentadmin.core.fields import required
from talentadmin.extensions import db
from talentadmin.permits import operations
from talentadmin.permits.forms import INTRO_MAX, PermitAdminForm, PermitForm, permit_form
from talentadmin.permits.models import PermitRevision

from ..conftest import PASSWORD, csrf_in, permit_form_data
from ..form_fields import differences, names

STAFF_ONLY = {"version"}
EVIDENCE = {"qualifications", "tax_1", "tax_2", "tax_3", "tax_file_1", "tax_file_1_keep",
            "tax_file_2", "tax_file_2_keep", "tax_file_3", "tax_file_3_keep", "submit"}


def forms(app, admin_class=PermitAdminForm):
    with app.test_request_context():
        return permit_form(meta={"csrf": False}), admin_class(meta={"csrf": False})


def test_the_admin_form_is_the_portal_form_less_the_evidence(app):
    assert issubclass(PermitAdminForm, PermitForm)
    portal, admin = forms(app)
    assert differences(portal, admin) == []
    shared = names(admin) - STAFF_ONLY
    assert shared <= names(portal)
    assert shared == set(operations.ADMIN_FIELDS)  # what a correction saves
    assert names(portal) - shared - {f for f in names(portal) if f.startswith("cert_")} \
        == EVIDENCE
    assert [c.value for c in admin.field.choices] == [c.value for c in portal.field.choices]
    assert [c.value for c in admin.tax_district.choices] == [
        c.value for c in portal.tax_district.choices]


def test_the_comparison_catches_a_drift(app):
    """A field restated in the admin form with another message, bound, widget or kind."""

    class Drifted(PermitAdminForm):
        intro = TextAreaField(PermitForm.intro.args[0],
                              validators=[required(), Length(max=INTRO_MAX)],
                              description=PermitForm.intro.kwargs["description"],
                              render_kw={"rows": 6, "maxlength": INTRO_MAX})
        contact_name = StringField(PermitForm.contact_name.args[0],
                                   validators=[required(), Length(max=65)])
        contact_mobile = StringField(PermitForm.contact_mobile.args[0],
                                     validators=PermitForm.contact_mobile.kwargs["validators"])
        field = StringField(PermitForm.field.args[0], validators=[required()])

    found = differences(*forms(app, Drifted))
    assert sorted(line.split(":")[0] for line in found) == [
        "contact_mobile.description", "contact_mobile.render_kw", "contact_name.validators",
        "field.type", "intro.validators"]


def _revision(app) -> PermitRevision:
    with app.app_context():
        return db.session.execute(select(PermitRevision)).scalar_one()


def test_the_admin_is_told_what_the_enterprise_is_told(certified, portal, client, app,
                                                       staff_login):
    """Each bad value of a shared field gets the same message beside it on both sides."""
    certified("13800138000")
    portal.login_password("13800138000", PASSWORD)
    bad = {"contact_name": "", "contact_mobile": "12345", "intro": "长" * (INTRO_MAX + 1),
           "registered_district": "", "field": ""}
    told = {}
    for name, value in bad.items():
        page = portal.post_multipart("/talent/permit/apply", permit_form_data(**{name: value}))
        assert page.status_code == 400
        told[name] = page.get_data(as_text=True)
    portal.post_multipart("/talent/permit/apply", permit_form_data())
    revision = _revision(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("boss", "admin")
    url = f"/admin/permit_review/edit/?id={revision.id}"
    page = client.get(url).get_data(as_text=True)
    good = {"csrf_token": csrf_in(page),
            "version": re.search(r'name="version"[^>]*value="(\d+)"', page).group(1),
            "registered_district": "chaoyang", "tax_district": "chaoyang", "field": "ai",
            "contact_name": "王经办", "contact_mobile": "13900001111", "intro": "简介"}
    messages = {"contact_name": "此项为必填项", "contact_mobile": "010-12345678-123",
                "intro": "企业简介不超过 2000 字", "registered_district": "此项为必填项",
                "field": "此项为必填项"}
    for name, value in bad.items():
        response = client.post(url, data={**good, name: value})
        assert response.status_code == 200, name
        assert messages[name] in response.get_data(as_text=True), name
        assert messages[name] in told[name], name
    assert _revision(app).contact_name == revision.contact_name  # nothing saved
