"""Production surface, in process: ``/healthz``, the JSON request log, the 503 page when the
database is gone, and the login limits failing closed when Redis is (proof 4 of the
production issue). The live gunicorn proofs are in ``test_prod_gunicorn.py``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re

import pytest
from flask_babel import gettext
from sqlalchemy import func, select, text

from talentadmin import create_app
from talentadmin.accounts import models as account_models
from talentadmin.core.models import SmsCode
from talentadmin.extensions import db

from ..conftest import PASSWORD, Portal, csrf_in, staff_client
from .live_server import config_of, terminate_backends

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1

DB_LOST = "The database cannot be reached just now. Nothing was saved by this request. " \
          "Try again in a minute."
LIMITS_LOST = ("The service that counts login attempts cannot be reached, so no code was sent "
               "and no password was checked. Try again in a few minutes; pages that need no "
               "login keep working.")
SESSIONS_LOST = "Sessions cannot be read or saved just now. Try again in a few minutes."


def shown(app, message: str) -> str:
    """``message`` as the page shows it in the default locale (the catalog's translation)."""
    with app.test_request_context():
        return gettext(message)


@pytest.fixture
def request_log():
    """The JSON lines of the request log written meanwhile, parsed, with their levels."""
    lines: list[tuple[int, dict]] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append((record.levelno, json.loads(record.getMessage())))

    handler = Collect()
    logger = logging.getLogger("talentadmin.requests")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def other_app(app, **overrides):
    """Another app on ``app``'s database, files and secrets, as a server would build it."""
    return create_app({**config_of(app), "SERVER_NAME": "localhost",
                       "PROPAGATE_EXCEPTIONS": False, **overrides})


# --- /healthz ----------------------------------------------------------------------------


def test_healthz_says_ok_per_check_and_nothing_else(client, request_log):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {
        "database": "ok", "migrations": "ok", "storage": "ok"}}
    assert "Set-Cookie" not in response.headers  # no session opened for a load balancer
    assert response.headers["Cache-Control"] == "no-store"
    ((level, line),) = request_log
    assert level == logging.INFO and line["route"] == "/healthz" and line["status"] == 200


def test_healthz_is_never_rate_limited(client):
    statuses = {client.get("/healthz").status_code for _ in range(60)}
    assert statuses == {200}


def test_healthz_503_when_the_schema_is_behind_the_migrations(client, app):
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'an_old_one'"))
        db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "checks": {
        "database": "ok", "migrations": "behind", "storage": "ok"}}


def test_healthz_503_when_storage_is_not_writable(client, app, monkeypatch, tmp_path,
                                                  request_log):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(blocker / "uploads"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {
        "database": "ok", "migrations": "ok", "storage": "not writable"}
    assert str(tmp_path) not in response.get_data(as_text=True)  # no path told
    ((level, line),) = request_log
    assert (level, line["status"]) == (logging.INFO, 503)  # a state, not an error


def test_database_unreachable_healthz_and_pages_answer_503(app, tmp_path, request_log):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    lost = other_app(app, DATABASE_URL=f"sqlite:///{blocker / 'gone.db'}")
    client = lost.test_client()

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"status": "unavailable", "checks": {
        "database": "unreachable", "migrations": "unknown", "storage": "ok"}}
    assert "gone.db" not in health.get_data(as_text=True)

    for url in ("/", "/login", "/talent/declare", "/admin/"):
        page = client.get(url)
        body = page.get_data(as_text=True)
        assert page.status_code == 503, url
        assert shown(app, DB_LOST) in body and "Traceback" not in body
        assert page.headers["Retry-After"] == "30"
        assert "Set-Cookie" not in page.headers
    levels = [level for level, line in request_log if line["status"] == 503]
    assert levels == [logging.INFO] + [logging.ERROR] * 4  # pages failing are errors


# --- gunicorn.conf.py -------------------------------------------------------------------


