"""Licence readings off the request: an upload opens its certification in ``reading`` and a
worker reads the licence after the commit (:func:`talentadmin.certification.operations.read`);
the confirm page waits for it. Measured against reading in the request (``bench.ocr_serve``,
README "Background work"): with the reading in the request, eight uploads at once held the
database for seconds, most were refused with 503 and the rest of the site waited; as a job
every upload is taken at once and other pages keep their speed.

Without a task queue the reading runs right after the commit of the upload's request. A
reading whose message was lost (the broker was down) is sent again by the minute's sweep
after ``READING_RESEND_SECONDS``; one still waiting after ``OCR_STALE_SECONDS`` is given up
(the operator types the values, as for an unreadable licence).
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import event, select

from ..core.timeutil import utcnow
from ..extensions import db

PENDING = "talentadmin_readings"  # session.info key: certifications to read after the commit
READING_RESEND_SECONDS = 60
DEFAULT_STALE_SECONDS = 300


def after_upload(cert_id: int) -> None:
    if current_app.extensions.get("celery") is not None:
        from . import after_commit

        after_commit(read, cert_id)
    else:
        db.session().info.setdefault(PENDING, []).append(cert_id)


@event.listens_for(db.session, "after_commit")
def _read_pending(session) -> None:
    for cert_id in session.info.pop(PENDING, None) or ():
        with current_app.app_context():  # a session of its own
            from ..certification import operations

            operations.read(cert_id)


@shared_task(name="talentadmin.jobs.readings.read")
def read(cert_id: int) -> bool:
    from ..certification import operations

    return operations.read(cert_id)


def stale_after() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("OCR_STALE_SECONDS",
                                                          DEFAULT_STALE_SECONDS)))


def is_stale(cert) -> bool:
    return cert.created_at < utcnow() - stale_after()


def sweep() -> int:
    """Send again the readings waiting over a minute; give up those past the stale limit.
    The number of certifications handled."""
    from ..certification import operations, workflow
    from ..certification.models import Certification

    now = utcnow()
    waiting = db.session.scalars(select(Certification).where(
        Certification.status == workflow.READING,
        Certification.created_at < now - timedelta(seconds=READING_RESEND_SECONDS))).all()
    stale = [cert.id for cert in waiting if is_stale(cert)]
    lost = [cert.id for cert in waiting if not is_stale(cert)]
    db.session.rollback()
    handled = 0
    for cert_id in stale:
        cert = db.session.get(Certification, cert_id)
        handled += bool(cert is not None and operations.give_up_reading(cert))
    for cert_id in lost:
        if current_app.extensions.get("celery") is not None:
            read.delay(cert_id)  # to a worker again: the first message was lost
            handled += 1
        else:  # the process died between the commit and its reading: read it here
            handled += operations.read(cert_id)
    return handled
