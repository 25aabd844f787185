"""``flask storage-sweep``: files no row points at and rows whose file is missing are
listed; ``--delete`` removes orphans older than an hour and never a file a row points at
(nor its preview)."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from talentadmin.core import sweep
from talentadmin.core.models import Attachment
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import staff_client
from ..declarations.test_review import three  # noqa: F401 - the fixture

HOURS_AGO = 2 * 3600


def age(path: Path, seconds: int = HOURS_AGO) -> Path:
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def orphan_named(folder: Path, content: bytes) -> Path:
    sha = hashlib.sha256(content).hexdigest()
    path = folder / sha[:2] / sha
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_sweep_lists_orphans_and_missing_files_and_deletes_only_old_orphans(
        app, three, make_staff, runner):  # noqa: F811 - the fixture imported above
    reviewer = staff_client(app, make_staff, "r1", "initial_reviewer")
    with app.app_context():
        declaration = db.session.get(Declaration, three[0])
        pdf_file = next(f for f in declaration.files if f.attachment.kind == "pdf")
        attachments = db.session.execute(select(Attachment)).scalars().all()
        in_use = {a.sha256 for a in attachments}
        # files held by each kind of record: a licence, a permit's, a declaration's
        for holder in ("certification", "permit_file", "declaration_file"):
            table = db.metadata.tables[holder]
            assert db.session.execute(select(func.count()).select_from(table)).scalar() > 0
    preview = reviewer.get(f"/admin/declaration_initial/file/?id={three[0]}"
                           f"&file_id={pdf_file.id}&preview=1")
    assert preview.status_code == 200
    folder = Path(app.config["UPLOAD_FOLDER"])
    used = files(folder)
    assert any(".preview-" in name for name in used)
    for name in used:  # every file a row points at is old: age alone never deletes one
        age(folder / name)

    old = age(orphan_named(folder, b"%PDF-1.4 an upload whose request never committed"))
    old_preview = old.with_name(f"{old.name}.preview-1400.png")
    old_preview.write_bytes(b"\x89PNG preview of the orphan")
    age(old_preview)
    young = orphan_named(folder, b"%PDF-1.4 an upload whose request is still running")
    temp = folder / ".upload-abc123"
    temp.write_bytes(b"half an upload")
    age(temp)
    stray = folder / "notes.txt"
    stray.write_text("put here by hand")
    age(stray)
    orphans = {old, old_preview, young, temp, stray}

    result = runner.invoke(args=["storage-sweep"])
    assert result.exit_code == 0, result.output
    for path in orphans:
        assert f"orphan file: {path.relative_to(folder)} (" in result.output
    assert ", deleted)" not in result.output
    assert f"files in use: {len(used)}; orphan files: 5 (0 deleted); rows without their " \
           f"file: 0" in result.output
    assert files(folder) == used | {p.relative_to(folder).as_posix() for p in orphans}

    result = runner.invoke(args=["storage-sweep", "--delete"])
    assert result.exit_code == 0, result.output
    assert f"orphan file: {young.relative_to(folder)} (" in result.output
    assert "orphan files: 5 (4 deleted)" in result.output
    assert files(folder) == used | {young.relative_to(folder).as_posix()}
    with app.app_context():
        assert {a.sha256 for a in db.session.execute(select(Attachment)).scalars()} == in_use

    # Rows whose file is gone are listed (exit status 1): lost data, for the backup. Files
    # are stored by content: every row of the same bytes loses it.
    lost = attachments[0]
    sharing = [a for a in attachments if a.sha256 == lost.sha256]
    (folder / lost.sha256[:2] / lost.sha256).unlink()
    result = runner.invoke(args=["storage-sweep", "--delete"])
    assert result.exit_code == 1
    for row in sharing:
        assert f"missing file: attachment {row.id} (sha256 {lost.sha256})" in result.output
    assert result.output.count("missing file:") == len(sharing)
    assert f"rows without their file: {len(sharing)}" in result.output


def test_a_file_a_row_comes_to_point_at_is_not_deleted(app, ctx):
    """Asked again just before removal: a row committed since the listing keeps the file
    (an upload of the same content stored again)."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from talentadmin.core import storage

    from ..conftest import pdf_bytes

    folder = Path(app.config["UPLOAD_FOLDER"])
    content = pdf_bytes()
    path = age(orphan_named(folder, content))
    listing = sweep.sweep()
    assert [o.path for o in listing.orphans] == [path.relative_to(folder)]
    with app.test_request_context():
        attachment = storage.save_upload(FileStorage(BytesIO(content), filename="again.pdf"))
        db.session.commit()
    age(path)  # even an old file is kept once a row points at it
    assert sweep._remove(path, attachment.sha256, timedelta(hours=1)) is False
    assert path.read_bytes() == content and not list(folder.rglob(".sweep-*"))
    report = sweep.sweep(delete=True)
    assert report.orphans == [] and report.kept == 1 and path.exists()


def test_a_young_orphan_seen_old_at_listing_is_kept(app, ctx):
    """An orphan rewritten by an upload after the listing (same bytes, a fresh file) is
    young when looked at again: it is put back, not removed."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    path = orphan_named(folder, b"%PDF-1.4 rewritten")
    assert sweep._remove(path, path.name, timedelta(hours=1)) is False
    assert path.read_bytes() == b"%PDF-1.4 rewritten"
    assert sweep._remove(age(path), path.name, timedelta(hours=1)) is True
    assert not path.exists() and not list(folder.rglob(".sweep-*"))


def test_every_file_a_row_holds_goes_through_an_attachment_row():
    """The sweep reads only ``attachment``: every other table holds its files through a
    foreign key to it, and no other column names a stored file. A new table holding files
    another way fails here, before the sweep could delete them. (Export jobs keep their
    files in ``instance/exports`` and import jobs theirs in ``instance/imports``, outside the
    upload folder the sweep reads, and are swept by ``jobs.exports.sweep_expired`` and
    ``jobs.imports.sweep_expired``.)"""
    holders = {f"{fk.parent.table.name}.{fk.parent.name}"
               for table in db.metadata.sorted_tables for fk in table.foreign_keys
               if fk.column.table.name == "attachment"}
    assert holders == {"certification.licence_id", "declaration_file.attachment_id",
                       "permit_file.attachment_id", "portal_file.attachment_id"}
    named = {f"{table.name}.{column.name}" for table in db.metadata.sorted_tables
             for column in table.columns
             if any(word in column.name for word in ("sha", "path", "file", "stored"))}
    assert named == {"attachment.sha256", "export_job.stored", "export_job.filename",
                     "import_job.stored"}
