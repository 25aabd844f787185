"""Background work on Celery, as in Flask's "Background Tasks with Celery" pattern.

:func:`celery_init_app` makes the Celery app from the Flask config (``BROKER_URL``, from
``TALENTADMIN_BROKER_URL``): every task runs inside the Flask app context. The tasks live in
the modules of this package — :mod:`.outbox` (the SMS outbox), :mod:`.exports` (municipal
exports), :mod:`.imports` (the old system's data), :mod:`.previews` (attachment previews),
:mod:`.readings` (licence OCR),
:mod:`.periodic` (housekeeping on a beat schedule).

Without a broker (``BROKER_URL`` empty, as in the test suite) the app has no ``celery``
extension and each module runs its work in-process right after the commit; the rows that
carry the work (outbox rows, export jobs) are the same either way, so nothing is lost.

Workers: ``celery -A talentadmin.jobs.worker:celery worker --beat`` (``make run`` starts one
beside the web server on a broker in the instance folder: kombu's SQLAlchemy transport on SQLite).
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from importlib.util import find_spec
from pathlib import Path

from celery import Celery, Task
from flask import Flask, has_app_context

log = logging.getLogger(__name__)

MODULES = ("talentadmin.jobs.outbox", "talentadmin.jobs.exports", "talentadmin.jobs.imports",
           "talentadmin.jobs.previews", "talentadmin.jobs.readings", "talentadmin.jobs.periodic")


def celery_init_app(app: Flask) -> Celery | None:
    """The Celery app of ``app`` (``app.extensions["celery"]``), or ``None`` without a
    broker: the work then runs in-process after each commit."""
    broker = app.config.get("BROKER_URL")
    if not broker:
        return None

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            if has_app_context():  # called in-process (no broker): the caller's app
                return self.run(*args, **kwargs)
            with app.app_context():  # in a worker
                return self.run(*args, **kwargs)

    modules = [name for name in MODULES if find_spec(name)]
    celery_app = Celery(app.name, task_cls=FlaskTask, include=modules)
    celery_app.config_from_object({
        "broker_url": broker,
        "task_ignore_result": True,  # progress and outcomes live in our own tables
        "task_acks_late": True,  # a worker killed mid-task leaves it for another
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": _transport_options(broker),
        "timezone": "UTC",
        "beat_schedule": {
            "outbox": {"task": "talentadmin.jobs.periodic.retry_outbox", "schedule": 60.0},
            "readings": {"task": "talentadmin.jobs.periodic.sweep_readings", "schedule": 60.0},
            "exports": {"task": "talentadmin.jobs.periodic.sweep_exports", "schedule": 900.0},
            "imports": {"task": "talentadmin.jobs.periodic.sweep_imports", "schedule": 900.0},
            "expired": {"task": "talentadmin.jobs.periodic.purge_expired", "schedule": 3600.0},
        },
    })
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def _transport_options(broker: str) -> dict:
    """The embedded broker (kombu's SQLAlchemy transport on SQLite, polled once a second):
    the file in WAL mode (the web process writes while the worker reads) and a 30 s busy
    timeout instead of "database is locked". Its options go to ``create_engine``."""
    prefix = "sqla+sqlite:///"
    if not broker.startswith(prefix):
        return {}
    path = Path(broker[len(prefix):])
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")  # kept by the file
    return {"connect_args": {"timeout": 30}}


PENDING = "talentadmin_jobs_pending"  # session.info key: tasks to send after the commit


def after_commit(task, *args, **kwargs) -> None:
    """Send ``task(*args, **kwargs)`` to the workers once the current transaction commits
    (never if it is rolled back). A broker that refuses is logged: the row the work reads
    waits for the periodic sweep."""
    from ..extensions import db

    session = db.session()
    if not session.in_transaction():  # so that a rollback ends one, and drops the task
        session.begin()
    session.info.setdefault(PENDING, []).append((task, args, kwargs))


def _send(session) -> None:
    for task, args, kwargs in session.info.pop(PENDING, ()):
        try:
            task.apply_async(args, kwargs)
        except Exception as error:  # broker down: the sweeper finds the row
            log.warning("task %s not enqueued (%s); the periodic sweep will", task.name, error)


def _drop(session, transaction) -> None:
    if transaction.parent is None:  # ended without a commit: nothing leaves
        session.info.pop(PENDING, None)


def _listen() -> None:
    from sqlalchemy import event

    from ..extensions import db

    event.listen(db.session, "after_commit", _send)
    event.listen(db.session, "after_transaction_end", _drop)


_listen()
