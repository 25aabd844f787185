"""The app under gunicorn (``gunicorn.conf.py``, two workers) on loopback:

* limits across processes: two workers sharing Redis hold the SMS and lockout limits to the
  same numbers as one process (proof 5; needs ``TALENTADMIN_TEST_REDIS_URL``);
* the database cut while requests run: every answer is a page or the translated 503 page,
  never a 500 or a traceback, and the service is back by itself within seconds (proof 3;
  needs PostgreSQL: ``TALENTADMIN_TEST_DATABASE_URL``);
* a graceful restart (``kill -HUP``) while requests run loses none of them.

The server is ``gunicorn -c gunicorn.conf.py 'talentadmin:create_app({...})'`` with the test
app's settings; each request is a real HTTP request from a thread with its own cookies.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import requests
from flask_babel import gettext
from sqlalchemy import select

from talentadmin.core.models import AuditEvent
from talentadmin.extensions import db

from ..conftest import PASSWORD
from .live_server import config_of, in_parallel, terminate_backends

pytestmark = pytest.mark.real_commits  # other processes read and write the database

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TALENTADMIN_TEST_REDIS_URL")
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CAPTCHA_ID = re.compile(r'name="sms-captcha_id"[^>]*value="([^"]+)"')
ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.1" (?P<status>\d+) .* '
                    r'pid=<?(?P<pid>\d+)')
N = 12

LOCKED = "已锁定"
WRONG_PASSWORD = "手机号或密码错误"
MINUTE_LIMIT = "不到一分钟前已发送验证码"
TOO_MANY = "获取验证码次数过多"
DB_LOST = ("The database cannot be reached just now. Nothing was saved by this request. "
           "Try again in a minute.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, base: str, process: subprocess.Popen, log: Path) -> None:
        self.base, self.process, self.log = base, process, log

    def access(self) -> list[dict]:
        """The access log's lines so far, parsed."""
        return [m.groupdict() for m in map(ACCESS.search, self.log.read_text().splitlines())
                if m]


@contextmanager
def gunicorn(app, tmp_path: Path, worker_class: str = "sync", **settings):
    """``with gunicorn(app, tmp_path) as server:`` two workers serving ``app``'s database,
    files and secrets (plus ``settings``) on a free loopback port, stopped at the end."""
    config = {**config_of(app), "PROPAGATE_EXCEPTIONS": False, **settings}
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GUNICORN_WORKERS": "2",
           "GUNICORN_WORKER_CLASS": worker_class,
           "GUNICORN_THREADS": "4", "TALENTADMIN_TRUST_PROXY": "0"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
             "-b", f"127.0.0.1:{port}", f"talentadmin:create_app({config!r})"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:  # poll until both workers have booted and one answers
            assert process.poll() is None, log.read_text()[-3000:]
            booted = log.read_text().count("Booting worker")
            with suppress(requests.ConnectionError):
                if booted >= 2 and requests.get(server.base + "/healthz",
                                                timeout=10).status_code == 200:
                    break
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + log.read_text()
            time.sleep(0.1)  # readiness poll of the server under test, with a deadline
        yield server
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def token(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def poster(browser: requests.Session, url: str, data: dict):
    def post():
        response = browser.post(url, data=data, allow_redirects=False, timeout=60)
        return response.status_code, response.text

    return post


@pytest.fixture
def redis_db():
    if not REDIS_URL:
        pytest.skip("set TALENTADMIN_TEST_REDIS_URL to test the limits across workers")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()  # the test's own Redis database
    yield REDIS_URL
    client.flushdb()


# --- limits across processes (Redis) ------------------------------------------------------


def test_two_workers_check_exactly_five_wrong_passwords(app, tmp_path, redis_db,
                                                        make_enterprise):
    make_enterprise("13800138000")
    with gunicorn(app, tmp_path, REDIS_URL=redis_db) as server:
        calls = []
        for n in range(N):
            browser = requests.Session()
            html = browser.get(server.base + "/login?mode=password", timeout=60).text
            calls.append(poster(browser, server.base + "/login?mode=password", {
                "csrf_token": token(html), "pw-mobile": "13800138000",
                "pw-password": f"wrong-{n:04d}", "pw-submit": "1"}))
        results = in_parallel(calls)
        posts = [line for line in server.access() if line["method"] == "POST"]

        right = requests.Session()
        html = right.get(server.base + "/login?mode=password", timeout=60).text
        last = right.post(server.base + "/login?mode=password", allow_redirects=False,
                          timeout=60, data={"csrf_token": token(html), "pw-mobile": "13800138000",
                                            "pw-password": PASSWORD, "pw-submit": "1"})

    assert [status for status, _ in results] == [400] * N
    assert sum(WRONG_PASSWORD in page for _, page in results) == 4  # the 5th says: locked
    assert sum(LOCKED in page for _, page in results) == N - 4
    assert len({line["pid"] for line in posts}) == 2, posts  # both workers answered
    assert last.status_code == 400 and LOCKED in last.text
    with app.app_context():
        details = [e.detail for e in db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "enterprise.login",
            AuditEvent.outcome == "failure")).scalars()]
    checked = [d for d in details if d.get("reason") != "locked"]
    assert (len(checked), len(details)) == (5, N + 1)  # 5 compared; the rest refused unread


def _send_code(server: Server, mobile: str):
    """A browser on the login page of its own, ready to ask a code for ``mobile``."""
    browser = requests.Session()
    html = browser.get(server.base + "/login", timeout=60).text
    return poster(browser, server.base + "/login", {
        "csrf_token": token(html), "sms-mobile": mobile,
        "sms-captcha_id": CAPTCHA_ID.search(html).group(1), "sms-captcha": "PASSED",
        "sms-send_code": "1"})


