"""Seeding the reference lists."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from .defaults import DEFAULTS, REASON_TEMPLATES
from .models import ReasonTemplate, ReferenceItem


def seed_defaults() -> int:
    """Add the default entries that are missing; an edited or retired entry stays as it is."""
    existing = set(db.session.execute(select(ReferenceItem.kind, ReferenceItem.code)).all())
    added = 0
    for kind, entries in DEFAULTS.items():
        for position, entry in enumerate(entries):
            code, name_zh, name_en, *evidence = entry
            if (kind, code) in existing:
                continue
            db.session.add(ReferenceItem(
                kind=kind, code=code, name_zh=name_zh, name_en=name_en, position=position,
                evidence_zh=evidence[0] if evidence else None,
                evidence_en=evidence[1] if evidence else None,
                needs_evidence=bool(evidence),
            ))
            added += 1
    if db.session.execute(select(ReasonTemplate.id).limit(1)).first() is None:
        for position, text in enumerate(REASON_TEMPLATES):
            db.session.add(ReasonTemplate(text=text, position=position))
            added += 1
    db.session.flush()
    return added
