"""``/healthz`` for a load balancer: the database answers, the attachment folder takes a
file, the schema is at the migrations' head (and Redis answers, when it is configured: the
sessions and counters live there).

200 ``{"status": "ok", ...}`` or 503 ``{"status": "unavailable", ...}`` with one word per
check (``ok``, ``unreachable``, ``not writable``, ``behind``): no address, version, path
or error text. No session is opened or written, nothing is rate-limited, and a 503 here
is a state of the service, not an error of the app: it is logged at INFO.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@functools.cache
def migration_heads() -> frozenset[str]:
    """The revision ids at the head of ``migrations/versions`` (read once a process)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _database() -> tuple[str, str]:
    """``(database, migrations)``."""
    try:
        versions = {row[0] for row in db.session.execute(
            text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError as error:
        db.session.rollback()
        if "alembic_version" in str(getattr(error, "orig", error)):  # reachable, not migrated
            return "ok", "behind"
        log.info("health: database unreachable (%s)", type(error).__name__)
        return "unreachable", "unknown"
    db.session.rollback()  # read only: nothing to commit
    return "ok", "ok" if versions == migration_heads() else "behind"


def _storage() -> str:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-") as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        log.info("health: storage not writable (%s)", type(error).__name__)
        return "not writable"
    return "ok"


def _redis() -> str | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as error:
        log.info("health: redis unreachable (%s)", type(error).__name__)
        return "unreachable"
    return "ok"


@bp.route("/healthz")
def healthz():
    database, migrations = _database()
    checks = {"database": database, "migrations": migrations, "storage": _storage()}
    redis_state = _redis()
    if redis_state is not None:
        checks["redis"] = redis_state
    healthy = all(value == "ok" for value in checks.values())
    response = jsonify(status="ok" if healthy else "unavailable", checks=checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
