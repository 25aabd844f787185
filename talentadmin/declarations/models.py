"""Rounds and declarations."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import EnterpriseUser
from ..core import crypto
from ..core.models import Attachment
from ..core.timeutil import utcnow
from ..extensions import db
from . import workflow

CORRECTION_DAYS = 7  # a new round's correction window, in calendar days (about 5 working days)


class Round(db.Model):
    """申报批次: declarations are accepted between ``opens_at`` and ``closes_at``.

    ``correction_days``: after a rejection, the enterprise may correct and resubmit
    (重新申请) for this many *calendar* days after the (local) day of the rejection, even
    once the round has closed (0: only while it is open). Calendar days, not working days:
    the mainland's working days move with the holiday calendar (调休 makes some weekends
    working days), which the system does not hold; a deadline in calendar days is the same
    for everyone and printed as a date. 7 calendar days are about 5 working days."""

    __tablename__ = "round"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    correction_days: Mapped[int] = mapped_column(default=CORRECTION_DAYS,
                                                 server_default=str(CORRECTION_DAYS))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.opens_at <= now < self.closes_at

    def correction_end(self, rejected_at: datetime | None) -> datetime | None:
        """When the correction window of a rejection made at ``rejected_at`` (UTC) closes,
        in UTC: the end of the ``correction_days``-th local day after the rejection's day;
        ``None`` without a window (or a rejection time)."""
        from ..core.timeutil import to_local, to_utc

        if not self.correction_days or rejected_at is None:
            return None
        last = to_local(rejected_at).date() + timedelta(days=self.correction_days)
        return to_utc(datetime.combine(last + timedelta(days=1), datetime.min.time()))

    def __str__(self) -> str:
        return self.name


class Declaration(db.Model):
    __tablename__ = "declaration"
    __table_args__ = (
        UniqueConstraint("round_id", "enterprise_user_id", "id_hash",
                         name="uq_declaration_person_in_round"),
        # One declaration per form (a double-clicked or re-posted form), per account.
        UniqueConstraint("enterprise_user_id", "form_key", name="uq_declaration_user_form_key"),
        # The review queues: one round, one status, oldest or newest first.
        # A queue page in submission order, and any page in submission order, read from
        # the index alone (``id`` breaks ties so pages are stable).
        Index("ix_declaration_queue", "round_id", "status", "submitted_at", "id"),
        Index("ix_declaration_submitted", "submitted_at", "id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_user_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise_user.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=workflow.DRAFT, index=True)
    rejected_stage: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    # The unit at the time of submission
    unit_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    # The person (fig. 14)
    name: Mapped[str] = mapped_column(String(64), default="")
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    id_masked: Mapped[str | None] = mapped_column(String(18))
    gender: Mapped[str | None] = mapped_column(String(8))
    age: Mapped[int | None]
    political_status: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(64))
    education: Mapped[str | None] = mapped_column(String(32))
    degree: Mapped[str | None] = mapped_column(String(32))
    school: Mapped[str | None] = mapped_column(String(100))
    major: Mapped[str | None] = mapped_column(String(100))
    condition: Mapped[str | None] = mapped_column(String(32), index=True)
    duplicate: Mapped[bool] = mapped_column(default=False, index=True)
    # Bookkeeping
    form_key: Mapped[str | None] = mapped_column(String(43))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    initial_passed_at: Mapped[datetime | None]
    second_passed_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    report_batch: Mapped[str | None] = mapped_column(String(32))
    # The last rejection (the start of its correction window)
    rejected_at: Mapped[datetime | None]
    # The municipal bureau's 拟引进人才名单: ``listed`` / ``not_listed`` (workflow.OUTCOMES)
    # and the date of its decision, recorded after the report (workflow.BUREAU)
    bureau_outcome: Mapped[str | None] = mapped_column(String(16))
    bureau_decided_on: Mapped[date | None]

    __mapper_args__ = {"version_id_col": version}

    enterprise_user: Mapped[EnterpriseUser] = relationship()
    round: Mapped[Round] = relationship()
    files: Mapped[list[DeclarationFile]] = relationship(
        cascade="all, delete-orphan", order_by="DeclarationFile.id", lazy="selectin")

    @property
    def id_number(self) -> str | None:
        """The full number: only for the views whose role needs it. ``None`` when it cannot
        be decrypted (a data key that does not match the database): logged, never a 500."""
        if not self.id_number_enc:
            return None
        try:
            return crypto.decrypt(bytes(self.id_number_enc))
        except crypto.DecryptError:
            logging.getLogger(__name__).error(
                "declaration %s: the ID number cannot be decrypted with this data key", self.id)
            return None

    def set_id_number(self, number: str | None) -> None:
        from ..core.validators import mask_id_number

        if not number:
            self.id_number_enc = self.id_hash = self.id_masked = None
            return
        self.id_number_enc = crypto.encrypt(number)
        self.id_hash = crypto.blind_index(number)
        self.id_masked = mask_id_number(number)

    @property
    def status_label(self) -> str:
        return str(workflow.LABELS[self.status])

    @property
    def badge(self) -> str:
        return workflow.BADGES[self.status]

    @property
    def editable(self) -> bool:
        """The enterprise may still change it: a draft, or a rejected declaration while it
        may be resubmitted (:meth:`resubmit_until`)."""
        if self.status == workflow.REJECTED:
            return self.may_resubmit()
        return self.status in workflow.EDITABLE

    def resubmit_until(self) -> datetime | None:
        """Until when (UTC, exclusive) a rejected declaration may be resubmitted: the
        round's close or the end of its correction window, whichever is later; ``None``
        when it is not rejected."""
        if self.status != workflow.REJECTED:
            return None
        end = self.round.correction_end(self.rejected_at)
        return max(end, self.round.closes_at) if end else self.round.closes_at

    def resubmit_deadline(self) -> str | None:
        """Until when it may be resubmitted, as the enterprise reads it: the last day of
        its correction window, or the round's closing time when that is later."""
        from flask_babel import format_date, format_datetime

        from ..core.timeutil import to_local

        until = self.resubmit_until()
        if until is None:
            return None
        if until == self.round.closes_at:
            return format_datetime(until)
        return format_date(to_local(until - timedelta(microseconds=1)).date())

    def may_resubmit(self, now: datetime | None = None) -> bool:
        until = self.resubmit_until()
        return until is not None and (now or utcnow()) < until

    @property
    def portal_action(self) -> tuple[str, object] | None:
        """The enterprise's action on its pages and its link text, or ``None``: the table's
        (``workflow.portal_action``), unless a rejected declaration's window has passed."""
        if self.status == workflow.REJECTED and not self.may_resubmit():
            return None
        return workflow.portal_action(self.status)

    @property
    def outcome_label(self):
        return workflow.OUTCOMES[self.bureau_outcome].label if self.bureau_outcome else None

    @property
    def outcome_badge(self) -> str:
        return workflow.OUTCOMES[self.bureau_outcome].badge if self.bureau_outcome else ""

    def files_for(self, slot: str) -> list[DeclarationFile]:
        return [f for f in self.files if f.slot == slot]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_masked or '—'})"


class DeclarationFile(db.Model):
    """``slot``: ``social_insurance``, ``integrity`` or ``evidence``."""

    __tablename__ = "declaration_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declaration.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    slot: Mapped[str] = mapped_column(String(24))
    label: Mapped[str] = mapped_column(String(100))

    attachment: Mapped[Attachment] = relationship(lazy="joined")
