"""Unit certification through the portal: upload → OCR → confirm → approved or queued."""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from talentadmin.certification.models import Certification
from talentadmin.core.creditcode import complete_code
from talentadmin.core.models import Attachment, AuditEvent
from talentadmin.extensions import db

from ..conftest import PASSWORD, csrf_in

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "licences"
TRUTH = json.loads((FIXTURES / "truth.json").read_text("utf-8"))
MOBILE = "13800138000"


@pytest.fixture
def operator(portal, make_enterprise):
    make_enterprise(MOBILE)
    assert portal.login_password(MOBILE, PASSWORD).status_code == 302
    return portal


def upload(client, data: bytes, filename: str):
    html = client.get("/certification/upload").get_data(as_text=True)
    return client.post("/certification/upload", data={
        "csrf_token": csrf_in(html), "licence": (io.BytesIO(data), filename)},
        content_type="multipart/form-data")


def post_confirm(client, url, **values):
    html = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_in(html), "email": "hr@example.com",
                                  **values})


def confirm(client, response, **values):
    return post_confirm(client, response.headers["Location"], **values), None


def certifications(app) -> list[Certification]:
    with app.app_context():
        return list(db.session.execute(
            select(Certification).order_by(Certification.id)).scalars())


def _prefilled(html: str, field: str) -> str:
    import re

    return re.search(rf'name="{field}"[^>]*value="([^"]*)"', html).group(1)


@pytest.mark.ocr
@pytest.mark.parametrize("filename", sorted(TRUTH))
def test_dev_fixtures_certify_automatically(operator, client, app, filename):
    response = upload(client, (FIXTURES / filename).read_bytes(), filename)
    assert response.status_code == 302, response.get_data(as_text=True)
    url = response.headers["Location"]
    html = client.get(url).get_data(as_text=True)
    assert _prefilled(html, "name") == TRUTH[filename]["name"]
    assert _prefilled(html, "credit_code") == TRUTH[filename]["credit_code"]
    response, _ = confirm(client, response, name=TRUTH[filename]["name"],
                          credit_code=TRUTH[filename]["credit_code"])
    assert response.status_code == 302
    page = client.get("/certification/").get_data(as_text=True)
    assert "已通过" in page and TRUTH[filename]["credit_code"] in page
    (cert,) = certifications(app)
    assert cert.status == "approved" and cert.ocr_engine == "rapidocr"


@pytest.mark.ocr
def test_pdf_licence_is_read_from_its_first_page(operator, client, app):
    image = Image.open(FIXTURES / "dev01_clean.jpg")
    buffer = io.BytesIO()
    image.save(buffer, format="PDF", resolution=150)
    response = upload(client, buffer.getvalue(), "营业执照.pdf")
    assert response.status_code == 302
    (cert,) = certifications(app)
    assert cert.ocr_credit_code == TRUTH["dev01_clean.jpg"]["credit_code"]
    with app.app_context():
        attachment = db.session.get(Attachment, cert.licence_id)
        assert attachment.kind == "pdf" and attachment.original_name == "营业执照.pdf"


@pytest.mark.ocr
def test_edited_values_go_to_manual_review(operator, client, app):
    response = upload(client, (FIXTURES / "dev01_clean.jpg").read_bytes(), "a.jpg")
    response, _ = confirm(client, response, name="北京朝阳云帆智联科技有限责任公司",
                          credit_code=TRUTH["dev01_clean.jpg"]["credit_code"])
    assert response.status_code == 302
    assert "待审核" in client.get("/certification/").get_data(as_text=True)
    (cert,) = certifications(app)
    assert cert.status == "manual_review" and cert.name_changed and not cert.code_changed


