"""Two staff procedures for a unit whose operator's phone is lost or who has left (admins only):

- **mobile change**: the account's registered mobile number becomes another one;
- **unit move**: the unit — its certification records, business permission, declarations, the
  files uploaded for them and the notices about them — moves from one account to another
  (the new operator's, typically flagged as a certification conflict and empty so far).

Each needs a reason and an evidence file (the unit's signed letter), shown first on a
confirmation page; what that page showed is signed into its form together with a
fingerprint of the accounts and the records, and a confirmation over anything changed since
is refused. Each ends every session of the accounts concerned (a new security stamp), is
audited with the evidence's attachment id, and tells both numbers by SMS (through the outbox,
after the commit).

Timelines (``status_change``) belong to the records, so they move with them. The new
account's own certification attempts (the conflicting ones) go to the old account, closed:
the moved unit's approved certification is then the new account's current record, and the
old account's page shows why it no longer acts for the unit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from ..core import audit
from ..core.errors import FieldError
from ..core.models import Attachment, Notice
from ..core.notify import notice_texts, notify, queue_sms
from ..core.sms import chinese, signed
from ..core.validators import mask_mobile
from ..core.workflow import Conflict, log_moves, unique_or_conflict
from ..extensions import db
from .models import EnterpriseUser, new_stamp

NOTICES = notice_texts({
    "account.mobile_changed": _l("The office changed this account's registered mobile number "
                                 "to %(to)s. Reason: %(reason)s"),
    "account.unit_moved": _l("The office moved the unit %(unit)s to this account. "
                             "Reason: %(reason)s"),
})
SALT = "talentadmin.accounts.transfer"


class Stale(Exception):
    """The confirmation page no longer shows what is there (or its form was tampered with)."""


# --- what a procedure touches ----------------------------------------------------------------


@dataclass
class Holdings:
    """The unit records an account holds, by id."""

    certifications: list[int] = field(default_factory=list)
    approved: list[int] = field(default_factory=list)
    permit: int | None = None
    declarations: list[int] = field(default_factory=list)
    attachments: list[int] = field(default_factory=list)
    notices: list[int] = field(default_factory=list)
    unit_name: str = ""
    credit_code: str = ""

    @property
    def empty_of_unit(self) -> bool:
        """Nothing of a unit: no approved certification, no permission, no declaration."""
        return not (self.approved or self.permit or self.declarations)

    def as_key(self) -> list:
        return [self.certifications, self.approved, self.permit, self.declarations,
                self.attachments, self.notices]


def holdings(user_id: int) -> Holdings:
    from ..certification import workflow as cert_workflow
    from ..certification.models import Certification
    from ..declarations.models import Declaration
    from ..permits.models import Permit

    ids = lambda column, *where: list(db.session.execute(  # noqa: E731
        select(column).where(*where).order_by(column)).scalars())
    certs = db.session.execute(
        select(Certification.id, Certification.status, Certification.name,
               Certification.credit_code)
        .where(Certification.enterprise_user_id == user_id).order_by(Certification.id)).all()
    approved = [row for row in certs if row.status == cert_workflow.APPROVED]
    return Holdings(
        certifications=[row.id for row in certs],
        approved=[row.id for row in approved],
        permit=db.session.execute(select(Permit.id).where(
            Permit.enterprise_user_id == user_id)).scalar_one_or_none(),
        declarations=ids(Declaration.id, Declaration.enterprise_user_id == user_id),
        attachments=ids(Attachment.id, Attachment.enterprise_user_id == user_id),
        notices=ids(Notice.id, Notice.enterprise_user_id == user_id),
        unit_name=(approved[-1].name or "") if approved else "",
        credit_code=(approved[-1].credit_code or "") if approved else "",
    )


def fingerprint(*accounts: EnterpriseUser) -> str:
    """What a confirmation page showed: the accounts (number, stamp, active) and their
    records. Any change in between changes it."""
    state = [[a.id, a.mobile, a.security_stamp, a.active, holdings(a.id).as_key()]
             for a in accounts]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def sign(payload: dict) -> str:
    return _serializer().dumps(payload)


def unsign(token: str) -> dict:
    try:
        payload = _serializer().loads(token or "")
    except BadSignature:
        raise Stale() from None
    if not isinstance(payload, dict):
        raise Stale()
    return payload


def evidence(attachment_id) -> Attachment:
    found = db.session.get(Attachment, attachment_id) if isinstance(attachment_id, int) else None
    if found is None or found.enterprise_user_id is not None:
        raise Stale()
    return found


def _take_stamp(user: EnterpriseUser, seen_stamp: str, **values) -> None:
    """Compare-and-set: the account as the confirmation page saw it gets a new stamp (every
    session of it ends) and ``values``; of two confirmations at once, one wins."""
    changed = db.session.execute(
        update(EnterpriseUser)
        .where(EnterpriseUser.id == user.id, EnterpriseUser.security_stamp == seen_stamp)
        .values(security_stamp=new_stamp(), **values)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise Stale()
    db.session.refresh(user)


def _sms(mobile: str, text: str, kind: str) -> None:
    queue_sms(mobile, signed(text), kind)


# --- mobile change -----------------------------------------------------------------------------


def check_new_mobile(user: EnterpriseUser, new_mobile: str) -> None:
    if new_mobile == user.mobile:
        raise FieldError("new_mobile", _("This is already the account's registered number."))
    if db.session.execute(select(EnterpriseUser.id).where(
            EnterpriseUser.mobile == new_mobile)).first():
        raise FieldError("new_mobile", _("This number belongs to another account and cannot "
                                         "be used."))


def change_mobile(user: EnterpriseUser, new_mobile: str, *, reason: str, evidence_id: int,
                  seen: str, staff) -> None:
    """The account's registered number becomes ``new_mobile``; its password is cleared (whoever
    knew it may be the one who left) and every session of it ends. ``seen``: the fingerprint
    the confirmation page showed."""
    proof = evidence(evidence_id)
    if fingerprint(user) != seen:
        raise Stale()
    check_new_mobile(user, new_mobile)
    old = user.mobile
    try:
        with unique_or_conflict():  # the number registered at this very moment
            _take_stamp(user, user.security_stamp, mobile=new_mobile, password_hash=None)
    except Conflict:
        raise FieldError("new_mobile", _("This number belongs to another account and cannot "
                                         "be used.")) from None
    audit.record("enterprise.mobile_reassign", actor=staff, target=user, detail={
        "from": mask_mobile(old), "to": mask_mobile(new_mobile), "reason": reason,
        "evidence": proof.id})
    with chinese():
        _sms(old, _("The office changed the registered mobile number of your account on the "
                    "talent declaration system to %(to)s; this number no longer logs in.",
                    to=mask_mobile(new_mobile)), "account.mobile_changed")
    notify(user, "account.mobile_changed", to=mask_mobile(new_mobile), reason=reason)


# --- unit move ---------------------------------------------------------------------------------


def find_target(source: EnterpriseUser, mobile: str) -> EnterpriseUser:
    target = db.session.execute(select(EnterpriseUser).where(
        EnterpriseUser.mobile == mobile)).scalar_one_or_none()
    if target is None:
        raise FieldError("target_mobile", _("No account is registered with this number: the "
                                            "new operator logs in with it once first."))
    if target.id == source.id:
        raise FieldError("target_mobile", _("Choose another account than the one the unit is "
                                            "in."))
    check_move(source, target)
    return target


def check_move(source: EnterpriseUser, target: EnterpriseUser) -> None:
    if holdings(source.id).empty_of_unit:
        raise FieldError("target_mobile", _("This account holds no unit records to move."))
    if not target.active:
        raise FieldError("target_mobile", _("That account is disabled: enable it first."))
    if not holdings(target.id).empty_of_unit:
        raise FieldError("target_mobile", _("That account already holds a unit's records "
                                            "(an approved certification, a permission or "
                                            "declarations): the unit can move only to an "
                                            "account without them."))


def move_unit(source: EnterpriseUser, target: EnterpriseUser, *, reason: str,
              evidence_id: int, seen: str, staff) -> Holdings:
    """Move the unit's records from ``source`` to ``target``; the target's own certification
    attempts go to ``source``, the open ones closed as not approved with ``reason``. Both
    accounts' sessions end. Returns what moved."""
    from ..certification import workflow as cert_workflow
    from ..certification.models import Certification
    from ..declarations.models import Declaration
    from ..permits.models import Permit

    proof = evidence(evidence_id)
    if fingerprint(source, target) != seen:
        raise Stale()
    check_move(source, target)
    moving, theirs = holdings(source.id), holdings(target.id)
    _take_stamp(source, source.security_stamp)
    _take_stamp(target, target.security_stamp)

    open_ones = list(db.session.execute(
        update(Certification)
        .where(Certification.id.in_(theirs.certifications),
               Certification.status == cert_workflow.MANUAL_REVIEW)
        .values(status=cert_workflow.REJECTED, reason=reason)
        .returning(Certification.id)
        .execution_options(synchronize_session=False)).scalars())
    log_moves("certification", [(cid, cert_workflow.MANUAL_REVIEW, cert_workflow.REJECTED)
                                for cid in sorted(open_ones)],
              "certification.reject", action="reject", actor=staff, reason=reason)

    def repoint(model, ids, to: int) -> None:
        if ids:
            db.session.execute(update(model).where(model.id.in_(ids))
                               .values(enterprise_user_id=to)
                               .execution_options(synchronize_session=False))

    # The target's attempts (and their licences) first, then the unit's records.
    licences = list(db.session.execute(select(Certification.licence_id).where(
        Certification.id.in_(theirs.certifications))).scalars())
    repoint(Certification, theirs.certifications, source.id)
    repoint(Attachment, [a for a in theirs.attachments if a in licences], source.id)
    repoint(Certification, moving.certifications, target.id)
    repoint(Permit, [moving.permit] if moving.permit else [], target.id)
    repoint(Declaration, moving.declarations, target.id)
    repoint(Attachment, moving.attachments, target.id)
    repoint(Notice, moving.notices, target.id)
    db.session.expire_all()

    counts = {"certifications": len(moving.certifications), "permit": bool(moving.permit),
              "declarations": len(moving.declarations), "files": len(moving.attachments),
              "notices": len(moving.notices), "returned": len(theirs.certifications)}
    detail = {"from": mask_mobile(source.mobile), "to": mask_mobile(target.mobile),
              "unit": moving.unit_name, "credit_code": moving.credit_code, "reason": reason,
              "evidence": proof.id, **counts}
    audit.record("enterprise.unit_move_out", actor=staff, target=source, detail=detail)
    audit.record("enterprise.unit_move_in", actor=staff, target=target, detail=detail)
    with chinese():
        _sms(source.mobile, _("The office moved the unit %(unit)s to another operator's account "
                              "on the talent declaration system; this account no longer acts "
                              "for it.", unit=moving.unit_name), "account.unit_moved")
    notify(target, "account.unit_moved", unit=moving.unit_name, reason=reason)
    return moving
