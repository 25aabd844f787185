"""Fixtures: one database per test run (SQLite, or PostgreSQL by URL); each test's writes
are rolled back at its end.

Set ``TALENTADMIN_TEST_DATABASE_URL`` to run the suite on PostgreSQL; ``.ci/run`` does
both. The schema is built by the migrations, exactly as in production.

Rollback per test: the test's ``db.session`` work runs on one connection inside a
transaction that is rolled back when the test ends; each session on it (one per app
context: every request, every ``with app.app_context()``) opens a savepoint, so the app's
``commit()`` releases a savepoint and its ``rollback()`` returns to one, and the SMS sent
after a commit still leave. A test whose writes must reach other connections — a live
server, threads, a second database connection — is marked ``real_commits`` (a test using
``live_server`` is, by its fixture): it commits for real and the tables are emptied after it.

Passwords are hashed at a test cost (``TEST_PASSWORD_HASH``): cheap scrypt, which
``create_app`` accepts only with ``TESTING=True`` (never from the environment).

OCR: the real engine reads licences only in tests marked ``ocr``; elsewhere an upload is
read by an engine that finds no text (``BlankOcr``). ``make test PYTEST_ARGS="-m 'not
browser and not ocr'"`` is the inner loop; ``make test`` runs everything.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade
from hypothesis import HealthCheck, settings
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine import Engine

from talentadmin import create_app
from talentadmin.accounts import operations as account_ops
from talentadmin.accounts.models import EnterpriseUser
from talentadmin.core.models import CaptchaChallenge, RateCounter
from talentadmin.extensions import db
from talentadmin.pages.operations import seed_defaults as seed_pages
from talentadmin.reference.operations import seed_defaults as seed_reference


def seed_defaults() -> None:
    seed_pages()
    seed_reference()

TEST_DATABASE_URL = os.environ.get("TALENTADMIN_TEST_DATABASE_URL")

# Hypothesis: no per-example deadline (a database round trip varies on a shared machine);
# examples are derandomised so a run is repeatable. The long profiles are tests marked
# ``slow`` (10,000 examples), collected only with ``--slow`` (``make test-slow``).
settings.register_profile("talentadmin", deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture,
                                                 HealthCheck.data_too_large])
settings.load_profile("talentadmin")


# Cases a slow profile draws: 10,000 (``make test-slow``); ``.ci/run`` bounds it to keep a
# run of both databases within its time.
SLOW_EXAMPLES = int(os.environ.get("TALENTADMIN_SLOW_EXAMPLES", "10000"))


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true",
                     help="also run the long profiles (tests marked slow)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
PASSWORD = "correct horse 42"

# scrypt at N=256 (production: N=32768, refused unless TESTING): a hash in a millisecond.
TEST_PASSWORD_HASH = "scrypt:256:8:1"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    database_url = TEST_DATABASE_URL or f"sqlite:///{instance / 'test.db'}"
    app = create_app(
        {
            "TESTING": True,
            "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH,
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "SMS_BACKEND": "console",
            "SMS_ENABLED": True,
            "REDIS_URL": None,
            "CAPTCHA_TEST_MODE": False,
            "SERVER_NAME": "localhost",
        }
    )
    with app.app_context():
        upgrade()
        seed_defaults()
        db.session.commit()
    return app


def empty_database(app) -> None:
    """Back to the migrated schema with only the default texts, no SMS, no uploads: one
    DELETE per table that holds rows, then the default texts put back."""
    with app.app_context():
        db.session.rollback()
        tables = db.metadata.sorted_tables
        counts = db.session.execute(select(*(
            select(func.count()).select_from(table).scalar_subquery() for table in tables
        ))).one()
        for table, rows in reversed(list(zip(tables, counts, strict=True))):
            if rows:
                db.session.execute(delete(table))
        seed_defaults()
        db.session.commit()
    forget_files(app)


def forget_files(app) -> None:
    """No SMS sent, no file uploaded: what a test leaves outside the database."""
    Path(app.config["SMS_OUTBOX"]).unlink(missing_ok=True)
    shutil.rmtree(app.config["UPLOAD_FOLDER"], ignore_errors=True)


@contextmanager
def rolled_back(app):
    """Everything written through ``db.session`` meanwhile is undone at the end.

    The app's engine is swapped for one connection in an open transaction (Flask-SQLAlchemy
    asks ``db.engines`` for its bind on every new session), and sessions join it with a
    savepoint each. On SQLite the transaction is begun explicitly: pysqlite would not, and
    the first savepoint released would then commit. Another thread on that connection, or
    another connection to the database (a second app), would share or wait for the open
    transaction: either fails at once with a message naming the remedy, ``real_commits``.

    What differs from a real database, and needs ``real_commits`` to be tested: sessions
    share the connection, so one sees what another flushed and has not committed; and a
    session rolled back undoes what a session opened after it committed meanwhile (its
    savepoint was nested inside)."""
    with app.app_context():
        engines = db.engines  # the app's own mapping: Flask-SQLAlchemy reads it each time
        engine = engines[None]
    db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    connection = engine.connect()
    outer = connection.begin()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
    owner = threading.get_ident()

    def one_thread(*_args):
        if threading.get_ident() != owner:
            raise RuntimeError("another thread used the database of a rolled-back test: "
                               "mark the test real_commits")

    def one_connection(other):
        if other.engine.url == engine.url:
            raise RuntimeError("a second connection to the database of a rolled-back test "
                               "(another app?): mark the test real_commits")

    event.listen(connection, "before_execute", one_thread)
    event.listen(Engine, "engine_connect", one_connection)
    engines[None] = connection
    try:
        yield
    finally:
        engines[None] = engine
        event.remove(Engine, "engine_connect", one_connection)
        outer.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _clean_database(request, app):
    """Every test starts from the migrated schema with only the default texts: its writes
    are rolled back after it, or, marked ``real_commits``, committed and then deleted."""
    if request.node.get_closest_marker("real_commits") or "live_server" in request.fixturenames:
        yield
        empty_database(app)
        return
    with rolled_back(app):
        yield
    forget_files(app)


@pytest.fixture(autouse=True)
def _no_disk_flush(monkeypatch):
    """``os.fsync`` checks its descriptor and returns without waiting for the disk: what a
    flush guards against (power loss) no test observes, and uploads flush twice each. A
    test may still make ``fsync`` fail (``monkeypatch`` it again)."""
    def flush(fd: int) -> None:
        os.fstat(fd)  # a closed or bad descriptor fails as fsync would (EBADF)

    monkeypatch.setattr(os, "fsync", flush)


class BlankOcr:
    """An OCR engine that reads no text, at once: what the real engine reads on the plain
    pictures most tests upload. Tests marked ``ocr`` run the real engine; a test that needs
    particular values read uses a fake reading of its own."""

    name = "blank"
    handles_rotation = True

    def readtext(self, image) -> list:
        return []


@pytest.fixture(autouse=True)
def _ocr_engine(request, monkeypatch):
    """Uploads are read by :class:`BlankOcr` unless the test is marked ``ocr``."""
    if request.node.get_closest_marker("ocr"):
        return
    from talentadmin.certification import operations

    monkeypatch.setattr(operations, "_engine_name", BlankOcr)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context for direct database access in a test."""
    with app.app_context():
        yield