@pytest.mark.ocr
def test_code_certified_by_another_account_is_a_conflict(operator, client, app, portal,
                                                         make_enterprise):
    truth = TRUTH["dev01_clean.jpg"]
    response = upload(client, (FIXTURES / "dev01_clean.jpg").read_bytes(), "a.jpg")
    confirm(client, response, name=truth["name"], credit_code=truth["credit_code"])
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    make_enterprise("13900139000")
    portal.login_password("13900139000", PASSWORD)
    response = upload(client, (FIXTURES / "dev01_clean.jpg").read_bytes(), "b.jpg")
    confirm(client, response, name=truth["name"], credit_code=truth["credit_code"])
    first, second = certifications(app)
    assert first.status == "approved"
    assert second.status == "manual_review" and second.conflict


@pytest.mark.ocr
def test_image_without_text_asks_to_type_and_goes_to_review(operator, client, app):
    blank = io.BytesIO()
    Image.new("RGB", (1200, 800), "white").save(blank, format="PNG")
    response = upload(client, blank.getvalue(), "blank.png")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "未能识别营业执照" in html
    response, _ = confirm(client, response, name="北京测试科技有限公司",
                          credit_code=TRUTH["dev01_clean.jpg"]["credit_code"])
    assert response.status_code == 302
    (cert,) = certifications(app)
    assert cert.status == "manual_review" and cert.ocr_name is None


@pytest.mark.ocr
def test_licence_with_wrong_check_digit_is_never_auto_approved(operator, client, app):
    from ..licence_gen import Licence, render_page

    good = "91110105MA01R8DQ2M"
    wrong = good[:-1] + ("N" if good[-1] != "N" else "P")
    page = render_page(Licence(
        name="北京校验位测试科技有限公司", code=wrong, kind="有限责任公司（自然人投资或控股）",
        person="张三", capital="人民币壹佰万元整", founded="2021年03月01日",
        address="北京市朝阳区建国路88号", scope="技术开发、技术咨询。",
        registrar="北京市朝阳区市场监督管理局"), "landscape", random.Random(7), "corner")
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, format="JPEG", quality=90)
    response = upload(client, buffer.getvalue(), "wrong.jpg")
    assert response.status_code == 302
    (cert,) = certifications(app)
    assert not cert.ocr_code_valid
    # Submitting the code as read is refused by the form: the check character fails.
    response, _ = confirm(client, response, name="北京校验位测试科技有限公司", credit_code=wrong)
    assert response.status_code == 400 and "校验位" in response.get_data(as_text=True)
    response = post_confirm(client, f"/certification/{cert.id}/confirm",
                            name="北京校验位测试科技有限公司", credit_code=good)
    assert response.status_code == 302
    assert certifications(app)[0].status == "manual_review"


# --- bad uploads: refused beside the field, nothing stored -----------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("licence.png", b"not really")
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _bomb_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")
    return buffer.getvalue()


BAD_UPLOADS = {
    "empty": (lambda: b"", "营业执照.jpg", "文件为空"),
    "text_as_jpg": (lambda: "这不是图片".encode(), "licence.jpg", "只接受 JPG、PNG 或 PDF"),
    "zip_as_png": (_zip, "licence.png", "只接受 JPG、PNG 或 PDF"),
    "html_as_png": (lambda: b"<!doctype html><script>alert(1)</script>", "x.png",
                    "只接受 JPG、PNG 或 PDF"),
    "exe_as_pdf": (lambda: b"MZ\x90\x00" + b"\x00" * 200, "licence.pdf", "只接受 JPG、PNG 或 PDF"),
    "broken_pdf": (lambda: b"%PDF-1.7\n1 0 obj <<>> garbage", "licence.pdf", "文件已损坏"),
    "truncated_jpeg": (lambda: (FIXTURES / "dev01_clean.jpg").read_bytes()[:3000], "a.jpg",
                       "文件已损坏"),
    "encrypted_pdf": (_encrypted_pdf, "licence.pdf", "设有密码"),
    "bomb": (_bomb_png, "huge.png", "像素过多"),
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_bad_upload_refused_beside_the_field(operator, client, app, case):
    make, filename, message = BAD_UPLOADS[case]
    response = upload(client, make(), filename)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'id="licence-error"' in page
    assert certifications(app) == []
    with app.app_context():
        assert db.session.execute(select(Attachment)).first() is None
    stored = [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()]
    assert stored == []


def test_no_file_chosen(operator, client):
    html = client.get("/certification/upload").get_data(as_text=True)
    response = client.post("/certification/upload", data={"csrf_token": csrf_in(html)},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "请选择要上传的文件" in response.get_data(as_text=True)


def test_fifty_megabyte_upload_refused_before_it_is_read(operator, client):
    html = client.get("/certification/upload").get_data(as_text=True)
    big = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024))
    response = client.post("/certification/upload",
                           data={"csrf_token": csrf_in(html), "licence": (big, "big.jpg")},
                           content_type="multipart/form-data")
    # Refused on the declared Content-Length, before the body is parsed.
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "10 MB" in page and "未保存任何内容" in page  # the page's limit, nothing kept


