"""A session that ends is dead: a copy of its cookie, taken before, opens nothing afterwards.

Sessions live server-side (Flask-Session): the cookie holds a random id, the data is in the
database, or in Redis when ``TALENTADMIN_REDIS_URL`` is set. Every test runs against both
stores (Redis when ``TALENTADMIN_TEST_REDIS_URL`` is set, e.g. redis://127.0.0.1:6379/6; the
app's ``talentadmin:*`` keys are deleted after each test). ``copy_of`` is what a thief holds:
a second browser with the same cookie. Clocks are moved, never waited for.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from talentadmin import create_app
from talentadmin.accounts.models import EnterpriseUser, StaffUser
from talentadmin.core import security
from talentadmin.core.models import ServerSession
from talentadmin.core.security import RedisSessions
from talentadmin.extensions import db

from ..conftest import PASSWORD, csrf_in, staff_client

REDIS_URL = os.environ.get("TALENTADMIN_TEST_REDIS_URL")
COOKIE = "talentadmin_session"
MOBILE, NEW_MOBILE = "13800138000", "13900139000"


@pytest.fixture(scope="module", params=["database", "redis"])
def app(request, app, tmp_path_factory):
    """The session app (sessions in its database), then an app keeping them in Redis."""
    if request.param == "database":
        yield app
        return
    if not REDIS_URL:
        pytest.skip("set TALENTADMIN_TEST_REDIS_URL to test sessions kept in Redis")
    own = create_app({
        **{key: app.config[key] for key in ("TESTING", "PASSWORD_HASH_METHOD", "SECRET_KEY",
                                            "SMS_BACKEND", "SMS_ENABLED", "CAPTCHA_TEST_MODE",
                                            "SERVER_NAME", "DATABASE_URL")},
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("redis-sessions")),
        "REDIS_URL": REDIS_URL,
    })
    assert isinstance(own.session_interface, RedisSessions)
    yield own
    with own.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_redis(app):
    yield
    if isinstance(app.session_interface, RedisSessions):  # its sessions and counters
        client = app.session_interface.client
        for key in client.scan_iter("talentadmin:*"):
            client.delete(key)


@pytest.fixture
def clock(monkeypatch):
    """``clock.advance(minutes=31)`` moves the time the session lifetimes are measured by."""

    class Clock:
        offset = timedelta()

        def advance(self, **delta) -> None:
            self.offset += timedelta(**delta)

    moved = Clock()
    real = security.utcnow
    monkeypatch.setattr(security, "utcnow", lambda: real() + moved.offset)
    return moved


def copy_of(client, app):
    """A second browser holding a copy of ``client``'s session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


def session_id(client) -> str:
    return client.get_cookie(COOKIE).value


def stored(app, sid: str) -> bool:
    """Whether the store still holds the session of this cookie value."""
    key = app.config["SESSION_KEY_PREFIX"] + sid
    if isinstance(app.session_interface, RedisSessions):
        return bool(app.session_interface.client.exists(key))
    with app.app_context():
        return db.session.get(ServerSession, key) is not None


def refused(response, login: str = "/login") -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith(login)


def logged_in_enterprise(portal, make_enterprise):
    make_enterprise(MOBILE)
    assert portal.login_password(MOBILE, PASSWORD).status_code == 302
    assert portal.client.get("/account").status_code == 200


# --- logout --------------------------------------------------------------------------------


def test_enterprise_cookie_dead_after_logout(app, portal, make_enterprise):
    logged_in_enterprise(portal, make_enterprise)
    thief = copy_of(portal.client, app)
    assert thief.get("/account").status_code == 200  # the copy works while the session lives
    sid = session_id(portal.client)
    token = csrf_in(portal.client.get("/account").get_data(as_text=True))
    assert portal.client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not stored(app, sid)
    assert refused(thief.get("/account"))
    assert refused(portal.client.get("/account"))


