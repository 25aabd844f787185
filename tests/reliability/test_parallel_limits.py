"""Lockouts and SMS limits hold to the unit under parallel requests.

Real threads released together by a ``threading.Barrier``, each with its own test
client, against one database (SQLite, or PostgreSQL with
``TALENTADMIN_TEST_DATABASE_URL``), with the counters in the database and, with
``TALENTADMIN_TEST_REDIS_URL``, in Redis (a second app with ``REDIS_URL`` set).
"""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import select

from talentadmin import create_app
from talentadmin.accounts import models as account_models
from talentadmin.core import sms
from talentadmin.core.models import AuditEvent, SmsCode
from talentadmin.extensions import db

from ..conftest import PASSWORD, Portal, captcha_in, csrf_in
from .live_server import in_parallel

pytestmark = pytest.mark.real_commits  # threads, each with its own connection

REDIS_URL = os.environ.get("TALENTADMIN_TEST_REDIS_URL")
MOBILE = "13800138000"
N = 12

LOCKED = "已锁定"
WRONG_PASSWORD = "手机号或密码错误"
WRONG_CODE = "手机验证码错误。"
DEAD_CODE = "错误次数过多"
MINUTE_LIMIT = "不到一分钟前已发送验证码"


@pytest.fixture(scope="module")
def redis_app(app):
    """The same database and files as ``app``, with the counters in Redis."""
    if not REDIS_URL:
        pytest.skip("set TALENTADMIN_TEST_REDIS_URL to test the Redis counters")
    return create_app({
        "TESTING": True, "INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        **{key: app.config[key] for key in ("SECRET_KEY", "SMS_BACKEND", "SMS_ENABLED",
                                            "CAPTCHA_TEST_MODE", "SERVER_NAME",
                                            "PASSWORD_HASH_METHOD")},
        "REDIS_URL": REDIS_URL,
    })


@pytest.fixture(params=["database", "redis"])
def target(request, app):
    """The app whose counters are under test."""
    if request.param == "database":
        yield app
        return
    target = request.getfixturevalue("redis_app")
    yield target
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # the test's own Redis database


def poster(client, url: str, data: dict):
    """A call that POSTs ``data`` and returns ``(status, page)``."""

    def post():
        response = client.post(url, data=data)
        return response.status_code, response.get_data(as_text=True)

    return post


@pytest.fixture
def spy(monkeypatch):
    """``spy(module, name)`` counts the calls of ``module.name`` from every thread."""

    def install(module, name: str) -> list:
        calls: list = []
        lock = threading.Lock()
        real = getattr(module, name)

        def counted(*args, **kwargs):
            with lock:
                calls.append(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
        return calls

    return install


def _password_failures(app, action: str) -> tuple[int, int]:
    """``(checked, refused as locked)`` failed password logins in the audit log."""
    with app.app_context():
        details = [e.detail for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action,
                                     AuditEvent.outcome == "failure")).scalars()]
    assert all(d["method"] == "password" for d in details)
    locked = sum(d.get("reason") == "locked" for d in details)
    return len(details) - locked, locked


# --- passwords ---------------------------------------------------------------------------


def test_parallel_wrong_passwords_check_exactly_five(target, make_enterprise, spy):
    make_enterprise(MOBILE)
    checks = spy(account_models, "check_password_hash")
    calls = []
    for n in range(N):
        client = target.test_client()
        html = client.get("/login?mode=password").get_data(as_text=True)
        calls.append(poster(client, "/login?mode=password", {
            "csrf_token": csrf_in(html), "pw-mobile": MOBILE, "pw-password": f"wrong-{n:04d}",
            "pw-submit": "1"}))
    results = in_parallel(calls)

    assert [status for status, _ in results] == [400] * N
    assert len(checks) == 5
    assert _password_failures(target, "enterprise.login") == (5, N - 5)
    assert sum(WRONG_PASSWORD in page for _, page in results) == 4  # the 5th says: locked
    assert sum(LOCKED in page for _, page in results) == N - 4

    right = Portal(target.test_client(), target, None).login_password(MOBILE, PASSWORD)
    assert right.status_code == 400 and LOCKED in right.get_data(as_text=True)
    assert len(checks) == 5  # refused without a look at the password


