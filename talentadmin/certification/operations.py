"""Everything that changes a certification: upload and OCR, submit, staff decisions."""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select

from ..core import audit, creditcode, storage
from ..core.errors import FieldError
from ..core.notify import notify
from ..core.timeutil import utcnow
from ..core.workflow import (
    ENTERPRISE,
    SYSTEM,
    Conflict,
    TransitionError,
    check_reason,
    created,
    move,
)
from ..extensions import db
from . import workflow
from .licence import parse_licence
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
        record_reading(cert, reading)
    db.session.add(cert)
    db.session.flush()
    created(cert, workflow.WORKFLOW, "upload", actor=user, detail={  # timeline + audit
        "name_read": bool(cert.ocr_name), "code_read": bool(cert.ocr_credit_code),
        "code_valid": cert.ocr_code_valid, "code_corrected": cert.code_corrected,
        "name_uncertain": bool(cert.ocr_name_uncertain), "engine": cert.ocr_engine})
    return cert


def record_reading(cert: Certification, reading) -> None:
    """Copy an OCR reading onto the record: the values, whether the code passed every check
    as read, the code as read when the value is its correction, the uncertain name characters.

    The details come from the reading's ``fields`` (a :class:`~.licence.LicenceFields`) when it
    carries them, else from parsing its lines again; they are kept only where they describe
    the values the reading reports (a vote between passes may report other values).
    """
    fields = getattr(reading, "fields", None) or parse_licence(reading.lines)
    cert.ocr_name = reading.name
    cert.ocr_credit_code = reading.credit_code
    # Valid means read as printed and passing every check (registrar, division, GB 11714,
    # GB 32100), whatever the engine module thought of it.
    cert.ocr_code_valid = bool(reading.credit_code_valid and reading.credit_code
                               and creditcode.credit_code_valid(reading.credit_code)
                               and not (fields.credit_code == reading.credit_code
                                        and fields.code_corrected_from))
    if fields.credit_code == reading.credit_code and fields.code_corrected_from:
        cert.ocr_code_corrected_from = fields.code_corrected_from
    if fields.name == reading.name and fields.name_uncertain:
        cert.ocr_name_uncertain = ",".join(str(i) for i in fields.name_uncertain)[:200]
    cert.ocr_engine = reading.engine
    cert.ocr_seconds = round(reading.seconds, 3)


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

    Automatic approval needs all of: a name and a code read by OCR, the code read as printed
    (not a correction) and passing every check (registrar and category, administrative
    division, GB 11714 organisation code, GB 32100 check character), both values confirmed
    unchanged, and no other account holding that code. A typed code failing only the
    registrar, division or GB 11714 check is accepted and flagged for staff (``code_problems``).
    A second submit of the same record (a double click) finds it moved and is refused.
    """
    if cert.status != workflow.RECOGNISED:
        raise FieldError("name", already_submitted())
    name, email, now = name.strip(), email.strip(), utcnow()
    conflict = code_held_elsewhere(credit_code, cert.enterprise_user_id)
    problems = creditcode.soft_problems(credit_code)
    clean = bool(cert.ocr_name and cert.ocr_credit_code and cert.ocr_code_valid
                 and not cert.code_corrected)
    unchanged = name == (cert.ocr_name or "") and credit_code == (cert.ocr_credit_code or "")
    values = {"name": name, "credit_code": credit_code, "email": email, "submitted_at": now,
              "conflict": conflict, "code_problems": ",".join(problems) or None}
    try:
        if clean and unchanged and not conflict and not problems:
            move(cert, workflow.WORKFLOW, "auto_approve", {SYSTEM},
                 values={**values, "decided_at": now})
            import_pending_after_commit(cert)
        else:
            move(cert, workflow.WORKFLOW, "submit_for_review", {ENTERPRISE}, values=values)
    except Conflict:
        raise FieldError("name", already_submitted()) from None


def already_submitted() -> str:
    return _("This certification was already submitted.")


def import_pending_after_commit(cert: Certification) -> None:
    """The old system's rows kept for this unit are imported once the approval commits."""
    from ..jobs import imports

    imports.after_approval(cert.credit_code)


def approve(cert: Certification, staff) -> None:
    decide(cert, staff, "approve")


def reject(cert: Certification, staff, reason: str) -> None:
    decide(cert, staff, "reject", reason)


def decide(cert: Certification, staff, action: str, reason: str | None = None) -> None:
    """One staff decision as the table declares it (its reason rule, stamped date and
    notice), a compare-and-set: of two reviewers deciding at once, one wins and the other
    is told the record is no longer waiting."""
    step = workflow.WORKFLOW.transition(action)
    reason = check_reason(reason) if step.reason else None
    try:
        move(cert, workflow.WORKFLOW, action, staff.role_names, reason=reason, actor=staff,
             values={"reason": reason, "decided_by_id": staff.id})
    except (TransitionError, Conflict) as error:
        raise FieldError("reason", _("Your role may not decide certifications.")
                         if getattr(error, "reason", "").startswith("not allowed")
                         else _("This certification is no longer waiting for review.")) from None
    if action == "approve":
        import_pending_after_commit(cert)
    if step.notice:
        notify(cert.enterprise_user, step.notice, link="/certification/",
               **({"reason": reason} if reason else {}))
