"""The migration of the correction window and the bureau's outcome: a declaration rejected
before it gets its window from its last rejection on the timeline; rounds get 7 days."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from talentadmin.extensions import db

MIGRATION = (Path(__file__).parents[2] / "migrations" / "versions"
             / "b13c0d1e2f04_correction_window_bureau_outcome.py")


def parent_revision() -> str:
    spec = importlib.util.spec_from_file_location("correction_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.revision == "b13c0d1e2f04"
    return module.down_revision


def test_rejected_declarations_get_their_window_from_the_timeline(tmp_path):
    from flask_migrate import downgrade, upgrade

    from talentadmin import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
                      "SECRET_KEY": "x", "REDIS_URL": None})
    before = parent_revision()
    with app.app_context():
        upgrade(revision=before)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO enterprise_user (id, mobile, active, created_at, security_stamp)"
                " VALUES (1, '13800138000', 1, '2026-01-01 00:00:00', 'x')"))
            connection.execute(text(
                "INSERT INTO round (id, name, opens_at, closes_at, created_at) VALUES "
                "(1, '2026', '2026-03-01 01:00:00', '2026-03-31 09:30:00', '2026-02-01')"))
            for n, status in ((1, "rejected"), (2, "pending_initial")):
                connection.execute(text(
                    "INSERT INTO declaration (id, enterprise_user_id, round_id, status, "
                    "unit_name, credit_code, name, duplicate, version, created_at) VALUES "
                    "(:n, 1, 1, :status, 'U', '91110105MA01R8DQ2M', :name, 0, 1, "
                    "'2026-03-02 00:00:00')"), {"n": n, "status": status, "name": f"P{n}"})
            for target, at, to in ((1, "2026-03-05 02:00:00", "rejected"),
                                   (1, "2026-03-06 02:00:00", "pending_initial"),
                                   (1, "2026-03-09 03:30:00", "rejected"),
                                   (2, "2026-03-05 02:00:00", "rejected"),
                                   (2, "2026-03-06 02:00:00", "pending_initial")):
                connection.execute(text(
                    "INSERT INTO status_change (target_type, target_id, at, action, "
                    "to_status, actor_type) VALUES ('declaration', :target, :at, 'x', :to, "
                    "'staff')"), {"target": target, "at": at, "to": to})
        upgrade(revision="b13c0d1e2f04")
        with db.engine.connect() as connection:
            rejected = dict(connection.execute(text(
                "SELECT id, rejected_at FROM declaration")).all())
            days = connection.execute(text("SELECT correction_days FROM round")).scalar()
        assert datetime.fromisoformat(str(rejected[1])) == datetime(2026, 3, 9, 3, 30)
        assert rejected[2] is None  # not rejected now: no window
        assert days == 7
        downgrade(revision=before)
        with db.engine.connect() as connection:
            columns = {row[1] for row in connection.execute(text(
                "PRAGMA table_info(declaration)"))}
        assert not {"rejected_at", "bureau_outcome", "bureau_decided_on"} & columns
