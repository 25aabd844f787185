"""The periodic jobs, each called directly (the worker's beat calls the same tasks), and the
beat schedule naming only tasks the worker knows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from talentadmin import create_app
from talentadmin.core.models import CaptchaChallenge, RateCounter, ServerSession, SmsCode, SmsOutbox
from talentadmin.core.timeutil import utcnow
from talentadmin.extensions import db
from talentadmin.jobs import periodic

from ..declarations.test_importer import unit  # noqa: F401


def test_purge_expired_removes_only_what_has_expired(app):
    now = utcnow()
    with app.app_context():
        db.session.add_all([
            RateCounter(key="old", count=3, expires_at=now - timedelta(seconds=1)),
            RateCounter(key="live", count=1, expires_at=now + timedelta(minutes=1)),
            CaptchaChallenge(id="old", answer="AB12", expires_at=now - timedelta(hours=1)),
            CaptchaChallenge(id="recent", answer="AB12", expires_at=now - timedelta(minutes=1)),
            CaptchaChallenge(id="live", answer="AB12", expires_at=now + timedelta(minutes=5)),
            ServerSession(session_id="old", data=b"", expiry=now - timedelta(seconds=1)),
            ServerSession(session_id="live", data=b"", expiry=now + timedelta(minutes=30)),
            SmsCode(mobile="13800000001", purpose="login", code_hash="x",
                    expires_at=now - timedelta(days=2)),
            SmsCode(mobile="13800000002", purpose="login", code_hash="x",
                    expires_at=now - timedelta(minutes=1)),  # still answers "expired"
        ])
        db.session.commit()

        assert periodic.purge_expired() == 4

        assert db.session.scalars(select(RateCounter.key)).all() == ["live"]
        assert sorted(db.session.scalars(select(CaptchaChallenge.id))) == ["live", "recent"]
        assert db.session.scalars(select(ServerSession.session_id)).all() == ["live"]
        assert db.session.scalars(select(SmsCode.mobile)).all() == ["13800000002"]
        assert periodic.purge_expired() == 0


def test_the_command_purges_what_the_periodic_job_purges(app, runner):
    """``flask purge-expired`` (cron, where no worker runs) removes SMS codes too."""
    with app.app_context():
        db.session.add(SmsCode(mobile="13800000001", purpose="login", code_hash="x",
                               expires_at=utcnow() - timedelta(days=2)))
        db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0 and "removed 1 expired rows" in result.output
    with app.app_context():
        assert db.session.scalars(select(SmsCode)).all() == []


def test_sweep_imports_imports_kept_rows_of_units_certified_since(app, unit, tmp_path):  # noqa: F811
    """A kept row whose unit is certified by now (its approval's own look missed it) is
    imported by the periodic sweep; one of a unit still uncertified stays kept."""
    import json

    from talentadmin.declarations import importer
    from talentadmin.declarations.models import Declaration
    from talentadmin.jobs.models import PendingImport

    from ..conftest import UNIT
    from ..declarations.test_importer import NOBODY_CODE, WOMAN, row, write_csv

    path = write_csv(tmp_path / "old.csv", [row(1, 身份证号=WOMAN),
                                              row(2, 统一社会信用代码=NOBODY_CODE)])
    with app.app_context():
        for read in importer.read_rows(path):
            db.session.add(PendingImport(credit_code=read["credit_code"], source="old.csv",
                                         row=json.dumps(read, ensure_ascii=False, default=str)))
        db.session.commit()

        periodic.sweep_imports()

        assert db.session.scalars(select(PendingImport.credit_code)).all() == [NOBODY_CODE]
        assert db.session.scalar(select(Declaration.unit_name)) == UNIT


def test_retry_outbox_delivers_a_due_row_whose_enqueue_was_lost(app):
    """A row left queued (the broker was down at the commit) is delivered by the sweep; a
    row due later is left alone."""
    with app.app_context():
        due = SmsOutbox(to="13800000003", text="您的申报已通过初审。", kind="declaration.passed")
        later = SmsOutbox(to="13800000004", text="您的申报已通过初审。", kind="declaration.passed",
                          next_try_at=utcnow() + timedelta(hours=1))
        db.session.add_all([due, later])
        db.session.commit()
        due_id, later_id = due.id, later.id

        assert periodic.retry_outbox() == 1

        db.session.expire_all()
        assert db.session.get(SmsOutbox, due_id).status == "sent"
        assert db.session.get(SmsOutbox, later_id).status == "queued"


def test_the_beat_schedule_names_tasks_the_worker_registers(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "beat",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                      "BROKER_URL": "instance"})
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()  # what the worker imports at start
    schedule = celery.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} == {
        "talentadmin.jobs.periodic.retry_outbox", "talentadmin.jobs.periodic.sweep_exports",
        "talentadmin.jobs.periodic.sweep_imports", "talentadmin.jobs.periodic.purge_expired",
        "talentadmin.jobs.periodic.sweep_readings"}
    for entry in schedule.values():
        assert entry["task"] in celery.tasks
    assert celery.conf.broker_url == f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
