"""CSRF, safe redirects, security headers, session lifetimes, logout by POST only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ..conftest import PASSWORD, csrf_in

MOBILE = "13800138000"


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"sms-mobile": MOBILE, "sms-send_code": "1"})
    assert response.status_code == 400
    assert "表单缺少安全令牌或已失效" in response.get_data(as_text=True)


def test_admin_login_without_csrf_token_is_refused(client, make_staff):
    make_staff("boss", "admin")
    response = client.post("/admin/login", data={"username": "boss", "password": PASSWORD})
    assert response.status_code == 400


def test_language_switch_without_csrf_is_refused(client):
    assert client.post("/language/en").status_code == 400


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example",
                                    "/\\evil.example", "http:/evil.example", " //evil.example"])
def test_next_to_another_site_is_ignored(portal, make_enterprise, target):
    make_enterprise(MOBILE)
    html = portal.client.get("/login?mode=password&next=" + target).get_data(as_text=True)
    response = portal.client.post(
        "/login?mode=password&next=" + target,
        data={"csrf_token": csrf_in(html), "pw-mobile": MOBILE, "pw-password": PASSWORD},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_to_our_own_path_is_followed(portal, make_enterprise):
    make_enterprise(MOBILE)
    html = portal.client.get("/login?mode=password").get_data(as_text=True)
    response = portal.client.post(
        "/login?mode=password&next=/account",
        data={"csrf_token": csrf_in(html), "pw-mobile": MOBILE, "pw-password": PASSWORD},
    )
    assert response.headers["Location"] == "/account"


def test_staff_login_ignores_foreign_next(client, make_staff):
    make_staff("boss", "admin")
    html = client.get("/admin/login").get_data(as_text=True)
    response = client.post("/admin/login?next=https://evil.example",
                           data={"csrf_token": csrf_in(html), "username": "boss",
                                 "password": PASSWORD})
    assert response.headers["Location"] == "/admin/"


def test_security_headers_on_portal_and_admin(client):
    for url in ("/", "/admin/login"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers


def test_admin_inline_scripts_carry_the_csp_nonce(client, staff_login):
    staff_login("boss", "admin")
    response = client.get("/admin/staff_user/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script([^>]*)>", response.get_data(as_text=True))
    assert scripts and all(f'nonce="{nonce}"' in attrs for attrs in scripts)


def test_portal_pages_have_no_inline_script(client):
    """Scripts come from files (``script-src 'self'``): no inline script, no handler."""
    import re

    for url in ("/", "/login", "/services/talent-introduction"):
        html = client.get(url).get_data(as_text=True)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert all(" src=" in tag for tag in scripts), scripts
        assert not re.search(r"\son[a-z]+=", html)


def test_https_adds_hsts_and_secure_cookie(client, make_enterprise):
    response = client.get("/login", base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_http_cookie_is_httponly_samesite(client):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_new_session_id_at_login(portal, client, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_page()  # an anonymous session, whose id an attacker could plant
    planted = client.get_cookie("talentadmin_session").value
    portal.login_password(MOBILE, PASSWORD)
    fresh = client.get_cookie("talentadmin_session").value
    assert fresh != planted and len(fresh) >= 32
    with client.session_transaction() as session:
        assert "_user_id" in session


def _age_session(client, **delta):
    with client.session_transaction() as session:
        for key in ("seen_at", "login_at"):
            if key in delta:
                session[key] -= timedelta(**delta[key]).total_seconds()


def test_idle_session_ends_after_30_minutes(portal, client, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_password(MOBILE, PASSWORD)
    _age_session(client, seen_at={"minutes": 29})
    assert client.get("/account").status_code == 200  # activity refreshes it
    _age_session(client, seen_at={"minutes": 31})
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_ends_after_12_hours_even_when_active(portal, client, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_password(MOBILE, PASSWORD)
    _age_session(client, login_at={"hours": 12, "minutes": 1})
    assert client.get("/account").status_code == 302


def test_logout_is_post_only(portal, client, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_password(MOBILE, PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.get("/account").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/account").get_data(as_text=True))})
    assert client.get("/account").status_code == 302


def test_pages_do_not_change_state_on_get(client, app):
    from sqlalchemy import func, select

    from talentadmin.core.models import AuditEvent
    from talentadmin.extensions import db

    for url in ("/", "/services", "/support", "/login", "/admin/login"):
        client.get(url)
    with app.app_context():
        assert db.session.execute(select(func.count(AuditEvent.id))).scalar() == 0
