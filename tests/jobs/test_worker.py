"""A real Celery worker process on each broker the project supports: the embedded one (kombu's
SQLAlchemy transport on a SQLite file in the instance folder, as ``make run`` starts it),
Redis and RabbitMQ. A decision's SMS, written to the outbox in the request's transaction, is
delivered by the worker after the commit; a periodic job sent as the beat sends it runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from talentadmin import create_app
from talentadmin.core.models import RateCounter, SmsOutbox
from talentadmin.core.notify import queue_sms
from talentadmin.core.timeutil import utcnow
from talentadmin.extensions import db

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TALENTADMIN_TEST_REDIS_URL")
RABBITMQ_URL = os.environ.get("TALENTADMIN_TEST_RABBITMQ_URL",
                              "amqp://guest:guest@127.0.0.1:5672//")


def reachable(url: str) -> bool:
    parts = urlparse(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except OSError:
        return False
    return True


def brokers():
    yield pytest.param("instance", id="embedded")
    yield pytest.param(REDIS_URL, id="redis", marks=pytest.mark.skipif(
        not REDIS_URL, reason="TALENTADMIN_TEST_REDIS_URL is not set"))
    yield pytest.param(RABBITMQ_URL, id="rabbitmq", marks=pytest.mark.skipif(
        not reachable(RABBITMQ_URL), reason="no RabbitMQ at " + RABBITMQ_URL))


def wait_for(check, worker: subprocess.Popen, seconds: float = 60.0):
    """Poll ``check`` until it is true; fail at the deadline or as soon as the worker exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if worker.poll() is not None:
            raise AssertionError("the worker exited: " + worker.stdout.read().decode())
        time.sleep(0.1)  # polling a worker in another process, with a deadline
    raise AssertionError("the worker did not do it in time")


@pytest.mark.real_commits
@pytest.mark.parametrize("broker", list(brokers()))
def test_a_worker_delivers_the_sms_written_with_the_decision(tmp_path, broker):
    if broker and broker.startswith("redis"):
        import redis

        redis.Redis.from_url(broker).flushdb()
    settings = {
        "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "SECRET_KEY": "worker-test", "BROKER_URL": broker, "SMS_BACKEND": "console",
        "SMS_OUTBOX": str(tmp_path / "sms.jsonl"), "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }
    app = create_app({"TESTING": True, **settings})
    assert app.extensions.get("celery") is not None
    with app.app_context():
        upgrade()
    env = {**os.environ, "TALENTADMIN_INSTANCE_PATH": str(tmp_path),
           **{f"TALENTADMIN_{key}": value for key, value in settings.items()
              if key != "INSTANCE_PATH"}}
    if broker == "instance":
        env["TALENTADMIN_BROKER_URL"] = "instance"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "talentadmin.jobs.worker:celery", "worker",
         "--pool", "solo", "--loglevel", "warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        with app.test_request_context():
            queue_sms("13800000042", "您的申报已通过初审。", "declaration.passed_initial")
            db.session.commit()  # the task leaves now, to the broker
            assert not (tmp_path / "sms.jsonl").exists()  # not sent by the web process

        def sent():
            with app.app_context():
                return db.session.scalar(select(SmsOutbox.status)) == "sent"

        wait_for(sent, worker)
        lines = (tmp_path / "sms.jsonl").read_text("utf-8").splitlines()
        assert len(lines) == 1 and "13800000042" in lines[0]

        with app.app_context():  # a periodic job, sent as the beat sends it
            db.session.add(RateCounter(key="spent", count=1,
                                       expires_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
        app.extensions["celery"].send_task("talentadmin.jobs.periodic.purge_expired")

        def purged():
            with app.app_context():
                return db.session.get(RateCounter, "spent") is None

        wait_for(purged, worker)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
        print(output.decode(errors="replace"))  # shown when the test fails
    assert b"Traceback" not in output, output.decode(errors="replace")