def test_licence_file_is_only_served_to_its_owner_and_staff(operator, client, app, portal,
                                                            make_enterprise, staff_login):
    png = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(png, format="PNG")
    upload(client, png.getvalue(), "licence.png")
    (cert,) = certifications(app)
    url = f"/files/{cert.licence_id}"
    own = client.get(url)
    assert own.status_code == 200 and own.headers["X-Content-Type-Options"] == "nosniff"
    assert own.headers["Content-Disposition"].startswith("attachment")
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    assert client.get(url).status_code == 404  # anonymous
    make_enterprise("13900139000")
    portal.login_password("13900139000", PASSWORD)
    assert client.get(url).status_code == 404  # another enterprise
    with app.app_context():
        denied = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "file.denied")).scalar_one()
        assert denied.actor_label == "139****9000"
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("reviewer", "initial_reviewer")
    # Staff never read a file by its number, and a licence never submitted is not theirs.
    assert client.get(url + "?inline=1").status_code == 404
    admin_url = f"/admin/certification_all/file/?id={cert.id}&inline=1"
    assert client.get(admin_url).status_code == 404
    with app.app_context():
        db.session.get(Certification, cert.id).status = "manual_review"
        db.session.commit()
    inline = client.get(admin_url)
    assert inline.status_code == 200 and inline.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in inline.headers["Content-Security-Policy"]
    with app.app_context():
        read = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "file.read")).scalar_one()
        assert (read.actor_label, read.target_id, read.detail["as"]) == ("reviewer", cert.id,
                                                                         "inline")


