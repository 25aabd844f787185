"""Page texts stored in the database, one row per key, in both languages; the portal home's
dated items (通知公告, 政策文件) and the files it offers (the 操作指南)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Attachment
from ..core.timeutil import utcnow
from ..extensions import db

PAGE_KEYS = {
    "policy_basis": _l("Policy basis"),
    "conditions": _l("Conditions"),
    "process": _l("Process"),
    "support": _l("Technical support"),
    "report_notice": _l("Next step notice"),
    "integrity_statement": _l("Integrity statement"),
    "faq": _l("Frequently asked questions"),
    "sponsor": _l("Sponsor"),
    "site_code": _l("Website identification code"),
    "icp_record": _l("ICP record number"),
    "police_record": _l("Public security record number"),
}

# The footer's texts, in this order: each is shown only when its text is not empty (the title
# is the label). The office may leave any of them empty; every other page text is required.
FOOTER_KEYS = ("sponsor", "site_code", "icp_record", "police_record")

# The portal home's lists of dated items, each item with a page of its own.
ITEM_KINDS = {
    "notice": _l("Notices and announcements"),
    "policy": _l("Policy documents"),
}


def _english() -> bool:
    return str(get_locale() or "").startswith("en")


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
        return _english()

    @property
    def title(self) -> str:
        return self.title_en if self._english() else self.title_zh

    @property
    def body(self) -> str:
        return self.body_en if self._english() else self.body_zh

    def __str__(self) -> str:
        return self.key


class PortalItem(db.Model):
    """A notice (通知公告) or a policy document (政策文件): a dated page in both languages,
    on the portal only while published."""

    __tablename__ = "portal_item"
    __table_args__ = (Index("ix_portal_item_list", "kind", "published", "published_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # a key of ITEM_KINDS
    title_zh: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(String(200))
    body_en: Mapped[str] = mapped_column(Text)
    published_on: Mapped[date]  # the date the portal shows (the office's, typed by staff)
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # of two saves of one item, one wins

    __mapper_args__ = {"version_id_col": version}

    @property
    def title(self) -> str:
        return self.title_en if _english() else self.title_zh

    @property
    def body(self) -> str:
        return self.body_en if _english() else self.body_zh

    @property
    def kind_label(self) -> str:
        return str(ITEM_KINDS.get(self.kind, self.kind))

    def __str__(self) -> str:
        return self.title_zh


class PortalFile(db.Model):
    """A file the portal offers for download, one per key (``guide``: the 操作指南); the
    bytes live in the attachment storage. A new upload replaces the row's attachment."""

    __tablename__ = "portal_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    attachment: Mapped[Attachment] = relationship()
