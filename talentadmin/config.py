"""Defaults and ``TALENTADMIN_*`` environment variables.

Every setting can be given as an environment variable of the same name with the
``TALENTADMIN_`` prefix (``TALENTADMIN_DATABASE_URL`` sets ``DATABASE_URL``), or in the
mapping passed to ``create_app()`` (tests do that).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import pytz  # the zone database Flask-Babel converts with

PREFIX = "TALENTADMIN_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    # None means: SQLite file in the instance folder.
    "DATABASE_URL": None,
    "SECRET_KEY": None,  # generated into instance/secret_key on first run
    "UPLOAD_FOLDER": None,  # instance/uploads
    "REDIS_URL": None,  # counters in the database unless set
    "SMS_BACKEND": "console",  # console | http
    "SMS_ENABLED": True,
    "SMS_HTTP_URL": None,
    "SMS_HTTP_TEMPLATE": '{"mobile": "{to}", "content": "{text}"}',
    "SMS_HTTP_TOKEN": None,
    "SMS_HTTP_TIMEOUT": 5,
    "SMS_OUTBOX": None,  # instance/sms-outbox.jsonl
    # The office's name at the head of every SMS, in 【】 (added when missing): the one the
    # gateway registered, e.g. 【朝阳区人才服务】. Every SMS is in Chinese, whatever the page's
    # language. Empty: none (a gateway that adds its own).
    "SMS_SIGNATURE": "【人才服务】",
    "CAPTCHA_TEST_MODE": False,
    "OCR_ENGINE": "rapidocr",
    "EASYOCR_MODEL_DIR": None,
    "SUPPORT_PHONE": "84296151",
    "TRUST_PROXY": 0,  # number of proxies in front (X-Forwarded-For hops)
    "TIMEZONE": "Asia/Shanghai",  # the office's zone: times are typed and shown in it
    # Werkzeug's scrypt at its default cost (N=32768, r=8, p=1). A cheaper "scrypt:N:r:p" is
    # refused unless the app is built with ``TESTING=True`` (the test suite's fast hashes).
    "PASSWORD_HASH_METHOD": "scrypt",
    # Background work: a Celery broker (redis://…, amqp://…, or "instance": kombu's SQLAlchemy
    # transport on a SQLite file in the instance folder, as `make run` uses). Empty: no worker;
    # the work runs in the web process right after each commit.
    "BROKER_URL": None,
    "REVIEW_REMIND_DAYS": 3,  # the dashboard counts queued declarations older than this
    "SMS_MAX_TRIES": 6,  # tries of a notice SMS before it is listed as failed
    "SMS_RETRY_SECONDS": 30,  # the first retry's wait, doubled at each try
    # Municipal exports of more rows than these are jobs (XLSX, CSV: bench.export); job
    # files are kept this many hours; a job whose progress stops this long lost its worker.
    "EXPORT_STREAM_ROWS": 20_000,
    "EXPORT_STREAM_ROWS_CSV": 250_000,
    "EXPORT_KEEP_HOURS": 24,
    "EXPORT_STALE_SECONDS": 300,
    # A licence reading not done this long after its upload is given up (typed instead).
    "OCR_STALE_SECONDS": 300,
}

PRODUCTION_SCRYPT = (2**15, 8, 1)  # (N, r, p): the least cost a running office may use

_BOOLS = {"SMS_ENABLED", "CAPTCHA_TEST_MODE"}
_INTS = {"SMS_HTTP_TIMEOUT", "TRUST_PROXY", "REVIEW_REMIND_DAYS", "SMS_MAX_TRIES",
         "SMS_RETRY_SECONDS", "EXPORT_STREAM_ROWS", "EXPORT_STREAM_ROWS_CSV",
         "EXPORT_KEEP_HOURS", "EXPORT_STALE_SECONDS", "OCR_STALE_SECONDS"}


def _parse(key: str, value: str) -> object:
    if key in _BOOLS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INTS:
        return int(value)
    return value


def from_environment(environ: os._Environ | dict | None = None) -> dict[str, object]:
    environ = os.environ if environ is None else environ
    return {
        key[len(PREFIX):]: _parse(key[len(PREFIX):], value)
        for key, value in environ.items()
        if key.startswith(PREFIX)
    }


def scrypt_parameters(method: str) -> tuple[int, int, int]:
    """``(N, r, p)`` of a Werkzeug method ``"scrypt"`` or ``"scrypt:N:r:p"``; ``ValueError``
    for any other method or parameters scrypt cannot use."""
    name, *args = method.split(":")
    if name != "scrypt" or len(args) not in (0, 3):
        raise ValueError(f"TALENTADMIN_PASSWORD_HASH_METHOD: use 'scrypt' or 'scrypt:N:r:p', "
                         f"not {method!r}")
    if not args:
        return PRODUCTION_SCRYPT
    try:
        n, r, p = map(int, args)
    except ValueError:
        raise ValueError(f"TALENTADMIN_PASSWORD_HASH_METHOD: {method!r}: N, r and p are "
                         f"whole numbers") from None
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise ValueError(f"TALENTADMIN_PASSWORD_HASH_METHOD: {method!r}: N is a power of two "
                         f"above 1, r and p at least 1")
    return n, r, p


def _check_password_hash_method(settings: dict[str, object]) -> None:
    """Refuse a password hash cheaper than production's unless the app is a test app:
    ``TESTING`` set to ``True`` in the mapping given to ``create_app()`` (an environment
    variable is a string, never ``True``, so no deployment setting unlocks it)."""
    method = str(settings["PASSWORD_HASH_METHOD"])
    n, r, p = scrypt_parameters(method)
    floor_n, floor_r, floor_p = PRODUCTION_SCRYPT
    cheap = n < floor_n or r < floor_r or p < floor_p
    if cheap and settings.get("TESTING") is not True:
        raise ValueError(f"TALENTADMIN_PASSWORD_HASH_METHOD: {method!r} costs less than "
                         f"scrypt:{floor_n}:{floor_r}:{floor_p}; only the test suite may use it")


def _instance_secret(instance: Path, name: str, nbytes: int) -> str:
    """Read ``instance/NAME`` or create it with a fresh random value (mode 0600)."""
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(nbytes))
    return path.read_text().strip()


def build(instance_path: str, overrides: dict | None = None) -> dict[str, object]:
    """The Flask config mapping: defaults < environment < ``overrides``."""
    settings: dict[str, object] = dict(DEFAULTS)
    settings.update(from_environment())
    settings.update(overrides or {})
    instance = Path(instance_path)

    database_url = settings["DATABASE_URL"] or f"sqlite:///{instance / 'talentadmin.db'}"
    if str(database_url).startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + str(database_url)[len("postgresql://"):]
    settings["DATABASE_URL"] = database_url
    settings["SECRET_KEY"] = settings["SECRET_KEY"] or _instance_secret(instance, "secret_key", 32)
    settings["UPLOAD_FOLDER"] = settings["UPLOAD_FOLDER"] or str(instance / "uploads")
    settings["SMS_OUTBOX"] = settings["SMS_OUTBOX"] or str(instance / "sms-outbox.jsonl")
    if settings["BROKER_URL"] == "instance":
        settings["BROKER_URL"] = f"sqla+sqlite:///{instance / 'broker.sqlite'}"
    try:  # an unknown zone would fail every page that shows a time: refuse to start
        pytz.timezone(str(settings["TIMEZONE"]))
    except pytz.UnknownTimeZoneError:
        raise ValueError(f"TALENTADMIN_TIMEZONE: unknown time zone {settings['TIMEZONE']!r}") \
            from None
    _check_password_hash_method(settings)

    flask = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A connection is tested before use (one cut by a database restart or an idle timeout
        # is replaced, not handed to a request) and renewed after 30 minutes.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_recycle": 1800},
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": settings["TIMEZONE"],  # stored times are UTC
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "LANGUAGES": {"zh_Hans_CN": "中文", "en": "English"},
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "talentadmin_session",
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=30),
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=30),
        "SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=12),
        # Server-side sessions (Flask-Session): in the database, or Redis when it is set. A
        # session is written when it changes (the idle clock at most once a minute), not on
        # every request; the store drops it 30 minutes after its last write.
        "SESSION_TYPE": "redis" if settings["REDIS_URL"] else "sqlalchemy",
        "SESSION_KEY_PREFIX": "talentadmin:session:",
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime bounds the token
        "WTF_I18N_ENABLED": True,
        "FLASK_ADMIN_SWATCH": "default",
    }
    flask.update(settings)
    return flask
