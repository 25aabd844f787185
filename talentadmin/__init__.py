"""talentadmin: the talent-introduction demand declaration system of a district talent office."""

from __future__ import annotations

import contextlib
import functools
import logging

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError, PendingRollbackError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .core.ratelimit import LimitsUnavailable
from .extensions import babel, csrf, db, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(config_module.PROJECT_ROOT / "templates"),
        static_folder=str(config_module.PROJECT_ROOT / "static"),
        instance_path=(config or {}).get("INSTANCE_PATH")
        or str(config_module.PROJECT_ROOT / "instance"),
        instance_relative_config=True,
    )
    app.config.update(config_module.build(app.instance_path, config))
    # ``<int:…>`` in a route matches only ids the database can hold: others are a 404.
    from .core.params import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter
    _refuse_unsafe_settings(app)
    _check_ocr_engine(app)
    if app.config["TRUST_PROXY"]:
        hops = app.config["TRUST_PROXY"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _init_extensions(app)
    from .core import logs

    logs.init_app(app)  # first: its hooks see every request, whatever the others do
    _register_blueprints(app)
    _register_hooks(app)
    _register_errors(app)

    from .admin import build_admin
    from .cli import register_cli
    from .jobs import celery_init_app

    build_admin(app)
    register_cli(app)
    celery_init_app(app)
    return app


def _check_ocr_engine(app: Flask) -> None:
    """Name what is missing at start-up rather than at the first licence upload."""
    from pathlib import Path

    from .certification.ocr import EASYOCR_WEIGHTS

    engine = app.config["OCR_ENGINE"]
    if engine not in ("rapidocr", "easyocr"):
        raise RuntimeError(f"TALENTADMIN_OCR_ENGINE={engine!r}: use 'rapidocr' or 'easyocr'")
    if engine == "easyocr":
        folder = app.config["EASYOCR_MODEL_DIR"]
        if not folder:
            raise RuntimeError("TALENTADMIN_OCR_ENGINE=easyocr needs "
                               "TALENTADMIN_EASYOCR_MODEL_DIR, a folder holding "
                               + ", ".join(EASYOCR_WEIGHTS))
        missing = [name for name in EASYOCR_WEIGHTS if not (Path(folder) / name).is_file()]
        if missing:
            raise RuntimeError(f"EasyOCR weight files missing in {folder}: {', '.join(missing)} "
                               "(downloads are disabled; copy them there)")


def _refuse_unsafe_settings(app: Flask) -> None:
    if app.config["CAPTCHA_TEST_MODE"] and app.config["SMS_BACKEND"] != "console":
        raise RuntimeError(
            "TALENTADMIN_CAPTCHA_TEST_MODE accepts a fixed captcha answer and is for automated "
            "checks in development only: it is refused unless TALENTADMIN_SMS_BACKEND=console."
        )


def _init_extensions(app: Flask) -> None:
    from .core import bodylimit
    from .core.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=select_locale)
    bodylimit.init_app(app)  # before CSRF protection reads the form
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            from sqlalchemy import event

            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=5000")
                cursor.close()


@functools.cache
def _staff_by_id():
    """Built once: the statement is the same on every request."""
    from sqlalchemy import bindparam, select
    from sqlalchemy.orm import joinedload

    from .accounts.models import StaffUser

    return (select(StaffUser).where(StaffUser.id == bindparam("pk"))
            .options(joinedload(StaffUser.role_rows)))


def _load_user(user_id: str):
    from .accounts.models import EnterpriseUser, StaffUser

    kind, _, rest = user_id.partition(":")
    pk, _, stamp = rest.partition(":")
    model = {"e": EnterpriseUser, "s": StaffUser}.get(kind)
    if model is None or not pk.isdigit():
        return None
    if model is StaffUser:  # with its roles: every admin page asks for them
        user = db.session.execute(_staff_by_id(), {"pk": int(pk)}).unique().scalar_one_or_none()
    else:
        user = db.session.get(model, int(pk))
    if user is None or user.security_stamp != stamp or not user.active:
        return None
    return user


def _register_blueprints(app: Flask) -> None:
    from .accounts.views import bp as accounts_bp
    from .certification.views import bp as certification_bp
    from .core.health import bp as health_bp
    from .core.views import bp as files_bp
    from .declarations.views import bp as declarations_bp
    from .pages.views import bp as portal_bp
    from .permits.views import bp as permits_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(certification_bp)
    app.register_blueprint(files_bp)
    app.register_blueprint(permits_bp)
    app.register_blueprint(declarations_bp)


def _register_hooks(app: Flask) -> None:
    from .core.security import (
        csp_nonce,
        enforce_session_lifetimes,
        server_side_sessions,
        set_security_headers,
    )

    app.before_request(enforce_session_lifetimes)

    @app.after_request
    def _commit_and_headers(response):
        # The request commits once: what the operations added (audit rows of failed
        # attempts included) is kept unless the handler raised. Headers first: they read
        # the user, which the commit would expire. The session store saves a changed
        # session after this, in a transaction of its own: nothing else may be pending.
        response = set_security_headers(response)
        if response.status_code < 500:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.context_processor
    def _template_globals():
        from flask_babel import get_locale

        from .reference.models import label as ref_label

        return {
            "unread_notices": _unread_notices(),
            "ref_label": ref_label,
            "csp_nonce": csp_nonce,
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            "session_expired": g.get("session_expired", False),
        }

    app.session_interface = server_side_sessions(app)


