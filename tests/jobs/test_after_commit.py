"""``jobs.after_commit``: a task leaves once its transaction commits, never when it is rolled
back, and a broker that refuses does not undo the commit."""

from __future__ import annotations

import logging

from kombu.exceptions import OperationalError
from sqlalchemy import select

from talentadmin.core.models import RateCounter
from talentadmin.core.timeutil import utcnow
from talentadmin.extensions import db
from talentadmin.jobs import after_commit


class Recorder:
    """A task's sending side: records what ``apply_async`` is given, or refuses like a
    broker that is down."""

    name = "recorder"

    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[tuple] = []
        self.refuse = refuse

    def apply_async(self, args, kwargs):
        if self.refuse:
            raise OperationalError("connection refused")
        self.sent.append((args, kwargs))


def test_sent_once_after_the_commit(app):
    task = Recorder()
    with app.app_context():
        after_commit(task, 1, 2, kind="x")
        assert task.sent == []  # not before the commit
        db.session.commit()
        assert task.sent == [((1, 2), {"kind": "x"})]
        db.session.commit()
        assert len(task.sent) == 1


def test_never_sent_when_rolled_back(app):
    task = Recorder()
    with app.app_context():
        after_commit(task, 1)
        db.session.rollback()
        db.session.commit()  # a later commit does not send the rolled-back task
        assert task.sent == []


def test_a_refusing_broker_is_logged_and_the_commit_stands(app, caplog):
    task = Recorder(refuse=True)
    with app.app_context():
        db.session.add(RateCounter(key="kept", count=1, expires_at=utcnow()))
        after_commit(task, 7)
        with caplog.at_level(logging.WARNING, logger="talentadmin.jobs"):
            db.session.commit()
        assert "task recorder not enqueued (connection refused)" in caplog.text
        assert db.session.scalar(select(RateCounter.key)) == "kept"