# --- helpers ------------------------------------------------------------------------------


class Outbox:
    def __init__(self, app) -> None:
        self.path = Path(app.config["SMS_OUTBOX"])

    def messages(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines()]

    def last_code(self, mobile: str) -> str:
        codes = [m["code"] for m in self.messages() if m["to"] == mobile and m["code"]]
        assert codes, f"no SMS code was sent to {mobile}"
        return codes[-1]


@pytest.fixture
def outbox(app):
    return Outbox(app)


def captcha_in(html: str, app, field: str = "captcha_id") -> tuple[str, str]:
    """The (challenge id, answer) of the image code on a rendered page."""
    match = re.search(rf'name="(?:sms-)?{field}"[^>]*value="([^"]+)"', html)
    assert match, "no captcha on the page"
    challenge_id = match.group(1)
    with app.app_context():
        answer = db.session.execute(
            select(CaptchaChallenge.answer).where(CaptchaChallenge.id == challenge_id)
        ).scalar_one()
    return challenge_id, answer


def forget_minute_limit(app) -> None:
    """Let a test send the next SMS code at once instead of waiting a minute."""
    with app.app_context():
        db.session.execute(delete(RateCounter).where(RateCounter.key.like("sms:minute:%")))
        db.session.commit()


# A rolled-back test's sessions send savepoints where the app sends BEGIN and COMMIT.
SAVEPOINT = re.compile(r"(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) ")


