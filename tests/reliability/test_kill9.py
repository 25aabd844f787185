"""kill -9 in the middle: a live gunicorn (the repository's ``gunicorn.conf.py``, two
workers) is killed with SIGKILL while a request is provably inside its transaction —
during a 10 MB licence upload (the largest a file may be; a request is at most 12 MB), and
during a bulk decision of 1,000 declarations. After a restart no row points at a missing
file, no declaration is half-decided (each row moved with its timeline row, audit event
and notice, or not at all), and ``flask storage-sweep`` lists the orphan file.

"In the middle" without sleeping: the test holds a PostgreSQL table lock (from its own
connection) on the table the request writes next, and waits until PostgreSQL shows the
request's backend waiting for that lock — after the upload's file was renamed into place,
or after the 1,000 declarations were updated — then kills the whole server. PostgreSQL
only: SQLite has no way to hold a request there (its writers give up after the busy
timeout instead of waiting). The upload killed while its body is still arriving runs on
both.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from talentadmin.certification.models import Certification
from talentadmin.core.models import Attachment, AuditEvent, Notice, StatusChange
from talentadmin.core.sweep import sweep
from talentadmin.core.timeutil import utcnow
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import PASSWORD, TEST_DATABASE_URL
from .live_server import config_of

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
DEADLINE = 60  # seconds any wait may take before the test fails

pytestmark = pytest.mark.real_commits  # a server of its own reads and writes the database


def postgres_only(test):
    return pytest.mark.postgres(pytest.mark.skipif(
        not (TEST_DATABASE_URL or "").startswith("postgresql"),
        reason="holding a request inside its transaction needs PostgreSQL")(test))


def poll(check, what: str):
    """``check()``'s first true value, asked until the deadline."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.02)  # between two looks; the wait itself ends on the condition
    raise AssertionError(f"gave up waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(app):
    """A gunicorn of ``app``'s settings (its database, files and data key), two workers,
    in a process group of its own; yields ``(base_url, process)``."""
    port = free_port()
    settings = config_of(app)
    command = [str(GUNICORN)]
    if (ROOT / "gunicorn.conf.py").exists():
        command += ["-c", str(ROOT / "gunicorn.conf.py")]
    command.append(f"talentadmin:create_app({settings!r})")
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2",
           "GUNICORN_ACCESS_LOG": os.devnull}
    process = subprocess.Popen(command + ["--bind", f"127.0.0.1:{port}", "--workers", "2"],
                               cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        poll(lambda: answering(base) or process.poll() is not None, "gunicorn to start")
        assert process.poll() is None, "gunicorn did not start"
        yield base, process
    finally:
        kill9(process)


def answering(base: str) -> bool:
    import requests

    try:
        return requests.get(base + "/admin/login", timeout=DEADLINE).status_code == 200
    except requests.ConnectionError:
        return False


def kill9(process) -> None:
    """SIGKILL to the master and its workers at once."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def enterprise_session(base: str, mobile: str):
    import requests

    browser = requests.Session()
    html = browser.get(base + "/login?mode=password").text
    response = browser.post(base + "/login?mode=password", allow_redirects=False, data={
        "csrf_token": csrf(html), "pw-mobile": mobile, "pw-password": PASSWORD,
        "pw-submit": "1"})
    assert response.status_code == 302, response.text[:500]
    return browser


def staff_session(base: str, username: str):
    import requests

    browser = requests.Session()
    html = browser.get(base + "/admin/login").text
    response = browser.post(base + "/admin/login", allow_redirects=False, data={
        "csrf_token": csrf(html), "username": username, "password": PASSWORD})
    assert response.status_code == 302, response.text[:500]
    return browser


@pytest.fixture
def locker():
    """A connection of the test's own, to hold a table lock with; closed at the end."""
    import psycopg

    url = make_url(TEST_DATABASE_URL).set(drivername="postgresql")
    connection = psycopg.connect(url.render_as_string(hide_password=False))
    yield connection
    connection.rollback()
    connection.close()


def waiting_backend(locker, statement: str):
    """The pid of a backend waiting for a lock while running ``statement…``, if any."""
    locker.execute("SELECT pg_stat_clear_snapshot()")  # a fresh look within the transaction
    row = locker.execute(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
        (statement + "%",)).fetchone()
    return row and row[0]


def gone(locker, pid: int) -> bool:
    """Whether the backend ``pid`` has ended (its transaction rolled back)."""
    locker.commit()  # a fresh look at pg_stat_activity
    return locker.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                          (pid,)).fetchone()[0] == 0


