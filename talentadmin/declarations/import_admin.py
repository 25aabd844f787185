"""The old system's declarations imported from the back office (admins only).

An admin uploads the CSV or XLSX file; it is kept in the instance folder under a random
name and checked with a dry run (the same importer as ``flask import-legacy``): each row
says whether it would be imported or why it is refused. Running it imports the file that
was checked (nothing is read from the browser a second time) and shows the final report.
A row refused only because its unit is not certified yet is kept and imported when that
unit's certification is approved (``jobs.imports``).
A file that cannot be imported at all (unreadable, wrong header) imports nothing and says
why. Uploads and runs are audited; the forms post with the CSRF token.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _

from ..admin.base import current_staff, deny
from ..core import audit
from ..extensions import db
from . import importer

KINDS = ("csv", "xlsx")
TOKEN = re.compile(r"[0-9a-f]{32}\.(csv|xlsx)")
MAX_BYTES = 50 * 1024 * 1024


def folder() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


class LegacyImportView(BaseView):
    def is_accessible(self) -> bool:
        staff = current_staff()
        return staff is not None and staff.has_role("admin")

    def inaccessible_callback(self, name, **kwargs):
        return deny(name)

    @expose("/")
    def index(self):
        return self.render("admin/import_upload.html")

    @expose("/check", methods=("POST",))
    def check(self):
        upload = request.files.get("file")
        kind = (upload.filename or "").rsplit(".", 1)[-1].lower() if upload else ""
        if upload is None or kind not in KINDS:
            flash(_("Choose the old system's CSV or XLSX file."), "danger")
            return redirect(url_for(".index"))
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            flash(_("The file is too large."), "danger")
            return redirect(url_for(".index"))
        token = f"{secrets.token_hex(16)}.{kind}"
        path = folder() / token
        path.write_bytes(data)
        round_name = request.form.get("round", "").strip() or None
        return self._report(path, token, round_name, dry_run=True)

    @expose("/run", methods=("POST",))
    def run(self):
        token = request.form.get("token", "")
        if not TOKEN.fullmatch(token):
            abort(400)
        path = folder() / token
        if not path.is_file():
            flash(_("This file was already imported or is gone; upload it again."), "warning")
            return redirect(url_for(".index"))
        round_name = request.form.get("round", "").strip() or None
        try:
            return self._report(path, token, round_name, dry_run=False)
        finally:
            path.unlink(missing_ok=True)

    def _report(self, path: Path, token: str, round_name: str | None, *, dry_run: bool):
        try:
            report = importer.import_file(path, dry_run=dry_run, round_name=round_name,
                                          keep_pending=True)
        except importer.LegacyFileError as error:
            path.unlink(missing_ok=True)
            flash(_("Nothing was imported: %(error)s", error=str(error)), "danger")
            return redirect(url_for(".index"))
        audit.record("declaration.import.run" if not dry_run else "declaration.import.check",
                     detail={"rows": len(report.rows), "imported": report.imported,
                             "refused": report.refused})
        db.session.commit()
        kept = sum(1 for r in report.rows if (r.reason or "").endswith(importer.PENDING_NOTE))
        return self.render("admin/import_report.html", report=report, token=token, kept=kept,
                           round_name=round_name or "", staff=current_staff())