def test_two_workers_send_one_code_a_minute_to_a_number(app, tmp_path, redis_db, outbox):
    with gunicorn(app, tmp_path, REDIS_URL=redis_db, CAPTCHA_TEST_MODE=True) as server:
        results = in_parallel([_send_code(server, "13800138000") for _ in range(N)])
        posts = [line for line in server.access() if line["method"] == "POST"]
    assert len(outbox.messages()) == 1
    assert sorted(status for status, _ in results) == [200] + [400] * (N - 1)
    assert sum(MINUTE_LIMIT in page for _, page in results) == N - 1
    assert len({line["pid"] for line in posts}) == 2, posts


def test_two_workers_hold_the_hourly_limit_of_one_address(app, tmp_path, redis_db, outbox):
    from talentadmin.core.sms import PER_IP_LIMIT

    limit = PER_IP_LIMIT[2]
    mobiles = [f"1380013{n:04d}" for n in range(limit + 6)]
    with gunicorn(app, tmp_path, REDIS_URL=redis_db, CAPTCHA_TEST_MODE=True) as server:
        results = in_parallel([_send_code(server, mobile) for mobile in mobiles])
    assert len(outbox.messages()) == limit
    assert sum(TOO_MANY in page for _, page in results) == 6
    assert {message["to"] for message in outbox.messages()} < set(mobiles)


# --- the database cut while requests run (PostgreSQL) -------------------------------------


def _on_postgresql(app) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("terminating database backends needs PostgreSQL "
                    "(set TALENTADMIN_TEST_DATABASE_URL)")


def test_database_cut_while_requests_run_is_503_or_a_page_and_recovers(
        app, tmp_path, make_enterprise):
    _on_postgresql(app)
    make_enterprise("13800138000")
    answers: list[tuple[int, str]] = []
    stop = threading.Event()

    with gunicorn(app, tmp_path, worker_class="gthread") as server:
        browsers = []
        for _ in range(4):
            browser = requests.Session()
            html = browser.get(server.base + "/login?mode=password", timeout=60).text
            logged_in = browser.post(server.base + "/login?mode=password", timeout=60,
                                     allow_redirects=False, data={
                                         "csrf_token": token(html), "pw-mobile": "13800138000",
                                         "pw-password": PASSWORD, "pw-submit": "1"})
            assert logged_in.status_code == 302
            browsers.append(browser)

        def browse(browser):
            for n in range(400):  # bounded: stops at the event or after 400 requests
                if stop.is_set():
                    return
                url = ("/account", "/notices", "/talent/declare", "/healthz")[n % 4]
                response = browser.get(server.base + url, timeout=60, allow_redirects=False)
                answers.append((response.status_code, response.text))

        threads = [threading.Thread(target=browse, args=(b,)) for b in browsers]
        for thread in threads:
            thread.start()
        killed = []
        for _ in range(3):
            seen = len(answers)
            deadline = time.monotonic() + 30
            while len(answers) < seen + 20 and time.monotonic() < deadline:
                time.sleep(0.01)  # poll: let requests run between two cuts
            killed.append(terminate_backends(app))
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        cut_at = time.monotonic()

        # Back by itself: the first good answer within seconds, then only good answers.
        probe = browsers[0]
        while probe.get(server.base + "/account", timeout=60).status_code != 200:
            assert time.monotonic() - cut_at < 10, "not back within 10 seconds"
        back_after = time.monotonic() - cut_at
        again = [probe.get(server.base + url, timeout=60).status_code
                 for url in ("/account", "/notices", "/talent/declare", "/healthz") * 5]

    statuses = [status for status, _ in answers]
    assert sum(killed) >= 3, killed  # the server's connections were there to cut
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    with app.test_request_context():
        lost = gettext(DB_LOST)
    for status, page in answers:
        assert "Traceback" not in page and "psycopg" not in page
        if status == 503 and "checks" not in page:  # a page, not /healthz's JSON
            assert lost in page
    assert again == [200] * 20
    assert back_after < 10
    print(f"database cut: {statuses.count(503)} of {len(statuses)} answers were 503; "
          f"back after {back_after:.2f} s")


def test_graceful_restart_loses_no_request(app, tmp_path):
    with gunicorn(app, tmp_path, worker_class="gthread") as server:
        answers: list[int | str] = []
        stop = threading.Event()

        def browse():
            # A connection per request: a browser retries a request its idle keep-alive
            # connection lost to a closing worker; here every request must be answered.
            for _ in range(2000):  # bounded
                if stop.is_set():
                    return
                try:
                    answers.append(requests.get(
                        server.base + "/login?mode=password&mobile=13800138000",
                        headers={"Connection": "close"}, timeout=60).status_code)
                except requests.RequestException as error:
                    answers.append(type(error).__name__)

        threads = [threading.Thread(target=browse) for _ in range(3)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(answers) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)  # poll: requests are running
        os.kill(server.process.pid, signal.SIGHUP)  # new workers, old ones finish
        booted = 0
        while booted < 4 and time.monotonic() < deadline + 60:  # 2 at start, 2 after HUP
            booted = server.log.read_text().count("Booting worker")
            time.sleep(0.05)  # poll the server's log, with a deadline
        seen = len(answers)
        while len(answers) < seen + 30 and time.monotonic() < deadline + 90:
            time.sleep(0.01)  # poll: requests answered by the new workers
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert booted >= 4
    assert len(answers) >= 60 and set(answers) == {200}
    logged = server.log.read_text()
    assert logged.count('"GET /login HTTP/1.1" 200') >= 60  # the access log: no query string
    assert logged.count('"route": "/login", "status": 200') >= 60  # the app's JSON lines
    assert "13800138000" not in logged and "mode=password" not in logged
