"""One table for every short list a form chooses from, each row in both languages."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

KINDS = {
    "district": _l("Districts"),
    "field": _l("Fields"),
    "qualification": _l("Unit qualifications"),
    "condition": _l("Introduction bases and conditions"),
    "political_status": _l("Political status"),
    "education": _l("Education"),
    "degree": _l("Degrees"),
}


def english() -> bool:
    return str(get_locale() or "").startswith("en")


class _Bilingual:
    """``name`` and ``evidence`` in the viewer's language."""

    @property
    def name(self) -> str:
        return self.name_en if english() else self.name_zh

    @property
    def evidence(self) -> str:
        return (self.evidence_en if english() else self.evidence_zh) or ""

    def __str__(self) -> str:
        return self.name


class ReferenceItem(_Bilingual, db.Model):
    """A choice in a list. ``evidence`` says what a chosen item must be proven with
    (a qualification's certificate, a condition's supporting documents)."""

    __tablename__ = "reference_item"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    evidence_zh: Mapped[str | None] = mapped_column(Text)
    evidence_en: Mapped[str | None] = mapped_column(Text)
    needs_evidence: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


CHOICE_COLUMNS = ("kind", "code", "name_zh", "name_en", "evidence_zh", "evidence_en",
                  "needs_evidence", "position", "active", "id")


@dataclass(frozen=True, slots=True)
class Choice(_Bilingual):
    """A read-only copy of a list entry, as forms and grids read it."""

    kind: str
    code: str
    name_zh: str
    name_en: str
    evidence_zh: str | None
    evidence_en: str | None
    needs_evidence: bool
    position: int
    active: bool
    id: int


def choices_select():
    """Every entry of every list, in order, with ``CHOICE_COLUMNS``."""
    columns = [getattr(ReferenceItem, name) for name in CHOICE_COLUMNS]
    return select(*columns).order_by(ReferenceItem.kind, ReferenceItem.position,
                                     ReferenceItem.id)


def prime(choices: list[Choice], reasons: list[str]) -> None:
    """Fill the per-request copies from one query that read them with more (a grid's)."""
    from flask import g

    g.reference_items = choices
    g.reason_texts = reasons


def _all() -> list[Choice]:
    """Every entry of every list, read once per request (a grid labels many rows)."""
    from flask import g, has_request_context

    if has_request_context() and "reference_items" in g:
        return g.reference_items
    rows = [Choice(*row) for row in db.session.execute(choices_select())]
    if has_request_context():
        g.reference_items = rows
    return rows


def forget() -> None:
    """Drop the per-request copy (after an admin edited a list)."""
    from flask import g, has_request_context

    if has_request_context():
        g.pop("reference_items", None)
        g.pop("reference_by_code", None)
        g.pop("reason_texts", None)


def items(kind: str, *, active_only: bool = True) -> list[Choice]:
    return [item for item in _all()
            if item.kind == kind and (item.active or not active_only)]


_NAMES: dict[tuple, tuple] = {}  # (kind, active_only, column) -> (entries read, pairs)


def names(kind: str, *, active_only: bool = True) -> tuple[tuple[str, str], ...]:
    """``(code, name)`` pairs in the viewer's language (choices, filter options); made
    again only when the entries read are not the very list they were made from."""
    entries = _all()
    column = "name_en" if english() else "name_zh"
    key = (kind, active_only, column)
    made = _NAMES.get(key)
    if made is None or made[0] is not entries:
        made = _NAMES[key] = (entries, tuple((item.code, getattr(item, column))
                                             for item in entries if item.kind == kind
                                             and (item.active or not active_only)))
    return made[1]


def by_code(kind: str) -> dict[str, Choice]:
    from flask import g, has_request_context

    if not has_request_context():
        return {item.code: item for item in items(kind, active_only=False)}
    cache = g.setdefault("reference_by_code", {})
    if kind not in cache:
        cache[kind] = {item.code: item for item in items(kind, active_only=False)}
    return cache[kind]


def label(kind: str, code: str | None) -> str:
    if not code:
        return ""
    item = by_code(kind).get(code)
    return item.name if item else code


class ReasonTemplate(db.Model):
    """A reusable rejection reason that admins maintain; reviewers pick and adapt it."""

    __tablename__ = "reason_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self) -> str:
        return self.text


def reason_templates() -> list[str]:
    """The active templates' texts, in order (once per request)."""
    from flask import g, has_request_context

    if has_request_context() and "reason_texts" in g:
        return g.reason_texts
    texts = list(db.session.execute(reason_texts_select()).scalars())
    if has_request_context():
        g.reason_texts = texts
    return texts


def reason_texts_select():
    return (select(ReasonTemplate.text).where(ReasonTemplate.active.is_(True))
            .order_by(ReasonTemplate.position, ReasonTemplate.id))
