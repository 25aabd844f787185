"""Numbers are written with 0-9: full-width digits (and whatever else NFKC folds to 0-9) are
folded, the digits of other scripts (Arabic-Indic, Devanagari…) refused beside the field with
the rule. ``str.isdigit()``, ``int()`` and ``re``'s ``\\d`` all accept them, so before this an
ID number typed in Arabic-Indic digits was another person (no duplicate found, no search hit).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from talentadmin.core.validators import (
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
    whole_number,
)
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.permits.models import PermitRevision

from ..conftest import PASSWORD, permit_form_data
from ..declarations.test_portal import ID, declaration_data
from .test_id_search import WANTED, people, post_search  # noqa: F401 - people: a fixture

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
FOREIGN = [ARABIC_INDIC, DEVANAGARI]
RULE = "0–9"  # in the message, in every language


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)) if match else ""


@pytest.mark.parametrize("digits", FOREIGN)
@pytest.mark.parametrize(("check", "value"), [
    (normalize_mobile, "13800138000"), (validate_id_number, ID),
    (validate_credit_code, "91110105MA01R8DQ2M"), (whole_number, "35")])
def test_validators_refuse_other_scripts_and_fold_full_width(check, value, digits):
    with pytest.raises(ValueError, match="digits"):
        check(value.translate(digits))
    assert check(value.translate(FULL_WIDTH)) == check(value)


@pytest.mark.parametrize("digits", FOREIGN)
def test_login_mobile(portal, outbox, digits):
    response = portal.request_code("13800138000".translate(digits))
    assert RULE in field_error(response.get_data(as_text=True), "sms-mobile")
    assert outbox.messages() == []
    portal.request_code("13800138000".translate(FULL_WIDTH))
    assert [m["to"] for m in outbox.messages()] == ["13800138000"]


def test_sms_code_in_full_width_logs_in_other_scripts_are_refused(portal, outbox):
    assert portal.request_code("13800138000").status_code == 200
    code = outbox.last_code("13800138000")
    for digits in FOREIGN:
        response = portal.submit_code("13800138000", code.translate(digits))
        assert RULE in field_error(response.get_data(as_text=True), "sms-sms_code")
    response = portal.submit_code("13800138000", code.translate(FULL_WIDTH))
    assert response.status_code == 302


@pytest.fixture
def unit(permitted, open_round, portal):
    permitted("13800138000")
    return portal


def declarations(app) -> list[Declaration]:
    with app.app_context():
        return list(db.session.execute(select(Declaration).order_by(Declaration.id)).scalars())


@pytest.mark.parametrize("digits", FOREIGN)
@pytest.mark.parametrize("field", ["id_number", "age"])
def test_declaration_numbers_in_other_scripts_are_refused(unit, app, field, digits):
    typed = {"id_number": ID, "age": "76"}[field].translate(digits)
    response = unit.post_multipart("/talent/declarations/new", declaration_data(**{field: typed}))
    assert response.status_code == 400
    assert RULE in field_error(response.get_data(as_text=True), field)
    assert declarations(app) == []


def test_full_width_is_the_same_person(unit, app):
    """Typed in full width, the ID number and age are folded: stored as 0-9, the second
    declaration of the same person is refused as a duplicate."""
    response = unit.post_multipart("/talent/declarations/new", declaration_data(
        id_number=ID.translate(FULL_WIDTH), age="76".translate(FULL_WIDTH)))
    assert response.status_code == 302
    (declaration,) = declarations(app)
    assert declaration.age == 76 and declaration.id_masked == "1101**********002X"
    response = unit.post_multipart("/talent/declarations/new", declaration_data())
    assert response.status_code == 400
    assert "本单位在本批次已申报过此人" in field_error(response.get_data(as_text=True), "id_number")
    assert len(declarations(app)) == 1


@pytest.fixture
def operator(certified, portal):
    certified("13800138000")
    assert portal.login_password("13800138000", PASSWORD).status_code == 302
    return portal


@pytest.mark.parametrize("digits", FOREIGN)
@pytest.mark.parametrize("field", ["tax_1", "contact_mobile"])
def test_permit_numbers_in_other_scripts_are_refused(operator, app, field, digits):
    typed = {"tax_1": "125", "contact_mobile": "13900001111"}[field].translate(digits)
    response = operator.post_multipart("/talent/permit/apply", permit_form_data(**{field: typed}))
    assert response.status_code == 400
    assert RULE in field_error(response.get_data(as_text=True), field)


def test_permit_numbers_in_full_width_are_folded(operator, app):
    response = operator.post_multipart("/talent/permit/apply", permit_form_data(
        tax_1="125.50".translate(FULL_WIDTH), contact_mobile="13900001111".translate(FULL_WIDTH)))
    assert response.status_code == 302
    with app.app_context():
        revision = db.session.execute(select(PermitRevision)).scalar_one()
        assert (revision.tax_amount_1, revision.contact_mobile) == (Decimal("125.50"),
                                                                    "13900001111")


@pytest.mark.parametrize("digits", FOREIGN)
def test_credit_code_in_other_scripts_is_refused(app, digits):
    from werkzeug.datastructures import MultiDict

    from talentadmin.certification.forms import CertificationForm

    with app.test_request_context():
        form = CertificationForm(formdata=MultiDict({
            "name": "某公司", "email": "hr@example.com",
            "credit_code": "91110105MA01R8DQ2M".translate(digits)}), meta={"csrf": False})
        assert not form.validate()
        assert RULE in form.credit_code.errors[0]
        form = CertificationForm(formdata=MultiDict({
            "name": "某公司", "email": "hr@example.com",
            "credit_code": "91110105MA01R8DQ2M".translate(FULL_WIDTH)}), meta={"csrf": False})
        assert form.validate() and form.credit_code.data == "91110105MA01R8DQ2M"


@pytest.mark.usefixtures("people")
def test_search_by_id_number_typed_in_full_width(client):
    """The grid's search reads an ID number with the same rule: full width finds it."""
    response = post_search(client, "declaration_all", WANTED.translate(FULL_WIDTH))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "王要找" in page and "李其他" not in page