def waiting(locker, statement: str, outcome: dict):
    """``waiting_backend``, failing at once if the request ended instead."""
    if outcome:
        response = outcome.get("response")
        raise AssertionError(f"the request ended: {outcome.get('error') or response.status_code}"
                             f" {response.text[:300] if response is not None else ''}")
    return waiting_backend(locker, statement)


def in_background(call):
    """Run ``call`` in a thread (the request the server will die under); its outcome."""
    outcome: dict = {}

    def run():
        try:
            outcome["response"] = call()
        except Exception as error:  # the connection reset by the kill
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def big_png() -> bytes:
    """A valid PNG just under the 10 MB limit (noise, stored uncompressed)."""
    from PIL import Image

    side = 1840
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0)
    data = buffer.getvalue()
    assert 9.5 * 2**20 < len(data) < 10 * 2**20
    return data


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)
                                  ).scalar_one()


def no_row_without_its_file(app) -> None:
    with app.app_context():
        report = sweep()
        db.session.rollback()
    assert report.missing == []


# --- a 10 MB upload ---------------------------------------------------------------------


@postgres_only
def test_kill9_during_an_upload_leaves_an_orphan_file_and_no_row(app, make_enterprise,
                                                                 locker, runner):
    make_enterprise("13800138000")
    data = big_png()
    sha = hashlib.sha256(data).hexdigest()
    stored = Path(app.config["UPLOAD_FOLDER"]) / sha[:2] / sha
    with gunicorn(app) as (base, server):
        browser = enterprise_session(base, "13800138000")
        html = browser.get(base + "/certification/upload").text
        locker.execute("LOCK TABLE attachment IN SHARE ROW EXCLUSIVE MODE")
        thread, outcome = in_background(lambda: browser.post(
            base + "/certification/upload", timeout=DEADLINE,
            data={"csrf_token": csrf(html)}, files={"licence": ("营业执照.png", data)}))
        pid = poll(lambda: waiting(locker, "INSERT INTO attachment", outcome),
                   "the upload to wait inside its transaction")
        assert stored.is_file() and stored.stat().st_size == len(data)  # renamed into place
        kill9(server)
    thread.join(DEADLINE)
    assert "error" in outcome, outcome  # the client saw the connection die
    locker.rollback()  # the lock goes; the killed request's transaction is rolled back
    poll(lambda: gone(locker, pid), "the killed request's database session to end")

    with gunicorn(app) as (base, _server):
        assert count(app, Attachment) == 0 and count(app, Certification) == 0
        no_row_without_its_file(app)
        result = runner.invoke(args=["storage-sweep"])
        assert result.exit_code == 0, result.output
        assert f"orphan file: {sha[:2]}/{sha} ({len(data)} bytes" in result.output
        assert "rows without their file: 0" in result.output
        assert not [p for p in stored.parent.iterdir() if p.name.startswith(".upload-")]
        # the restarted server serves the account as before
        page = enterprise_session(base, "13800138000").get(base + "/certification/upload")
        assert page.status_code == 200
    # an hour later the sweep removes it
    past = time.time() - timedelta(hours=2).total_seconds()
    os.utime(stored, (past, past))
    result = runner.invoke(args=["storage-sweep", "--delete"])
    assert "orphan files: 1 (1 deleted)" in result.output and not stored.exists()


def test_kill9_while_a_20_mb_upload_is_still_arriving(app, make_enterprise, runner):
    """A 20 MB upload (over the 12 MB a request may carry, sent without a length so the
    server must read it to find out) killed with 6 MB sent: nothing reaches the upload
    folder or the database (the body is spooled outside it until the view runs)."""
    make_enterprise("13800138000")
    sent, release = threading.Event(), threading.Event()
    boundary = "----kill9"

    def body():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
               f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; "
               f"name=\"licence\"; filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n"
               ).encode()
        yield b"\x89PNG\r\n\x1a\n" + b"\0" * (6 * 2**20)
        sent.set()
        release.wait(DEADLINE)  # the other 14 MB never come: the server dies first
        yield b"\0" * (14 * 2**20)

    with gunicorn(app) as (base, server):
        browser = enterprise_session(base, "13800138000")
        token = csrf(browser.get(base + "/certification/upload").text)
        thread, outcome = in_background(lambda: browser.post(
            base + "/certification/upload", data=body(), timeout=DEADLINE,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}))
        assert sent.wait(DEADLINE)
        kill9(server)
    release.set()
    thread.join(DEADLINE)
    assert "error" in outcome, outcome
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert not folder.exists() or [p for p in folder.rglob("*") if p.is_file()] == []
    assert count(app, Attachment) == 0 and count(app, Certification) == 0
    result = runner.invoke(args=["storage-sweep"])
    assert "orphan files: 0 (0 deleted); rows without their file: 0" in result.output


