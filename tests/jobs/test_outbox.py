"""The durable SMS outbox (``core.notify`` writes, ``jobs.outbox`` delivers), tasks run
eagerly: each notice is a row written with the decision and sent after the commit, retried
with backoff on gateway faults, failed after ``SMS_MAX_TRIES`` and listed in the back
office (resend one or all), sent once however many deliveries reach it."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kombu.exceptions import OperationalError
from sqlalchemy import func, select

from talentadmin.accounts.models import EnterpriseUser
from talentadmin.core import notify
from talentadmin.core.models import AuditEvent, SmsOutbox
from talentadmin.core.timeutil import utcnow
from talentadmin.extensions import db
from talentadmin.jobs import outbox as jobs

from ..conftest import csrf_in, staff_client

MOBILE = "13800138000"


@pytest.fixture(autouse=True)
def task_queue(app):
    """The app's Celery app, run eagerly as in every test; an eager one of the test's own
    while the app has none."""
    if app.extensions.get("celery") is not None:
        yield app.extensions["celery"]
        return
    from celery import Celery, Task
    from celery import current_app as current_celery

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask, set_as_current=False)
    celery.conf.update(task_always_eager=True, broker_url="memory://", task_ignore_result=True)
    app.extensions["celery"] = celery
    previous = current_celery._get_current_object()
    celery.set_current()  # shared tasks bind to it while the test runs
    try:
        yield celery
    finally:
        previous.set_current()
        del app.extensions["celery"]


def task():
    """The delivery task of the current Celery app (patched on the task itself)."""
    return jobs.deliver._get_current_object()


def rows() -> list[SmsOutbox]:
    db.session.expire_all()
    return list(db.session.scalars(select(SmsOutbox).order_by(SmsOutbox.id)))


def texts(outbox) -> list[str]:
    return [m["text"] for m in outbox.messages()]


# --- a local gateway -----------------------------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    mode = "ok"  # ok | 500 | error-body | timeout
    received: list = []
    release = threading.Event()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        gateway = type(self)
        if gateway.mode == "timeout":
            gateway.release.wait(10)  # the client gives up first (SMS_HTTP_TIMEOUT)
            return
        gateway.received.append(body)
        status, answer = {"ok": (200, {"code": 0, "msg": "ok"}),
                          "500": (500, {"error": "internal"}),
                          "error-body": (200, {"code": 1024, "msg": "sign not approved"})
                          }[gateway.mode]
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(app):
    _Gateway.mode, _Gateway.received = "ok", []
    _Gateway.release = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    keys = ("SMS_BACKEND", "SMS_HTTP_URL", "SMS_HTTP_TIMEOUT", "SMS_HTTP_TEMPLATE")
    saved = {k: app.config[k] for k in keys} | {"SMS_MAX_TRIES": app.config.get("SMS_MAX_TRIES")}
    app.config.update(SMS_BACKEND="http", SMS_HTTP_URL=f"http://127.0.0.1:{server.server_port}/",
                      SMS_HTTP_TIMEOUT=0.3, SMS_MAX_TRIES=3,
                      SMS_HTTP_TEMPLATE='{"mobile": "{to}", "content": "{text}"}')
    yield _Gateway
    _Gateway.release.set()
    server.shutdown()
    server.server_close()
    app.config.update(saved)
    if saved["SMS_MAX_TRIES"] is None:
        del app.config["SMS_MAX_TRIES"]


@pytest.fixture
def clock(monkeypatch):
    """The outbox's clock, moved forward by hand (the backoff waits pass at once)."""
    state = {"offset": timedelta(0)}
    monkeypatch.setattr(jobs, "utcnow", lambda: utcnow() + state["offset"])

    def advance(delta: timedelta) -> None:
        state["offset"] += delta

    return advance


def decide(text: str = "your declaration was approved", mobile: str = MOBILE) -> None:
    """A decision's transaction: a notice SMS written, then committed."""
    notify.send_raw(mobile, text)
    db.session.commit()


# --- the row is written with the decision and sent after the commit -----------------------


def test_a_committed_notice_is_a_row_sent_after_the_commit(ctx, outbox):
    decide("approved")
    (row,) = rows()
    assert (row.status, row.tries, row.to) == ("sent", 1, MOBILE)
    assert row.sent_at is not None and row.last_error is None
    assert texts(outbox) == ["【人才服务】approved"]


def test_a_rolled_back_decision_writes_and_sends_nothing(ctx, outbox):
    notify.send_raw(MOBILE, "never")
    db.session.rollback()
    db.session.commit()
    assert rows() == [] and outbox.messages() == []


def test_sms_switched_off_writes_no_row(app, ctx, outbox):
    app.config["SMS_ENABLED"] = False
    try:
        decide("off")
    finally:
        app.config["SMS_ENABLED"] = True
    assert rows() == [] and outbox.messages() == []


