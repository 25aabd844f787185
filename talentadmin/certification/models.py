"""Unit certification records: one per attempt, the newest is the account's current one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import EnterpriseUser, StaffUser
from ..core.models import Attachment
from ..core.timeutil import utcnow
from ..extensions import db
from . import workflow


class Certification(db.Model):
    __tablename__ = "certification"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_user_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise_user.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=workflow.RECOGNISED, index=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    # What OCR read
    ocr_name: Mapped[str | None] = mapped_column(String(200))
    ocr_credit_code: Mapped[str | None] = mapped_column(String(18))
    ocr_code_valid: Mapped[bool] = mapped_column(default=False)
    ocr_engine: Mapped[str | None] = mapped_column(String(16))
    ocr_seconds: Mapped[float | None]
    # What the operator confirmed
    name: Mapped[str | None] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    conflict: Mapped[bool] = mapped_column(default=False)  # code approved for another account
    reason: Mapped[str | None] = mapped_column(Text)  # of a rejection
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )

    enterprise_user: Mapped[EnterpriseUser] = relationship()
    licence: Mapped[Attachment] = relationship()
    decided_by: Mapped[StaffUser | None] = relationship()

    @property
    def status_label(self) -> str:
        return str(workflow.LABELS[self.status])

    @property
    def name_changed(self) -> bool:
        return (self.name or "") != (self.ocr_name or "")

    @property
    def code_changed(self) -> bool:
        return (self.credit_code or "") != (self.ocr_credit_code or "")

    def __str__(self) -> str:
        return self.name or self.ocr_name or f"#{self.id}"
