"""Export jobs: a municipal export written off the request, its progress and its file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.timeutil import utcnow
from ..extensions import db


class ExportJob(db.Model):
    """One export a supervisor started. ``status``: ``queued``, ``running`` (``written`` of
    ``total`` rows, ``heartbeat_at`` moved at every chunk), ``done`` (``stored`` names the
    file in the instance folder until ``expires_at``), ``failed`` (``error`` says why; a
    stale heartbeat means the worker died) or ``expired`` (the file was swept)."""

    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    written: Mapped[int] = mapped_column(default=0)
    ids: Mapped[str] = mapped_column(db.Text)  # JSON list, in export order
    filename: Mapped[str] = mapped_column(String(200))
    stored: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_export_job_staff", "staff_id", "created_at"),)


class PendingImport(db.Model):
    """A row of the old system's file whose unit had no approved certification when it was
    imported from the back office: kept (the guide: old data is kept, not lost) and imported
    by ``jobs.imports.import_pending_for`` once that unit's certification is approved."""

    __tablename__ = "pending_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(32), index=True)
    row: Mapped[str] = mapped_column(db.Text)  # JSON: the row as ``importer.read_rows`` read it
    source: Mapped[str] = mapped_column(String(200))
    round_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportJob(db.Model):
    """One pass of an admin's upload of the old system's file: its dry run (``dry_run``) or
    its import. ``status``: ``queued``, ``running`` (progress in a file beside the upload, see
    :mod:`talentadmin.jobs.imports`), ``done`` (``imported`` / ``refused`` / ``kept`` rows;
    the per-row report kept beside the upload), ``failed`` (``error`` says why; nothing of
    the run was saved: an import commits once, at its end) or ``expired`` (files swept).
    A dry run's ``run_id`` names the import started from it (one per dry run)."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    dry_run: Mapped[bool]
    status: Mapped[str] = mapped_column(String(8), default="queued")
    source: Mapped[str] = mapped_column(String(200))  # the uploaded file's name
    stored: Mapped[str] = mapped_column(String(100))  # its name in the instance folder
    round_name: Mapped[str | None] = mapped_column(String(100))
    total: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    kept: Mapped[int] = mapped_column(default=0)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_job.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_import_job_created", "created_at"),)
