"""Attachment storage used by every feature.

An upload is streamed to a temporary file in the upload folder while it is hashed and
measured (a file over the limit is refused as soon as the limit is passed, never read
whole), its type is decided by its content (magic bytes, then a real decode: Pillow with
a pixel budget read from the header before anything is decoded, pypdfium2 for PDFs), and
it is fsynced and renamed to ``<folder>/<sha256[:2]>/<sha256>`` before the database row is
flushed. Files are served only through :func:`send_attachment` and :func:`send_preview`, after
the caller has checked the viewer's rights; a preview is rendered once and kept beside the file
(``<sha256>.preview-<size>.png``), by a worker right after the upload commits when there is
one (:mod:`talentadmin.jobs.previews`). PDFium runs only through :mod:`.pdf`, behind its lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path

from flask import current_app, send_file
from PIL import Image, UnidentifiedImageError

from ..extensions import db
from . import pdf
from .models import Attachment

MAX_BYTES = 10 * 1024 * 1024
# Largest image decoded, in pixels: an 88-megapixel PNG may weigh 360 KB and take 346 MB to
# decode. A phone photo is usually 12 MP; an A4 page scanned at 600 dpi is about 35 MP.
MAX_PIXELS = 40_000_000
PREVIEW_SIDE = 1400
CHUNK = 64 * 1024
MAGIC = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"%PDF-", "pdf"),
)
IMAGE_FORMATS = {"jpg": "JPEG", "png": "PNG"}
EXTENSIONS = {"jpg": ".jpg", "png": ".png", "pdf": ".pdf"}


class UploadError(Exception):
    """Why an upload was refused: ``missing``, ``empty``, ``too_large``, ``type``,
    ``corrupt``, ``encrypted``, ``bomb``, or ``storage`` (the server could not write it:
    disk full, read-only folder)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sniff(head: bytes) -> str | None:
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    return None


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_of(attachment: Attachment) -> Path:
    return upload_folder() / attachment.sha256[:2] / attachment.sha256


