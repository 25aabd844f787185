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
from contextlib import contextmanager
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


def wait_for(check, worker: subprocess.Popen | None, seconds: float = 60.0):
    """Poll ``check`` until it is true; fail at the deadline or as soon as the worker (if
    one is given) exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if worker is not None and worker.poll() is not None:
            raise AssertionError("the worker exited: " + worker.stdout.read().decode())
        time.sleep(0.1)  # polling a worker in another process, with a deadline
    raise AssertionError("the worker did not do it in time")


def worker_app(tmp_path, broker, **config):
    """An app on a SQLite file in ``tmp_path`` (migrated), the settings a worker needs."""
    if broker and broker.startswith("redis"):
        import redis

        redis.Redis.from_url(broker).flushdb()
    settings = {
        "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "SECRET_KEY": "worker-test", "BROKER_URL": broker, "SMS_BACKEND": "console",
        "SMS_OUTBOX": str(tmp_path / "sms.jsonl"), "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        **config,
    }
    app = create_app({"TESTING": True, **settings})
    assert app.extensions.get("celery") is not None
    with app.app_context():
        upgrade()
    return app, settings


@contextmanager
def running_worker(tmp_path, settings):
    """A ``celery worker`` process (solo pool) for the app of ``settings``; stopped at the
    end (SIGTERM, then SIGKILL), its output printed (shown when a test fails)."""
    env = {**os.environ, "TALENTADMIN_INSTANCE_PATH": str(tmp_path),
           **{f"TALENTADMIN_{key}": str(value) for key, value in settings.items()
              if key != "INSTANCE_PATH"}}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "talentadmin.jobs.worker:celery", "worker",
         "--pool", "solo", "--loglevel", "warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    output = b""
    try:
        yield worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
        print(output.decode(errors="replace"))
    worker.output = output


@pytest.mark.real_commits
@pytest.mark.parametrize("broker", list(brokers()))
def test_a_worker_runs_each_kind_of_job(tmp_path, broker):
    """On each broker: a decision's SMS (written to the outbox with the decision, delivered
    after the commit), a periodic job sent as the beat sends it, an export job, an import
    job, a PDF's preview and a licence's reading, each done by the worker process and none by the web process."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from talentadmin.accounts.models import EnterpriseUser, StaffUser
    from talentadmin.certification import operations as certification
    from talentadmin.certification.models import Certification
    from talentadmin.core import storage
    from talentadmin.jobs import exports, imports
    from talentadmin.jobs.models import ExportJob, ImportJob

    from ..conftest import pdf_bytes, png_bytes

    app, settings = worker_app(tmp_path, broker)
    with running_worker(tmp_path, settings) as worker:
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

        with app.test_request_context():  # an export and an import (dry run) as jobs
            staff = StaffUser(username="sup", password_hash="-")
            db.session.add(staff)
            db.session.flush()
            export = exports.start(staff.id, "csv", [], "export.csv")
            stored = imports.store_upload("序号,单位名称\n1,x\n".encode(), "csv")
            check = imports.start(staff.id, stored=stored, source="old.csv", round_name=None,
                                  dry_run=True)
            upload = storage.save_upload(FileStorage(BytesIO(pdf_bytes()), filename="a.pdf"))
            operator = EnterpriseUser(mobile="13800000043")
            db.session.add(operator)
            db.session.flush()
            reading = certification.upload(  # a licence, read by the worker's engine
                operator, FileStorage(BytesIO(png_bytes()), filename="licence.png")).id
            db.session.commit()
            export_id, check_id = export.id, check.id
            source = storage.path_of(upload)
            preview = source.with_name(f"{source.name}.preview-{storage.PREVIEW_SIDE}.png")
            assert not preview.exists()

        def finished():
            with app.app_context():
                return (db.session.get(ExportJob, export_id).status,
                        db.session.get(ImportJob, check_id).status) == ("done", "failed")

        wait_for(finished, worker)
        wait_for(preview.exists, worker)  # rendered by the worker, before any page asks

        def read():
            with app.app_context():
                return db.session.get(Certification, reading).status == "recognised"

        wait_for(read, worker, seconds=120)  # the worker loads its OCR engine first
        with app.app_context():
            assert exports.path_of(db.session.get(ExportJob, export_id)).read_text(
                "utf-8").count("\n") == 1  # the header: no rows asked for
            assert "header" in db.session.get(ImportJob, check_id).error  # wrong header
    assert b"Traceback" not in worker.output, worker.output.decode(errors="replace")


@pytest.mark.real_commits
def test_a_worker_killed_during_an_export(tmp_path):
    """SIGKILL in the middle of an export: the job shows failed once its heartbeat is stale,
    no partial file is offered or kept, and started again it writes the whole file."""
    from talentadmin.accounts.models import StaffUser
    from talentadmin.jobs import exports
    from talentadmin.jobs.models import ExportJob

    app, settings = worker_app(tmp_path, "instance", EXPORT_STALE_SECONDS=1)
    with app.app_context():
        staff = StaffUser(username="sup", password_hash="-")
        db.session.add(staff)
        db.session.commit()
        staff_id = staff.id
    ids = list(range(1, 400_001))  # ids of no declaration: 200 chunks, each a query
    with running_worker(tmp_path, settings) as worker:
        with app.test_request_context():
            job_id = exports.start(staff_id, "csv", ids, "export.csv").id
            db.session.commit()

        def mid_way():
            with app.app_context():
                job = db.session.get(ExportJob, job_id)
                return job.status == "running" and 0 < job.written < len(ids)

        wait_for(mid_way, worker)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    folder = tmp_path / "exports"
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        assert job.status == "running" and job.written < len(ids)
        assert [p.suffix for p in folder.iterdir()] == [".part"]  # what the worker left

        def stale():
            db.session.expire_all()
            return exports.refresh(db.session.get(ExportJob, job_id)).status == "failed"

        wait_for(stale, None, seconds=30)
        job = db.session.get(ExportJob, job_id)
        assert job.error == "worker stopped" and exports.path_of(job) is None
        assert list(folder.iterdir()) == []  # the partial file is gone

        exports.restart(job)
        db.session.commit()
        exports.run(job_id)  # here, as a worker would
        job = db.session.get(ExportJob, job_id)
        assert job.status == "done" and job.written == len(ids)
        assert exports.path_of(job).read_text("utf-8").count("\n") == 1