def test_other_accounts_certification_is_404_and_audited(operator, client, app, portal,
                                                        make_enterprise):
    png = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(png, format="PNG")
    upload(client, png.getvalue(), "licence.png")
    (cert,) = certifications(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    make_enterprise("13900139000")
    portal.login_password("13900139000", PASSWORD)
    assert client.get(f"/certification/{cert.id}/confirm").status_code == 404
    html = client.get("/certification/upload").get_data(as_text=True)
    response = client.post(f"/certification/{cert.id}/confirm", data={
        "csrf_token": csrf_in(html), "name": "x", "credit_code": "91110105MA01R8DQ2M",
        "email": "a@b.cn"})
    assert response.status_code == 404
    assert certifications(app)[0].status == "recognised"


@pytest.mark.parametrize(("typed", "message"), [
    ("91110105MAO1R8DQ2M", "不含 I、O、S、V、Z"),
    ("91110105MA0IR8DQ2M", "不含 I、O、S、V、Z"),
    ("91110105ma01r8dq2m", "大写字母"),
    ("91110105MA01R8DQ2", "18 位"),
    ("91110105MA01R8DQ2N", "校验位"),
])
def test_typed_credit_code_rules(operator, client, app, typed, message):
    png = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(png, format="PNG")
    response = upload(client, png.getvalue(), "licence.png")
    response, _ = confirm(client, response, name="北京某某科技有限公司", credit_code=typed)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'id="credit_code-error"' in page
    assert 'value="北京某某科技有限公司"' in page and 'value="hr@example.com"' in page


def test_bad_email_refused(operator, client):
    png = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(png, format="PNG")
    response = upload(client, png.getvalue(), "licence.png")
    response, _ = confirm(client, response, name="北京某某科技有限公司",
                          credit_code="91110105MA01R8DQ2M", email="not-an-email")
    assert response.status_code == 400 and "有效的电子邮箱" in response.get_data(as_text=True)


def test_easyocr_without_its_weights_refuses_to_start(tmp_path):
    from talentadmin import create_app

    with pytest.raises(RuntimeError, match="craft_mlt_25k.pth, zh_sim_g2.pth"):
        create_app({"INSTANCE_PATH": str(tmp_path), "OCR_ENGINE": "easyocr",
                    "EASYOCR_MODEL_DIR": str(tmp_path)})
    with pytest.raises(RuntimeError, match="TALENTADMIN_EASYOCR_MODEL_DIR"):
        create_app({"INSTANCE_PATH": str(tmp_path), "OCR_ENGINE": "easyocr"})
    with pytest.raises(RuntimeError, match="rapidocr"):
        create_app({"INSTANCE_PATH": str(tmp_path), "OCR_ENGINE": "tesseract"})


# --- every check of the code, corrections and uncertain names ---------------------------


def _reading_of(lines):
    """What the OCR module reports for ``lines``: the real parsing of hand-written OCR lines
    (an engine cannot be made to misread on cue)."""
    from types import SimpleNamespace

    from talentadmin.certification.licence import parse_licence

    fields = parse_licence(lines)
    return SimpleNamespace(name=fields.name, credit_code=fields.credit_code,
                           credit_code_valid=fields.credit_code_valid, engine="rapidocr",
                           seconds=0.5, lines=tuple(lines), fields=fields)


def _box(text, x, y, conf=0.99):
    w = 30 * len(text)
    return (text, [(x, y), (x + w, y), (x + w, y + 30), (x, y + 30)], conf)


DONGGUAN = "东莞市云帆智联科技有限公司"


@pytest.fixture
def ocr_reads(monkeypatch):
    """Make the next upload read the given OCR lines."""
    def use(lines):
        from talentadmin.certification import ocr

        monkeypatch.setattr(ocr, "read_licence", lambda *a, **k: _reading_of(lines))
    return use


def _png() -> bytes:
    png = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(png, format="PNG")
    return png.getvalue()


def test_corrected_code_is_shown_and_never_approved_automatically(operator, client, app,
                                                                   ocr_reads):
    # Defocus read both B of 91441900MA2EAMXB8B as 8: the GB 32100 check still holds, the
    # GB 11714 one does not; the one code within the confusions passing every check is offered.
    ocr_reads([_box("名称", 170, 520), _box(DONGGUAN, 420, 520),
               _box("统一社会信用代码", 130, 160), _box("91441900MA2EAMX888", 420, 160)])
    response = upload(client, _png(), "licence.png")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _prefilled(html, "credit_code") == "91441900MA2EAMXB8B"
    assert 'id="code-corrected"' in html and "91441900MA2EAMX888" in html
    (cert,) = certifications(app)
    assert cert.ocr_code_corrected_from == "91441900MA2EAMX888" and not cert.ocr_code_valid
    response, _ = confirm(client, response, name=DONGGUAN, credit_code="91441900MA2EAMXB8B")
    assert response.status_code == 302
    (cert,) = certifications(app)
    assert cert.status == "manual_review" and not cert.code_changed and not cert.name_changed


def test_reading_failing_the_organisation_check_names_it(operator, client, app, ocr_reads):
    # Two confusions passing GB 32100 but not GB 11714, with no single correction: not valid,
    # the failed check named on the confirm page.
    read = "91441900MANBA07G7J"
    ocr_reads([_box("名称", 170, 520), _box(DONGGUAN, 420, 520),
               _box("统一社会信用代码", 130, 160), _box(read, 420, 160)])
    response = upload(client, _png(), "licence.png")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _prefilled(html, "credit_code") == read
    assert 'id="code-problems"' in html and "GB 11714" in html
    (cert,) = certifications(app)
    assert not cert.ocr_code_valid and cert.ocr_code_corrected_from is None


def test_clean_reading_is_approved_automatically(operator, client, app, ocr_reads):
    ocr_reads([_box("名称", 170, 520), _box(DONGGUAN, 420, 520),
               _box("统一社会信用代码", 130, 160), _box("91441900MA2EAMXB8B", 420, 160)])
    response = upload(client, _png(), "licence.png")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="code-corrected"' not in html and 'id="name-uncertain"' not in html
    response, _ = confirm(client, response, name=DONGGUAN, credit_code="91441900MA2EAMXB8B")
    (cert,) = certifications(app)
    assert cert.status == "approved" and cert.code_problems is None


def test_uncertain_name_characters_are_highlighted(operator, client, app, ocr_reads):
    scores = [0.99] * (len(DONGGUAN) + 1)
    scores[5] = 0.3  # 帆, after the glued 称 of the label
    ocr_reads([_box("称" + DONGGUAN, 320, 520, conf=scores),
               _box("统一社会信用代码", 130, 160), _box("91441900MA2EAMXB8B", 420, 160)])
    response = upload(client, _png(), "licence.png")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _prefilled(html, "name") == DONGGUAN
    assert 'id="name-uncertain"' in html and '<mark class="name-uncertain">帆</mark>' in html
    (cert,) = certifications(app)
    assert cert.ocr_name_uncertain == "4"


@pytest.mark.parametrize(("typed", "problem", "shown"), [
    ("91441900MA2EAMX888", "organisation", "GB 11714"),
    (complete_code("91999999MA01R8DQ"), "division", "GB/T 2260"),
    (complete_code("94441900MA01R8DQ"), "registrar", "GB 32100"),
])
def test_typed_code_failing_a_soft_check_is_accepted_and_flagged(operator, client, app,
                                                                 typed, problem, shown):
    response = upload(client, _png(), "licence.png")
    response, _ = confirm(client, response, name="北京某某科技有限公司", credit_code=typed)
    assert response.status_code == 302
    (cert,) = certifications(app)
    assert cert.status == "manual_review" and cert.code_problems == problem
    page = client.get("/certification/").get_data(as_text=True)
    assert 'id="code-problems"' in page and shown in page


def test_read_code_failing_a_soft_check_is_never_approved_automatically(operator, client, app,
                                                                       ocr_reads):
    code = complete_code("91999999MA01R8DQ")  # passes both check characters, no division
    ocr_reads([_box("名称", 170, 520), _box(DONGGUAN, 420, 520),
               _box("统一社会信用代码", 130, 160), _box(code, 420, 160)])
    response = upload(client, _png(), "licence.png")
    response, _ = confirm(client, response, name=DONGGUAN, credit_code=code)
    (cert,) = certifications(app)
    assert cert.status == "manual_review" and cert.code_problems == "division"
    assert not cert.ocr_code_valid


# --- automatic approval after a correction; why a certification waits ----------------------

TRUE_CODE = "91441900MA2EAMXB8B"


def _code_lines(read: str, low_at: int | tuple[int, ...] | None, name: str = DONGGUAN):
    scores = [0.99] * len(read)
    for i in (low_at,) if isinstance(low_at, int) else low_at or ():
        scores[i] = 0.42
    return [_box("名称", 170, 520), _box(name, 420, 520),
            _box("统一社会信用代码", 130, 160), _box(read, 420, 160, conf=scores)]


@pytest.fixture
def english(client):
    html = client.get("/").get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_in(html)})


