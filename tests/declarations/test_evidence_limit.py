"""At most ``MAX_EVIDENCE_FILES`` evidence files per declaration, said beside the field,
with everything else kept (issue 9, defect 10)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from talentadmin.core.i18n import LANG_COOKIE
from talentadmin.core.models import Attachment
from talentadmin.declarations.forms import MAX_EVIDENCE_FILES
from talentadmin.declarations.models import Declaration, DeclarationFile
from talentadmin.extensions import db

from ..conftest import pdf_bytes
from .test_portal import declaration_data

MESSAGE = f"Upload at most {MAX_EVIDENCE_FILES} files here"


def evidence(count: int, stem: str = "证明") -> list:
    return [(io.BytesIO(pdf_bytes()), f"{stem}{n}.pdf") for n in range(1, count + 1)]


@pytest.fixture
def unit(permitted, open_round, portal, client):
    permitted("13800138000")
    client.set_cookie(LANG_COOKIE, "en", domain="localhost")  # the message is new: English
    return portal


def stored(app, stem: str) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Attachment).where(
            Attachment.original_name.like(f"{stem}%"))).scalar_one()


def evidence_error(page: str) -> str:
    match = re.search(r'id="evidence-error"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    return match.group(1) if match else ""


def test_eleven_evidence_files_refused_beside_the_field(unit, app):
    assert MAX_EVIDENCE_FILES == 10
    response = unit.post_multipart("/talent/declarations/new",
                                   declaration_data(evidence=evidence(11)))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert MESSAGE in evidence_error(page) and "11 were chosen" in evidence_error(page)
    assert "清华大学" in page and "社保.pdf" in page  # the rest kept
    assert "at most 10" in page  # said beside the field before any refusal, too
    assert stored(app, "证明") == 0  # none of the eleven stored
    with app.app_context():
        assert db.session.execute(select(Declaration)).first() is None


def test_files_kept_before_stay_kept_when_too_many_are_added(unit, client, app):
    # first try: two evidence files stored, the form refused for another field
    response = unit.post_multipart("/talent/declarations/new",
                                   declaration_data(evidence=evidence(2, "旧"), age="30"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    keep = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)
            for name in ("evidence_keep", "social_insurance_keep", "integrity_keep",
                         "form_key")}
    assert keep["evidence_keep"].count(",") == 1
    # second try: eleven new files; refused, the two kept ones are still held
    response = unit.post_multipart("/talent/declarations/new", declaration_data(
        evidence=evidence(11), social_insurance=None, integrity=None, **keep))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert MESSAGE in evidence_error(page)
    assert "旧1.pdf" in page and "旧2.pdf" in page
    assert re.search(r'name="evidence_keep"[^>]*value="([^"]*)"', page).group(1) == \
        keep["evidence_keep"]
    # third try, fixed: submitted with the two kept files
    response = unit.post_multipart("/talent/declarations/new", declaration_data(
        evidence=None, social_insurance=None, integrity=None, **keep))
    assert response.status_code == 302
    with app.app_context():
        names = db.session.execute(select(Attachment.original_name).join(
            DeclarationFile).where(DeclarationFile.slot == "evidence")).scalars().all()
    assert sorted(names) == ["旧1.pdf", "旧2.pdf"]


def test_a_forged_keep_list_is_held_to_the_limit_too(unit, app):
    response = unit.post_multipart("/talent/declarations/new",
                                   declaration_data(evidence=evidence(6, "甲"), age="30"))
    first = re.search(r'name="evidence_keep"[^>]*value="([^"]*)"',
                      response.get_data(as_text=True)).group(1)
    response = unit.post_multipart("/talent/declarations/new",
                                   declaration_data(evidence=evidence(6, "乙"), age="30"))
    second = re.search(r'name="evidence_keep"[^>]*value="([^"]*)"',
                       response.get_data(as_text=True)).group(1)
    response = unit.post_multipart("/talent/declarations/new", declaration_data(
        evidence=None, evidence_keep=f"{first},{second}"))
    assert response.status_code == 400
    assert MESSAGE in evidence_error(response.get_data(as_text=True))


def test_ten_evidence_files_accepted(unit, app):
    response = unit.post_multipart("/talent/declarations/new",
                                   declaration_data(evidence=evidence(10)))
    assert response.status_code == 302, evidence_error(response.get_data(as_text=True))
    with app.app_context():
        declaration = db.session.execute(select(Declaration)).scalar_one()
        assert len(declaration.files_for("evidence")) == 10
