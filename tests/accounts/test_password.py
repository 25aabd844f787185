"""Password login, lockout, and setting / changing the password."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from talentadmin import config, create_app
from talentadmin.accounts.models import EnterpriseUser, StaffUser
from talentadmin.core.models import AuditEvent
from talentadmin.extensions import db

from ..conftest import PASSWORD, TEST_PASSWORD_HASH, forget_minute_limit

MOBILE = "13800138000"


def test_password_login(portal, make_enterprise, client):
    make_enterprise(MOBILE)
    response = portal.login_password(MOBILE, PASSWORD)
    assert response.status_code == 302
    assert client.get("/account").status_code == 200


def test_password_toggle_is_visible_on_both_modes(portal):
    assert "密码登录" in portal.login_page("sms")
    assert "验证码登录" in portal.login_page("password")


def test_password_is_hashed_with_scrypt(app, make_enterprise):
    make_enterprise(MOBILE)
    with app.app_context():
        stored = db.session.execute(select(EnterpriseUser.password_hash)).scalar_one()
    assert stored.startswith(f"{TEST_PASSWORD_HASH}$") and PASSWORD not in stored


# --- the hash cost: production's, or the test suite's cheap one only in a test app --------


def test_a_production_app_hashes_at_werkzeug_scrypt_cost(tmp_path, monkeypatch):
    for name in ("TALENTADMIN_PASSWORD_HASH_METHOD", "TALENTADMIN_TESTING"):
        monkeypatch.delenv(name, raising=False)
    production = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x",
                             "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}"})
    assert production.config["PASSWORD_HASH_METHOD"] == "scrypt"
    with production.app_context():
        staff = StaffUser(username="boss")
        staff.set_password(PASSWORD)
        assert staff.password_hash.startswith("scrypt:32768:8:1$")
        assert staff.check_password(PASSWORD) and not staff.check_password("wrong")


@pytest.mark.parametrize("method", ["scrypt:256:8:1", "scrypt:16384:8:1", "scrypt:32768:4:1"])
def test_a_cheaper_hash_is_refused_outside_tests(tmp_path, method):
    with pytest.raises(ValueError, match="PASSWORD_HASH_METHOD"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x",
                    "PASSWORD_HASH_METHOD": method})


@pytest.mark.parametrize("testing", ["1", "true", "True"])
def test_the_environment_cannot_unlock_the_test_cost(tmp_path, monkeypatch, testing):
    """``TALENTADMIN_TESTING`` is a string: only ``TESTING=True`` given to ``create_app``
    (the test suite) accepts a cheap hash."""
    monkeypatch.setenv("TALENTADMIN_TESTING", testing)
    monkeypatch.setenv("TALENTADMIN_PASSWORD_HASH_METHOD", TEST_PASSWORD_HASH)
    with pytest.raises(ValueError, match="only the test suite may use it"):
        config.build(str(tmp_path))


@pytest.mark.parametrize("method", ["pbkdf2:sha256:600000", "md5", "scrypt:32768:8",
                                    "scrypt:x:8:1", "scrypt:1000:8:1", "scrypt:1:8:1",
                                    "scrypt:32768:8:0", ""])
def test_a_method_that_is_not_scrypt_is_refused_even_in_tests(tmp_path, method):
    with pytest.raises(ValueError, match="PASSWORD_HASH_METHOD"):
        config.build(str(tmp_path), {"TESTING": True, "PASSWORD_HASH_METHOD": method})


@pytest.mark.parametrize("method", ["scrypt", "scrypt:32768:8:1", "scrypt:65536:8:2"])
def test_production_cost_or_more_is_accepted(tmp_path, method):
    assert config.build(str(tmp_path), {"PASSWORD_HASH_METHOD": method})[
        "PASSWORD_HASH_METHOD"] == method


def test_wrong_password_and_unknown_number_read_the_same(portal, make_enterprise):
    make_enterprise(MOBILE)
    wrong = portal.login_password(MOBILE, "not the password")
    unknown = portal.login_password("13900139000", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert "手机号或密码错误" in wrong.get_data(as_text=True)
    assert "手机号或密码错误" in unknown.get_data(as_text=True)
    assert f'value="{MOBILE}"' in wrong.get_data(as_text=True)  # the number is kept


def test_sixth_wrong_password_is_locked_with_minutes_left(portal, make_enterprise, outbox):
    make_enterprise(MOBILE)
    for _ in range(4):
        assert "手机号或密码错误" in portal.login_password(MOBILE, "wrong-one").get_data(
            as_text=True)
    fifth = portal.login_password(MOBILE, "wrong-one").get_data(as_text=True)
    assert "已锁定" in fifth and "15 分钟后再试" in fifth
    sixth = portal.login_password(MOBILE, PASSWORD)  # even the right password waits
    assert sixth.status_code == 400 and "已锁定" in sixth.get_data(as_text=True)
    # SMS login still works while password login is locked.
    portal.login_sms(MOBILE)


def test_unknown_number_locks_the_same_way(portal):
    for _ in range(5):
        response = portal.login_password("13900139000", "whatever-1")
    assert "已锁定" in response.get_data(as_text=True)


def test_failed_logins_are_audited_without_the_password(portal, app, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_password(MOBILE, "secret-typo-1")
    with app.app_context():
        event = db.session.execute(select(AuditEvent)).scalars().one()
    assert (event.action, event.outcome, event.actor_label) == (
        "enterprise.login", "failure", "138****8000")
    assert "secret-typo-1" not in str(event.detail) and event.ip == "127.0.0.1"


@pytest.mark.parametrize("length", [7, 129])
def test_password_length_limits(portal, make_enterprise, length, outbox):
    make_enterprise(MOBILE)
    portal.login_password(MOBILE, PASSWORD)
    portal.post_form("/account/password", {"send_code": "1"})
    response = portal.post_form("/account/password", {
        "sms_code": outbox.last_code(MOBILE), "new_password": "x" * length,
        "confirm": "x" * length, "submit": "1"})
    assert response.status_code == 400
    assert "密码长度须为 8 至 128 个字符" in response.get_data(as_text=True)


def test_set_password_with_sms_code_then_log_in(portal, client, outbox, make_enterprise):
    make_enterprise(MOBILE, password=None)
    portal.login_password(MOBILE, "anything-at-all")  # no password yet: refused
    assert client.get("/account").status_code == 302
    portal.login_sms(MOBILE)
    forget_minute_limit(portal.app)
    assert portal.post_form("/account/password", {"send_code": "1"}).status_code == 200
    response = portal.post_form("/account/password", {
        "sms_code": outbox.last_code(MOBILE), "new_password": "a-new-password",
        "confirm": "a-new-password", "submit": "1"})
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": _token(client)})
    assert portal.login_password(MOBILE, "a-new-password").status_code == 302


def _token(client):
    from ..conftest import csrf_in

    return csrf_in(client.get("/").get_data(as_text=True))


def test_change_password_with_old_password(portal, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_password(MOBILE, PASSWORD)
    bad = portal.post_form("/account/password", {
        "old_password": "wrong-old-pw", "new_password": "another-pass",
        "confirm": "another-pass", "submit": "1"})
    assert bad.status_code == 400 and "当前密码错误" in bad.get_data(as_text=True)
    good = portal.post_form("/account/password", {
        "old_password": PASSWORD, "new_password": "another-pass",
        "confirm": "another-pass", "submit": "1"})
    assert good.status_code == 302


def test_change_password_needs_a_proof(portal, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_password(MOBILE, PASSWORD)
    response = portal.post_form("/account/password", {
        "new_password": "another-pass", "confirm": "another-pass", "submit": "1"})
    assert response.status_code == 400
    assert "请输入当前密码或手机验证码" in response.get_data(as_text=True)


def test_mismatched_confirmation(portal, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_password(MOBILE, PASSWORD)
    response = portal.post_form("/account/password", {
        "old_password": PASSWORD, "new_password": "another-pass",
        "confirm": "another-pasS", "submit": "1"})
    assert response.status_code == 400 and "两次输入的密码不一致" in response.get_data(as_text=True)


def test_password_change_ends_other_sessions(portal, app, make_enterprise):
    make_enterprise(MOBILE)
    other = app.test_client()
    from ..conftest import Outbox, Portal

    Portal(other, app, Outbox(app)).login_password(MOBILE, PASSWORD)
    assert other.get("/account").status_code == 200
    portal.login_password(MOBILE, PASSWORD)
    portal.post_form("/account/password", {
        "old_password": PASSWORD, "new_password": "another-pass",
        "confirm": "another-pass", "submit": "1"})
    assert portal.client.get("/account").status_code == 200  # this session stays
    assert other.get("/account").status_code == 302  # the other one is gone
