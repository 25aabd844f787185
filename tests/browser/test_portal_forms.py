"""The declaration form in a real browser, in Chinese and in English (issue on guide gaps,
items 2 and 3).

2. A file over the 10 MB written beside its field is refused as soon as it is chosen (the
   static script; the server's own refusal is tested in tests/declarations); files each within
   it go through together (20 MB in one request, over the old 12 MB cap) and stay through a
   refusal for another field.
3. The gender and age follow the ID number as it is typed (the static script), and after a
   refused submit, correcting the ID number updates them: nothing blocks the submission.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from talentadmin.core.timeutil import local_today
from talentadmin.core.validators import age_on, id_birth_date

from ..conftest import PASSWORD

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

MOBILE = "13800138000"
ID_FEMALE = "11010519491231002X"  # born 1949-12-31
ID_MALE = "110105198001010016"  # born 1980-01-01
MB = 1024 * 1024

TEXTS = {
    "zh_Hans_CN": {
        "language_name": "中文", "mobile": "手机号", "password": "密码", "log_in": "登录",
        "name": "姓名", "id_number": "身份证", "age": "年龄", "title": "职称",
        "male": "男", "female": "女", "submit": "提交", "required": "此项为必填项",
        "too_large": "文件超过 10 MB", "uploaded": "已上传：",
        "submitted": "提交成功，申报进入“待审核”状态。",
        "political_status": "政治面貌", "education": "最高学历", "degree": "最高学位",
        "school": "最高学历(学位)所在院校", "major": "所学专业", "condition": "引进依据及条件",
    },
    "en": {
        "language_name": "English", "mobile": "Mobile number", "password": "Password",
        "log_in": "Log in",
        "name": "Name", "id_number": "ID card number", "age": "Age",
        "title": "Professional title", "male": "Male", "female": "Female", "submit": "Submit",
        "required": "This field is required.", "too_large": "larger than 10 MB",
        "uploaded": "Uploaded:",
        "submitted": "Submitted. The declaration is pending review.",
        "political_status": "Political status", "education": "Highest education",
        "degree": "Highest degree", "school": "School of the highest education (degree)",
        "major": "Major", "condition": "Introduction basis and condition",
    },
}


def big_pdf(path: Path, size: int) -> Path:
    """A real PDF of ``size`` bytes (a long comment after its header)."""
    Image.new("RGB", (60, 80), "white").save(path, "PDF")
    small = path.read_bytes()
    cut = small.index(b"\n") + 1
    path.write_bytes(small[:cut] + b"%" + b"x" * (size - len(small) - 2) + b"\n" + small[cut:])
    return path


def big_png(path: Path, size: int) -> Path:
    """A real PNG of ``size`` bytes (a private chunk that decoders skip)."""
    Image.new("RGB", (60, 80), "white").save(path, "PNG")
    small = path.read_bytes()
    data = b"x" * (size - len(small) - 12)
    pad = struct.pack(">I", len(data)) + b"paDd" + data + struct.pack(
        ">I", zlib.crc32(b"paDd" + data) & 0xFFFFFFFF)
    path.write_bytes(small[:33] + pad + small[33:])
    return path


def label(page, text: str):
    return page.get_by_label(text, exact=True)


@pytest.fixture
def unit(app, permitted, open_round):
    permitted(MOBILE)


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_files_within_their_limits_and_a_corrected_id(language, unit, page, shot, app,
                                                      tmp_path):
    t = TEXTS[language]
    with app.app_context():
        today = local_today()
    age_female = str(age_on(id_birth_date(ID_FEMALE), today))
    age_male = str(age_on(id_birth_date(ID_MALE), today))
    social = big_pdf(tmp_path / "social-insurance.pdf", 5 * MB)
    evidence = big_pdf(tmp_path / "patent.pdf", 5 * MB)
    second = big_pdf(tmp_path / "patent-2.pdf", 5 * MB)
    too_big = big_png(tmp_path / "integrity-too-big.png", 11 * MB)
    integrity = big_png(tmp_path / "integrity.png", 5 * MB)

    page.goto("/login?mode=password")
    if language == "en":
        page.locator(".language-switch").get_by_role("button", name="English").click()
    expect(page.locator(".language-switch .lang-current")).to_have_text(t["language_name"])
    label(page, t["mobile"]).fill(MOBILE)
    label(page, t["password"]).fill(PASSWORD)
    page.get_by_role("button", name=t["log_in"], exact=True).click()
    page.wait_for_url("**/")
    page.goto("/talent/declarations/new")

    # 3. typing the ID number fills in the gender and age (the labels carry the red *)
    expect(page.locator('label[for="name"]')).to_have_class("required")
    assert page.locator('label[for="name"]').evaluate(
        "label => getComputedStyle(label, '::before').content") == '"*"'
    assert page.locator('label[for="name"]').evaluate(
        "label => getComputedStyle(label, '::before').color") == "rgb(208, 2, 27)"
    expect(label(page, t["name"])).to_have_attribute("placeholder", re.compile(".+"))
    label(page, t["name"]).fill("张三")
    label(page, t["id_number"]).fill(ID_FEMALE)
    expect(label(page, t["age"])).to_have_value(age_female)
    expect(page.get_by_role("radio", name=t["female"], exact=True)).to_be_checked()
    shot("1-derived-from-the-id")

    # 2. a file over the limit written beside its field is refused as soon as it is chosen
    page.locator("input#integrity").set_input_files(too_big)
    expect(page.locator("#integrity-too-large")).to_contain_text(t["too_large"])
    assert page.locator("input#integrity").evaluate("input => input.files.length") == 0
    eleven = [big_pdf(tmp_path / f"proof-{n}.pdf", 2048) for n in range(11)]
    page.locator("input#evidence").set_input_files(eleven)  # the field takes ten
    expect(page.locator("#evidence-too-large")).to_contain_text("10")  # new text: see tsv
    assert page.locator("input#evidence").evaluate("input => input.files.length") == 0

    # 2. files each within their limit, 20 MB in one request (over the old 12 MB cap); the
    # title left empty: refused beside it, everything else kept
    for field, value in (("political_status", "13"), ("education", "10"), ("degree", "2"),
                         ("condition", "patent")):
        page.locator(f"select#{field}").select_option(value)
    label(page, t["school"]).fill("清华大学")
    label(page, t["major"]).fill("计算机科学与技术")
    page.locator("input#social_insurance").set_input_files(social)
    page.locator("input#integrity").set_input_files(integrity)
    expect(page.locator("#integrity-too-large")).to_have_count(0)
    page.locator("input#evidence").set_input_files([evidence, second])
    page.get_by_role("button", name=t["submit"], exact=True).click()
    expect(page.locator("#title-error")).to_contain_text(t["required"])
    expect(page.locator("#social_insurance-kept")).to_contain_text("social-insurance.pdf")
    expect(page.locator("#integrity-kept")).to_contain_text("integrity.png")
    expect(page.locator("#evidence-kept")).to_contain_text("patent.pdf")
    expect(page.locator("#evidence-kept")).to_contain_text("patent-2.pdf")
    expect(label(page, t["school"])).to_have_value("清华大学")
    expect(label(page, t["age"])).to_have_value(age_female)
    expect(page.get_by_role("radio", name=t["female"], exact=True)).to_be_checked()
    shot("2-refused-beside-the-field-files-kept")

    # 3. correcting the ID number: the gender and age follow it
    label(page, t["id_number"]).fill(ID_MALE)
    expect(label(page, t["age"])).to_have_value(age_male)
    expect(page.get_by_role("radio", name=t["male"], exact=True)).to_be_checked()
    label(page, t["title"]).fill("无")
    shot("3-id-corrected")
    page.get_by_role("button", name=t["submit"], exact=True).click()
    page.wait_for_url(re.compile(r"/talent/declarations/\d+$"))
    expect(page.get_by_role("status").filter(has_text=t["submitted"])).to_be_visible()
    expect(page.locator("main")).to_contain_text("1101**********0016")
    shot("4-submitted")


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_the_image_code_refreshes_on_a_click(language, page, shot):
    page.goto("/login")
    if language == "en":
        page.locator(".language-switch").get_by_role("button", name="English").click()
    expect(page.locator(".language-switch .lang-current")).to_have_text(
        TEXTS[language]["language_name"])
    image = page.locator("img.captcha-img")
    challenge = page.locator('input[name="sms-captcha_id"]')
    old_id, old_src = challenge.input_value(), image.get_attribute("src")
    expect(image).to_have_attribute("role", "button")
    page.locator("#sms-captcha").fill("WXYZ")
    image.click()
    expect(challenge).not_to_have_value(old_id)
    expect(image).not_to_have_attribute("src", old_src)
    new_id = challenge.input_value()
    assert image.get_attribute("src") == f"/captcha/{new_id}.png"
    expect(page.locator("#sms-captcha")).to_have_value("")  # the answer to the old image goes
    page.wait_for_function("img => img.complete && img.naturalWidth === 160",
                           arg=image.element_handle())
    shot("1-new-image")
    image.focus()
    page.keyboard.press("Enter")  # by keyboard too
    expect(challenge).not_to_have_value(new_id)


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_a_request_over_its_cap_gets_a_page_with_the_way_back(language, unit, page, shot, app,
                                                              tmp_path, monkeypatch):
    """The cap made small for the test: the page names it and leads back to the form."""
    t = TEXTS[language]
    monkeypatch.setattr(app.view_functions["declarations.new"], "max_content_length", 2 * MB)
    page.goto("/login?mode=password")
    if language == "en":
        page.locator(".language-switch").get_by_role("button", name="English").click()
    expect(page.locator(".language-switch .lang-current")).to_have_text(t["language_name"])
    label(page, t["mobile"]).fill(MOBILE)
    label(page, t["password"]).fill(PASSWORD)
    page.get_by_role("button", name=t["log_in"], exact=True).click()
    page.wait_for_url("**/")
    page.goto("/talent/declarations/new")
    label(page, t["name"]).fill("张三")
    page.locator("input#social_insurance").set_input_files(
        big_pdf(tmp_path / "social-insurance.pdf", 3 * MB))
    page.get_by_role("button", name=t["submit"], exact=True).click()
    expect(page.locator("main")).to_contain_text("2 MB")
    shot("1-over-the-cap")
    page.locator("main a.btn").click()
    page.wait_for_url("**/talent/declarations/new")
    expect(label(page, t["name"])).to_be_visible()
