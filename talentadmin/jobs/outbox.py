"""Delivering the SMS outbox (:class:`~talentadmin.core.models.SmsOutbox`).

``core.notify`` writes one row per SMS in the transaction of the decision and enqueues
:func:`deliver` after the commit. A worker claims each row with a compare-and-set
(``queued`` → ``sending`` only if it is still ``queued`` and due), so of two workers given
the same row one sends and the other skips it. A gateway error, a timeout, an HTTP error
status or a ``2xx`` answer whose body reports an error puts the row back as ``queued``
with an exponential backoff (``SMS_RETRY_SECONDS`` × 2^(tries − 1)); after
``SMS_MAX_TRIES`` tries it is ``failed`` and listed in the back office, which can queue
it again (:func:`resend`).

:func:`sweep` (the periodic job) hands the due rows to the workers again: rows whose
enqueue was lost (broker down at the commit), retries whose timer was lost, and rows a
worker claimed and never finished (``SENDING_TIMEOUT``: the worker died — such a row may
have left, so it can be sent twice; every other row is sent at most once).

Rows are handed to the workers after the commit through ``jobs.after_commit``. An app
without a task queue (no ``celery`` extension) delivers them in-process after the commit
instead — the rows stay durable, and retries wait for :func:`sweep`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import event, select, update

from ..core import sms
from ..core.models import SmsOutbox
from ..core.timeutil import utcnow
from ..extensions import db

log = logging.getLogger(__name__)

CHUNK = 50  # rows per task
SENDING_TIMEOUT = timedelta(minutes=10)  # far above any gateway timeout
DEFAULT_MAX_TRIES = 6
DEFAULT_RETRY_SECONDS = 30


def max_tries() -> int:
    return int(current_app.config.get("SMS_MAX_TRIES", DEFAULT_MAX_TRIES))


def backoff(tries: int) -> timedelta:
    """The wait after the ``tries``-th failed try: 30 s, 1 min, 2 min, 4 min… (capped at a day)."""
    base = int(current_app.config.get("SMS_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
    return timedelta(seconds=min(base * 2 ** max(tries - 1, 0), 86400))


@shared_task(ignore_result=True)
def deliver(outbox_ids: int | list[int]) -> dict[str, int]:
    """Send the outbox rows ``outbox_ids`` that are queued and due; counts per outcome."""
    ids = [outbox_ids] if isinstance(outbox_ids, int) else list(outbox_ids)
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    again: list[int] = []
    wait: timedelta | None = None
    for outbox_id in ids:
        outcome, delay = deliver_one(outbox_id)
        counts[outcome] += 1
        if outcome == "retry":
            again.append(outbox_id)
            wait = delay if wait is None else min(wait, delay)
    if again and wait is not None:
        _enqueue(again, countdown=wait.total_seconds())
    return counts


def deliver_one(outbox_id: int) -> tuple[str, timedelta | None]:
    """Claim, send and record one row: ``sent``, ``retry`` (with its wait), ``failed``,
    or ``skipped`` (gone, not due, sent, failed, or claimed by another worker)."""
    now = utcnow()
    claimed = db.session.execute(
        update(SmsOutbox)
        .where(SmsOutbox.id == outbox_id, SmsOutbox.status == "queued",
               SmsOutbox.next_try_at <= now)
        .values(status="sending", claimed_at=now, tries=SmsOutbox.tries + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()  # the claim is seen by every other worker before the gateway call
    if claimed != 1:
        return "skipped", None
    row = db.session.execute(
        select(SmsOutbox.to, SmsOutbox.text, SmsOutbox.kind, SmsOutbox.tries)
        .where(SmsOutbox.id == outbox_id)).one()
    try:
        sms.backend().send(row.to, row.text)
    except Exception as error:  # any failure is a failed try, never a lost row
        return _failed_try(outbox_id, row, error)
    _finish(outbox_id, status="sent", sent_at=utcnow(), last_error=None)
    return "sent", None


def _failed_try(outbox_id: int, row, error: Exception) -> tuple[str, timedelta | None]:
    message = f"{type(error).__name__}: {error}"[:300]
    if row.tries >= max_tries():
        log.warning("SMS %s (%s) failed after %d tries: %s", outbox_id, row.kind, row.tries,
                    message)
        _finish(outbox_id, status="failed", last_error=message)
        return "failed", None
    wait = backoff(row.tries)
    log.info("SMS %s (%s) try %d failed, next in %s: %s", outbox_id, row.kind, row.tries, wait,
             message)
    _finish(outbox_id, status="queued", next_try_at=utcnow() + wait, last_error=message)
    return "retry", wait


def _finish(outbox_id: int, **values) -> None:
    db.session.execute(
        update(SmsOutbox).where(SmsOutbox.id == outbox_id, SmsOutbox.status == "sending")
        .values(claimed_at=None, **values).execution_options(synchronize_session=False))
    db.session.commit()


def _enqueue(ids: list[int], countdown: float = 0) -> bool:
    """Hand ``ids`` to the workers in chunks; ``False`` when the broker refused (the rows
    wait for :func:`sweep`). Without a task queue, delivered here and now (a retry, with a
    ``countdown``, is left to :func:`sweep`)."""
    if current_app.extensions.get("celery") is None:
        if not countdown:
            for start in range(0, len(ids), CHUNK):
                with current_app.app_context():  # a session of its own
                    deliver(ids[start:start + CHUNK])
        return True
    try:
        for start in range(0, len(ids), CHUNK):
            deliver.apply_async((ids[start:start + CHUNK],), countdown=countdown or None)
    except Exception as error:  # the broker is down: the sweeper retries
        log.warning("SMS outbox: %d rows not enqueued (%s); the sweeper will", len(ids), error)
        return False
    return True


PENDING = "talentadmin_sms_outbox"  # session.info key: ids to hand over after the commit


def after_commit(ids: list[int]) -> None:
    """Hand the outbox rows ``ids`` (written in the current transaction) to the workers once
    it commits: through ``jobs.after_commit`` when the app has a task queue, else with this
    module's own hook on the session (nothing leaves if the transaction is rolled back)."""
    try:
        from . import after_commit as enqueue_after_commit
    except ImportError:
        enqueue_after_commit = None
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        if enqueue_after_commit is not None and current_app.extensions.get("celery") is not None:
            enqueue_after_commit(deliver, chunk)
        else:
            db.session().info.setdefault(PENDING, []).extend(chunk)