def test_one_low_scored_character_corrected_is_approved_automatically(operator, client, app,
                                                                      ocr_reads, english):
    # The check character read as C with a low score: the code fails its checks; the
    # operator corrects that one character and the code passes every check.
    ocr_reads(_code_lines("91441900MA2EAMXB8C", 17))
    response = upload(client, _png(), "licence.png")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="code-uncertain"' in html and '<mark class="code-uncertain">C</mark>' in html
    assert "Correct the character read unclearly (marked below)" in html
    (cert,) = certifications(app)
    assert cert.ocr_code_uncertain == "17" and cert.ocr_code_corrected_from is None
    response, _ = confirm(client, response, name=DONGGUAN, credit_code=TRUE_CODE)
    assert response.status_code == 302
    (cert,) = certifications(app)
    assert cert.status == "approved" and cert.credit_code == TRUE_CODE and cert.code_changed
    page = client.get("/certification/").get_data(as_text=True)
    assert "Approved" in page and 'id="waiting-reasons"' not in page
    assert 'id="next-step" href="/talent/permit/apply"' in page
    assert "Next: apply for the business permission" in page
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "certification.auto_approve")).scalar_one()
        assert event.detail["code_corrected"] is True


def test_name_differing_only_in_whitespace_still_approved(operator, client, app, ocr_reads):
    ocr_reads(_code_lines("91441900MA2EAMXB8C", 17, name="东莞市云帆智联 Cloud 科技有限公司"))
    response = upload(client, _png(), "licence.png")
    response, _ = confirm(client, response, name="东莞市云帆智联 Cloud  科技有限公司",
                          credit_code=TRUE_CODE)
    (cert,) = certifications(app)
    assert cert.status == "approved"


