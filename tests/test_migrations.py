"""The models and the migrations describe the same schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from talentadmin.extensions import db


def test_models_match_migrations(app):
    with app.app_context():
        connection = db.session.connection()
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"run `flask db migrate`: {differences}"


def test_sqlite_runs_with_wal_and_foreign_keys(app):
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_rounds_saved_in_office_time_move_to_utc(tmp_path):
    """Rounds saved before times were converted at the form hold office time: the
    upgrade moves them to UTC, the downgrade back."""
    from datetime import datetime

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from talentadmin import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
                      "SECRET_KEY": "x", "REDIS_URL": None})
    with app.app_context():
        upgrade(revision="c5a9e1f0b7d2")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO round (name, opens_at, closes_at, created_at) VALUES "
                "('2026', '2026-03-01 09:00:00.000000', '2026-03-31 17:30:00.000000', "
                "'2026-02-01 00:00:00.000000')"))
        upgrade()

        def window():
            with db.engine.connect() as connection:
                row = connection.execute(text("SELECT opens_at, closes_at FROM round")).one()
            return [datetime.fromisoformat(str(value)) for value in row]

        assert window() == [datetime(2026, 3, 1, 1, 0), datetime(2026, 3, 31, 9, 30)]
        downgrade(revision="c5a9e1f0b7d2")
        assert window() == [datetime(2026, 3, 1, 9, 0), datetime(2026, 3, 31, 17, 30)]