def gunicorn_settings(monkeypatch, **environ) -> dict:
    import runpy
    from pathlib import Path

    for name in ("TALENTADMIN_TRUST_PROXY", "TALENTADMIN_PROXY_ADDRESSES", "GUNICORN_WORKERS",
                 "GUNICORN_THREADS", "GUNICORN_WORKER_CLASS", "GUNICORN_CONTROL_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))


def test_gunicorn_settings_follow_the_cores_and_the_proxy_setting(monkeypatch):
    import os

    cores = len(os.sched_getaffinity(0))
    default = gunicorn_settings(monkeypatch)
    assert (default["worker_class"], default["workers"], default["threads"]) == (
        "gthread", cores, 4)
    assert default["forwarded_allow_ips"] == ""  # no proxy: nobody may set X-Forwarded-*
    assert default["control_socket_disable"] is True
    assert default["timeout"] >= 60 and default["graceful_timeout"] >= 10
    for query_field in ("%(r)s", "%(q)s", "%({raw_uri}e)s", "%(f)s"):
        assert query_field not in default["access_log_format"]  # path only; no referrer
    proxied = gunicorn_settings(monkeypatch, TALENTADMIN_TRUST_PROXY="1")
    assert proxied["forwarded_allow_ips"] == "127.0.0.1,::1"
    elsewhere = gunicorn_settings(monkeypatch, TALENTADMIN_TRUST_PROXY="1",
                                  TALENTADMIN_PROXY_ADDRESSES="10.0.0.5")
    assert elsewhere["forwarded_allow_ips"] == "10.0.0.5"
    sync = gunicorn_settings(monkeypatch, GUNICORN_WORKER_CLASS="sync", GUNICORN_WORKERS="3")
    assert (sync["worker_class"], sync["workers"], sync["threads"]) == ("sync", 3, 1)


# --- the request log ---------------------------------------------------------------------


def test_request_log_has_route_status_user_and_no_personal_data(
        app, client, portal, outbox, request_log):
    mobile = "13912345678"
    portal.request_code(mobile).get_data()  # a line is written once the body is sent
    code = outbox.last_code(mobile)
    logged_in = portal.submit_code(mobile, code)
    assert logged_in.status_code == 302 and logged_in.get_data()
    with app.app_context():
        user_id = db.session.execute(
            select(account_models.EnterpriseUser.id)
            .where(account_models.EnterpriseUser.mobile == mobile)).scalar_one()
    id_number = "11010519491231002X"
    client.get(f"/talent/declarations/987654?search={id_number}&mobile={mobile}").get_data()
    client.get(f"/no-such-page/{mobile}").get_data()

    lines = [line for _, line in request_log]
    written = "\n".join(json.dumps(line) for line in lines)
    for secret in (mobile, mobile[-4:] + '"', code, id_number, PASSWORD, "search="):
        assert secret not in written, secret
    assert set(lines[-1]) == {"ts", "request_id", "method", "endpoint", "route", "status",
                              "duration_ms", "user_kind", "user_id"}
    login_posts = [line for line in lines if line["method"] == "POST"]
    assert [line["status"] for line in login_posts] == [200, 302]  # code sent, logged in
    assert all(line["route"] == "/login" for line in login_posts)
    detail, missing = lines[-2], lines[-1]
    assert detail["endpoint"] == "declarations.detail"
    assert detail["route"] == "/talent/declarations/<int:declaration_id>"
    assert (detail["status"], detail["user_kind"], detail["user_id"]) == (
        404, "enterprise", user_id)
    assert (missing["route"], missing["endpoint"], missing["status"]) == (None, None, 404)
    assert all(len(line["request_id"]) == 32 for line in lines)
    assert all(isinstance(line["duration_ms"], float) for line in lines)


def test_request_id_is_taken_from_the_balancer_or_made(client, request_log):
    given = client.get("/healthz", headers={"X-Request-ID": "lb-4f2a9c1e-77"})
    assert given.headers["X-Request-ID"] == "lb-4f2a9c1e-77" and given.get_data()
    for bad in ("short", "x" * 65, "a b c d e f g h", "abc\x01defgh", "é" * 10):
        made = client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"]), bad
        assert made.get_data()
    ids = [line["request_id"] for _, line in request_log]
    assert ids[0] == "lb-4f2a9c1e-77" and len(set(ids)) == len(ids)


def test_staff_requests_are_logged_with_the_staff_id(app, make_staff, request_log):
    browser = staff_client(app, make_staff, "reviewer7", "initial_reviewer")
    browser.get("/admin/declaration_initial/?search=13900001111").get_data()
    line = request_log[-1][1]
    assert line["user_kind"] == "staff" and isinstance(line["user_id"], int)
    assert line["route"] == "/admin/declaration_initial/" and line["status"] == 200
    assert "13900001111" not in json.dumps(line)


# --- the database cut in the middle of a request (PostgreSQL) -----------------------------


def _on_postgresql(app) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("terminating database backends needs PostgreSQL "
                    "(set TALENTADMIN_TEST_DATABASE_URL)")


@pytest.mark.real_commits  # a second app, its own connections, one of them cut
def test_connection_cut_mid_request_is_a_503_page_and_the_next_request_recovers(app):
    _on_postgresql(app)
    server = other_app(app)

    @server.route("/test/cut-my-connection")
    def cut():
        db.session.execute(text("SELECT 1"))
        db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        db.session.execute(text("SELECT 1"))
        return "not reached"

    client = server.test_client()
    assert client.get("/healthz").status_code == 200
    cut_page = client.get("/test/cut-my-connection")
    body = cut_page.get_data(as_text=True)
    assert cut_page.status_code == 503
    assert shown(app, DB_LOST) in body and "Traceback" not in body and "psycopg" not in body
    assert client.get("/healthz").status_code == 200  # by itself: a new connection
    assert client.get("/login").status_code == 200


@pytest.mark.real_commits  # a second app
def test_a_failed_flush_left_unrolled_is_still_a_500_not_a_503(app):
    """Only a lost connection is a 503: a transaction a bug left broken (a flush failed and
    nobody rolled back) is the 500 page, logged as an error."""
    from sqlalchemy.exc import IntegrityError

    server = other_app(app)

    @server.route("/test/broken-transaction")
    def broken():
        for _ in range(2):
            db.session.add(account_models.EnterpriseUser(mobile="13800000000"))
            with contextlib.suppress(IntegrityError):
                db.session.flush()
        return "not reached"

    response = server.test_client().get("/test/broken-transaction")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and "Traceback" not in body
    assert shown(app, DB_LOST) not in body


@pytest.mark.real_commits
def test_pooled_connections_cut_between_requests_are_replaced_unseen(app):
    """pool_pre_ping: a connection the database ended while it sat in the pool is tested
    at checkout and replaced; the user sees nothing."""
    _on_postgresql(app)
    server = other_app(app)
    client = server.test_client()
    assert client.get("/healthz").status_code == 200
    killed = terminate_backends(app)
    assert killed >= 1
    assert [client.get(url).status_code for url in ("/healthz", "/", "/login")] == [200] * 3


# --- Redis unreachable (counters; sessions) ---------------------------------------------


@pytest.fixture
def counters_lost(app):
    """The app with its counters in an unreachable Redis, its sessions in the database."""
    return other_app(app, REDIS_URL=UNREACHABLE_REDIS, SESSION_TYPE="sqlalchemy")


def _count(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.real_commits
def test_redis_gone_sms_login_fails_closed_with_a_clear_message(app, counters_lost, outbox):
    portal = Portal(counters_lost.test_client(), counters_lost, outbox)
    response = portal.request_code("13800138000")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert shown(app, LIMITS_LOST) in body and "Traceback" not in body
    assert outbox.messages() == [] and _count(app, SmsCode) == 0  # nothing sent, nothing kept


@pytest.mark.real_commits
def test_redis_gone_password_logins_are_not_checked(app, counters_lost, make_enterprise,
                                                    make_staff, monkeypatch):
    make_enterprise("13800138000")
    make_staff("reviewer", "initial_reviewer")
    checked: list = []
    real = account_models.check_password_hash
    monkeypatch.setattr(account_models, "check_password_hash",
                        lambda *a: checked.append(a) or real(*a))
    portal = Portal(counters_lost.test_client(), counters_lost, None)
    for password in (PASSWORD, "wrong-1", "wrong-2"):
        response = portal.login_password("13800138000", password)
        assert response.status_code == 503
        assert shown(app, LIMITS_LOST) in response.get_data(as_text=True)
    staff = counters_lost.test_client()
    html = staff.get("/admin/login").get_data(as_text=True)
    response = staff.post("/admin/login", data={
        "csrf_token": csrf_in(html), "username": "reviewer", "password": PASSWORD})
    assert response.status_code == 503
    assert checked == []  # no password compared without being counted


@pytest.mark.real_commits
def test_redis_gone_pages_that_need_no_counter_keep_working(
        app, counters_lost, make_staff, portal, permitted, open_round):
    public = counters_lost.test_client()
    for url in ("/", "/services", "/support", "/login", "/login?mode=password", "/healthz"):
        assert public.get(url).status_code in (200, 503), url
    assert [public.get(url).status_code for url in ("/", "/services", "/support", "/login")] \
        == [200] * 4
    assert public.get("/healthz").get_json()["checks"] == {
        "database": "ok", "migrations": "ok", "storage": "ok", "redis": "unreachable"}

    permitted("13800138000")  # logged in by ``portal`` (database counters)
    enterprise = counters_lost.test_client()
    enterprise.set_cookie("talentadmin_session",
                          portal.client.get_cookie("talentadmin_session").value)
    for url in ("/talent/declare", "/talent/declarations/new", "/account", "/notices"):
        assert enterprise.get(url).status_code == 200, url
    assert "13800138000"[-4:] in enterprise.get("/account").get_data(as_text=True)

    staff = staff_client(app, make_staff, "reviewer", "initial_reviewer")
    reviewer = counters_lost.test_client()
    reviewer.set_cookie("talentadmin_session", staff.get_cookie("talentadmin_session").value)
    assert reviewer.get("/admin/declaration_initial/").status_code == 200


@pytest.mark.real_commits
def test_redis_gone_with_sessions_in_redis_is_a_503_page_never_a_500(app):
    lost = other_app(app, REDIS_URL=UNREACHABLE_REDIS)  # sessions and counters in Redis
    client = lost.test_client()
    page = client.get("/")  # the page's forms need a session to keep their token
    body = page.get_data(as_text=True)
    assert page.status_code == 503
    assert shown(app, SESSIONS_LOST) in body and "Traceback" not in body
    client.set_cookie("talentadmin_session", "A" * 43)  # a returning user's session
    assert client.get("/talent/declare").status_code == 503
    balancer = lost.test_client()  # sends no cookie
    health = balancer.get("/healthz")
    assert health.status_code == 503 and health.get_json()["checks"]["redis"] == "unreachable"
    assert balancer.get("/static/portal.css").status_code == 200
