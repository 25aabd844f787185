"""Municipal exports as jobs: written by a worker into the instance folder, with progress.

:func:`start` records an :class:`~talentadmin.jobs.models.ExportJob` holding the ids to
export (a snapshot, in export order) and hands it to a worker after the commit (without a
task queue: here and now, after the commit). :func:`run` writes the rows in chunks of
``CHUNK`` ids, committing ``written`` and the heartbeat after each chunk, into
``<name>.part``, renamed to its final name only when the whole file is written: a file is
offered only once it is complete. A running job whose heartbeat is older than
``EXPORT_STALE_SECONDS`` lost its worker and shows as failed (:func:`refresh`); it can be
started again (:func:`restart`). Done files are kept ``EXPORT_KEEP_HOURS`` and then
removed by :func:`sweep_expired` (the periodic job).

A job of kind ``zip`` bundles the attachments of the exported rows, named
``单位-姓名-材料名称.ext`` (see :class:`~talentadmin.declarations.export.ZipNames`), in
chunks of ``ZIP_CHUNK`` declarations (copying files takes longer than writing rows: the
heartbeat moves more often). A file the storage lost is listed in ``MISSING_LIST`` inside
the archive rather than failing the whole export.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from flask import current_app
from sqlalchemy import select, update

from ..core import export
from ..core.timeutil import utcnow
from ..extensions import db
from .models import ExportJob

log = logging.getLogger(__name__)

CHUNK = 2000  # ids per chunk: one progress update (and heartbeat) each
ZIP_CHUNK = 50  # declarations per chunk of a ZIP of attachments
MISSING_LIST = "缺失材料清单.txt"
DEFAULT_KEEP_HOURS = 24
DEFAULT_STALE_SECONDS = 300
PENDING = "talentadmin_export_jobs"  # session.info key: job ids to run after the commit


def folder() -> Path:
    path = Path(current_app.instance_path) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep() -> timedelta:
    return timedelta(hours=float(current_app.config.get("EXPORT_KEEP_HOURS",
                                                        DEFAULT_KEEP_HOURS)))


def stale_after() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("EXPORT_STALE_SECONDS",
                                                          DEFAULT_STALE_SECONDS)))


def start(staff_id: int, kind: str, ids: list[int], filename: str) -> ExportJob:
    """A queued job for ``ids`` (in export order), handed to a worker after the commit."""
    job = ExportJob(staff_id=staff_id, kind=kind, ids=json.dumps(ids), total=len(ids),
                    filename=filename)
    db.session.add(job)
    db.session.flush()
    _after_commit(job.id)
    return job


def restart(job: ExportJob) -> None:
    """Start a failed job again from the first row (its partial file is gone)."""
    _remove(job)
    job.status, job.written, job.error, job.stored = "queued", 0, None, None
    job.heartbeat_at = job.finished_at = job.expires_at = None
    _after_commit(job.id)


def _after_commit(job_id: int) -> None:
    try:
        from . import after_commit as enqueue_after_commit
    except ImportError:
        enqueue_after_commit = None
    if enqueue_after_commit is not None and current_app.extensions.get("celery") is not None:
        enqueue_after_commit(write, job_id)
    else:
        db.session().info.setdefault(PENDING, []).append(job_id)


def run_pending() -> None:
    """Without a task queue: run the jobs this request committed (call after the commit)."""
    for job_id in db.session().info.pop(PENDING, []):
        run(job_id)


@shared_task(name="talentadmin.jobs.exports.write")
def write(job_id: int) -> None:
    run(job_id)


def run(job_id: int) -> None:
    """Write job ``job_id``'s file; a job that is not queued (done, failed, running in
    another worker) is left alone."""
    from ..declarations.export import HEADER, TEXT_COLUMNS, rows

    now = utcnow()
    claimed = db.session.execute(
        update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "queued")
        .values(status="running", heartbeat_at=now, written=0)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return
    job = db.session.get(ExportJob, job_id)
    ids = json.loads(job.ids)
    stored = f"{job.id}-{secrets.token_hex(8)}.{job.kind}"
    final = folder() / stored
    part = final.with_name(stored + ".part")

    def chunks(size: int):
        """``ids`` in chunks of ``size``, the progress committed after each."""
        for begin in range(0, len(ids), size):
            chunk = ids[begin:begin + size]
            yield begin, chunk
            db.session.execute(
                update(ExportJob).where(ExportJob.id == job_id)
                .values(written=begin + len(chunk), heartbeat_at=utcnow())
                .execution_options(synchronize_session=False))
            db.session.commit()

    def all_rows():
        for begin, chunk in chunks(CHUNK):
            yield from list(rows(chunk, start=begin + 1))

    try:
        if job.kind == "csv":
            with open(part, "w", encoding="utf-8", newline="") as out:
                for text in export.csv_chunks(HEADER, all_rows(), text_columns=TEXT_COLUMNS):
                    out.write(text)
        elif job.kind == "zip":
            write_zip(part, chunks(ZIP_CHUNK))
        else:
            with export.xlsx_file(HEADER, all_rows()) as source, open(part, "wb") as out:
                shutil.copyfileobj(source, out)
        os.replace(part, final)
    except Exception as error:
        db.session.rollback()
        part.unlink(missing_ok=True)
        log.exception("export job %s failed", job_id)
        _finish(job_id, status="failed", error=str(error)[:300])
        return
    done = utcnow()
    _finish(job_id, status="done", stored=stored, written=len(ids), finished_at=done,
            expires_at=done + keep())


def write_zip(path: Path, chunks) -> None:
    """The attachments of the declarations of ``chunks`` (``(begin, ids)`` pairs) into a
    ZIP at ``path``: stored, not compressed (PDFs and images are compressed already);
    names in UTF-8 (the archive flags them so)."""
    from ..core.storage import EXTENSIONS, path_of
    from ..declarations.export import ZipNames, attachments

    names = ZipNames()
    missing: list[str] = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as archive:
        for _begin, chunk in chunks:
            for _id, unit, person, label, attachment in list(attachments(chunk)):
                name = names.name(unit, person, label, EXTENSIONS.get(attachment.kind, ""))
                source = path_of(attachment)
                if source.is_file():
                    archive.write(source, name)
                else:
                    log.error("export: attachment %s (%s) is missing from the storage",
                              attachment.id, attachment.sha256)
                    missing.append(name)
        if missing:
            archive.writestr(MISSING_LIST, "\r\n".join(missing) + "\r\n")


def _finish(job_id: int, **values) -> None:
    db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def refresh(job: ExportJob) -> ExportJob:
    """``job``, marked failed if it runs with a heartbeat older than the stale limit."""
    if job.status == "running" and job.heartbeat_at is not None \
            and job.heartbeat_at < utcnow() - stale_after():
        job.status, job.error = "failed", "worker stopped"
        _remove(job)
        db.session.commit()
    return job


def path_of(job: ExportJob) -> Path | None:
    """The complete file of a done, unexpired job; ``None`` otherwise."""
    if job.status != "done" or not job.stored or job.expires_at is None \
            or job.expires_at <= utcnow():
        return None
    path = folder() / job.stored
    return path if path.is_file() else None


def _remove(job: ExportJob) -> None:
    for path in folder().glob(f"{job.id}-*"):
        path.unlink(missing_ok=True)


def sweep_expired() -> int:
    """Remove the files of jobs past ``expires_at`` (status ``expired``) and mark running
    jobs with a stale heartbeat failed; the number of files removed."""
    now = utcnow()
    removed = 0
    for job in db.session.scalars(select(ExportJob).where(
            ExportJob.status == "done", ExportJob.expires_at <= now)):
        _remove(job)
        job.status, job.stored = "expired", None
        removed += 1
    for job in db.session.scalars(select(ExportJob).where(
            ExportJob.status == "running", ExportJob.heartbeat_at < now - stale_after())):
        refresh(job)
    db.session.commit()
    return removed
