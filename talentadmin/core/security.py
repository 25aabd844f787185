"""Security headers, the CSP nonce, safe redirects and session lifetimes."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, logout_user

from .timeutil import utcnow


def csp_nonce() -> str:
    """One nonce per request, for the inline scripts Flask-Admin marks with it."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def set_security_headers(response):
    nonce = g.get("csp_nonce")
    script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"script-src {script}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "font-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    if current_user.is_authenticated:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``.

    Refuses absolute URLs, scheme-relative ``//host`` and backslash tricks.
    """
    if not target:
        return default
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def start_session(user) -> None:
    """A fresh session for a new login: old contents gone, a new session id."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    now = utcnow().timestamp()
    session["sid"] = secrets.token_urlsafe(24)
    session["login_at"] = now
    session["seen_at"] = now
    session.permanent = True


def enforce_session_lifetimes():
    """End a session idle for 30 minutes or older than 12 hours."""
    if not current_user.is_authenticated:
        return
    config = current_app.config
    now = utcnow().timestamp()
    login_at = session.get("login_at", 0)
    seen_at = session.get("seen_at", 0)
    if (
        now - seen_at > config["SESSION_IDLE_TIMEOUT"].total_seconds()
        or now - login_at > config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()
    ):
        logout_user()
        session.clear()
        g.session_expired = True
        return
    session["seen_at"] = now


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is marked Secure whenever the site is reached over https."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )
