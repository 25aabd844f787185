"""Security headers, the CSP nonce, safe redirects, server-side sessions and their lifetimes."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import msgspec
from flask import current_app, g, has_request_context, request, session
from flask_login import current_user, logout_user
from flask_session.base import MsgSpecSerializer, ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from flask_session.sqlalchemy import SqlAlchemySessionInterface
from sqlalchemy import delete, update

from ..extensions import db
from .models import ServerSession
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

    Refuses absolute URLs, scheme-relative ``//host``, backslash tricks and control
    characters (a line feed in a ``Location`` header is refused by werkzeug: a 500).
    """
    if not target:
        return default
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(
            ord(c) < 32 or 127 <= ord(c) < 160 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# --- sessions ------------------------------------------------------------------------------
# The cookie holds a random id only; the data lives in the database (or Redis), so ending a
# session deletes it there and a copy of the cookie is worth nothing afterwards.

SEEN_EVERY = timedelta(minutes=1)  # how stale the idle clock may be: saves a write a request


def start_session(user) -> None:
    """A fresh session for a new login: a new id (the old one deleted), old contents gone."""
    current_app.session_interface.regenerate(session)
    session.clear()
    now = utcnow().timestamp()
    session["login_at"] = now
    session["seen_at"] = now
    session.permanent = True


def end_session() -> None:
    """Log out and delete the stored session; what the request still adds (a flashed
    message) goes under a new id, so the old cookie opens nothing."""
    logout_user()
    current_app.session_interface.regenerate(session)
    session.clear()


def enforce_session_lifetimes():
    """End a session idle for 30 minutes or older than 12 hours, and one whose account
    refuses it (password or mobile changed elsewhere, account disabled: the stamp in the
    login id no longer matches)."""
    if "_user_id" in session and not current_user.is_authenticated:
        end_session()
        return
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
        end_session()
        g.session_expired = True
        return
    if now - seen_at >= SEEN_EVERY.total_seconds():
        session["seen_at"] = now


def purge_expired_sessions() -> int:
    """Delete the expired sessions of the database (Redis expires its own)."""
    expired = delete(ServerSession).where(ServerSession.expiry <= utcnow())
    return db.session.execute(expired).rowcount


def _as_text(value):
    """What msgpack cannot store in a session: a lazy translation or Markup flashed as a
    message is stored as its text (shown escaped, as every message is)."""
    if hasattr(value, "__html__"):
        return str(value)
    raise NotImplementedError(f"a {type(value).__name__} cannot be kept in a session")


class SessionSerializer(MsgSpecSerializer):
    """Flask-Session's msgpack, plus :func:`_as_text`."""

    def __init__(self, app) -> None:
        super().__init__(app, format="msgpack")
        self.encoder = msgspec.msgpack.Encoder(enc_hook=_as_text)


SESSION_ID = re.compile(r"[A-Za-z0-9_-]{32,64}")  # secrets.token_urlsafe(32): 43 characters


class _OurCookie:
    """What both stores add to Flask-Session's:

    * the cookie is marked Secure whenever the site is reached over https;
    * a cookie that is no session id of ours (NUL bytes, 4 KB of junk) is no session: it is
      not looked up (PostgreSQL refuses NUL in text; Flask-Session would retry, then fail);
    * a session read from the store is only ever updated there, never written anew: a
      request that began before a logout (or any end) and saves after it cannot bring the
      deleted session back. Flask-Session's save is an upsert, which would.
    """

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )

    def _retrieve_session_data(self, store_id: str):
        if not SESSION_ID.fullmatch(store_id.removeprefix(self.key_prefix)):
            return None
        return super()._retrieve_session_data(store_id)

    def open_session(self, app, request):
        session = super().open_session(app, request)
        session.from_store = session.sid == request.cookies.get(self.get_cookie_name(app))
        return session

    def regenerate(self, session) -> None:
        super().regenerate(session)
        session.from_store = False  # the new id is written anew

    def _upsert_session(self, session_lifetime, session, store_id: str) -> None:
        if getattr(session, "from_store", False):
            self._update_session(session_lifetime, session, store_id)
        else:
            super()._upsert_session(session_lifetime, session, store_id)


class RedisSessions(_OurCookie, RedisSessionInterface):
    """Flask-Session's Redis store; Redis expires the keys."""

    def _update_session(self, session_lifetime, session, store_id: str) -> None:
        self.client.set(store_id, self.serializer.encode(session),
                        ex=int(session_lifetime.total_seconds()), xx=True)  # if it still is


class DatabaseSessions(_OurCookie, SqlAlchemySessionInterface):
    """Flask-Session's SQLAlchemy store, on our ``ServerSession`` table.

    Flask-Session 0.8's own constructor declares a model class on ``db.Model`` whenever an
    app is made (a second app in one process fails: "Table 'sessions' is already defined",
    pallets-eco/flask-session#245) and creates its table outside the migrations. Here the
    model is ours and the migration creates the table; loading, saving, expiry and cleanup
    are Flask-Session's.
    """

    def __init__(self, app, **options) -> None:
        self.client = db
        self.sql_session_model = ServerSession
        ServerSideSessionInterface.__init__(self, app, **options)

    def regenerate(self, session) -> None:
        """Flask-Session's, but the old row is deleted in the request's own transaction
        (committed once, after the request) rather than committed on its own mid-request."""
        if session:
            store_id = self._get_store_id(session.sid)
            db.session.execute(delete(ServerSession).where(ServerSession.session_id == store_id))
            session.sid = self._generate_sid(self.sid_length)
            session.modified = True
        session.from_store = False

    def _update_session(self, session_lifetime, session, store_id: str) -> None:
        db.session.execute(  # no row once the session has ended: then nothing is written
            update(ServerSession).where(ServerSession.session_id == store_id)
            .values(data=self.serializer.encode(session), expiry=utcnow() + session_lifetime))
        db.session.commit()


def server_side_sessions(app):
    """The session store: the database, or Redis when ``TALENTADMIN_REDIS_URL`` is set."""
    options = {"key_prefix": app.config["SESSION_KEY_PREFIX"], "permanent": True}
    if app.config["SESSION_TYPE"] == "redis":
        import redis

        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                                      socket_timeout=2)  # a lost host never hangs a request
        interface = RedisSessions(app, client=client, **options)
    else:
        interface = DatabaseSessions(app, **options)
    interface.serializer = SessionSerializer(app)
    return interface
