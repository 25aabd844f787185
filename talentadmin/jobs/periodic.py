"""Periodic jobs (the worker's beat schedule, :func:`talentadmin.jobs.celery_init_app`):
the SMS outbox's retries, old export and import files, kept import rows whose unit is
certified, expired captchas, codes, counters and sessions.
Each task is a plain function too: called directly, it runs in the caller's app context."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from sqlalchemy import delete

from ..core.timeutil import utcnow
from ..extensions import db


@shared_task(name="talentadmin.jobs.periodic.retry_outbox")
def retry_outbox() -> int:
    """Hand the due outbox rows (retries, rows whose enqueue was lost) to the workers."""
    from .outbox import sweep

    return sweep()


@shared_task(name="talentadmin.jobs.periodic.sweep_readings")
def sweep_readings() -> int:
    """Send again licence readings whose message was lost; give up those never read."""
    from .readings import sweep

    return sweep()


@shared_task(name="talentadmin.jobs.periodic.sweep_exports")
def sweep_exports() -> int:
    """Remove export files past their keeping time; fail jobs whose worker stopped."""
    from .exports import sweep_expired

    removed = sweep_expired()
    db.session.commit()
    return removed


@shared_task(name="talentadmin.jobs.periodic.sweep_imports")
def sweep_imports() -> int:
    """Remove old import files (reports past their keeping time, stray uploads), fail import
    jobs whose worker stopped, and import the kept rows of units certified since."""
    from .imports import import_pending_certified, sweep_expired

    removed = sweep_expired()
    import_pending_certified()
    return removed


CODE_KEPT = timedelta(days=1)  # an expired code still answers "expired", not "missing", a day


@shared_task(name="talentadmin.jobs.periodic.purge_expired")
def purge_expired() -> int:
    """Delete expired counters, captchas, sessions, and SMS codes expired over a day ago."""
    from ..core import captcha
    from ..core.models import SmsCode
    from ..core.ratelimit import counters
    from ..core.security import purge_expired_sessions

    codes = db.session.execute(delete(SmsCode).where(SmsCode.expires_at <= utcnow() - CODE_KEPT))
    removed = (counters().purge_expired() + captcha.purge_expired()
               + purge_expired_sessions() + codes.rowcount)
    db.session.commit()
    return removed
