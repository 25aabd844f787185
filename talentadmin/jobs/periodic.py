"""Periodic jobs (the worker's beat schedule, :func:`talentadmin.jobs.celery_init_app`):
the SMS outbox's retries, old export files, expired captchas, codes, counters and sessions.
Each is a plain function too (cron can run ``flask purge-expired`` instead)."""

from __future__ import annotations

from celery import shared_task

from ..extensions import db


@shared_task(name="talentadmin.jobs.periodic.retry_outbox")
def retry_outbox() -> int:
    """Hand the due outbox rows (retries, rows whose enqueue was lost) to the workers."""
    from .outbox import sweep

    return sweep()


@shared_task(name="talentadmin.jobs.periodic.sweep_exports")
def sweep_exports() -> int:
    """Remove export files past their keeping time; fail jobs whose worker stopped."""
    from .exports import sweep_expired

    removed = sweep_expired()
    db.session.commit()
    return removed


@shared_task(name="talentadmin.jobs.periodic.purge_expired")
def purge_expired() -> int:
    """Delete expired counters, captchas and sessions."""
    from ..core import captcha
    from ..core.ratelimit import counters
    from ..core.security import purge_expired_sessions

    removed = counters().purge_expired() + captcha.purge_expired() + purge_expired_sessions()
    db.session.commit()
    return removed
