"""Unit certification in a real browser, in Chinese and in English: a PDF licence is shown as
the picture of its first page on the confirm page; a certification that waits for staff says
why and what happens next; a one-character correction of a character OCR read unclearly is
approved at once and leads on to 申请开通业务权限, whose form shows a certificate picker only
for the qualification ticked.

OCR is replaced by hand-written readings (an engine cannot be made to misread on cue); the
upload, storage, preview rendering, pages and scripts are the real ones. Texts added with this
feature are compared with their catalog translation in the chosen language (the catalogs are
filled after the code), the others with their known Chinese or English wording.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from talentadmin.certification import operations as cert_operations

from ..conftest import PASSWORD

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

LICENCE = Path(__file__).resolve().parents[1] / "fixtures" / "licences" / "dev01_clean.jpg"
MOBILE = "13812340001"
NAME = "东莞市云帆智联科技有限公司"
TRUE_CODE = "91441900MA2EAMXB8B"
MISREAD = "91441900MA2EAMXB8C"  # the check character read wrong

TEXTS = {
    "zh_Hans_CN": {"language_name": "中文", "pending": "待审核", "approved": "已通过",
                   "html_lang": "zh-Hans"},
    "en": {"language_name": "English", "pending": "Pending review", "approved": "Approved",
           "html_lang": "en"},
}


def tr(app, language: str, message) -> str:
    """``message`` (a msgid or a lazy string) as the catalog of ``language`` has it."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(language):
        return gettext(str(message)) if isinstance(message, str) else str(message)


def reason(app, language: str, key: str) -> str:
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(language):
        return str(cert_operations.REASONS[key])


def _box(text, x, y, conf=0.99):
    w = 30 * len(text)
    return (text, [(x, y), (x + w, y), (x + w, y + 30), (x, y + 30)], conf)


def reading(code: str | None, low_at: int | None = None):
    """What the OCR module reports for a licence of NAME whose code was read as ``code``."""
    from talentadmin.certification.licence import parse_licence

    lines = [_box("营业执照", 400, 60)]
    if code:
        scores = [0.99] * len(code)
        if low_at is not None:
            scores[low_at] = 0.4
        lines += [_box("名称", 170, 520), _box(NAME, 420, 520),
                  _box("统一社会信用代码", 130, 160), _box(code, 420, 160, conf=scores)]
    fields = parse_licence(lines)
    return SimpleNamespace(name=fields.name, credit_code=fields.credit_code,
                           credit_code_valid=fields.credit_code_valid, engine="rapidocr",
                           seconds=0.2, lines=tuple(lines), fields=fields)


@pytest.fixture
def reads(monkeypatch):
    """``reads.next = reading(...)``: what the next upload is read as."""
    from talentadmin.certification import ocr

    holder = SimpleNamespace(next=None)
    monkeypatch.setattr(ocr, "read_licence", lambda *a, **k: holder.next)
    return holder


def licence_pdf(tmp_path) -> Path:
    path = tmp_path / "营业执照.pdf"
    with Image.open(LICENCE) as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PDF", resolution=150)
    path.write_bytes(buffer.getvalue())
    return path


def log_in(page, language: str) -> None:
    page.goto("/login?mode=password")
    if language == "en":
        page.locator(".language-switch").get_by_role("button", name="English").click()
    expect(page.locator(".language-switch .lang-current")).to_have_text(
        TEXTS[language]["language_name"])
    page.locator("#pw-mobile").fill(MOBILE)
    page.locator("#pw-password").fill(PASSWORD)
    page.locator("#pw-submit").click()
    page.wait_for_url("**/")


def upload(page, path: Path) -> None:
    page.goto("/certification/upload")
    page.locator("#licence").set_input_files(path)
    page.locator("#submit").click()
    page.wait_for_url(re.compile(r"/certification/\d+/confirm$"))


def submit(page, name: str, code: str) -> None:
    page.locator("#name").fill(name)
    page.locator("#credit_code").fill(code)
    page.locator("#email").fill("hr@example.com")
    page.locator("#submit").click()
    page.wait_for_url("**/certification/")


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_certification_waits_with_reasons_then_is_approved(language, app, page, shot, reads,
                                                          make_enterprise, tmp_path):
    t = TEXTS[language]
    make_enterprise(MOBILE)
    log_in(page, language)
    expect(page.locator("html")).to_have_attribute("lang", t["html_lang"])

    # 1. A PDF licence: the confirm page shows its first page as a picture.
    reads.next = reading(MISREAD)  # every character read clearly
    upload(page, licence_pdf(tmp_path))
    preview = page.locator("#licence-preview")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("src", re.compile(r"/certification/\d+/licence\.png$"))
    size = preview.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert size[0] and size[1] > 500 and size[2] > 300, size  # rendered, not a broken image
    expect(page.locator("#credit_code")).to_have_value(MISREAD)
    expect(page.locator("#code-problems")).to_be_visible()  # the code read fails its checks
    expect(page.locator("#code-uncertain")).to_have_count(0)  # no character read unclearly
    shot("1-pdf-confirm")

    # 2. Correcting a character read clearly: waits for staff, and says why and what next.
    submit(page, NAME, TRUE_CODE)
    status = page.locator("#certification-status")
    expect(status.locator("strong")).to_have_text(t["pending"])
    expect(page.locator("#waiting-reasons li")).to_have_text(
        [reason(app, language, cert_operations.CODE_CLEAR)])
    expect(page.locator("#what-next")).to_be_visible()
    expect(page.locator("#next-step")).to_have_count(0)
    shot("2-waits-clear-character")

    # 3. An unreadable licence: told so on the confirm page and on the status page.
    reads.next = reading(None)
    upload(page, licence_pdf(tmp_path))
    expect(page.locator("#licence-unread")).to_be_visible()
    submit(page, NAME, TRUE_CODE)
    expect(page.locator("#waiting-reasons li")).to_have_text(
        [reason(app, language, cert_operations.UNREAD)])
    shot("3-waits-unreadable")

    # 4. The character OCR doubted is marked; correcting it is approved at once.
    reads.next = reading(MISREAD, low_at=17)
    upload(page, licence_pdf(tmp_path))
    expect(page.locator("#code-uncertain mark")).to_have_text("C")
    expect(page.locator("#code-problems")).to_contain_text(tr(
        app, language, "The credit code read from the licence fails its checks. Correct the "
        "character read unclearly (marked below): if the code then passes every check, the "
        "certification is approved at once; other changes are reviewed by staff."))
    submit(page, NAME, TRUE_CODE)
    expect(status.locator("strong")).to_have_text(t["approved"])
    expect(page.locator("#waiting-reasons")).to_have_count(0)
    next_step = page.locator("#next-step")
    expect(next_step).to_have_text(tr(app, language, "Next: apply for the business permission"))
    shot("4-approved")

    # 5. On to the business permission: the certificate picker follows the ticked box.
    next_step.click()
    page.wait_for_url("**/talent/permit/apply")
    picker = page.locator('.qualification-evidence[data-qualification="hightech"]')
    expect(picker).to_be_hidden()
    page.locator('input[name="qualifications"][value="hightech"]').check()
    expect(picker).to_be_visible()
    expect(picker.locator('input[type="file"]')).to_have_attribute("multiple", "")
    shot("5-permit-picker")
    page.locator('input[name="qualifications"][value="hightech"]').uncheck()
    expect(picker).to_be_hidden()
