"""Request body limits per view.

``MAX_CONTENT_LENGTH`` caps every request. A view that takes larger uploads says so with
:func:`body_limit`; :func:`init_app` registers, before CSRF protection reads the form, the
hook that sets Flask's per-request ``request.max_content_length`` (Flask 3.1) from it.
"""

from __future__ import annotations

from flask import Flask, request


def body_limit(max_bytes):
    """Let the decorated view read bodies of up to ``max_bytes`` — a number, or a function
    giving it when the request comes (put it under ``@route`` / ``@expose``: the attribute
    is read from the registered view function)."""

    def mark(view):
        view.max_content_length = max_bytes
        return view

    return mark


def init_app(app: Flask) -> None:
    """Register the hook; call before ``csrf.init_app`` (the first hook to read the body)."""

    @app.before_request
    def _body_limit() -> None:
        view = app.view_functions.get(request.endpoint or "")
        limit = getattr(view, "max_content_length", None)
        if limit is not None:
            request.max_content_length = limit() if callable(limit) else limit