# --- a bulk decision of 1,000 declarations ---------------------------------------------


ROWS = 1000


@pytest.fixture
def thousand(app, certified, open_round, make_staff):
    """1,000 declarations waiting for the initial review, and a reviewer."""
    user_id = certified("13800138000")
    make_staff("r1", "initial_reviewer")
    now = utcnow()
    with app.app_context():
        db.session.execute(insert(Declaration), [
            {"enterprise_user_id": user_id, "round_id": open_round,
             "status": "pending_initial", "unit_name": "北京云帆智联科技有限公司",
             "credit_code": "91110105MA01R8DQ2M", "name": f"申报人{n:04d}", "version": 1,
             "submitted_at": now} for n in range(ROWS)])
        db.session.commit()
        return list(db.session.execute(select(Declaration.id).order_by(Declaration.id))
                    .scalars())


def decision_rows(app, ids) -> dict[int, tuple]:
    """Per declaration: its status and how many timeline rows, audit events and notices
    its initial pass left."""
    with app.app_context():
        status = dict(db.session.execute(select(Declaration.id, Declaration.status)).all())
        timeline = dict(db.session.execute(
            select(StatusChange.target_id, func.count()).where(
                StatusChange.target_type == "declaration",
                StatusChange.action == "pass_initial").group_by(StatusChange.target_id)).all())
        audit = dict(db.session.execute(
            select(AuditEvent.target_id, func.count()).where(
                AuditEvent.target_type == "declaration",
                AuditEvent.action == "declaration.pass_initial").group_by(AuditEvent.target_id)
        ).all())
        notices = {}
        for (link,) in db.session.execute(select(Notice.link).where(
                Notice.kind == "declaration.passed_initial")):
            declaration_id = int(link.rsplit("/", 1)[1])
            notices[declaration_id] = notices.get(declaration_id, 0) + 1
    return {i: (status[i], timeline.get(i, 0), audit.get(i, 0), notices.get(i, 0))
            for i in ids}


def whole(rows: dict[int, tuple]) -> tuple[int, int]:
    """(undecided, decided) — and no row in between."""
    undecided = [i for i, row in rows.items() if row == ("pending_initial", 0, 0, 0)]
    decided = [i for i, row in rows.items() if row == ("pending_second", 1, 1, 1)]
    half = {i: row for i, row in rows.items() if i not in undecided and i not in decided}
    assert half == {}, f"half-decided declarations: {list(half.items())[:5]}"
    return len(undecided), len(decided)


@postgres_only
def test_kill9_during_a_bulk_decision_of_1000_rows(app, thousand, locker):
    assert whole(decision_rows(app, thousand)) == (ROWS, 0)
    with gunicorn(app) as (base, server):
        reviewer = staff_session(base, "r1")
        html = reviewer.get(base + "/admin/declaration_initial/").text
        locker.execute("LOCK TABLE status_change IN SHARE ROW EXCLUSIVE MODE")
        thread, outcome = in_background(lambda: reviewer.post(
            base + "/admin/declaration_initial/bulk_all/", timeout=DEADLINE,
            allow_redirects=False, data={"csrf_token": csrf(html), "action": "pass_initial"}))
        pid = poll(lambda: waiting(locker, "INSERT INTO status_change", outcome),
                   "the decision to wait inside its transaction")
        # Provably in the middle: the 1,000 rows are updated (locked by the request),
        # not committed.
        locked = locker.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND relation = "
            "'declaration'::regclass AND mode = 'RowExclusiveLock' AND granted", (pid,)
        ).fetchone()[0]
        assert locked == 1
        kill9(server)
    thread.join(DEADLINE)
    assert "error" in outcome, outcome
    locker.rollback()
    poll(lambda: gone(locker, pid), "the killed request's database session to end")

    with gunicorn(app) as (base, _server):
        assert whole(decision_rows(app, thousand)) == (ROWS, 0)
        # the same decision after the restart goes through whole
        reviewer = staff_session(base, "r1")
        html = reviewer.get(base + "/admin/declaration_initial/").text
        response = reviewer.post(base + "/admin/declaration_initial/bulk_all/",
                                 allow_redirects=False,
                                 data={"csrf_token": csrf(html), "action": "pass_initial"})
        assert response.status_code == 302
    assert whole(decision_rows(app, thousand)) == (0, ROWS)