@event.listens_for(db.session, "after_commit")
def _hand_over(session) -> None:
    ids = session.info.pop(PENDING, None)
    if ids:
        _enqueue(ids)


@event.listens_for(db.session, "after_transaction_end")
def _drop(session, transaction) -> None:
    if transaction.parent is None:  # ended without a commit: nothing leaves
        session.info.pop(PENDING, None)


def sweep(limit: int = 5000) -> int:
    """Enqueue the due ``queued`` rows (at most ``limit``), after putting back the rows a
    lost worker left ``sending``. Returns how many rows were handed over."""
    now = utcnow()
    stale = (SmsOutbox.status == "sending") & (SmsOutbox.claimed_at < now - SENDING_TIMEOUT)
    db.session.execute(
        update(SmsOutbox).where(stale, SmsOutbox.tries >= max_tries())
        .values(status="failed", claimed_at=None, last_error="worker lost while sending")
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(SmsOutbox).where(stale)
        .values(status="queued", claimed_at=None, next_try_at=now)
        .execution_options(synchronize_session=False))
    due = list(db.session.scalars(
        select(SmsOutbox.id).where(SmsOutbox.status == "queued", SmsOutbox.next_try_at <= now)
        .order_by(SmsOutbox.id).limit(limit)))
    db.session.commit()
    return len(due) if due and _enqueue(due) else 0


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    """:func:`sweep` as a task, for a beat schedule."""
    return sweep()


def resend(ids: list[int] | None = None) -> list[int]:
    """Queue failed rows again (those in ``ids``, or all), due now with their tries reset;
    they are enqueued after the caller commits. Returns the ids queued."""
    where = [SmsOutbox.status == "failed"]
    if ids is not None:
        where.append(SmsOutbox.id.in_(ids))
    chosen = list(db.session.scalars(select(SmsOutbox.id).where(*where).order_by(SmsOutbox.id)))
    if not chosen:
        return []
    db.session.execute(
        update(SmsOutbox).where(SmsOutbox.id.in_(chosen), SmsOutbox.status == "failed")
        .values(status="queued", tries=0, next_try_at=utcnow())
        .execution_options(synchronize_session=False))
    after_commit(chosen)
    return chosen
