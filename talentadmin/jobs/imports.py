"""Rows of the old system's data kept until their unit is certified.

The back-office import keeps each row refused only because its unit has no approved
certification as a :class:`~talentadmin.jobs.models.PendingImport`. When a certification is
approved (by a reviewer or automatically), :func:`after_approval` hands
:func:`import_pending_for` that unit's credit code after the commit: the kept rows go
through the importer again (duplicates and bad values refused as in any import; rows whose
unit is still not certified, say because of a conflict, are kept again).
"""

from __future__ import annotations

import json
import logging
from itertools import groupby

from celery import shared_task
from flask import current_app
from sqlalchemy import delete, event, exists, select

from ..extensions import db
from .models import PendingImport

log = logging.getLogger(__name__)
PENDING = "talentadmin_pending_imports"  # session.info key: credit codes, after the commit


def import_pending_for(credit_code: str) -> int:
    """Import the rows kept for ``credit_code``; the number imported."""
    from ..declarations import importer

    kept = db.session.scalars(select(PendingImport).where(
        PendingImport.credit_code == credit_code).order_by(PendingImport.id)).all()
    if not kept:
        return 0
    batches = [(key, [json.loads(p.row) for p in group]) for key, group in groupby(
        kept, key=lambda p: (p.source, p.round_name))]
    db.session.execute(delete(PendingImport).where(
        PendingImport.id.in_([p.id for p in kept])))
    imported = 0
    for (source, round_name), rows in batches:  # each commits (rows kept again included)
        try:
            report = importer.import_rows(rows, round_name=round_name, source=source,
                                          keep_pending=True)
        except importer.LegacyFileError as error:  # the round was renamed or removed
            log.warning("pending import of %s from %s: %s", credit_code, source, error)
            for row in rows:
                importer._keep(row, source, None)
            db.session.commit()
            continue
        imported += report.imported
    return imported


@shared_task(name="talentadmin.jobs.imports.import_pending")
def import_pending(credit_code: str) -> int:
    return import_pending_for(credit_code)


def after_approval(credit_code: str | None) -> None:
    """Import the rows kept for ``credit_code`` once the current transaction commits (a
    worker's task, or here without a task queue); nothing when none is kept."""
    if not credit_code or not db.session.scalar(select(exists().where(
            PendingImport.credit_code == credit_code))):
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