def test_a_bulk_decision_writes_one_row_per_enterprise_in_chunks(ctx, outbox, monkeypatch):
    users = [EnterpriseUser(mobile=f"139{n:08d}") for n in range(60)]
    db.session.add_all(users)
    db.session.flush()
    notify.MESSAGES.setdefault("test_bulk", "%(name)s approved")
    tasks: list[list[int]] = []
    real = task().apply_async

    def counted(args, *rest, **kwargs):
        tasks.append(list(args[0]))
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(task(), "apply_async", counted)
    notify.notify_many("test_bulk", [(u.id, {"name": f"D{n}-{k}"}, None)
                                     for n, u in enumerate(users) for k in range(2)])
    assert tasks == []  # nothing leaves before the commit
    db.session.commit()
    assert [len(t) for t in tasks] == [50, 10]
    assert len(rows()) == 60 and {r.status for r in rows()} == {"sent"}
    messages = outbox.messages()
    assert len(messages) == 60 and len({m["to"] for m in messages}) == 60
    assert "D0-0、D0-1 approved" in messages[0]["text"]


# --- gateway faults: retried with backoff, then failed and listed ---------------------------


@pytest.mark.parametrize("mode, error", [
    ("timeout", "timed out"),
    ("500", "500"),
    ("error-body", "sign not approved"),
])
def test_a_gateway_fault_is_retried_then_failed(app, ctx, gateway, clock, mode, error):
    gateway.mode = mode
    decide("retry me")
    (row,) = rows()
    assert (row.status, row.tries) == ("queued", 1) and error in row.last_error
    first_wait = row.next_try_at - utcnow()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)

    assert jobs.sweep() == 0  # not due yet: nothing is tried early
    assert rows()[0].tries == 1

    clock(timedelta(seconds=31))
    assert jobs.sweep() == 1
    (row,) = rows()
    assert (row.status, row.tries) == ("queued", 2)
    assert row.next_try_at - jobs.utcnow() > timedelta(seconds=55)  # the wait doubled

    clock(timedelta(seconds=61))
    jobs.sweep()
    (row,) = rows()
    assert (row.status, row.tries) == ("failed", 3) and error in row.last_error
    clock(timedelta(days=1))
    assert jobs.sweep() == 0  # a failed row waits for a person
    assert gateway.received == [] or all(b["content"] == "【人才服务】retry me"
                                         for b in gateway.received)


def test_a_gateway_that_recovers_sends_on_the_next_try(app, ctx, gateway, clock):
    gateway.mode = "500"
    decide("second time lucky")
    gateway.mode = "ok"
    clock(timedelta(minutes=1))
    jobs.sweep()
    (row,) = rows()
    assert (row.status, row.tries) == ("sent", 2)
    assert [b["content"] for b in gateway.received] == ["【人才服务】second time lucky"] * 2


# --- the broker down at the decision ------------------------------------------------------


