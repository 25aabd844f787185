"""Tables of the core services: audit log, counters, captcha challenges, sessions, SMS codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .timeutil import utcnow


class AuditEvent(db.Model):
    """One row per security- or workflow-relevant event. Written by ``audit.record()`` only."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # enterprise | staff | anonymous | system
    actor_id: Mapped[int | None]
    actor_label: Mapped[str | None] = mapped_column(String(64))  # masked mobile or username
    role: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="success")  # success | failure
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None]
    detail: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (Index("ix_audit_event_target", "target_type", "target_id"),)


class RateCounter(db.Model):
    """A fixed-window counter (SMS sends, password failures, lockouts)."""

    __tablename__ = "rate_counter"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CaptchaChallenge(db.Model):
    """An image captcha: its answer lives here, server-side, never in the cookie."""

    __tablename__ = "captcha_challenge"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)  # token_urlsafe(32)
    answer: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class ServerSession(db.Model):
    """A login session, kept server-side by Flask-Session (``core.security``): the cookie
    holds only the id, so deleting the row ends the session. Flask-Session reads and writes
    these three columns; ``expiry`` is naive UTC."""

    __tablename__ = "server_session"

    session_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expiry: Mapped[datetime] = mapped_column(index=True)


class SmsCode(db.Model):
    """A one-time SMS code, stored as an HMAC of the code."""

    __tablename__ = "sms_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11))
    purpose: Mapped[str] = mapped_column(String(32))  # login | password | change_mobile
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_sms_code_lookup", "mobile", "purpose", "created_at"),)


class Attachment(db.Model):
    """An uploaded file: stored once under its sha256, described here.

    The bytes live in the upload folder under a server-made path; nothing the user sent
    (name, MIME type) decides where or how it is stored or served.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8))  # jpg | png | pdf, decided by content
    original_name: Mapped[str] = mapped_column(String(255), default="")
    enterprise_user_id: Mapped[int | None] = mapped_column(
        db.ForeignKey("enterprise_user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}


class StatusChange(db.Model):
    """The timeline of a record with states: each change, when, by whom, and why."""

    __tablename__ = "status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(db.Text)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_label: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_status_change_target", "target_type", "target_id", "at"),)


class Notice(db.Model):
    """An in-portal notice to an enterprise account, rendered in the reader's language."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_user_id: Mapped[int] = mapped_column(
        db.ForeignKey("enterprise_user.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(48))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class StaffComment(db.Model):
    """An internal note on a record: staff only, never shown to the enterprise."""

    __tablename__ = "staff_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int]
    staff_id: Mapped[int | None] = mapped_column(
        db.ForeignKey("staff_user.id", ondelete="SET NULL"))
    staff_label: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(db.Text)

    __table_args__ = (Index("ix_staff_comment_target", "target_type", "target_id"),)


class SmsOutbox(db.Model):
    """One SMS notice waiting to leave, leaving, sent or given up (``core.notify`` writes
    it in the transaction of the decision; ``jobs.outbox`` delivers it after the commit).

    ``status``: ``queued`` (due at ``next_try_at``), ``sending`` (claimed by one worker at
    ``claimed_at``), ``sent`` or ``failed`` (``tries`` reached ``SMS_MAX_TRIES``).
    """

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(db.Text)
    kind: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(8), default="queued")
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_sms_outbox_due", "status", "next_try_at"),)