def test_parallel_wrong_staff_passwords_check_exactly_five(target, make_staff, spy):
    make_staff("reviewer", "initial_reviewer")
    checks = spy(account_models, "check_password_hash")
    calls = []
    for n in range(N):
        client = target.test_client()
        html = client.get("/admin/login").get_data(as_text=True)
        calls.append(poster(client, "/admin/login", {
            "csrf_token": csrf_in(html), "username": "reviewer", "password": f"wrong-{n:04d}"}))
    results = in_parallel(calls)

    assert [status for status, _ in results] == [400] * N
    assert len(checks) == 5
    assert _password_failures(target, "staff.login") == (5, N - 5)
    client = target.test_client()
    html = client.get("/admin/login").get_data(as_text=True)
    right = client.post("/admin/login", data={
        "csrf_token": csrf_in(html), "username": "reviewer", "password": PASSWORD})
    assert right.status_code == 400 and LOCKED in right.get_data(as_text=True)
    assert len(checks) == 5


# --- SMS codes ---------------------------------------------------------------------------


def test_parallel_wrong_codes_compare_at_most_five(target, outbox, spy):
    portal = Portal(target.test_client(), target, outbox)
    assert portal.request_code(MOBILE).status_code == 200
    right = outbox.last_code(MOBILE)
    wrong = "000000" if right != "000000" else "111111"
    compares = spy(sms, "_hash")
    calls = []
    for _ in range(N):
        client = target.test_client()
        html = client.get("/login").get_data(as_text=True)
        calls.append(poster(client, "/login", {
            "csrf_token": csrf_in(html), "sms-mobile": MOBILE, "sms-sms_code": wrong,
            "sms-submit": "1"}))
    results = in_parallel(calls)

    assert [status for status, _ in results] == [400] * N
    assert len(compares) == sms.MAX_ATTEMPTS
    with target.app_context():
        assert db.session.execute(select(SmsCode.attempts)).scalar_one() == sms.MAX_ATTEMPTS
    # The try that kills the code says so, and so does every later one.
    assert sum(WRONG_CODE in page for _, page in results) == sms.MAX_ATTEMPTS - 1
    assert sum(DEAD_CODE in page for _, page in results) == N - sms.MAX_ATTEMPTS + 1

    response = portal.submit_code(MOBILE, right)
    assert response.status_code == 400 and DEAD_CODE in response.get_data(as_text=True)
    assert len(compares) == sms.MAX_ATTEMPTS


# --- SMS sends ---------------------------------------------------------------------------


def _send_calls(target, mobiles) -> list:
    calls = []
    for mobile in mobiles:
        client = target.test_client()
        html = client.get("/login").get_data(as_text=True)
        challenge_id, answer = captcha_in(html, target)
        calls.append(poster(client, "/login", {
            "csrf_token": csrf_in(html), "sms-mobile": mobile, "sms-captcha_id": challenge_id,
            "sms-captcha": answer, "sms-send_code": "1"}))
    return calls


def test_parallel_sends_to_one_number_send_one(target, outbox):
    results = in_parallel(_send_calls(target, [MOBILE] * N))
    assert sorted(status for status, _ in results) == [200] + [400] * (N - 1)
    assert sum(MINUTE_LIMIT in page for _, page in results) == N - 1
    assert [m["to"] for m in outbox.messages()] == [MOBILE]


def test_parallel_sends_from_one_address_hold_the_address_limit(target, outbox, monkeypatch):
    monkeypatch.setattr(sms, "PER_IP_LIMIT", ("ip", 3600, 3))
    mobiles = [f"139{n:08d}" for n in range(N)]
    results = in_parallel(_send_calls(target, mobiles))
    assert sorted(status for status, _ in results) == [200] * 3 + [400] * (N - 3)
    sent = [m["to"] for m in outbox.messages()]
    assert len(sent) == 3

    # A refused send gave its number's counts back: that number may have a code at once.
    monkeypatch.setattr(sms, "PER_IP_LIMIT", ("ip", 3600, 30))
    refused = next(mobile for mobile in mobiles if mobile not in sent)
    (result,) = in_parallel(_send_calls(target, [refused]))
    assert result[0] == 200 and outbox.messages()[-1]["to"] == refused
