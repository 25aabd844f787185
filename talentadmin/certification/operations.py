"""Everything that changes a certification: upload and OCR, submit, staff decisions."""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select

from ..core import audit, storage
from ..core.errors import FieldError
from ..core.notify import notify
from ..core.timeutil import utcnow
from ..core.workflow import ENTERPRISE, SYSTEM, Conflict, TransitionError, check_reason, move
from ..extensions import db
from . import workflow
from .models import Certification

log = logging.getLogger(__name__)


def current(user_id: int) -> Certification | None:
    """The account's newest certification record (its current state)."""
    return db.session.execute(
        select(Certification)
        .where(Certification.enterprise_user_id == user_id)
        .order_by(Certification.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def approved(user_id: int) -> Certification | None:
    """The newest approved certification: the unit the account acts for."""
    return db.session.execute(
        select(Certification)
        .where(Certification.enterprise_user_id == user_id,
               Certification.status == workflow.APPROVED)
        .order_by(Certification.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def upload(user, file_storage) -> Certification:
    """Store the licence, read it, and open a record the operator confirms next."""
    from .ocr import OcrError, read_licence

    try:
        licence = storage.save_upload(file_storage, enterprise_user_id=user.id)
    except storage.UploadError as error:
        audit.record("certification.upload", outcome="failure", detail={"reason": error.reason})
        raise FieldError("licence", storage.upload_error_message(error.reason)) from None
    cert = Certification(enterprise_user_id=user.id, licence=licence,
                         status=workflow.RECOGNISED)
    try:
        reading = read_licence(storage.read_bytes(licence), engine=_engine_name())
    except OcrError as error:  # unreadable after all: the operator types, staff review
        log.warning("licence OCR failed for attachment %s: %s", licence.id, error)
    else:
        cert.ocr_name = reading.name
        cert.ocr_credit_code = reading.credit_code
        cert.ocr_code_valid = reading.credit_code_valid
        cert.ocr_engine = reading.engine
        cert.ocr_seconds = round(reading.seconds, 3)
    db.session.add(cert)
    db.session.flush()
    audit.record("certification.upload", target=cert, detail={
        "name_read": bool(cert.ocr_name), "code_read": bool(cert.ocr_credit_code),
        "code_valid": cert.ocr_code_valid, "engine": cert.ocr_engine})
    return cert


def _engine_name():
    """The configured engine: a name for the default, a built engine for EasyOCR (its model
    folder comes from the configuration)."""
    from flask import current_app

    from .ocr import get_engine

    name = current_app.config["OCR_ENGINE"]
    if name == "easyocr":
        return get_engine("easyocr", model_dir=current_app.config["EASYOCR_MODEL_DIR"])
    return name


def code_held_elsewhere(code: str, user_id: int) -> bool:
    return db.session.execute(
        select(Certification.id).where(
            Certification.credit_code == code,
            Certification.status == workflow.APPROVED,
            Certification.enterprise_user_id != user_id,
        ).limit(1)
    ).first() is not None


def submit(cert: Certification, *, name: str, credit_code: str, email: str) -> None:
    """The operator confirms (or corrects) the values: approve at once or queue for review.

    Automatic approval needs a name and a check-digit-valid code from OCR, both
    unchanged by the operator, and no other account holding that code. A second submit
    of the same record (a double click) finds it moved and is refused.
    """
    if cert.status != workflow.RECOGNISED:
        raise FieldError("name", already_submitted())
    name, email, now = name.strip(), email.strip(), utcnow()
    conflict = code_held_elsewhere(credit_code, cert.enterprise_user_id)
    clean = bool(cert.ocr_name and cert.ocr_credit_code and cert.ocr_code_valid)
    unchanged = name == (cert.ocr_name or "") and credit_code == (cert.ocr_credit_code or "")
    values = {"name": name, "credit_code": credit_code, "email": email, "submitted_at": now,
              "conflict": conflict}
    try:
        if clean and unchanged and not conflict:
            move(cert, workflow.WORKFLOW, "auto_approve", {SYSTEM},
                 values={**values, "decided_at": now})
        else:
            move(cert, workflow.WORKFLOW, "submit_for_review", {ENTERPRISE}, values=values)
    except Conflict:
        raise FieldError("name", already_submitted()) from None


def already_submitted() -> str:
    return _("This certification was already submitted.")


def approve(cert: Certification, staff) -> None:
    _decide(cert, staff, "approve")


def reject(cert: Certification, staff, reason: str) -> None:
    reason = check_reason(reason)
    _decide(cert, staff, "reject", reason)


def _decide(cert: Certification, staff, action: str, reason: str | None = None) -> None:
    """One decision, a compare-and-set: of two reviewers deciding at once, one wins and
    the other is told the record is no longer waiting."""
    try:
        move(cert, workflow.WORKFLOW, action, staff.role_names, reason=reason, actor=staff,
             values={"reason": reason, "decided_at": utcnow(), "decided_by_id": staff.id})
    except (TransitionError, Conflict) as error:
        raise FieldError("reason", _("Your role may not decide certifications.")
                         if getattr(error, "reason", "").startswith("not allowed")
                         else _("This certification is no longer waiting for review.")) from None
    notify(cert.enterprise_user, f"certification.{cert.status}", link="/certification/",
           **({"reason": reason} if reason else {}))