def _unread_notices() -> int:
    from flask_login import current_user

    from .core.models import Notice

    if getattr(current_user, "kind", None) != "enterprise":
        return 0
    return db.session.execute(
        db.select(db.func.count(Notice.id)).where(
            Notice.enterprise_user_id == current_user.id, Notice.read_at.is_(None))
    ).scalar()


def _register_errors(app: Flask) -> None:
    def render_error(status: int, title: str, message: str):
        return render_template("errors.html", status=status, title=title, message=message), status

    @app.errorhandler(CSRFError)
    def _csrf(error):
        logging.getLogger(__name__).info("CSRF failure on %s", request.path)
        return render_error(400, _("Form expired"),
                            _("The form was missing its security token or it has expired. "
                              "Go back, reload the page and try again."))

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _out_of_range(error):
        # A safety net, not a fix: a number or text the database refused (PostgreSQL
        # "integer out of range", a NUL byte; SQLite's OverflowError) means some input was
        # not parsed where it came in. The user gets a 400; the log keeps the bug visible.
        db.session.rollback()
        logging.getLogger(__name__).error("Input the database refused on %s %s",
                                          request.method, request.path, exc_info=error)
        return render_error(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(400)
    def _bad_request(error):
        return render_error(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(403)
    def _forbidden(error):
        from .admin.forbidden import forbidden  # the back office's layout inside /admin

        return forbidden(error)

    @app.errorhandler(404)
    def _not_found(error):
        return render_error(404, _("Page not found"), _("There is no such page."))

    @app.errorhandler(413)
    def _too_large(error):
        limit = request.max_content_length or app.config["MAX_CONTENT_LENGTH"]
        return render_error(413, _("File too large"),
                            _("This page accepts at most %(size)s MB at once. Nothing was "
                              "saved: go back and upload smaller scans or photos.",
                              size=max(1, round(limit / 2**20))))

    @app.errorhandler(429)
    def _too_many(error):
        return render_error(429, _("Too many requests"), _("Wait a moment and try again."))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PendingRollbackError)
    def _database_lost(error):
        # The database is gone or cut the connection (a restart, a failover, its backends
        # terminated): the pool tests connections before use (pool_pre_ping), so the next
        # requests get fresh ones once it is back. Until then: 503, never a traceback.
        if not _database_gone(error):
            raise error  # a PendingRollbackError of a failed flush: a bug, the 500 page
        return unavailable(_("The service is unavailable for a moment"),
                           _("The database cannot be reached just now. Nothing was saved by "
                             "this request. Try again in a minute."))

    @app.errorhandler(LimitsUnavailable)
    def _limits_unavailable(error):
        # Fail closed: without the shared counters no code is sent and no password checked.
        return unavailable(_("Login is unavailable for a moment"),
                           _("The service that counts login attempts cannot be reached, so "
                             "no code was sent and no password was checked. Try again in a "
                             "few minutes; pages that need no login keep working."))

    @app.errorhandler(500)
    def _server_error(error):
        # Also reached when the session store failed while the session was being opened
        # (before any view): then the page may not use the session.
        original = getattr(error, "original_exception", None)
        if _database_gone(original):
            return _database_lost(original)
        if isinstance(original, LimitsUnavailable):
            return _limits_unavailable(original)
        if _is_redis_error(original):  # the session store (TALENTADMIN_REDIS_URL) is gone
            return unavailable(_("The service is unavailable for a moment"),
                               _("Sessions cannot be read or saved just now. Try again in a "
                                 "few minutes."))
        db.session.rollback()
        title = _("Something went wrong")
        message = _("The error has been logged. Please try again later.")
        try:
            return render_error(500, title, message)
        except Exception:  # the page's layout needs the session or the database: without
            return unavailable(title, message, status=500)


def _database_gone(error) -> bool:
    """The database cannot be reached or cut this request's connection: an
    ``OperationalError`` or ``InterfaceError``, or the ``PendingRollbackError`` of a
    transaction whose connection was lost (SQLAlchemy's code ``8s2b``: "Can't reconnect
    until invalid transaction is rolled back"; Flask-Session's retries end with it)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, PendingRollbackError) and getattr(error, "code", None) == "8s2b"


def _is_redis_error(error) -> bool:
    try:
        import redis
    except ImportError:
        return False
    return isinstance(error, redis.RedisError)


def unavailable(title: str, message: str, status: int = 503):
    """A page (503 unless told) needing neither the database nor the session store: the
    transaction is rolled back, the user is not loaded (the page shows no account), the
    session is neither read further nor saved, and the template stands alone."""
    from flask import current_app, session

    from .core.logs import note_user

    note_user()  # before the rollback expires the user's row
    db.session.rollback()
    g._login_user = login_manager.anonymous_user()
    with contextlib.suppress(AssertionError):  # (raised when the store failed to open it)
        session.modified = False  # not saved, no cookie set
    response = current_app.make_response(
        (render_template("unavailable.html", title=title, message=message), status))
    if status == 503:
        response.headers["Retry-After"] = "30"
    response.headers["Cache-Control"] = "no-store"
    return response