def test_staff_cookie_dead_after_logout(app, client, staff_login):
    staff_login("boss", "admin")
    thief = copy_of(client, app)
    assert thief.get("/admin/").status_code == 200
    sid = session_id(client)
    token = csrf_in(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert not stored(app, sid)
    assert refused(thief.get("/admin/"), "/admin/login")
    assert refused(thief.get("/admin/declaration_all/"), "/admin/login")


def test_logout_page_message_lives_under_a_new_id(app, portal, make_enterprise):
    logged_in_enterprise(portal, make_enterprise)
    sid = session_id(portal.client)
    token = csrf_in(portal.client.get("/account").get_data(as_text=True))
    portal.client.post("/logout", data={"csrf_token": token})
    assert session_id(portal.client) != sid  # the flashed "logged out" went to a new session
    assert "您已退出登录" in portal.client.get("/").get_data(as_text=True)


# --- timeouts ------------------------------------------------------------------------------


def test_cookie_dead_after_idle_timeout(app, portal, make_enterprise, clock):
    logged_in_enterprise(portal, make_enterprise)
    thief = copy_of(portal.client, app)
    sid = session_id(portal.client)
    clock.advance(minutes=29)
    assert portal.client.get("/account").status_code == 200  # activity keeps it
    clock.advance(minutes=31)
    assert refused(portal.client.get("/account"))
    assert not stored(app, sid)
    clock.offset = timedelta()  # even at a time the cookie's own timestamps would pass
    assert refused(thief.get("/account"))
    assert refused(portal.client.get("/account"))


def test_cookie_dead_after_absolute_timeout(app, client, staff_login, clock):
    staff_login("boss", "admin")
    thief = copy_of(client, app)
    sid = session_id(client)
    for _ in range(28):  # busy all day, never idle: 11 h 40 min
        clock.advance(minutes=25)
        assert client.get("/admin/").status_code == 200
    clock.advance(minutes=25)  # 12 h 5 min after login
    assert refused(client.get("/admin/"), "/admin/login")
    assert not stored(app, sid)
    clock.offset = timedelta()
    assert refused(thief.get("/admin/"), "/admin/login")


def test_idle_timeout_page_says_the_session_ended(app, portal, make_enterprise, clock):
    logged_in_enterprise(portal, make_enterprise)
    clock.advance(minutes=31)
    html = portal.client.get("/").get_data(as_text=True)
    assert "您长时间未操作，登录已失效，请重新登录。" in html


def test_store_drops_a_session_30_minutes_after_its_last_write(app, portal, make_enterprise):
    from datetime import UTC, datetime

    logged_in_enterprise(portal, make_enterprise)
    key = app.config["SESSION_KEY_PREFIX"] + session_id(portal.client)
    if isinstance(app.session_interface, RedisSessions):
        assert 29 * 60 < app.session_interface.client.ttl(key) <= 30 * 60
        return
    with app.app_context():
        expiry = db.session.get(ServerSession, key).expiry
    left = expiry - datetime.now(UTC).replace(tzinfo=None)
    assert timedelta(minutes=29) < left <= timedelta(minutes=30)


def test_purge_expired_deletes_expired_sessions(app, portal, make_enterprise, runner):
    if isinstance(app.session_interface, RedisSessions):
        pytest.skip("Redis expires the keys itself")
    logged_in_enterprise(portal, make_enterprise)
    thief = copy_of(portal.client, app)
    with app.app_context():
        db.session.execute(update(ServerSession).values(
            expiry=security.utcnow() - timedelta(seconds=1)))
        db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0 and "removed 1 expired rows" in result.output
    with app.app_context():
        assert db.session.execute(select(ServerSession)).first() is None
    assert refused(thief.get("/account"))


# --- account changes -----------------------------------------------------------------------


def test_cookie_dead_after_password_change(app, portal, make_enterprise):
    logged_in_enterprise(portal, make_enterprise)
    thief = copy_of(portal.client, app)
    elsewhere = app.test_client()  # the same account logged in on another device
    from ..conftest import Outbox, Portal

    Portal(elsewhere, app, Outbox(app)).login_password(MOBILE, PASSWORD)
    sid, other_sid = session_id(portal.client), session_id(elsewhere)
    response = portal.post_form("/account/password", {
        "old_password": PASSWORD, "new_password": "another-pass",
        "confirm": "another-pass", "submit": "1"})
    assert response.status_code == 302
    assert portal.client.get("/account").status_code == 200  # the changing session goes on
    assert session_id(portal.client) != sid and not stored(app, sid)
    assert refused(thief.get("/account"))
    assert refused(elsewhere.get("/account"))  # refused by the account's new stamp...
    assert not stored(app, other_sid)  # ...and deleted at that use


def test_cookie_dead_after_mobile_change(app, portal, make_enterprise, outbox):
    logged_in_enterprise(portal, make_enterprise)
    thief = copy_of(portal.client, app)
    sid = session_id(portal.client)
    response = portal.post_form("/account/mobile", {"new_mobile": NEW_MOBILE, "send_code": "1"})
    assert response.status_code == 200
    response = portal.post_form("/account/mobile", {
        "new_mobile": NEW_MOBILE, "sms_code": outbox.last_code(NEW_MOBILE), "submit": "1"})
    assert response.status_code == 302
    assert portal.client.get("/account").status_code == 200
    assert not stored(app, sid)
    assert refused(thief.get("/account"))


def test_cookie_dead_after_admin_disables_the_enterprise(app, portal, make_enterprise,
                                                          make_staff):
    logged_in_enterprise(portal, make_enterprise)
    thief = copy_of(portal.client, app)
    sid = session_id(portal.client)
    admin = staff_client(app, make_staff, "boss", "admin")
    with app.app_context():
        enterprise_id = db.session.execute(select(EnterpriseUser.id)).scalar_one()
    url = f"/admin/enterprise_user/edit/?id={enterprise_id}"
    html = admin.get(url).get_data(as_text=True)
    assert admin.post(url, data={"csrf_token": csrf_in(html)}).status_code == 302  # not active
    assert refused(thief.get("/account"))
    assert not stored(app, sid)
    assert refused(portal.client.get("/account"))


def test_cookie_dead_after_admin_disables_the_staff_account(app, client, staff_login,
                                                             make_staff):
    staff_login("reviewer", "initial_reviewer")
    thief = copy_of(client, app)
    sid = session_id(client)
    assert thief.get("/admin/").status_code == 200
    admin = staff_client(app, make_staff, "boss", "admin")
    with app.app_context():
        reviewer_id = db.session.execute(
            select(StaffUser.id).filter_by(username="reviewer")).scalar_one()
    url = f"/admin/staff_user/edit/?id={reviewer_id}"
    html = admin.get(url).get_data(as_text=True)
    response = admin.post(url, data={"csrf_token": csrf_in(html), "username": "reviewer",
                                     "full_name": "", "roles": "initial_reviewer",
                                     "password": ""})  # active unchecked
    assert response.status_code == 302
    assert refused(thief.get("/admin/"), "/admin/login")
    assert not stored(app, sid)
    assert refused(client.get("/admin/"), "/admin/login")


# --- login ---------------------------------------------------------------------------------


def test_login_gives_a_new_id_and_deletes_the_planted_one(app, portal, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_page()  # an anonymous session (its CSRF token): an id an attacker could plant
    planted = session_id(portal.client)
    assert stored(app, planted)
    victim_of_fixation = copy_of(portal.client, app)
    assert portal.login_password(MOBILE, PASSWORD).status_code == 302
    assert session_id(portal.client) != planted and not stored(app, planted)
    assert refused(victim_of_fixation.get("/account"))


def test_cookie_holds_only_an_id(app, portal, make_enterprise):
    logged_in_enterprise(portal, make_enterprise)
    value = session_id(portal.client)
    assert len(value) >= 32 and "." not in value  # no signed data, nothing to decode


def test_session_cookie_is_secure_over_https(app, client):
    cookie = client.get("/login", base_url="https://localhost").headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    cookie = app.test_client().get("/login").headers["Set-Cookie"]
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("cookie", ['"\\000abc"', "x" * 300, "é", "a'; --", "", "%00" * 20])
def test_a_cookie_that_is_no_session_id_is_no_session(app, cookie):
    browser = app.test_client(use_cookies=False)
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    assert refused(browser.get("/account", headers=headers))
    assert browser.get("/", headers=headers).status_code == 200


def test_a_request_running_across_the_logout_does_not_bring_the_session_back(
        app, portal, make_enterprise):
    logged_in_enterprise(portal, make_enterprise)
    thief = copy_of(portal.client, app)
    with thief.session_transaction() as loaded:  # the thief's request began before the logout
        token = csrf_in(portal.client.get("/account").get_data(as_text=True))
        assert portal.client.post("/logout", data={"csrf_token": token}).status_code == 302
        loaded["_flashes"] = [("info", "…")]  # and changes the session, saved after the logout
    assert refused(thief.get("/account"))
