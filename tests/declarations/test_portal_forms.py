"""The portal's forms as the guide shows them (issue on guide gaps, items 2, 3, 7 and 16b).

2. Files each within the limit written beside their field go through together: the request
   cap is the sum of the form's per-file limits; a file over its own limit is refused beside
   its field with the rest of the form kept; a request over the cap gets a page naming the
   limit with the way back to the form.
3. The gender and age the page filled in from the ID number follow a corrected ID number:
   they never block a submission or a draft; a typed value that contradicts still does.
7. The red * of guide fig. 14 on every required field, and its placeholders.
16b. The image code refreshes on a click (a new challenge, through a static script).

The messages are new: the pages are read in English (Chinese catalogs are filled later).
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib

import pytest
from sqlalchemy import func, select

from talentadmin.core import storage
from talentadmin.core.i18n import LANG_COOKIE
from talentadmin.core.models import Attachment, CaptchaChallenge
from talentadmin.core.timeutil import local_today
from talentadmin.core.uploads import TEXT_MARGIN, request_cap
from talentadmin.core.validators import age_on, id_birth_date
from talentadmin.declarations.forms import MAX_EVIDENCE_FILES, DeclarationForm
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import csrf_in, pdf_bytes, permit_form_data, png_bytes
from .test_portal import ID, declaration_data

ID_MALE = "110105198001010016"  # male, born 1980-01-01

MB = 1024 * 1024
NEW = "/talent/declarations/new"


def age(app, number: str) -> str:
    with app.app_context():
        return str(age_on(id_birth_date(number), local_today()))


def big_pdf(size: int) -> bytes:
    """A PDF of about ``size`` bytes (a long comment after the header; PDFium reads it)."""
    small = pdf_bytes()
    cut = small.index(b"\n") + 1
    return small[:cut] + b"%" + b"x" * (size - len(small) - 2) + b"\n" + small[cut:]


def big_png(size: int) -> bytes:
    """A PNG of about ``size`` bytes (a private ancillary chunk decoders skip)."""
    small = png_bytes()
    data = b"x" * (size - len(small) - 12)
    pad = struct.pack(">I", len(data)) + b"paDd" + data + struct.pack(
        ">I", zlib.crc32(b"paDd" + data) & 0xFFFFFFFF)
    return small[:33] + pad + small[33:]


@pytest.fixture
def unit(permitted, open_round, portal, client):
    permitted("13800138000")
    client.set_cookie(LANG_COOKIE, "en", domain="localhost")
    return portal


def declarations(app) -> list[Declaration]:
    with app.app_context():
        return list(db.session.execute(select(Declaration).order_by(Declaration.id)).scalars())


def stored(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Attachment)).scalar_one()


def error_of(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    return match.group(1) if match else ""


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    return match.group(1) if match else ""


def value_of(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*id="{name}"[^>]*>', page)
    assert match, name
    found = re.search(r'value="([^"]*)"', match.group(0))
    return found.group(1) if found else ""


def checked_gender(page: str) -> str:
    match = re.search(r'<input[^>]*checked[^>]*name="gender"[^>]*value="(\w+)"'
                      r'|<input[^>]*name="gender"[^>]*value="(\w+)"[^>]*checked', page)
    return (match.group(1) or match.group(2)) if match else ""


# --- 2. files within their limits, the cap, the page over it ------------------------------


def test_the_cap_is_the_sum_of_the_forms_file_limits(app):
    view = app.view_functions["declarations.new"]
    expected = (2 + MAX_EVIDENCE_FILES) * storage.MAX_BYTES + TEXT_MARGIN
    assert view.max_content_length == request_cap(DeclarationForm) == expected
    assert app.view_functions["declarations.edit"].max_content_length == expected
    assert app.config["MAX_CONTENT_LENGTH"] == 12 * MB  # the default for everything else
    assert app.view_functions["certification.upload"].max_content_length \
        == storage.MAX_BYTES + TEXT_MARGIN  # the licence alone
    assert getattr(app.view_functions["accounts.login"], "max_content_length", None) is None


def test_three_files_of_5_mb_go_through_together(unit, app):
    """15 MB in one request: over the old 12 MB cap, each file within its 10 MB."""
    response = unit.post_multipart(NEW, declaration_data(
        social_insurance=(io.BytesIO(big_pdf(5 * MB)), "社保.pdf"),
        integrity=(io.BytesIO(big_png(5 * MB)), "诚信声明.png"),
        evidence=[(io.BytesIO(big_pdf(5 * MB)), "专利1.pdf")]))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (d,) = declarations(app)
    assert d.status == "pending_initial"
    assert sorted(f.attachment.size for f in d.files) == [5 * MB] * 3


def test_a_file_over_its_limit_is_refused_beside_it_and_the_rest_kept(unit, app):
    before = stored(app)
    response = unit.post_multipart(NEW, declaration_data(
        integrity=(io.BytesIO(big_png(storage.MAX_BYTES + 1)), "诚信声明.png"),
        evidence=[(io.BytesIO(big_pdf(4 * MB)), "专利1.pdf"),
                  (io.BytesIO(pdf_bytes()), "专利2.pdf")]))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "larger than 10 MB" in error_of(page, "integrity")
    assert error_of(page, "social_insurance") == error_of(page, "evidence") == ""
    assert "清华大学" in page and "计算机科学与技术" in page and 'value="张三"' in page
    assert "社保.pdf" in page and "专利1.pdf" in page and "专利2.pdf" in page  # kept
    assert stored(app) == before + 3  # the three accepted
    assert declarations(app) == []
    # only the refused file is chosen again: the others travel in their keep fields
    response = unit.client.post(NEW, data={
        "csrf_token": csrf_in(page), **declaration_data(
            social_insurance=None, evidence=None,
            integrity=(io.BytesIO(png_bytes()), "诚信声明.png")),
        "social_insurance_keep": hidden(page, "social_insurance_keep"),
        "evidence_keep": hidden(page, "evidence_keep")}, content_type="multipart/form-data")
    assert response.status_code == 302, error_of(response.get_data(as_text=True), "integrity")
    (d,) = declarations(app)
    assert [f.attachment.original_name for f in d.files] == ["社保.pdf", "诚信声明.png",
                                                             "专利1.pdf", "专利2.pdf"]


def test_the_limit_is_written_beside_every_file_field(unit, client):
    page = client.get(NEW).get_data(as_text=True)
    for name in ("social_insurance", "integrity", "evidence"):
        field = re.search(rf'<input[^>]*id="{name}"[^>]*>', page).group(0)
        assert f'data-max-bytes="{storage.MAX_BYTES}"' in field
        assert 'data-too-large="The file is larger than 10 MB.' in field  # said when chosen
        assert ('data-too-many="Upload at most 10 files here."' in field) == (name == "evidence")
    assert page.count("Each file at most 10 MB.") == 3
    assert re.search(r'<script src="/static/file-limits\.js[^"]*" defer>', page)


@pytest.mark.parametrize("url", [NEW, "edit"])
def test_a_request_over_the_cap_names_the_limit_and_leads_back(unit, client, app,
                                                               monkeypatch, url):
    if url == "edit":
        unit.post_multipart(NEW, {"name": "李四", "save_draft": "1"})
        url = f"/talent/declarations/{declarations(app)[0].id}/edit"
    endpoint = "declarations.new" if url == NEW else "declarations.edit"
    monkeypatch.setattr(app.view_functions[endpoint], "max_content_length", 2 * MB)
    before = stored(app)
    response = unit.post_multipart(url, declaration_data(
        evidence=[(io.BytesIO(big_pdf(MB + 1)), "a.pdf"), (io.BytesIO(big_pdf(MB)), "b.pdf")]))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than 2 MB, the most this form takes at once" in page
    assert "Nothing was saved" in page
    assert f'href="{url}"' in page and "Back to the form" in page
    assert stored(app) == before


def test_the_permit_form_takes_its_files_together_over_the_old_cap(certified, portal, client,
                                                                   app):
    certified("13800138000")
    portal.login_password("13800138000", "correct horse 42")
    view = app.view_functions["permits.apply"]
    assert callable(view.max_content_length)
    response = portal.post_multipart("/talent/permit/apply", permit_form_data(
        tax_file_1=(io.BytesIO(big_pdf(5 * MB)), "2025.pdf"),
        tax_file_2=(io.BytesIO(big_pdf(5 * MB)), "2024.pdf"),
        tax_file_3=(io.BytesIO(big_png(5 * MB)), "2023.png")))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_the_permit_form_over_its_cap_leads_back_to_it(certified, portal, client, app,
                                                       monkeypatch):
    certified("13800138000")
    portal.login_password("13800138000", "correct horse 42")
    client.set_cookie(LANG_COOKIE, "en", domain="localhost")
    monkeypatch.setattr(app.view_functions["permits.apply"], "max_content_length",
                        lambda: MB)
    response = portal.post_multipart("/talent/permit/apply", permit_form_data(
        tax_file_1=(io.BytesIO(big_pdf(2 * MB)), "2025.pdf")))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than 1 MB" in page and 'href="/talent/permit/apply"' in page


# --- 3. gender and age follow the ID number -----------------------------------------------


@pytest.mark.parametrize("button", ["submit", "save_draft"])
def test_derived_gender_and_age_follow_a_corrected_id(unit, app, button):
    """Refused for another field, the page shows the gender and age it took from the first ID
    number; the user corrects the ID number and sends the page as it is: accepted, with the
    gender and age of the corrected number."""
    AGE, AGE_MALE = age(app, ID), age(app, ID_MALE)
    first = unit.post_multipart(NEW, declaration_data(title=""))
    assert first.status_code == 400
    page = first.get_data(as_text=True)
    assert value_of(page, "age") == AGE and checked_gender(page) == "female"
    assert hidden(page, "age_derived") == AGE and hidden(page, "gender_derived") == "female"
    data = {"csrf_token": csrf_in(page), **declaration_data(
        id_number=ID_MALE, gender="female", age=AGE, submit=None), button: "1",
        "age_derived": AGE, "gender_derived": "female",
        "social_insurance_keep": hidden(page, "social_insurance_keep"),
        "integrity_keep": hidden(page, "integrity_keep"),
        "evidence_keep": hidden(page, "evidence_keep")}
    response = unit.client.post(NEW, data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    (d,) = declarations(app)
    assert (d.gender, str(d.age), d.id_masked) == ("male", AGE_MALE, "1101**********0016")
    assert d.status == ("pending_initial" if button == "submit" else "draft")


def test_a_saved_drafts_gender_and_age_follow_a_corrected_id(unit, app, client):
    AGE, AGE_MALE = age(app, ID), age(app, ID_MALE)
    unit.post_multipart(NEW, declaration_data(submit=None, save_draft="1"))
    (d,) = declarations(app)
    assert (d.gender, str(d.age)) == ("female", AGE)
    page = client.get(f"/talent/declarations/{d.id}/edit").get_data(as_text=True)
    assert hidden(page, "age_derived") == AGE and hidden(page, "gender_derived") == "female"
    response = unit.post_multipart(f"/talent/declarations/{d.id}/edit", declaration_data(
        id_number=ID_MALE, gender="female", age=AGE, version=str(d.version),
        age_derived=AGE, gender_derived="female"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    (d,) = declarations(app)
    assert (d.status, d.gender, str(d.age)) == ("pending_initial", "male", AGE_MALE)


def test_typed_values_that_contradict_the_id_still_block(unit, app):
    AGE = age(app, ID)
    response = unit.post_multipart(NEW, declaration_data(age="30", gender="male"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"The age does not match the ID number ({AGE})" in error_of(page, "age")
    assert "The gender does not match the ID number" in error_of(page, "gender")
    assert hidden(page, "age_derived") == hidden(page, "gender_derived") == ""
    # a mark that is not what was filled in does not make a typed value derived
    response = unit.post_multipart(NEW, declaration_data(age="30", age_derived="31"))
    assert "The age does not match" in error_of(response.get_data(as_text=True), "age")
    assert declarations(app) == []


def test_a_typed_value_equal_to_the_derived_one_follows_the_id_too(unit, app):
    AGE = age(app, ID)
    first = unit.post_multipart(NEW, declaration_data(title="", age=AGE, gender="female"))
    page = first.get_data(as_text=True)
    assert hidden(page, "age_derived") == AGE and hidden(page, "gender_derived") == "female"


def test_derived_values_with_a_wrong_id_leave_only_the_id_error(unit, app):
    AGE = age(app, ID)
    response = unit.post_multipart(NEW, declaration_data(
        id_number="110105194912310021", gender="female", age=AGE,
        gender_derived="female", age_derived=AGE))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "check character" in error_of(page, "id_number")
    assert error_of(page, "gender") == error_of(page, "age") == ""
    assert value_of(page, "age") == "" and checked_gender(page) == ""


def test_an_empty_age_with_no_id_on_a_draft_stays_empty(unit, app):
    response = unit.post_multipart(NEW, {"name": "王五", "save_draft": "1",
                                         "age_derived": "44", "age": "44"})
    assert response.status_code == 302
    (d,) = declarations(app)
    assert d.age is None and d.gender is None


def test_the_script_that_follows_the_id_is_a_static_file(unit, client, app):
    page = client.get(NEW).get_data(as_text=True)
    assert re.search(r'<script src="/static/declaration-form\.js[^"]*" defer>', page)
    with app.app_context():
        assert f'data-today="{local_today().isoformat()}"' in page
    assert " onchange=" not in page and " oninput=" not in page and " onclick=" not in page
    script = client.get("/static/declaration-form.js")
    assert script.status_code == 200 and b"age_derived" in script.data


# --- 7. the guide's marks and words ---------------------------------------------------------


FIG_14 = ("name", "id_number", "age", "political_status", "title", "education", "degree",
          "school", "major", "condition", "social_insurance", "integrity", "evidence")


def test_every_required_field_has_the_red_star_and_the_guides_placeholders(unit, client):
    page = client.get(NEW).get_data(as_text=True)
    for name in FIG_14:
        assert re.search(rf'<label for="{name}" class="required">', page), name
        assert 'aria-required="true"' in re.search(
            rf'<input[^>]*id="{name}"[^>]*>|<select[^>]*id="{name}"[^>]*>', page).group(0), name
    assert re.search(r'<span class="[^"]*\brequired" id="gender-label">', page)
    assert re.search(r'<legend class="[^"]*\brequired">Attachments</legend>', page)
    assert '<label for="school" class="required">School' in page  # the label's text as it was
    for name, placeholder in (("name", "Enter the name"), ("id_number", "Enter the ID card number"),
                              ("age", "Enter the age"),
                              ("title", "Enter the professional title")):
        assert f'placeholder="{placeholder}"' in re.search(
            rf'<input[^>]*id="{name}"[^>]*>', page).group(0)


def test_the_star_is_drawn_in_red(client):
    css = client.get("/static/portal.css").get_data(as_text=True)
    assert re.search(r'\.required::before\s*\{[^}]*content:\s*"\*";[^}]*color:\s*#[0-9a-f]+',
                     css)


# --- 16b. the image code refreshes on a click --------------------------------------------


def test_the_captcha_image_gets_a_new_challenge_on_request(client, app):
    page = client.get("/login").get_data(as_text=True)
    img = re.search(r'<img[^>]*class="captcha-img"[^>]*>', page).group(0)
    assert 'data-refresh-url="/captcha/new"' in img
    assert 'data-challenge-field="sms-captcha_id"' in img
    assert re.search(r'<script src="/static/captcha\.js[^"]*" defer>', page)
    old = hidden(page, "sms-captcha_id")
    response = client.post("/captcha/new", headers={"X-CSRFToken": csrf_in(page)})
    assert response.status_code == 201
    fresh = json.loads(response.data)
    assert fresh["id"] != old and fresh["src"] == f"/captcha/{fresh['id']}.png"
    image = client.get(fresh["src"])
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    with app.app_context():
        assert db.session.get(CaptchaChallenge, fresh["id"]) is not None


def test_the_new_challenge_is_the_one_a_code_request_is_checked_against(portal, client, app,
                                                                        outbox):
    page = portal.login_page()
    fresh = json.loads(client.post("/captcha/new", headers={"X-CSRFToken": csrf_in(page)}).data)
    with app.app_context():
        answer = db.session.get(CaptchaChallenge, fresh["id"]).answer
    response = client.post("/login", data={
        "csrf_token": csrf_in(page), "sms-mobile": "13800138000",
        "sms-captcha_id": fresh["id"], "sms-captcha": answer, "sms-send_code": "1"})
    assert response.status_code == 200
    assert outbox.last_code("13800138000")


def test_a_new_challenge_needs_the_csrf_token(client):
    assert client.post("/captcha/new").status_code == 400
    assert client.get("/captcha/new").status_code == 405


def test_the_change_mobile_page_refreshes_its_image_too(portal, client):
    portal.login_sms("13800138000")
    page = client.get("/account/mobile").get_data(as_text=True)
    assert 'data-refresh-url="/captcha/new"' in page and "captcha.js" in page


def test_the_permits_contact_is_one_item_as_in_the_guide(certified, portal, client):
    certified("13800138000")
    portal.login_password("13800138000", "correct horse 42")
    client.set_cookie(LANG_COOKIE, "en", domain="localhost")
    page = client.get("/talent/permit/apply").get_data(as_text=True)
    fieldset = re.search(r'<legend class="[^"]*">Unit contact person and contact details'
                         r'</legend>(.*?)</fieldset>', page, re.S)
    assert fieldset and 'id="contact_name"' in fieldset.group(1)
    assert 'id="contact_mobile"' in fieldset.group(1)
    assert '<label for="contact_name" class="required">' in page  # required: the red *
