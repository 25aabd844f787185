"""Files: who may fetch which, under what name, and how large an image may be."""

from __future__ import annotations

import io
import re
import struct
import zlib
from urllib.parse import unquote

import pytest
from PIL import ImageFile
from sqlalchemy import select

from talentadmin.core.models import AuditEvent
from talentadmin.extensions import db

from ..conftest import PASSWORD, permit_form_data
from .records import build

STAFF = ("admin", "initial_reviewer", "second_reviewer", "supervisor")


def saved_name(response) -> str:
    """The file name a browser saves: RFC 5987 ``filename*`` when present."""
    header = response.headers["Content-Disposition"]
    encoded = re.search(r"filename\*=UTF-8''([^;]+)", header)
    return unquote(encoded.group(1)) if encoded else re.search(r'filename="?([^";]+)',
                                                               header).group(1)


def file_reads(app) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "file.read").order_by(AuditEvent.id)).scalars())


# --- defect 6: staff read only files of records their role may see ----------------------------


@pytest.mark.parametrize("role", STAFF)
def test_staff_cannot_fetch_drafts_or_never_submitted_uploads(app, client, staff_login, role):
    a = build(app, "13800138001")
    staff_login(f"staff-{role}", role)
    hidden = [a.attachments["draft"], a.orphan, a.licence_unsent, a.licence,
              a.attachments["pending_initial"]]
    for attachment_id in hidden:  # no staff read by number, whatever the file
        for query in ("", "?inline=1", "?name=x.html"):
            assert client.get(f"/files/{attachment_id}{query}").status_code == 404
    draft, file_id = a.declarations["draft"], a.declaration_files["draft"]
    for grid in ("declaration_initial", "declaration_second", "declaration_all"):
        for way in ("", "&inline=1", "&preview=1"):
            response = client.get(f"/admin/{grid}/file/?id={draft}&file_id={file_id}{way}")
            assert response.status_code in (403, 404)
    for grid in ("certification_all", "certification_queue"):
        response = client.get(f"/admin/{grid}/file/?id={a.cert_unsent}&inline=1")
        assert response.status_code == 404
    assert file_reads(app) == []


def test_staff_read_follows_the_stage_and_is_audited(app, client, staff_login):
    a = build(app, "13800138001")
    staff_login("first", "initial_reviewer")
    pending, second = a.declarations["pending_initial"], a.declarations["pending_second"]
    url = "/admin/declaration_initial/file/?id={}&file_id={}"
    assert client.get(url.format(pending, a.declaration_files["pending_initial"])
                      ).status_code == 200
    assert client.get(url.format(second, a.declaration_files["pending_second"])
                      ).status_code == 404  # not in the initial stage any more
    assert client.get(f"/admin/certification_all/file/?id={a.cert}&inline=1").status_code == 200
    assert client.get(f"/admin/permit_review/file/?id={a.revision}&file_id={a.revision_file}"
                      "&preview=1").status_code == 200
    reads = file_reads(app)
    assert [(e.actor_label, e.role, e.target_type, e.target_id, e.detail["as"]) for e in reads] == [
        ("first", "initial_reviewer", "declaration", pending, "download"),
        ("first", "initial_reviewer", "certification", a.cert, "inline"),
        ("first", "initial_reviewer", "permit_revision", a.revision, "preview"),
    ]
    assert [e.detail["attachment"] for e in reads] == [a.attachments["pending_initial"],
                                                       a.licence, a.revision_attachment]


def test_enterprise_reads_only_its_own_files_named_by_the_server(app, client, portal):
    a = build(app, "13800138001")
    b = build(app, "13800138002", round_id=None)
    assert portal.login_password(a.mobile, PASSWORD).status_code == 302
    own = client.get(f"/files/{a.orphan}?name=evil.html")
    assert own.status_code == 200
    assert saved_name(own) == "f30.pdf"  # the uploaded name, never the link's
    assert own.headers["Content-Type"] == "application/pdf"
    assert client.get(f"/files/{b.orphan}").status_code == 404
    assert client.get(f"/files/{b.licence}").status_code == 404


# --- defect 12: the download name keeps its extension -----------------------------------------

UNIT, PERSON = "北京云帆科技有限公司.Ltd", "J. Smith"


def test_download_names_keep_the_extension_when_names_hold_dots(app, client, portal,
                                                                staff_login):
    a = build(app, "13800138001", unit=UNIT, person=PERSON, label="学历证书")
    state = "pending_initial"
    declaration, file_id = a.declarations[state], a.declaration_files[state]
    assert portal.login_password(a.mobile, PASSWORD).status_code == 302
    response = client.get(f"/talent/declarations/{declaration}/files/{file_id}")
    assert saved_name(response) == f"{UNIT}-{PERSON}-学历证书.pdf"
    response = client.get(f"/talent/permit/{a.revision}/files/{a.revision_file}")
    assert saved_name(response) == f"{UNIT}-2025年度纳税证明.pdf"
    client.post("/logout", data={"csrf_token": re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").get_data(as_text=True)
    ).group(1)})
    staff_login("reviewer", "admin")
    response = client.get(f"/admin/declaration_all/file/?id={declaration}&file_id={file_id}")
    assert saved_name(response) == f"{UNIT}-{PERSON}-学历证书.pdf"
    response = client.get(f"/admin/permit_review/file/?id={a.revision}&file_id={a.revision_file}")
    assert saved_name(response) == f"{UNIT}-2025年度纳税证明.pdf"
    response = client.get(f"/admin/certification_all/file/?id={a.cert}")
    assert saved_name(response).startswith(UNIT + "-") and saved_name(response).endswith(".png")


# --- defect 10: an image's pixels are counted before it is decoded ----------------------------


def flat_png(width: int, height: int) -> bytes:
    """A black 1-bit PNG of any size, written row by row (small in memory and on disk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then the packed pixels
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0,
                                                              0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def test_image_over_the_pixel_budget_is_refused_before_decoding(app, client, portal, certified):
    huge = flat_png(11_000, 8_000)  # 88 megapixels: under Pillow's own bomb limit
    assert len(huge) < 100_000
    certified("13800138000")
    assert portal.login_password("13800138000", PASSWORD).status_code == 302
    opened = []
    real_load = ImageFile.ImageFile.load

    def load(image):
        opened.append(image.size)
        return real_load(image)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ImageFile.ImageFile, "load", load)
        response = portal.post_multipart("/talent/permit/apply", permit_form_data(
            tax_file_3=(io.BytesIO(huge), "2023.png")))
    assert response.status_code in (200, 400)
    page = response.get_data(as_text=True)
    error = re.search(r'id="tax_file_3-error"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    assert error and "40" in error.group(1)
    assert (11_000, 8_000) not in opened  # refused from the header, never decoded


def test_a_pdf_licence_is_shown_to_its_reviewer_as_a_picture(app, client, staff_login):
    from talentadmin.certification.models import Certification
    from talentadmin.core.models import Attachment

    a = build(app, "13800138001")
    with app.app_context():  # the licence waiting for review was uploaded as a PDF
        cert = db.session.get(Certification, a.cert_review)
        cert.licence = db.session.get(Attachment, a.orphan)
        db.session.commit()
    staff_login("reviewer", "initial_reviewer")
    page = client.get(f"/admin/certification_queue/details/?id={a.cert_review}")
    picture = f"/admin/certification_queue/file/?id={a.cert_review}&amp;preview=1"
    assert page.status_code == 200 and picture in page.get_data(as_text=True)
    response = client.get(picture.replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.get_data().startswith(b"\x89PNG")