def _check_image(path: str, kind: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:  # reads the header only
                if image.format != IMAGE_FORMATS[kind]:
                    raise UploadError("type")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise UploadError("bomb")
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadError("bomb") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise UploadError("corrupt") from None


def _check_pdf(path: str) -> None:
    try:
        pages = pdf.page_count(path)
    except pdf.PdfError as error:
        raise UploadError("encrypted" if error.reason == "encrypted" else "corrupt") from None
    if pages < 1:
        raise UploadError("corrupt")


def save_upload(
    file_storage,
    *,
    allowed: tuple[str, ...] = ("jpg", "png", "pdf"),
    max_bytes: int = MAX_BYTES,
    enterprise_user_id: int | None = None,
) -> Attachment:
    """Store an uploaded file and return its (flushed) ``Attachment`` row."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise UploadError("missing")
    digest = hashlib.sha256()
    size = 0
    try:
        folder = upload_folder()
        fd, temp_path = tempfile.mkstemp(dir=folder, prefix=".upload-")
    except OSError as error:
        raise _storage_failure(error) from None
    try:
        with os.fdopen(fd, "wb") as out:
            head = b""
            while chunk := file_storage.stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError("too_large")
                if len(head) < 16:
                    head += chunk[:16]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise UploadError("empty")
        kind = sniff(head)
        if kind is None or kind not in allowed:
            raise UploadError("type")
        if kind == "pdf":
            _check_pdf(temp_path)
        else:
            _check_image(temp_path, kind)
        sha = digest.hexdigest()
        final = folder / sha[:2] / sha
        final.parent.mkdir(exist_ok=True)
        os.replace(temp_path, final)  # same content, same name: replacing is harmless
        _fsync_dir(final.parent)
    except BaseException as error:
        with contextlib.suppress(OSError):  # a read-only folder refuses this too
            os.unlink(temp_path)
        if isinstance(error, OSError):
            raise _storage_failure(error) from None
        raise
    attachment = Attachment(
        sha256=sha, size=size, kind=kind, original_name=(file_storage.filename or "")[:255],
        enterprise_user_id=enterprise_user_id,
    )
    db.session.add(attachment)
    db.session.flush()
    from ..jobs.previews import after_upload

    after_upload(attachment.id)
    return attachment


def _storage_failure(error: OSError) -> UploadError:
    """A full disk, a read-only or missing folder: the office must hear of it (logged as
    an error); the user is told the file was not stored, beside the field."""
    logging.getLogger(__name__).error("An upload could not be stored in %s: %s",
                                      current_app.config["UPLOAD_FOLDER"], error)
    return UploadError("storage")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_bytes(attachment: Attachment) -> bytes:
    return path_of(attachment).read_bytes()


def send_attachment(attachment: Attachment, stem: str, *, inline: bool = False):
    """Serve the file after the caller checked the viewer's rights, named ``stem`` plus the
    extension of its stored type (always: ``北京某某有限公司.Ltd-J. Smith-学历证书.pdf``).

    Always a download (RFC 5987 ``filename*`` for Chinese names), except images and
    PDFs shown inline to staff, which are sandboxed.
    """
    response = send_file(
        path_of(attachment),
        mimetype=attachment.content_type,
        as_attachment=not inline,
        download_name=stem + EXTENSIONS[attachment.kind],
        conditional=True,
        etag=attachment.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if inline:
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return response


def upload_error_message(reason: str, allowed: tuple[str, ...] = ("jpg", "png", "pdf")) -> str:
    """The translated sentence shown beside the file field."""
    from flask_babel import gettext as _

    if reason == "type" and tuple(allowed) == ("pdf",):
        return _("Only PDF files are accepted here, judged by the file's content, not its name.")
    return {
        "missing": lambda: _("Choose a file to upload."),
        "empty": lambda: _("The file is empty (0 bytes). Choose the right file."),
        "too_large": lambda: _("The file is larger than 10 MB. Upload a smaller scan or photo."),
        "type": lambda: _("Only JPG, PNG or PDF files are accepted, judged by the file's "
                          "content, not its name."),
        "corrupt": lambda: _("The file is damaged and cannot be opened."),
        "storage": lambda: _("The file could not be stored: the server's storage is full or "
                             "unavailable. Try again later; if this happens again, tell the "
                             "talent office."),
        "encrypted": lambda: _("The PDF is password-protected. Upload a copy without a "
                               "password."),
        "bomb": lambda: _("The image has more than %(limit)d million pixels and cannot be "
                          "processed. Upload a smaller image or a scan at a lower resolution.",
                          limit=MAX_PIXELS // 1_000_000),
    }[reason]()


def preview_path(attachment: Attachment, longest_side: int = PREVIEW_SIDE) -> Path:
    """The PNG of an image or of a PDF's first page that staff look at in the page, rendered
    the first time it is asked for and kept beside the file (same content, same preview).

    Browsers will not run their PDF viewer inside a sandboxed response, so a PDF is shown
    as a picture of its first page (the file itself stays a download)."""
    source = path_of(attachment)
    target = source.with_name(f"{source.name}.preview-{longest_side}.png")
    if target.exists():
        return target
    if attachment.kind == "pdf":
        image = pdf.render_first_page(source, longest_side)
    else:
        with Image.open(source) as original:
            original.thumbnail((longest_side, longest_side))
            image = original.convert("RGB")
    fd, temp_path = tempfile.mkstemp(dir=source.parent, prefix=".preview-")
    try:
        with os.fdopen(fd, "wb") as out:
            image.convert("RGB").save(out, format="PNG")
        os.replace(temp_path, target)  # two renders of one file are the same picture
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise
    return target


def send_preview(attachment: Attachment):
    response = send_file(preview_path(attachment), mimetype="image/png", conditional=True,
                         etag=f"{attachment.sha256}-preview", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
