"""Disk full, or the upload folder read-only, while a file is uploaded: a translated error
beside the field, nothing half-written (no partial file, no row), everything typed kept,
the failure logged for the office; once the storage is back the same form goes through.

The storage fails for real at the operating-system call it would fail at — the temporary
file cannot be created (read-only folder: ``EROFS``), a write fails halfway through a
chunk (``ENOSPC``), or the flush to the disk does (``ENOSPC`` at ``fsync``, as on a full
network filesystem) — by patching that call for files of the upload folder only (as root,
a read-only mode bit would not stop the writes).
"""

from __future__ import annotations

import errno
import io
import logging
import os
import tempfile
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from talentadmin.core import storage
from talentadmin.core.models import Attachment
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..certification.test_portal import operator, upload  # noqa: F401 - the fixture
from ..conftest import csrf_in, png_bytes
from ..declarations.test_portal import declaration_data, unit  # noqa: F401 - the fixture

MESSAGE = ("The file could not be stored: the server's storage is full or unavailable. Try "
           "again later; if this happens again, tell the talent office.")


def upload_file(fd: int) -> bool:
    """Whether ``fd`` is a temporary file of the upload folder."""
    return Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(".upload-")


class FillsUp:
    """A file object whose writes fail with ENOSPC once half of a chunk is written: a
    partial file is left for the code to clean up."""

    def __init__(self, handle) -> None:
        self.handle = handle

    def write(self, data: bytes) -> int:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def fail_on_create(monkeypatch, app):
    real = tempfile.mkstemp
    folder = str(Path(app.config["UPLOAD_FOLDER"]).resolve())

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and str(Path(dir).resolve()).startswith(folder):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def fail_on_write(monkeypatch, app):
    real = os.fdopen

    def fdopen(fd, *args, **kwargs):
        handle = real(fd, *args, **kwargs)
        return FillsUp(handle) if upload_file(fd) else handle

    monkeypatch.setattr(os, "fdopen", fdopen)


def fail_on_fsync(monkeypatch, app):
    real = os.fsync

    def fsync(fd):
        if upload_file(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


FAILURES = {"read-only folder": fail_on_create, "disk full while writing": fail_on_write,
            "disk full at fsync": fail_on_fsync}


def zh(app, text: str) -> str:
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        return gettext(text)


def leftovers(app) -> list[Path]:
    """Files under the upload folder that are not complete stored files."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    return [p for p in folder.rglob("*") if p.is_file() and p.name.startswith(".")]


def rows(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("failure", FAILURES)
def test_declaration_form_with_storage_failing(unit, client, app, monkeypatch,  # noqa: F811
                                               caplog, failure):
    attachments_before = rows(app, Attachment)
    FAILURES[failure](monkeypatch, app)
    data = declaration_data(name="李四", school="北京理工大学", major="材料科学与工程")
    with caplog.at_level(logging.ERROR, logger="talentadmin.core.storage"):
        response = unit.post_multipart("/talent/declarations/new", data)
    assert response.status_code in (200, 400)
    page = response.get_data(as_text=True)
    message = zh(app, MESSAGE)
    # beside each file field that was sent, translated
    for field in ("social_insurance", "integrity", "evidence"):
        assert f'id="{field}-error"' in page, field
    assert page.count(message.replace("'", "&#39;")) >= 3
    # what was typed is kept
    for typed in ("李四", "北京理工大学", "材料科学与工程"):
        assert f'value="{typed}"' in page, typed
    # nothing half-written: no partial file, no row; the office is told
    assert leftovers(app) == []
    assert rows(app, Attachment) == attachments_before and rows(app, Declaration) == 0
    assert any("could not be stored" in r.getMessage() for r in caplog.records)

    monkeypatch.undo()  # the disk has room again: the same form goes through
    response = unit.post_multipart("/talent/declarations/new", declaration_data(
        name="李四", school="北京理工大学", major="材料科学与工程"))
    assert response.status_code == 302
    with app.app_context():
        (declaration,) = db.session.execute(select(Declaration)).scalars().all()
        assert declaration.name == "李四" and len(declaration.files) == 4
        for item in declaration.files:
            assert storage.path_of(item.attachment).is_file()
    assert leftovers(app) == []


@pytest.mark.parametrize("failure", FAILURES)
def test_licence_upload_with_storage_failing(operator, client, app, monkeypatch,  # noqa: F811
                                             failure):
    FAILURES[failure](monkeypatch, app)
    response = upload(client, png_bytes(), "营业执照.png")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="licence-error"' in page
    assert zh(app, MESSAGE).replace("'", "&#39;") in page
    assert leftovers(app) == [] and rows(app, Attachment) == 0


def test_english_page_says_it_in_english(operator, client, app, monkeypatch):  # noqa: F811
    fail_on_write(monkeypatch, app)
    client.set_cookie("lang", "en", domain="localhost")
    html = client.get("/certification/upload").get_data(as_text=True)
    response = client.post("/certification/upload", data={
        "csrf_token": csrf_in(html), "licence": (io.BytesIO(png_bytes()), "licence.png")},
        content_type="multipart/form-data")
    assert MESSAGE.replace("'", "&#39;") in response.get_data(as_text=True)
