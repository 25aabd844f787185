"""Seeding and reading the page texts; the portal home's items and files."""

from __future__ import annotations

from sqlalchemy import select

from ..core import audit, storage
from ..extensions import db
from .defaults import DEFAULT_PAGES, DEMO_ITEMS
from .models import FOOTER_KEYS, PageText, PortalFile, PortalItem

HOME_ITEMS = 6  # items of each kind on the home page; the list page has them all
LIST_PAGE = 20  # items per page of a list
GUIDE = "guide"  # the key of the operation guide (操作指南) among the portal files
GUIDE_MAX_BYTES = storage.MAX_BYTES


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


def seed_demo_items(round_name: str) -> int:
    """The demo's published notice and policy document, each only if its section is empty
    (running the demo again adds nothing)."""
    from ..core.timeutil import local_today

    added = 0
    for item in DEMO_ITEMS:
        if db.session.scalar(select(PortalItem.id).where(PortalItem.kind == item["kind"])
                             .limit(1)) is None:
            db.session.add(PortalItem(
                **{key: value.format(round=round_name) for key, value in item.items()},
                published_on=local_today(), published=True))
            added += 1
    db.session.flush()
    return added


def texts(*keys: str) -> list[PageText]:
    rows = {
        row.key: row
        for row in db.session.execute(select(PageText).where(PageText.key.in_(keys))).scalars()
    }
    return [rows[key] for key in keys if key in rows]


def footer() -> list[tuple[str, str, str]]:
    """The footer's ``(key, label, text)`` in the reader's language, empty ones left out (an
    English text left empty falls back to the Chinese one: a record number is the same)."""
    shown = []
    for row in texts(*FOOTER_KEYS):
        text = (row.body or row.body_zh or "").strip()
        if text:
            shown.append((row.key, (row.title or row.title_zh).strip(), text))
    return shown


def _published(kind: str):
    return (select(PortalItem)
            .where(PortalItem.kind == kind, PortalItem.published.is_(True))
            .order_by(PortalItem.published_on.desc(), PortalItem.id.desc()))


def published_items(kind: str, limit: int = HOME_ITEMS, offset: int = 0) -> list[PortalItem]:
    """The newest published items of ``kind``, newest date first (ties: the later added)."""
    return list(db.session.scalars(_published(kind).limit(limit).offset(offset)))


def count_published(kind: str) -> int:
    return db.session.scalar(select(db.func.count()).select_from(
        _published(kind).order_by(None).subquery()))


def published_item(kind: str, item_id: int) -> PortalItem | None:
    return db.session.scalar(_published(kind).where(PortalItem.id == item_id))


def portal_file(key: str = GUIDE) -> PortalFile | None:
    return db.session.scalar(select(PortalFile).where(PortalFile.key == key))


def replace_file(file_storage, key: str = GUIDE) -> PortalFile:
    """Store an uploaded PDF as the portal's file ``key`` (the previous one is no longer
    offered; its attachment row stays, as every stored file does) and audit it. Raises
    ``storage.UploadError``."""
    attachment = storage.save_upload(file_storage, allowed=("pdf",), max_bytes=GUIDE_MAX_BYTES)
    row = portal_file(key)
    previous = row.attachment_id if row else None
    if row is None:
        row = PortalFile(key=key, attachment=attachment)
        db.session.add(row)
    else:
        row.attachment = attachment
    db.session.flush()
    audit.record("portal_file.upload", target=row,
                 detail={"key": key, "attachment": attachment.id, "previous": previous})
    return row


def set_published(item: PortalItem, published: bool) -> bool:
    """Publish or withdraw ``item``; audited. Returns whether it changed."""
    if item.published == published:
        return False
    item.published = published
    db.session.flush()
    audit.record("portal_item.publish" if published else "portal_item.unpublish",
                 target=item, detail={"kind": item.kind})
    return True