def test_offered_one_character_correction_is_approved_when_confirmed(operator, client, app,
                                                                     ocr_reads, english):
    # The 16th character, B, read as 8 with a low score: the page offers the one code within
    # the confusions passing every check, and says it is approved at once if confirmed.
    ocr_reads(_code_lines("91441900MA2EAMX88B", 15))
    response = upload(client, _png(), "licence.png")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _prefilled(html, "credit_code") == TRUE_CODE
    assert 'id="code-corrected"' in html and "it is approved at once" in html
    response, _ = confirm(client, response, name=DONGGUAN, credit_code=TRUE_CODE)
    (cert,) = certifications(app)
    assert cert.status == "approved" and cert.ocr_code_corrected_from == "91441900MA2EAMX88B"


def _waits(client, app, reason: str) -> str:
    cert = certifications(app)[-1]
    assert cert.status == "manual_review"
    page = client.get("/certification/").get_data(as_text=True)
    assert 'id="waiting-reasons"' in page and reason in page
    assert 'id="what-next"' in page and "You will be told by SMS and under Notices" in page
    assert 'id="next-step"' not in page
    return page


def test_clearly_read_character_corrected_waits_for_staff(operator, client, app, ocr_reads,
                                                          english):
    ocr_reads(_code_lines("91441900MA2EAMXB8C", None))
    response = upload(client, _png(), "licence.png")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="code-uncertain"' not in html and "Correct it as printed" in html
    assert certifications(app)[0].ocr_code_uncertain == ""
    response, _ = confirm(client, response, name=DONGGUAN, credit_code=TRUE_CODE)
    assert response.status_code == 302
    _waits(client, app, "the licence shows clearly (read with a high score) was corrected")


def test_two_characters_corrected_wait_for_staff(operator, client, app, ocr_reads, english):
    ocr_reads(_code_lines("91441900MA2EAMXB6C", (16, 17)))  # two off, both scored low
    response = upload(client, _png(), "licence.png")
    response, _ = confirm(client, response, name=DONGGUAN, credit_code=TRUE_CODE)
    _waits(client, app, "in more than one character")