def test_broker_down_the_decision_commits_and_the_sweeper_delivers(ctx, outbox, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(task(), "apply_async", down)
    user = EnterpriseUser(mobile=MOBILE)
    db.session.add(user)
    decide("waits for the broker")
    assert db.session.scalar(select(func.count()).select_from(EnterpriseUser)) == 1
    (row,) = rows()
    assert (row.status, row.tries) == ("queued", 0) and outbox.messages() == []
    assert jobs.sweep() == 0  # still down: the row stays
    monkeypatch.undo()
    assert jobs.sweep() == 1
    assert rows()[0].status == "sent" and texts(outbox) == ["【人才服务】waits for the broker"]


def test_a_worker_lost_while_sending_is_put_back_by_the_sweeper(ctx, outbox, clock):
    row = SmsOutbox(to=MOBILE, text="stuck", kind="raw", status="sending", tries=1,
                    claimed_at=utcnow())
    db.session.add(row)
    db.session.commit()
    assert jobs.sweep() == 0  # a worker may still be at it
    clock(jobs.SENDING_TIMEOUT + timedelta(seconds=1))
    assert jobs.sweep() == 1
    assert (rows()[0].status, rows()[0].tries) == ("sent", 2) and texts(outbox) == ["stuck"]


# --- idempotent delivery ------------------------------------------------------------------


def test_two_deliveries_of_one_row_send_one_sms(ctx, outbox):
    decide("once")
    (row,) = rows()
    assert jobs.deliver(row.id) == {"sent": 0, "retry": 0, "failed": 0, "skipped": 1}
    assert jobs.deliver([row.id, row.id]) == {"sent": 0, "retry": 0, "failed": 0, "skipped": 2}
    assert texts(outbox) == ["【人才服务】once"]


def test_a_second_worker_during_the_send_skips_the_row(ctx, outbox, monkeypatch):
    """Two workers given the same row at once: the second claims while the first is at the
    gateway, and finds the row taken."""
    from talentadmin.core import sms

    row = SmsOutbox(to=MOBILE, text="raced", kind="raw")
    db.session.add(row)
    db.session.commit()
    seen: list[dict] = []
    real_send = sms.ConsoleBackend.send

    def send(self, to, text, code=None):
        seen.append(jobs.deliver(row.id))  # the other worker, mid-send
        return real_send(self, to, text, code)

    monkeypatch.setattr(sms.ConsoleBackend, "send", send)
    assert jobs.deliver(row.id)["sent"] == 1
    assert seen == [{"sent": 0, "retry": 0, "failed": 0, "skipped": 1}]
    assert texts(outbox) == ["raced"] and rows()[0].tries == 1


# --- the back office ----------------------------------------------------------------------


# The back office's requests push application contexts of their own: the test reads and
# writes the database in contexts of its own too.


def failed_row(app, text: str) -> int:
    with app.app_context():
        row = SmsOutbox(to=MOBILE, text=text, kind="raw", status="failed", tries=3,
                        last_error="SmsError: gateway answered 500")
        db.session.add(row)
        db.session.commit()
        return row.id


def statuses(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(r.text, r.status) for r in rows()]


def resend_events(app) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sms.resend")))


def test_failed_messages_are_listed_and_resent_one(app, make_staff, outbox):
    first, second = failed_row(app, "first"), failed_row(app, "second")
    admin = staff_client(app, make_staff, "outbox-admin", "admin")
    html = admin.get("/admin/sms_outbox/").get_data(as_text=True)
    assert f'data-id="{first}"' in html and f'data-id="{second}"' in html
    assert "138****8000" in html and "gateway answered 500" in html
    response = admin.post("/admin/sms_outbox/resend",
                          data={"csrf_token": csrf_in(html), "id": str(first)})
    assert response.status_code == 302
    assert texts(outbox) == ["first"]
    assert statuses(app) == [("first", "sent"), ("second", "failed")]
    (event,) = resend_events(app)
    assert event.detail == {"ids": [first]} and event.actor_label == "outbox-admin"
    # Sent now: resending it again does nothing.
    response = admin.post("/admin/sms_outbox/resend",
                          data={"csrf_token": csrf_in(html), "id": str(first)})
    assert response.status_code == 302 and texts(outbox) == ["first"]


def test_resend_all(app, make_staff, outbox):
    ids = [failed_row(app, f"m{n}") for n in range(3)]
    admin = staff_client(app, make_staff, "outbox-admin", "admin")
    html = admin.get("/admin/sms_outbox/").get_data(as_text=True)
    assert admin.post("/admin/sms_outbox/resend-all",
                      data={"csrf_token": csrf_in(html)}).status_code == 302
    assert sorted(texts(outbox)) == ["m0", "m1", "m2"]
    assert {status for _text, status in statuses(app)} == {"sent"}
    (event,) = resend_events(app)
    assert event.detail == {"count": 3, "ids": ids}
    html = admin.get("/admin/sms_outbox/").get_data(as_text=True)
    assert 'id="outbox-empty"' in html


def test_queued_messages_are_listed(app, make_staff, monkeypatch):
    monkeypatch.setattr(task(), "apply_async",
                        lambda *a, **k: (_ for _ in ()).throw(OperationalError("down")))
    with app.app_context():
        decide("waiting")
    admin = staff_client(app, make_staff, "outbox-admin", "admin")
    html = admin.get("/admin/sms_outbox/?status=queued").get_data(as_text=True)
    assert "waiting" in html and "Resend" not in html and "重新发送" not in html


def test_supervisors_read_only_others_refused(app, make_staff, outbox):
    row_id = failed_row(app, "keep")
    supervisor = staff_client(app, make_staff, "outbox-super", "supervisor")
    html = supervisor.get("/admin/sms_outbox/").get_data(as_text=True)
    assert f'data-id="{row_id}"' in html and "resend" not in html
    token = csrf_in(html)
    assert supervisor.post("/admin/sms_outbox/resend",
                           data={"csrf_token": token, "id": str(row_id)}).status_code == 403
    assert supervisor.post("/admin/sms_outbox/resend-all",
                           data={"csrf_token": token}).status_code == 403
    reviewer = staff_client(app, make_staff, "outbox-rev", "initial_reviewer")
    assert reviewer.get("/admin/sms_outbox/").status_code == 403
    anonymous = app.test_client()
    response = anonymous.get("/admin/sms_outbox/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert outbox.messages() == [] and statuses(app)[0][1] == "failed"


@pytest.mark.parametrize("data, status", [
    ({"id": "abc"}, 400), ({"id": "0"}, 400), ({"id": "99999999999"}, 400), ({}, 400),
])
def test_resend_bad_input(app, make_staff, data, status):
    failed_row(app, "x")
    admin = staff_client(app, make_staff, "outbox-admin", "admin")
    html = admin.get("/admin/sms_outbox/").get_data(as_text=True)
    response = admin.post("/admin/sms_outbox/resend", data={"csrf_token": csrf_in(html), **data})
    assert response.status_code == status
    assert statuses(app)[0][1] == "failed"


def test_resend_without_the_csrf_token_is_refused(app, make_staff, outbox):
    failed_row(app, "x")
    admin = staff_client(app, make_staff, "outbox-admin", "admin")
    assert admin.post("/admin/sms_outbox/resend-all").status_code == 400
    assert admin.get("/admin/sms_outbox/?status=sent").status_code == 400
    assert outbox.messages() == [] and statuses(app)[0][1] == "failed"
