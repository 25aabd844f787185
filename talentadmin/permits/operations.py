"""Applying for the business permission and deciding on it."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..certification.operations import approved as approved_certification
from ..core import audit
from ..core.errors import FieldError
from ..core.notify import notify
from ..core.params import optional_id
from ..core.timeutil import utcnow
from ..core.workflow import (
    Conflict,
    TransitionError,
    check_reason,
    created,
    move,
    unique_or_conflict,
)
from ..extensions import db
from . import workflow
from .models import Permit, PermitFile, PermitRevision


def permit_of(user_id: int) -> Permit | None:
    return db.session.execute(
        select(Permit).where(Permit.enterprise_user_id == user_id)).scalar_one_or_none()


def has_approved_permit(user_id: int) -> bool:
    permit = permit_of(user_id)
    return permit is not None and permit.approved


def submit(user, form) -> PermitRevision:
    """A new revision from a validated form whose files were collected. One revision
    waits for review at a time, numbered in order: a second submission at the same moment
    (a double-posted form) meets the unique constraints and is refused, rolled back to a
    savepoint."""
    cert = approved_certification(user.id)
    if cert is None:
        raise FieldError("qualifications", _("Certify the unit first: only a certified unit "
                                             "may apply."))
    try:
        with unique_or_conflict():
            revision = _new_revision(user, cert, form)
    except Conflict:
        raise FieldError("qualifications", already_waiting()) from None
    created(revision, workflow.WORKFLOW, "submit", actor=user,  # timeline row + audit event
            detail={"number": revision.number, "permit": revision.permit_id})
    return revision


def already_waiting() -> str:
    return _("An application is already waiting for review.")


def _new_revision(user, cert, form) -> PermitRevision:
    permit = permit_of(user.id)
    if permit is None:
        permit = Permit(enterprise_user_id=user.id)
        db.session.add(permit)
        db.session.flush()
    else:
        db.session.refresh(permit, ["revisions"])  # read now, not when the page was opened
    latest = permit.latest
    if latest is not None and latest.status == workflow.PENDING:
        raise Conflict(workflow.PENDING)
    years = form.years
    revision = PermitRevision(
        permit=permit, number=(latest.number + 1) if latest else 1,
        status=workflow.PENDING, unit_name=cert.name, credit_code=cert.credit_code,
        qualifications=list(form.qualifications.data),
        registered_district=form.registered_district.data, tax_district=form.tax_district.data,
        field=form.field.data, contact_name=form.contact_name.data.strip(),
        contact_mobile=form.contact_mobile.data,
        tax_year_1=years[0], tax_amount_1=Decimal(form.tax_1.data),
        tax_year_2=years[1], tax_amount_2=Decimal(form.tax_2.data),
        tax_year_3=years[2], tax_amount_3=Decimal(form.tax_3.data),
        intro=form.intro.data.strip(), submitted_at=utcnow(),
    )
    chosen = set(revision.qualifications)
    for item in form.qualification_items:
        if item.needs_evidence and item.code in chosen:
            _add_files(revision, form.kept.get(f"cert_{item.code}", []),
                       f"qualification:{item.code}", item.evidence_zh or item.name_zh)
    for n, year in enumerate(years, start=1):
        _add_files(revision, form.kept.get(f"tax_file_{n}", []), f"tax:{n}",
                   f"{year}年缴纳税费凭证")
    db.session.add(revision)
    db.session.flush()
    return revision


def _add_files(revision: PermitRevision, attachments, slot: str, label: str) -> None:
    """The files of one slot, labelled ``label`` (材料名称, the download name), numbered
    ``label（1）``, ``label（2）``… when there are several (monthly receipts of a year)."""
    for k, attachment in enumerate(attachments, start=1):
        revision.files.append(PermitFile(
            attachment=attachment, slot=slot,
            label=f"{label}（{k}）" if len(attachments) > 1 else label))


def approve(revision: PermitRevision, staff) -> bool:
    return decide(revision, staff, "approve")


def reject(revision: PermitRevision, staff, reason: str) -> bool:
    return decide(revision, staff, "reject", reason)


def decide(revision: PermitRevision, staff, action: str, reason: str | None = None) -> bool:
    """One staff decision as the table declares it (its reason, stamped date and notice): a
    compare-and-set on the status and version. ``FieldError`` for a missing reason;
    ``False`` when the revision was no longer pending (someone else decided first) or not
    for this role. An approved revision becomes the one in force."""
    step = workflow.WORKFLOW.transition(action)
    reason = check_reason(reason) if step.reason else None
    try:
        move(revision, workflow.WORKFLOW, action, staff.role_names, actor=staff, reason=reason,
             values={"reason": reason, "decided_by_id": staff.id})
    except (TransitionError, Conflict):
        return False
    permit = revision.permit
    if revision.status == workflow.APPROVED:
        permit.in_force_id = revision.id
    if step.notice:
        notify(permit.enterprise_user, step.notice, link="/talent/declare",
               **({"reason": reason} if reason else {}))
    return True


ADMIN_FIELDS = ("registered_district", "tax_district", "field", "contact_name",
                "contact_mobile", "intro")


def admin_update(revision: PermitRevision, staff, form) -> dict:
    """An administrator's correction of a revision, audited with the before and after;
    refused when the revision changed since the form was opened."""
    seen = optional_id(form.version.data)  # missing or not a number: as if stale
    claimed = seen is not None and db.session.execute(
        update(PermitRevision)
        .where(PermitRevision.id == revision.id, PermitRevision.version == seen)
        .values(version=PermitRevision.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not claimed:
        raise FieldError("contact_name", _(
            "This application was changed elsewhere since you opened it. Reload the page "
            "to see the current version, then make your change again."))
    return audit.correct(revision, form, ADMIN_FIELDS, "permit.admin_update", staff)
