"""Page texts stored in the database, one row per key, in both languages."""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.timeutil import utcnow
from ..extensions import db

PAGE_KEYS = {
    "policy_basis": _l("Policy basis"),
    "conditions": _l("Conditions"),
    "process": _l("Process"),
    "support": _l("Technical support"),
    "report_notice": _l("Next step notice"),
    "integrity_statement": _l("Integrity statement"),
}


class PageText(db.Model):
    __tablename__ = "page_text"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(String(200))
    body_en: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def _english(self) -> bool:
        return str(get_locale() or "").startswith("en")

    @property
    def title(self) -> str:
        return self.title_en if self._english() else self.title_zh

    @property
    def body(self) -> str:
        return self.body_en if self._english() else self.body_zh

    def __str__(self) -> str:
        return self.key
