"""Seeding and reading the page texts."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from .defaults import DEFAULT_PAGES
from .models import PageText


def seed_defaults() -> int:
    """Insert the default texts that are missing; never overwrite an edited one."""
    existing = set(db.session.execute(select(PageText.key)).scalars())
    added = 0
    for page in DEFAULT_PAGES:
        if page["key"] not in existing:
            db.session.add(PageText(**page))
            added += 1
    db.session.flush()
    return added


def texts(*keys: str) -> list[PageText]:
    rows = {
        row.key: row
        for row in db.session.execute(select(PageText).where(PageText.key.in_(keys))).scalars()
    }
    return [rows[key] for key in keys if key in rows]