@pytest.fixture
def sql_log(app):
    """``with sql_log() as statements:`` lists every SQL statement sent meanwhile, less
    savepoints (a rolled-back test's sessions open one where the app would begin a
    transaction): for counting the queries of a page, not its transactions."""
    from contextlib import contextmanager

    @contextmanager
    def record():
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            if not SAVEPOINT.match(statement):
                statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", count)

    return record


def csrf_in(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Portal:
    """Drives the enterprise pages the way a user does (CSRF and captcha included)."""

    def __init__(self, client, app, outbox) -> None:
        self.client, self.app, self.outbox = client, app, outbox

    def login_page(self, mode: str = "sms"):
        response = self.client.get("/login" + ("?mode=password" if mode == "password" else ""))
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def request_code(self, mobile: str, answer: str | None = None, **extra):
        html = self.login_page()
        challenge_id, right = captcha_in(html, self.app)
        data = {
            "csrf_token": csrf_in(html),
            "sms-mobile": mobile,
            "sms-captcha_id": challenge_id,
            "sms-captcha": right if answer is None else answer,
            "sms-send_code": "1",
            **extra,
        }
        return self.client.post("/login", data=data)

    def submit_code(self, mobile: str, code: str):
        html = self.login_page()
        return self.client.post(
            "/login",
            data={"csrf_token": csrf_in(html), "sms-mobile": mobile, "sms-sms_code": code,
                  "sms-submit": "1"},
        )

    def login_sms(self, mobile: str = "13800138000"):
        assert self.request_code(mobile).status_code == 200
        response = self.submit_code(mobile, self.outbox.last_code(mobile))
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def login_password(self, mobile: str, password: str):
        html = self.login_page("password")
        return self.client.post(
            "/login?mode=password",
            data={"csrf_token": csrf_in(html), "pw-mobile": mobile, "pw-password": password,
                  "pw-submit": "1"},
        )

    def post_multipart(self, url: str, data: dict):
        html = self.client.get(url).get_data(as_text=True)
        return self.client.post(url, data={"csrf_token": csrf_in(html), **data},
                                content_type="multipart/form-data")

    def post_form(self, url: str, data: dict):
        """GET the page for its tokens, then POST ``data`` with them."""
        html = self.client.get(url).get_data(as_text=True)
        payload = {"csrf_token": csrf_in(html), **data}
        if 'name="captcha_id"' in html and "captcha_id" not in data:
            challenge_id, answer = captcha_in(html, self.app)
            payload.setdefault("captcha_id", challenge_id)
            payload.setdefault("captcha", answer)
        return self.client.post(url, data=payload)


@pytest.fixture
def portal(client, app, outbox):
    return Portal(client, app, outbox)


@pytest.fixture
def make_enterprise(app):
    def make(mobile: str = "13800138000", password: str | None = PASSWORD, active: bool = True):
        with app.app_context():
            user = EnterpriseUser(mobile=mobile, active=active)
            if password:
                user.set_password(password)
            db.session.add(user)
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def make_staff(app):
    def make(username: str, *roles: str, password: str = PASSWORD, active: bool = True):
        with app.test_request_context():
            staff = account_ops.create_staff(username, password, roles or ("admin",),
                                             active=active)
            db.session.commit()
            return staff.id

    return make


@pytest.fixture
def staff_login(client, make_staff):
    """Create a staff user with the given roles and log the client in as them."""

    def login(username: str = "staffer", *roles: str):
        make_staff(username, *(roles or ("admin",)))
        html = client.get("/admin/login").get_data(as_text=True)
        response = client.post(
            "/admin/login",
            data={"csrf_token": csrf_in(html), "username": username, "password": PASSWORD},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return login


def staff_client(app, make_staff, username: str, *roles: str):
    """A browser of its own (its own session), logged in to the back office."""
    make_staff(username, *roles)
    browser = app.test_client()
    html = browser.get("/admin/login").get_data(as_text=True)
    response = browser.post("/admin/login", data={
        "csrf_token": csrf_in(html), "username": username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


# --- the enterprise journey ------------------------------------------------------------------

UNIT = "北京云帆智联科技有限公司"
UNIT_CODE = "91110105MA01R8DQ2M"


def png_bytes(colour: str = "white") -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, format="PDF")
    return buffer.getvalue()


@pytest.fixture
def certified(app, make_enterprise):
    """An enterprise account with an approved unit certification; returns its id."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from talentadmin.certification.models import Certification
    from talentadmin.core import storage

    def make(mobile: str = "13800138000", name: str = UNIT, code: str = UNIT_CODE) -> int:
        user_id = make_enterprise(mobile)
        with app.test_request_context():
            licence = storage.save_upload(FileStorage(BytesIO(png_bytes()), filename="l.png"),
                                          enterprise_user_id=user_id)
            db.session.add(Certification(
                enterprise_user_id=user_id, licence=licence, status="approved",
                ocr_name=name, ocr_credit_code=code, ocr_code_valid=True,
                name=name, credit_code=code, email="hr@example.com"))
            db.session.commit()
        return user_id

    return make


@pytest.fixture
def open_round(app):
    from datetime import timedelta

    from talentadmin.core.timeutil import utcnow
    from talentadmin.declarations.models import Round

    with app.app_context():
        now = utcnow()
        round_ = Round(name="2026年引进人才需求申报", opens_at=now - timedelta(days=1),
                       closes_at=now + timedelta(days=30))
        db.session.add(round_)
        db.session.commit()
        return round_.id


def permit_form_data(**overrides) -> dict:
    import io

    data = {
        "qualifications": ["hightech"],
        "registered_district": "chaoyang", "tax_district": "chaoyang", "field": "ai",
        "contact_name": "王经办", "contact_mobile": "13900001111",
        "tax_1": "125.50", "tax_2": "98", "tax_3": "0.75",
        "intro": "人工智能软件研发企业。",
        "cert_hightech": (io.BytesIO(pdf_bytes()), "高新证书.pdf"),
        "tax_file_1": (io.BytesIO(pdf_bytes()), "2025.pdf"),
        "tax_file_2": (io.BytesIO(pdf_bytes()), "2024.pdf"),
        "tax_file_3": (io.BytesIO(png_bytes()), "2023.png"),
        "submit": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def permitted(app, certified, portal):
    """A logged-in enterprise whose business permission was approved by a reviewer.

    The client logs in (the login page is the portal's); the application is made by the
    permit form and operations, not by an upload over HTTP."""
    from talentadmin.accounts.models import StaffUser
    from talentadmin.permits import operations
    from talentadmin.permits.forms import collect_files, permit_form

    def make(mobile: str = "13800138000", **kwargs) -> int:
        user_id = certified(mobile, **kwargs)
        response = portal.login_password(mobile, PASSWORD)
        assert response.status_code == 302
        with app.test_request_context("/talent/permit/apply", method="POST",
                                      data=permit_form_data()):
            form = permit_form(meta={"csrf": False})
            assert form.validate() and collect_files(form, user_id), form.errors
            revision = operations.submit(db.session.get(EnterpriseUser, user_id), form)
            staff = StaffUser(username=f"approver{user_id}", full_name="")
            staff.role_names = ["initial_reviewer"]
            staff.set_password(PASSWORD)
            db.session.add(staff)
            db.session.flush()
            assert operations.approve(revision, staff)
            db.session.commit()
        return user_id

    return make


DECLARATION_ID = "11010519491231002X"  # female, born 1949-12-31


def declaration_form_data(**overrides) -> dict:
    """A complete declaration as the portal's form posts it (files included); ``None``
    leaves a field out."""
    import io

    data = {
        "name": "张三", "id_number": DECLARATION_ID, "gender": "", "age": "",
        "political_status": "13", "title": "无", "education": "10", "degree": "2",
        "school": "清华大学", "major": "计算机科学与技术", "condition": "patent",
        "social_insurance": (io.BytesIO(pdf_bytes()), "社保.pdf"),
        "integrity": (io.BytesIO(png_bytes()), "诚信声明.png"),
        "evidence": [(io.BytesIO(pdf_bytes()), "专利1.pdf"),
                     (io.BytesIO(pdf_bytes()), "专利2.pdf")],
        "submit": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def declare(app):
    """``declare(user_id, **fields)``: a declaration of that enterprise (its permit approved,
    a round open) saved through the portal's form and ``operations.save`` — submitted, or a
    draft with ``submit=None, save_draft="1"``; returns its id. No HTTP: for tests of what
    comes after (review, export); the portal's own tests post the form."""
    from talentadmin.declarations import operations
    from talentadmin.declarations.forms import DeclarationForm

    def make(user_id: int, **fields) -> int:
        with app.test_request_context("/talent/declarations/new", method="POST",
                                      data=declaration_form_data(**fields)):
            form = DeclarationForm(meta={"csrf": False})
            assert form.check(user_id), form.errors
            declaration = operations.save(db.session.get(EnterpriseUser, user_id), None, form)
            db.session.commit()
            return declaration.id

    return make
