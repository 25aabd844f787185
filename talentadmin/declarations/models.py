"""Rounds and declarations."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import EnterpriseUser
from ..core import crypto
from ..core.models import Attachment
from ..core.timeutil import utcnow
from ..extensions import db
from . import workflow


class Round(db.Model):
    """申报批次: declarations are accepted between ``opens_at`` and ``closes_at``."""

    __tablename__ = "round"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.opens_at <= now < self.closes_at

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
        return self.status in workflow.EDITABLE

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
