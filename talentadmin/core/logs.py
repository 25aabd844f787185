"""One JSON line per request on the ``talentadmin.requests`` logger, so an office can see
what happened on the deadline day::

    {"ts": "2026-11-30T16:50:01.123Z", "request_id": "…", "method": "POST",
     "endpoint": "declarations.new", "route": "/talent/declarations/new", "status": 302,
     "duration_ms": 41.7, "user_kind": "enterprise", "user_id": 12}

``route`` is the URL rule (``/talent/declarations/<int:declaration_id>``), never the path
as typed nor the query string: those can hold an ID number, a mobile or a code. Nothing
from a form, a header or a cookie is written, only the request id: the caller's
``X-Request-ID`` when it is a plain token (a load balancer's), else a new one; it is sent
back in the response's ``X-Request-ID``.

The line is written by a WSGI wrapper around the app when the response has been sent, so it
carries the status the client got, whatever failed on the way (a commit, the session store).
5xx answers are logged at ERROR, except ``/healthz``'s 503 (a state, not a fault): INFO.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, request
from sqlalchemy import inspect

log = logging.getLogger("talentadmin.requests")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_KEY = "talentadmin.request_log"  # the environ entry the app fills in for the wrapper
_QUIET = {"health.healthz", "static", "admin.static"}  # never an ERROR line


def request_id() -> str:
    """This request's id (also in the log line and the ``X-Request-ID`` header)."""
    return request.environ.get(_KEY, {}).get("request_id") or ""


class RequestLog:
    """The WSGI wrapper: times the request and writes its line once the body is sent."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        start = time.perf_counter()
        given = environ.get("HTTP_X_REQUEST_ID", "")
        entry = {"request_id": given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex,
                 "method": environ.get("REQUEST_METHOD", ""), "endpoint": None, "route": None,
                 "user_kind": None, "user_id": None}
        environ[_KEY] = entry
        status: list[int] = [0]

        def starting(status_line, headers, exc_info=None):
            status[0] = int(status_line.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", entry["request_id"]))
            return start_response(status_line, headers, exc_info)

        try:
            body = self.wsgi_app(environ, starting)
        except BaseException:
            status[0] = status[0] or 500
            _write(entry, status[0], start)
            raise
        return _Closing(body, lambda: _write(entry, status[0], start))


class _Closing:
    """The response body, with the log line written once: when the body has been sent
    or, if sooner, when the server closes it."""

    def __init__(self, body, on_done) -> None:
        self.body, self.on_done = body, on_done

    def __iter__(self):
        yield from self.body
        self._done()

    def _done(self) -> None:
        on_done, self.on_done = self.on_done, None
        if on_done is not None:
            on_done()

    def close(self) -> None:
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self._done()


def _write(entry: dict, status: int, started: float) -> None:
    line = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "request_id": entry["request_id"], "method": entry["method"],
        "endpoint": entry["endpoint"], "route": entry["route"], "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "user_kind": entry["user_kind"], "user_id": entry["user_id"],
    }
    error = status >= 500 and entry["endpoint"] not in _QUIET
    log.log(logging.ERROR if error else logging.INFO, json.dumps(line, ensure_ascii=False))


def _note_route() -> None:
    entry = request.environ.get(_KEY)
    if entry is not None and request.url_rule is not None:
        entry["endpoint"] = request.endpoint
        entry["route"] = request.url_rule.rule


def _note_user(response):
    note_user()
    return response


def note_user() -> None:
    """Note who, if a user was loaded by this request (never loads one: no query for the
    log); a user noted before stays noted."""
    _note_route()
    entry = request.environ.get(_KEY)
    user = g.get("_login_user")
    if entry is None or user is None:
        return
    # The row's identity, read from the session: no query, even once the row has expired
    # (``is_authenticated`` could load it); the anonymous user is no row and has none.
    state = inspect(user, raiseerr=False)
    if state is not None and state.identity:
        entry["user_kind"], entry["user_id"] = getattr(user, "kind", None), state.identity[0]


class _LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


def init_app(app: Flask) -> None:
    """Wrap the app and note each request's route and user. The lines go to stderr
    (gunicorn's error stream) unless ``REQUEST_LOG`` is false; a handler is added once a
    process."""
    app.wsgi_app = RequestLog(app.wsgi_app)
    app.before_request(_note_route)
    app.after_request(_note_user)
    if not app.config.get("REQUEST_LOG", True):
        return
    if not any(getattr(h, "_talentadmin", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_LineFormatter())
        handler._talentadmin = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
