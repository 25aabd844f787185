"""The storage sweep: the upload folder against the ``attachment`` table.

Only ``attachment`` rows point at stored files (``<folder>/<sha[:2]>/<sha256>``); every
other table that holds a file (``certification.licence_id``, ``declaration_file``,
``permit_file`` and ``portal_file``'s ``attachment_id``) points at such a row. A file
belongs to a row when the row's sha256 names it; a preview
``<sha256>.preview-<size>.png`` belongs to the row its file belongs to. What is left are
orphans: files of uploads whose request never committed (a crash, a refused form),
unfinished writes (``.upload-*``, ``.preview-*``), and anything else put there by hand.
Rows whose file is missing are listed: they are lost data, and only a backup brings them
back.

With ``delete=True`` orphans older than an hour are removed; a younger one may belong to
an upload whose request has not committed yet. Just before a file is removed the
database is asked again and its age read again, so a file an upload has just stored
again (same content, same name) is never removed (see :func:`_remove`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from .models import Attachment

MIN_AGE = timedelta(hours=1)
STORED = re.compile(r"(?P<sha>[0-9a-f]{64})(?:\.preview-\d+\.png)?")


@dataclass
class Orphan:
    path: Path  # relative to the upload folder
    size: int
    age: float  # seconds since it was last written
    deleted: bool = False


@dataclass
class Missing:
    attachment_id: int
    sha256: str


@dataclass
class SweepReport:
    orphans: list[Orphan] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    kept: int = 0  # files rows point at (previews included)

    @property
    def deleted(self) -> list[Orphan]:
        return [o for o in self.orphans if o.deleted]

    def lines(self) -> Iterator[str]:
        for orphan in self.orphans:
            state = "deleted" if orphan.deleted else "kept"
            yield (f"orphan file: {orphan.path} ({orphan.size} bytes, "
                   f"{_age(orphan.age)} old, {state})")
        for row in self.missing:
            yield f"missing file: attachment {row.attachment_id} (sha256 {row.sha256})"
        yield (f"files in use: {self.kept}; orphan files: {len(self.orphans)} "
               f"({len(self.deleted)} deleted); rows without their file: {len(self.missing)}")


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


def _owner(path: Path) -> str | None:
    """The sha256 a stored file or preview belongs to, or ``None`` for any other file."""
    match = STORED.fullmatch(path.name)
    if match is None or path.parent.name != match["sha"][:2]:
        return None
    return match["sha"]


def _referenced(sha: str) -> bool:
    return db.session.execute(
        select(Attachment.id).where(Attachment.sha256 == sha).limit(1)).first() is not None


def sweep(*, delete: bool = False, min_age: timedelta = MIN_AGE) -> SweepReport:
    """List (and with ``delete``, remove the old) orphan files, and the rows whose file is
    missing."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    rows = db.session.execute(select(Attachment.id, Attachment.sha256)
                              .order_by(Attachment.id)).all()
    in_use = {sha for _, sha in rows}
    report = SweepReport()
    for attachment_id, sha in rows:
        if not (folder / sha[:2] / sha).is_file():
            report.missing.append(Missing(attachment_id, sha))
    if not folder.is_dir():
        return report
    for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
        owner = _owner(path.relative_to(folder))
        if owner is not None and owner in in_use:
            report.kept += 1
            continue
        stat = path.lstat()
        orphan = Orphan(path.relative_to(folder), stat.st_size, time.time() - stat.st_mtime)
        report.orphans.append(orphan)
        if delete and orphan.age >= min_age.total_seconds():
            orphan.deleted = _remove(path, owner, min_age)
    return report


def _remove(path: Path, owner: str | None, min_age: timedelta) -> bool:
    """Remove an orphan unless, asked again now, a row points at it or it was written
    within ``min_age``. The file is first renamed aside: an upload storing the same
    content meanwhile renames its own file to ``path`` (a new, young file), which is then
    either the one moved aside (seen young: put back, same content) or left alone."""
    aside = path.with_name(f".sweep-{path.name}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return False
    db.session.rollback()  # a new transaction sees rows committed since the listing
    young = time.time() - aside.lstat().st_mtime < min_age.total_seconds()
    if young or (owner is not None and _referenced(owner)):
        os.replace(aside, path)  # content-addressed: what is put back is the same bytes
        return False
    os.unlink(aside)
    return True