def test_offered_two_character_correction_waits_for_staff(operator, client, app, ocr_reads,
                                                          english):
    ocr_reads(_code_lines("91441900MA2EAMX888", (15, 17)))  # both B read as 8
    response = upload(client, _png(), "licence.png")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _prefilled(html, "credit_code") == TRUE_CODE
    assert 'id="code-corrected"' in html and "it is approved at once" not in html
    response, _ = confirm(client, response, name=DONGGUAN, credit_code=TRUE_CODE)
    _waits(client, app, "in more than one character")


def test_corrected_character_and_changed_name_wait_for_staff(operator, client, app,
                                                             ocr_reads, english):
    ocr_reads(_code_lines("91441900MA2EAMXB8C", 17))
    response = upload(client, _png(), "licence.png")
    response, _ = confirm(client, response, name="东莞市云帆智能科技有限公司",
                          credit_code=TRUE_CODE)
    _waits(client, app, "The unit name differs from the one read from the licence.")


def test_corrected_code_failing_a_soft_check_waits_for_staff(operator, client, app, ocr_reads,
                                                             english):
    good = complete_code("91999999MA01R8DQ")  # both check characters hold, no such division
    read = good[:-1] + ("A" if good[-1] != "A" else "B")
    ocr_reads(_code_lines(read, 17))
    response = upload(client, _png(), "licence.png")
    response, _ = confirm(client, response, name=DONGGUAN, credit_code=good)
    page = _waits(client, app, "fails a check of its parts")
    assert 'id="code-problems"' in page and "GB/T 2260" in page


def test_corrected_code_held_by_another_account_waits_for_staff(operator, client, app,
                                                                ocr_reads, english, certified):
    certified("13900139000", code=TRUE_CODE)
    ocr_reads(_code_lines("91441900MA2EAMXB8C", 17))
    response = upload(client, _png(), "licence.png")
    response, _ = confirm(client, response, name=DONGGUAN, credit_code=TRUE_CODE)
    _waits(client, app, "Another account has already certified this credit code")
    assert certifications(app)[1].conflict


def test_unreadable_licence_says_why_and_what_next(operator, client, app, ocr_reads, english):
    ocr_reads([_box("营业执照", 400, 100)])
    response = upload(client, _png(), "licence.png")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="licence-unread"' in html and "upload a clearer photo or scan" in html
    response, _ = confirm(client, response, name=DONGGUAN, credit_code=TRUE_CODE)
    _waits(client, app, "The licence could not be read")


def test_approved_unit_with_a_permit_is_sent_to_the_declarations(permitted, client):
    permitted()
    page = client.get("/certification/").get_data(as_text=True)
    assert 'id="next-step" href="/talent/declare"' in page


# --- the licence picture on the confirm page ---------------------------------------------------


def test_pdf_licence_is_shown_as_its_first_page(operator, client, app, portal, make_enterprise,
                                                 ocr_reads):
    from ..conftest import pdf_bytes

    ocr_reads(_code_lines(TRUE_CODE, None))
    response = upload(client, pdf_bytes(), "营业执照.pdf")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    (cert,) = certifications(app)
    src = f"/certification/{cert.id}/licence.png"
    assert f'src="{src}"' in html and f'href="/files/{cert.licence_id}"' in html
    picture = client.get(src)
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert Image.open(io.BytesIO(picture.data)).format == "PNG"
    assert picture.headers["X-Content-Type-Options"] == "nosniff"
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    assert client.get(src).status_code in (302, 401)  # anonymous: to the login page
    make_enterprise("13900139000")
    portal.login_password("13900139000", PASSWORD)
    assert client.get(src).status_code == 404  # another account
    assert client.get("/certification/999999/licence.png").status_code == 404


def test_licence_picture_of_a_lost_file_is_404_not_500(operator, client, app):
    from talentadmin.core import storage

    upload(client, _png(), "licence.png")
    (cert,) = certifications(app)
    with app.app_context():
        storage.path_of(db.session.get(Attachment, cert.licence_id)).unlink()
    assert client.get(f"/certification/{cert.id}/licence.png").status_code == 404
