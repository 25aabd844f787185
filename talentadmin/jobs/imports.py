"""The old system's data off the request: the back office's import jobs, and the rows kept
until their unit is certified.

Import jobs (below, "the back office's import jobs"): an admin's upload is checked by a
dry-run job, then imported by a second job on the same stored file; both report progress and
leave a per-row report (:mod:`talentadmin.declarations.import_admin` shows them).

Kept rows: the back-office import keeps each row refused only because its unit has no approved
certification as a :class:`~talentadmin.jobs.models.PendingImport`. When a certification is
approved (by a reviewer or automatically), :func:`after_approval` hands
:func:`import_pending_for` that unit's credit code after the commit: the kept rows go
through the importer again (duplicates and bad values refused as in any import; rows whose
unit is still not certified, say because of a conflict, are kept again). An import that keeps
rows while the unit's approval commits is covered by :func:`import_pending_certified`, run
after each import and by the periodic sweep.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from itertools import groupby
from pathlib import Path

from celery import shared_task
from flask import current_app
from sqlalchemy import delete, event, select, update

from ..core.timeutil import utcnow
from ..extensions import db
from .models import ImportJob, PendingImport

log = logging.getLogger(__name__)
PENDING = "talentadmin_pending_imports"  # session.info key: credit codes, after the commit


def import_pending_for(credit_code: str) -> int:
    """Import the rows kept for ``credit_code``; the number imported. The rows are taken by
    deleting them (``DELETE … RETURNING``): two callers at once import each row once."""
    from ..declarations import importer

    taken = db.session.execute(
        delete(PendingImport).where(PendingImport.credit_code == credit_code)
        .returning(PendingImport.id, PendingImport.row, PendingImport.source,
                   PendingImport.round_name)).all()
    if not taken:
        db.session.rollback()
        return 0
    taken.sort(key=lambda p: p.id)
    batches = [(key, [json.loads(p.row) for p in group]) for key, group in groupby(
        taken, key=lambda p: (p.source, p.round_name))]
    imported = 0
    for (source, round_name), rows in batches:  # each commits (rows kept again included)
        try:
            report = importer.import_rows(rows, round_name=round_name, source=source,
                                          keep_pending=True)
        except importer.LegacyFileError as error:  # the round was renamed or removed
            log.warning("pending import from %s: %s", source, error)
            for row in rows:
                importer._keep(row, source, None)
            db.session.commit()
            continue
        imported += report.imported
    return imported


def import_pending_certified() -> int:
    """Import the kept rows of every unit whose certification is approved by now (after an
    import, and periodically: a unit certified while an import ran is caught here)."""
    from ..certification import workflow as certification_workflow
    from ..certification.models import Certification

    codes = db.session.scalars(
        select(PendingImport.credit_code).distinct()
        .join(Certification, Certification.credit_code == PendingImport.credit_code)
        .where(Certification.status == certification_workflow.APPROVED)).all()
    db.session.rollback()
    return sum(import_pending_for(code) for code in codes)


@shared_task(name="talentadmin.jobs.imports.import_pending")
def import_pending(credit_code: str) -> int:
    return import_pending_for(credit_code)


def after_approval(credit_code: str | None) -> None:
    """Import the rows kept for ``credit_code`` once the current transaction commits (a
    worker's task, or here without a task queue). The rows are looked for after the commit:
    rows an import keeps while this approval commits are found by one or the other."""
    if not credit_code:
        return
    if current_app.extensions.get("celery") is not None:
        from . import after_commit

        after_commit(import_pending, credit_code)
    else:
        db.session().info.setdefault(PENDING, []).append(credit_code)


@event.listens_for(db.session, "after_commit")
def _run_pending(session) -> None:
    codes = session.info.pop(PENDING, None)
    for code in codes or ():
        with current_app.app_context():  # a session of its own
            import_pending_for(code)


# --- the back office's import jobs ----------------------------------------------------------
#
# An admin's upload is stored in the instance folder (``imports/<token>.<csv|xlsx>``) and
# checked by a dry-run job; the import itself is a second job on the same stored file. A job
# reports its progress in ``<token>.<id>.progress`` (rows done and total, JSON, replaced
# atomically; its mtime is the heartbeat) rather than in its database row: the import holds
# one transaction from the first row to the commit (all or nothing), during which SQLite lets
# no other connection write. Each row's result goes to ``<token>.<id>.report`` (JSON lines).
# A job whose progress file is older than ``EXPORT_STALE_SECONDS`` lost its worker: it shows
# as failed (nothing was saved) and can be started again. Files are kept
# ``EXPORT_KEEP_HOURS`` after the job ends, then swept by the periodic job.

JOBS = "talentadmin_import_jobs"  # session.info key: job ids to run after the commit
UPLOAD_KINDS = ("csv", "xlsx")


def folder() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file(job: ImportJob, suffix: str) -> Path:
    return folder() / f"{job.stored}.{job.id}.{suffix}"


def store_upload(data: bytes, kind: str) -> str:
    """Keep an uploaded file under a random name; the name."""
    stored = f"{secrets.token_hex(16)}.{kind}"
    target = folder() / stored
    part = target.with_name(stored + ".part")
    part.write_bytes(data)
    os.replace(part, target)
    return stored


def start(staff_id: int, *, stored: str, source: str, round_name: str | None,
          dry_run: bool) -> ImportJob:
    """A queued dry run or import of the stored upload, handed to a worker after the commit."""
    job = ImportJob(staff_id=staff_id, dry_run=dry_run, stored=stored, source=source[:200],
                    round_name=round_name)
    db.session.add(job)
    db.session.flush()
    _enqueue(job.id)
    return job


def start_import(check: ImportJob, staff_id: int) -> ImportJob | None:
    """The import of the file ``check`` (a finished dry run) checked: started once, whoever
    asks twice gets the same job. ``None`` when ``check`` cannot be run (not a finished dry
    run, or its file is gone)."""
    if not check.dry_run or check.status != "done" or not (folder() / check.stored).is_file():
        return None
    if check.run_id is not None:
        return db.session.get(ImportJob, check.run_id)
    job = start(staff_id, stored=check.stored, source=check.source,
                round_name=check.round_name, dry_run=False)
    claimed = db.session.execute(
        update(ImportJob).where(ImportJob.id == check.id, ImportJob.run_id.is_(None))
        .values(run_id=job.id).execution_options(synchronize_session=False)).rowcount
    if not claimed:  # another request started it a moment ago
        db.session.rollback()
        db.session.refresh(check)
        return db.session.get(ImportJob, check.run_id)
    return job


def restart(job: ImportJob) -> bool:
    """Queue a failed job again (nothing of it was saved); ``False`` if its file is gone."""
    if job.status != "failed" or not (folder() / job.stored).is_file():
        return False
    for suffix in ("progress", "report"):
        _file(job, suffix).unlink(missing_ok=True)
    job.status, job.error, job.started_at, job.finished_at = "queued", None, None, None
    job.total = job.imported = job.refused = job.kept = 0
    _enqueue(job.id)
    return True


def _enqueue(job_id: int) -> None:
    if current_app.extensions.get("celery") is not None:
        from . import after_commit

        after_commit(run_import, job_id)
    else:
        db.session().info.setdefault(JOBS, []).append(job_id)


@event.listens_for(db.session, "after_commit")
def _run_jobs(session) -> None:
    for job_id in session.info.pop(JOBS, None) or ():
        with current_app.app_context():  # a session of its own
            run(job_id)


@shared_task(name="talentadmin.jobs.imports.run_import")
def run_import(job_id: int) -> None:
    run(job_id)


def run(job_id: int) -> None:
    """Run job ``job_id`` if it is queued (a job taken by another worker is left alone)."""
    from ..declarations import importer

    claimed = db.session.execute(
        update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == "queued")
        .values(status="running", started_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return
    job = db.session.get(ImportJob, job_id)
    path, progress_file = folder() / job.stored, _file(job, "progress")
    dry_run, source, round_name = job.dry_run, job.source, job.round_name

    def progress(done: int, total: int) -> None:
        part = progress_file.with_name(progress_file.name + ".part")
        part.write_text(json.dumps({"done": done, "total": total}))
        os.replace(part, progress_file)

    progress(0, 0)
    try:
        report = importer.import_file(path, dry_run=dry_run, round_name=round_name,
                                      keep_pending=True, source=source, progress=progress)
    except importer.LegacyFileError as error:  # nothing imported: the file or the round
        path.unlink(missing_ok=True)  # of no further use: it cannot be started again
        _finish(job_id, "failed", error=str(error)[:300])
        return
    except Exception as error:
        db.session.rollback()
        log.exception("import job %s failed", job_id)
        _finish(job_id, "failed", error=type(error).__name__)
        return
    report_file = _file(job, "report")
    with open(report_file.with_name(report_file.name + ".part"), "w",
              encoding="utf-8") as out:
        for r in report.rows:
            out.write(json.dumps({"row": r.row, "name": r.name, "masked_id": r.masked_id,
                                  "declaration_id": r.declaration_id, "reason": r.reason,
                                  "notes": r.notes}, ensure_ascii=False) + "\n")
    os.replace(report_file.with_name(report_file.name + ".part"), report_file)
    _finish(job_id, "done", total=len(report.rows), imported=report.imported,
            refused=report.refused, kept=sum(1 for r in report.rows if _was_kept(r)))
    if not dry_run:
        path.unlink(missing_ok=True)
        import_pending_certified()  # a unit certified while the import ran


def _was_kept(result) -> bool:
    from ..declarations.importer import PENDING_NOTE

    return (result.reason or "").endswith(PENDING_NOTE)


def _finish(job_id: int, status: str, **values) -> None:
    job = db.session.get(ImportJob, job_id)
    _file(job, "progress").unlink(missing_ok=True)
    db.session.execute(update(ImportJob).where(ImportJob.id == job_id)
                       .values(status=status, finished_at=utcnow(), **values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def progress_of(job: ImportJob) -> tuple[int, int]:
    """Rows done and total of a running job (``(0, 0)`` before it has read its file)."""
    try:
        state = json.loads(_file(job, "progress").read_text())
        return int(state["done"]), int(state["total"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0


def refresh(job: ImportJob) -> ImportJob:
    """``job``, marked failed if it runs and its progress stopped moving (its worker died:
    the import's transaction never committed, so nothing of it was saved)."""
    if job.status != "running":
        return job
    from .exports import stale_after

    try:
        beat = utcnow().timestamp() - _file(job, "progress").stat().st_mtime
    except OSError:  # not even started writing: time since it was claimed
        beat = (utcnow() - (job.started_at or job.created_at)).total_seconds()
    if beat > stale_after().total_seconds():
        job.status, job.error, job.finished_at = "failed", "worker stopped", utcnow()
        db.session.commit()
    return job


def report_rows(job: ImportJob, limit: int | None = None) -> list[dict]:
    """The per-row results of a finished job, refused rows first, at most ``limit``."""
    try:
        with open(_file(job, "report"), encoding="utf-8") as lines:
            rows = [json.loads(line) for line in lines]
    except OSError:
        return []
    rows.sort(key=lambda r: (r["reason"] is None, r["row"]))
    return rows[:limit] if limit is not None else rows


def sweep_expired() -> int:
    """End the jobs finished over ``EXPORT_KEEP_HOURS`` ago (their files removed, status
    ``expired``), fail running jobs whose worker stopped, and remove stray files (an upload
    whose request died, the part of an interrupted write) once as old; files removed."""
    from .exports import keep

    cutoff = utcnow() - keep()
    for job in db.session.scalars(select(ImportJob).where(ImportJob.status == "running")):
        refresh(job)
    live: set[str] = set()
    for job in db.session.scalars(select(ImportJob).where(ImportJob.status != "expired")):
        if job.status in ("done", "failed") and (job.finished_at or job.created_at) < cutoff:
            job.status = "expired"
        else:
            live.add(job.stored)
    db.session.commit()
    removed = 0
    for path in folder().iterdir():
        stored = ".".join(path.name.split(".")[:2])  # <token>.<kind>, then its own suffixes
        if stored in live:
            continue
        try:
            if path.stat().st_mtime < cutoff.timestamp() or _expired(stored):
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def _expired(stored: str) -> bool:
    return db.session.scalar(select(ImportJob.id).where(
        ImportJob.stored == stored, ImportJob.status == "expired").limit(1)) is not None
