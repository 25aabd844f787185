"""Unit certification records: one per attempt, the newest is the account's current one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import EnterpriseUser, StaffUser
from ..core import creditcode
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
    # The code as read when ocr_credit_code is its correction (the one code within the OCR
    # confusions passing every check): shown to the operator and staff; approved automatically
    # only by the rule of certification.operations.review_reasons.
    ocr_code_corrected_from: Mapped[str | None] = mapped_column(String(18))
    # Positions in the code as read (ocr_code_corrected_from, else ocr_credit_code) of the
    # characters read with a low score ("3,16"): a one-character correction there may be
    # approved automatically (certification.operations.review_reasons).
    ocr_code_uncertain: Mapped[str | None] = mapped_column(String(64))
    # Positions in ocr_name of the characters read with a low score ("0,5"), highlighted.
    ocr_name_uncertain: Mapped[str | None] = mapped_column(String(200))
    # What the operator confirmed
    name: Mapped[str | None] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    conflict: Mapped[bool] = mapped_column(default=False)  # code approved for another account
    # The checks the confirmed code fails but may fail (registrar, division, organisation: see
    # core.creditcode.SOFT_PROBLEMS), comma-separated; such a code is reviewed by staff.
    code_problems: Mapped[str | None] = mapped_column(String(64))
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

    @property
    def code_corrected(self) -> bool:
        """The offered code is a correction of what was read (see ocr_code_corrected_from)."""
        return bool(self.ocr_code_corrected_from)

    @property
    def code_problem_keys(self) -> list[str]:
        return creditcode.parse_problems(self.code_problems)

    @property
    def code_problem_messages(self) -> list[str]:
        """Why staff should look at the confirmed code (translated), empty when it passes."""
        return [creditcode.problem_message(p) for p in self.code_problem_keys]

    @property
    def ocr_code_problem_messages(self) -> list[str]:
        """The checks the code read from the licence fails (translated)."""
        if not self.ocr_credit_code or self.ocr_code_valid or self.code_corrected:
            return []
        return [creditcode.problem_message(p)
                for p in creditcode.credit_code_problems(self.ocr_credit_code)]

    @property
    def name_uncertain_positions(self) -> list[int]:
        return [int(p) for p in (self.ocr_name_uncertain or "").split(",") if p.isdigit()]

    @property
    def ocr_name_segments(self) -> list[tuple[str, bool]]:
        """``ocr_name`` as runs of ``(text, uncertain)`` for highlighting."""
        uncertain = set(self.name_uncertain_positions)
        segments: list[tuple[str, bool]] = []
        for i, char in enumerate(self.ocr_name or ""):
            flag = i in uncertain
            if segments and segments[-1][1] == flag:
                segments[-1] = (segments[-1][0] + char, flag)
            else:
                segments.append((char, flag))
        return segments

    def __str__(self) -> str:
        return self.name or self.ocr_name or f"#{self.id}"
