"""The old system's declarations imported from the back office (admins only).

An admin uploads the CSV or XLSX file (up to ``MAX_BYTES``: about 100,000 rows); it is kept
in the instance folder under a random name and checked by a dry-run job (the same importer as
``flask import-legacy``), whose page shows its progress and then each row: would be imported,
or refused and why (refused rows first; the whole report as CSV). Running it starts the
import job on the file that was checked (nothing is read from the browser a second time;
two clicks start one import), again with progress, then the final report. A row refused only
because its unit is not certified yet is kept and imported when that unit's certification is
approved (``jobs.imports``). A file that cannot be imported at all (unreadable, wrong header,
unknown round) imports nothing and says why. Uploads and runs are audited; every form posts
with the CSRF token. Any admin may follow any import: they are the office's, not a person's.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..admin.base import RoleView, current_staff
from ..core import audit, export
from ..core.bodylimit import body_limit
from ..core.timeutil import local_formatter
from ..extensions import db
from ..jobs import imports
from ..jobs.models import ImportJob

MAX_BYTES = 50 * 1024 * 1024
SHOWN_ROWS = 1000  # rows of a report on its page; the CSV has them all
RECENT = 20
STATUSES = {"queued": _l("Waiting"), "running": _l("Running"), "done": _l("Done"),
            "failed": _l("Failed"), "expired": _l("Expired")}


class LegacyImportView(RoleView):
    roles = ("admin",)

    @expose("/")
    def index(self):
        jobs = db.session.scalars(select(ImportJob).where(ImportJob.dry_run.is_(False))
                                  .order_by(ImportJob.id.desc()).limit(RECENT)).all()
        return self.render("admin/import_upload.html", jobs=jobs, max_mb=MAX_BYTES >> 20,
                           statuses=STATUSES,
                           when=local_formatter(get_timezone(), "%Y-%m-%d %H:%M"))

    @expose("/check", methods=("POST",))
    @body_limit(MAX_BYTES + 64 * 1024)
    def check(self):
        upload = request.files.get("file")
        kind = (upload.filename or "").rsplit(".", 1)[-1].lower() if upload else ""
        if upload is None or kind not in imports.UPLOAD_KINDS:
            flash(_("Choose the old system's CSV or XLSX file."), "danger")
            return redirect(url_for(".index"))
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            flash(_("The file is larger than %(size)s MB.", size=MAX_BYTES >> 20), "danger")
            return redirect(url_for(".index"))
        stored = imports.store_upload(data, kind)
        round_name = request.form.get("round", "").strip()[:100] or None
        job = imports.start(current_staff().id, stored=stored, source=upload.filename,
                            round_name=round_name, dry_run=True)
        audit.record("declaration.import.check", detail={"job": job.id})
        db.session.commit()
        return redirect(url_for(".job", job_id=job.id))

    @expose("/job/<int:job_id>")
    def job(self, job_id: int):
        job = imports.refresh(self._job(job_id))
        done, total = imports.progress_of(job) if job.status == "running" else (0, 0)
        rows = imports.report_rows(job, SHOWN_ROWS) if job.status == "done" else []
        check = job if job.dry_run else db.session.scalar(
            select(ImportJob).where(ImportJob.run_id == job.id))
        runnable = (job.dry_run and job.status == "done" and job.run_id is None
                    and (job.imported or job.kept))
        return self.render("admin/import_job.html", job=job, rows=rows, done=done,
                           total=total, shown=SHOWN_ROWS, check=check, runnable=runnable,
                           statuses=STATUSES, result=lambda r: _result(job, r))

    @expose("/job/<int:job_id>/run", methods=("POST",))
    def run(self, job_id: int):
        check = self._job(job_id)
        job = imports.start_import(check, current_staff().id)
        if job is None:
            flash(_("This file was already imported or is gone; upload it again."), "warning")
            return redirect(url_for(".job", job_id=check.id))
        audit.record("declaration.import.run", detail={"job": job.id, "check": check.id})
        db.session.commit()
        return redirect(url_for(".job", job_id=job.id))

    @expose("/job/<int:job_id>/restart", methods=("POST",))
    def restart(self, job_id: int):
        job = imports.refresh(self._job(job_id))
        if not imports.restart(job):
            flash(_("This job cannot be started again; upload the file again."), "warning")
            return redirect(url_for(".job", job_id=job.id))
        audit.record("declaration.import.restart", detail={"job": job.id})
        db.session.commit()
        return redirect(url_for(".job", job_id=job.id))

    @expose("/job/<int:job_id>/report.csv")
    def report(self, job_id: int):
        job = self._job(job_id)
        if job.status != "done":
            abort(404)
        header = [_("Row"), _("Name"), _("ID number"), _("Result"), _("Notes")]
        rows = [[r["row"], r["name"], r["masked_id"] or "", _result(job, r),
                 "; ".join(r["notes"])] for r in imports.report_rows(job)]
        filename = f"import-{job.id}-report.csv"
        audit.record("declaration.import.report", detail={"job": job.id})
        db.session.commit()
        return export.csv_response(filename, header, rows)

    def _job(self, job_id: int) -> ImportJob:
        job = db.session.get(ImportJob, job_id)
        if job is None:
            abort(404)
        return job


def _result(job: ImportJob, row: dict) -> str:
    if row["reason"] is not None:
        return _("Refused") + ": " + row["reason"]
    if job.dry_run:
        return _("Would be imported")
    return _("Imported") + f" #{row['declaration_id']}"
