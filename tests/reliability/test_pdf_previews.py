"""PDFium is not thread-safe: a reviewer's page asks for several PDF previews at once, and the
server must render them one at a time (and once), not crash."""

from __future__ import annotations

import io
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from talentadmin.extensions import db

from .live_server import serving

pytestmark = pytest.mark.real_commits  # a live server in another process

ROUNDS, FILES = 20, 8


# Fonts a PDF names without embedding them: PDFium looks them up among the system's fonts
# and loads them with FreeType, whose shared state is what two threads corrupt.
FONTS = ("DejaVuSans", "Arial", "SimSun", "Calibri", "DejaVuSerif-Italic", "Verdana",
         "Georgia", "DejaVuSansMono-Bold")


def pdf_bytes(seed: int, lines: int = 6) -> bytes:
    """A small one-page PDF of text, different for every ``seed`` (as office software writes
    them: fonts named, not embedded)."""
    text = b"".join(b"BT /F1 %d Tf 8 %d Td (Seed %d line %d: the quick brown fox) Tj ET\n"
                    % (4 + (n + seed) % 5, 90 - n * 15, seed, n) for n in range(lines))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 75 100] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%sendstream" % (len(text), text),
               b"<< /Type /Font /Subtype /TrueType /BaseFont /%s >>"
               % FONTS[seed % len(FONTS)].encode()]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def permit_with_pdfs(app, make_enterprise, count: int) -> tuple[int, list[int]]:
    """A pending permit revision holding ``count`` different PDFs: (revision id, file ids)."""
    from talentadmin.core import storage
    from talentadmin.permits.models import Permit, PermitFile, PermitRevision

    user_id = make_enterprise("13800138000")
    with app.test_request_context():
        revision = PermitRevision(
            permit=Permit(enterprise_user_id=user_id), unit_name="北京云帆科技有限公司",
            credit_code="91110105MA01R8DQ2M", registered_district="chaoyang",
            tax_district="chaoyang", field="ai", contact_name="王经办",
            contact_mobile="13900001111", intro="", tax_year_1=2025, tax_amount_1=Decimal(1),
            tax_year_2=2024, tax_amount_2=Decimal(1), tax_year_3=2023, tax_amount_3=Decimal(1))
        for n in range(count):
            upload = FileStorage(io.BytesIO(pdf_bytes(n)), filename=f"{n}.pdf")
            revision.files.append(PermitFile(
                attachment=storage.save_upload(upload, enterprise_user_id=user_id),
                slot=f"tax:{n}", label=f"材料{n}"))
        db.session.add(revision)
        db.session.commit()
        return revision.id, [f.id for f in revision.files]


def test_parallel_pdf_previews_do_not_crash_the_server(app, client, staff_login,
                                                       make_enterprise):
    revision_id, file_ids = permit_with_pdfs(app, make_enterprise, FILES)
    staff_login("reviewer", "initial_reviewer")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    uploads = Path(app.config["UPLOAD_FOLDER"])

    with serving(app) as (base, server):
        def preview(file_id: int) -> tuple[int, bytes]:
            request = urllib.request.Request(
                f"{base}/admin/permit_review/file/?id={revision_id}&file_id={file_id}"
                "&preview=1",
                headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"})
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()

        with ThreadPoolExecutor(FILES) as pool:
            for round_ in range(ROUNDS):
                for cached in uploads.glob("*/*.preview-*.png"):  # render again each round
                    cached.unlink()
                try:
                    answers = list(pool.map(preview, file_ids))
                except OSError as error:
                    raise AssertionError(f"round {round_ + 1}: the server died "
                                         f"(exit {server.poll()}): {error}") from None
                assert [status for status, _ in answers] == [200] * FILES
                assert all(body.startswith(b"\x89PNG") for _, body in answers)
                assert len({body for _, body in answers}) == FILES  # each its own picture
        assert server.poll() is None

        # Rendered once, kept beside the file, served from there afterwards.
        kept = sorted(uploads.glob("*/*.preview-*.png"))
        assert len(kept) == FILES
        stamps = [path.stat().st_mtime_ns for path in kept]
        assert preview(file_ids[0])[0] == 200
        assert [path.stat().st_mtime_ns for path in kept] == stamps
