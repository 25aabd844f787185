"""A unit's business permission and the revisions it was applied for with.

Every submission (the first application, 重新申请 after a rejection, 修改资料 after an
approval) is a new revision; the approved revision in force stays in force until a newer
one is approved, so a change under review never takes the permission away.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import EnterpriseUser, StaffUser
from ..core.models import Attachment
from ..core.timeutil import utcnow
from ..extensions import db
from . import workflow


class Permit(db.Model):
    __tablename__ = "permit"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_user_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise_user.id", ondelete="CASCADE"), unique=True
    )
    in_force_id: Mapped[int | None] = mapped_column(
        ForeignKey("permit_revision.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise_user: Mapped[EnterpriseUser] = relationship()
    in_force: Mapped[PermitRevision | None] = relationship(foreign_keys=[in_force_id],
                                                           post_update=True)
    revisions: Mapped[list[PermitRevision]] = relationship(
        back_populates="permit", foreign_keys="PermitRevision.permit_id",
        order_by="PermitRevision.id",
    )

    @property
    def latest(self) -> PermitRevision | None:
        return self.revisions[-1] if self.revisions else None

    @property
    def approved(self) -> bool:
        return self.in_force_id is not None


class PermitRevision(db.Model):
    __tablename__ = "permit_revision"
    __table_args__ = (
        # Revisions are numbered in order, and one at a time waits for review: a second
        # submission at the same moment is refused by the database, not written twice.
        UniqueConstraint("permit_id", "number", name="uq_permit_revision_number"),
        Index("uq_permit_revision_pending", "permit_id", unique=True,
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("permit.id", ondelete="CASCADE"),
                                           index=True)
    number: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default=workflow.PENDING, index=True)
    # The unit, as certified (read-only on the form)
    unit_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    # What the enterprise filled in
    qualifications: Mapped[list] = mapped_column(JSON, default=list)
    registered_district: Mapped[str] = mapped_column(String(32), index=True)
    tax_district: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(32), index=True)
    contact_name: Mapped[str] = mapped_column(String(64))
    # A mobile (13800138000) or a landline with its area code and extension (010-12345678-123)
    contact_mobile: Mapped[str] = mapped_column(String(32))
    tax_year_1: Mapped[int]
    tax_amount_1: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    tax_year_2: Mapped[int]
    tax_amount_2: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    tax_year_3: Mapped[int]
    tax_amount_3: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    intro: Mapped[str] = mapped_column(Text)
    # Review
    reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))

    permit: Mapped[Permit] = relationship(back_populates="revisions", foreign_keys=[permit_id])
    decided_by: Mapped[StaffUser | None] = relationship()
    # Bumped by each decision and correction (a conditional UPDATE): an administrator's
    # correction made on a stale page is refused, not saved over what happened since.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    files: Mapped[list[PermitFile]] = relationship(
        cascade="all, delete-orphan", order_by="PermitFile.id", lazy="selectin")

    @property
    def status_label(self) -> str:
        return str(workflow.LABELS[self.status])

    @property
    def taxes(self) -> list[tuple[int, Decimal]]:
        return [(self.tax_year_1, self.tax_amount_1), (self.tax_year_2, self.tax_amount_2),
                (self.tax_year_3, self.tax_amount_3)]

    def files_for(self, slot: str) -> list[PermitFile]:
        return [f for f in self.files if f.slot == slot]

    def __str__(self) -> str:
        return f"{self.unit_name} #{self.number}"


class PermitFile(db.Model):
    """An uploaded certificate: ``slot`` is ``qualification:<code>`` or ``tax:<n>``."""

    __tablename__ = "permit_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("permit_revision.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    slot: Mapped[str] = mapped_column(String(48))
    label: Mapped[str] = mapped_column(String(100))  # 材料名称, for the download name

    attachment: Mapped[Attachment] = relationship(lazy="joined")
