"""One declaration form for the portal and the admin: the admin's form is the portal's,
field for field and validator for validator; what staff may not change is read-only."""

from __future__ import annotations

import re

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length

from talentadmin.core.models import AuditEvent
from talentadmin.core.validators import KnownChoice, RequiredToSubmit
from talentadmin.declarations.forms import DeclarationAdminForm, DeclarationForm
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import csrf_in
from ..form_fields import validator_signature as signature
from .test_portal import ID, declaration_data

# The portal's fields the admin's form leaves out, on purpose: the attachments stay as the
# enterprise submitted them, and the portal's own buttons and double-post key (and the marks
# of what the page filled in from the ID number, which the admin's form shows read-only).
PORTAL_ONLY = {"social_insurance", "social_insurance_keep", "integrity", "integrity_keep",
               "evidence", "evidence_keep", "form_key", "save_draft", "submit",
               "gender_derived", "age_derived"}


def drift(portal_class, admin_class) -> dict[str, str]:
    """How the admin's form of a record differs from the portal's, field by field (empty:
    the same). Built in a request, as the views build them."""
    portal, admin = portal_class(meta={"csrf": False}), admin_class(meta={"csrf": False})
    found = {}
    for field in portal:
        if field.name in PORTAL_ONLY:
            continue
        if field.name not in admin:
            found[field.name] = "missing from the admin's form"
            continue
        other = admin[field.name]
        if type(other) is not type(field):
            found[field.name] = f"{type(field).__name__} != {type(other).__name__}"
        elif str(other.label.text) != str(field.label.text):
            found[field.name] = "label"
        elif [signature(v) for v in other.validators] != [signature(v) for v in field.validators]:
            found[field.name] = "validators"
        elif (getattr(admin_class, f"validate_{field.name}", None)
              is not getattr(portal_class, f"validate_{field.name}", None)):
            found[field.name] = "inline validator"
    for field in admin:
        if field.name not in portal:
            found[field.name] = "not on the portal's form"
    return found


@pytest.fixture
def request_ctx(app):
    with app.test_request_context():
        yield


def test_the_admin_form_shares_every_portal_field_and_validator(request_ctx):
    assert issubclass(DeclarationAdminForm, DeclarationForm)
    assert drift(DeclarationForm, DeclarationAdminForm) == {}
    shared = {f.name for f in DeclarationAdminForm(meta={"csrf": False})}
    assert shared == {"name", "id_number", "gender", "age", "political_status", "title",
                      "education", "degree", "school", "major", "condition", "version"}


def test_the_comparison_catches_a_drift(request_ctx):
    """A restated field with another rule, another message, a field left out, one added."""

    class Longer(DeclarationAdminForm):
        name = StringField(_l("Name"), validators=[RequiredToSubmit(), Length(max=100)])

    class OtherMessage(DeclarationAdminForm):
        condition = DeclarationForm.condition.field_class(
            _l("Introduction basis and condition"), validate_choice=False,
            validators=[RequiredToSubmit(), KnownChoice(message=_l("Choose again."))])

    class Fewer(DeclarationAdminForm):
        major = None

    class NoRequirement(DeclarationAdminForm):
        title = StringField(_l("Professional title"), validators=[Length(max=64)])

    class Extra(DeclarationAdminForm):
        note = StringField("note")

    class Relabelled(DeclarationAdminForm):
        school = StringField(_l("School"), validators=[RequiredToSubmit(), Length(max=100)])

    assert drift(DeclarationForm, Longer) == {"name": "validators"}
    assert drift(DeclarationForm, OtherMessage) == {"condition": "validators"}
    assert drift(DeclarationForm, Fewer) == {"major": "missing from the admin's form"}
    assert drift(DeclarationForm, NoRequirement) == {"title": "validators"}
    assert drift(DeclarationForm, Extra) == {"note": "not on the portal's form"}
    assert drift(DeclarationForm, Relabelled) == {"school": "label"}


# --- the admin's form at work ------------------------------------------------------------


@pytest.fixture
def submitted(permitted, open_round, portal, app, client):
    """One submitted declaration (ID born 1949-12-31, female); the enterprise logged out."""
    permitted("13800138000")
    assert portal.post_multipart("/talent/declarations/new",
                                 declaration_data()).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    with app.app_context():
        return db.session.execute(select(Declaration.id)).scalar_one()


def correction(page: str, **overrides) -> dict:
    data = {"csrf_token": csrf_in(page),
            "version": re.search(r'name="version"[^>]*value="(\d+)"', page).group(1),
            "name": "张三", "political_status": "13", "title": "无", "education": "10",
            "degree": "2", "school": "清华大学", "major": "计算机科学与技术",
            "condition": "patent"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_id_number_gender_and_age_are_shown_masked_and_read_only(client, staff_login,
                                                                      submitted, app):
    staff_login("boss", "admin")
    page = client.get(f"/admin/declaration_all/edit/?id={submitted}").get_data(as_text=True)
    assert ID not in page and "1101**********002X" in page
    for name in ("id_number", "gender", "age"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert "disabled" in tag, tag
    # A posted ID number, gender or age is ignored (and not checked: it is not theirs).
    response = client.post(f"/admin/declaration_all/edit/?id={submitted}", data=correction(
        page, name="张三丰", id_number="110105198001010011", gender="male", age="x"))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        declaration = db.session.get(Declaration, submitted)
        assert (declaration.name, declaration.id_number, declaration.gender) == (
            "张三丰", ID, "female")
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "declaration.admin_update")).scalar_one()
    assert event.detail == {"name": ["张三", "张三丰"]}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "此项为必填项"),
    ("name", "   ", "此项为必填项"),
    ("title", "", "此项为必填项"),
    ("school", "", "此项为必填项"),
    ("major", "x" * 101, "字段长度不能超过 100 个字符"),
    ("name", "张" * 65, "字段长度不能超过 64 个字符"),
    ("education", "", "此项为必填项"),
    ("degree", "phd-of-nothing", "从列表中选择"),
    ("condition", "no-such-condition", "从列表中选择"),
    ("political_status", "", "此项为必填项"),
])
def test_the_admin_gets_the_portals_messages(client, staff_login, submitted, app, field,
                                             value, message):
    """Every field staff may correct, with the portal's rules: nothing may be emptied (the
    declaration was submitted), lengths, codes from the lists."""
    staff_login("boss", "admin")
    with app.app_context():
        version = db.session.get(Declaration, submitted).version
    page = client.get(f"/admin/declaration_all/edit/?id={submitted}").get_data(as_text=True)
    response = client.post(f"/admin/declaration_all/edit/?id={submitted}",
                           data=correction(page, **{field: value}))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and message in text, text[-3000:]
    with app.app_context():
        declaration = db.session.get(Declaration, submitted)
        assert declaration.version == version and declaration.name == "张三"  # nothing saved
