"""Everything that changes a certification: upload and OCR, submit, staff decisions."""

from __future__ import annotations

import logging
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
from .licence import (
    LOW_CHAR_CONFIDENCE,
    compact_with_confidences,
    fold_code_text,
    parse_licence,
)
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
    """Store the licence and open a record in ``reading``: a worker reads it after the commit
    (:func:`read`; without a task queue, right after the commit) and the operator confirms
    the values next. No database transaction waits on the OCR engine."""
    from ..jobs import readings

    try:
        licence = storage.save_upload(file_storage, enterprise_user_id=user.id)
    except storage.UploadError as error:
        audit.record("certification.upload", outcome="failure", detail={"reason": error.reason})
        raise FieldError("licence", storage.upload_error_message(error.reason)) from None
    cert = Certification(enterprise_user_id=user.id, licence=licence, status=workflow.READING)
    db.session.add(cert)
    db.session.flush()
    created(cert, workflow.WORKFLOW, "upload", actor=user)  # timeline + audit
    readings.after_upload(cert.id)
    return cert


def read(cert_id: int) -> bool:
    """Read the licence of certification ``cert_id`` if it waits in ``reading``, then record
    the values (or none, when OCR finds nothing or fails) and move it to ``recognised``, in a
    short transaction of its own; ``False`` when it was not waiting or another reader
    recorded it first. The engine reads with no transaction open."""
    from .ocr import OcrError, read_licence

    cert = db.session.get(Certification, cert_id)
    if cert is None or cert.status != workflow.READING:
        db.session.rollback()
        return False
    data, licence_id = storage.read_bytes(cert.licence), cert.licence_id
    db.session.rollback()  # nothing held while the engine reads
    try:
        reading = read_licence(data, engine=_engine_name())
    except OcrError as error:  # unreadable after all: the operator types, staff review
        log.warning("licence OCR failed for attachment %s: %s", licence_id, error)
        reading = None
    return _record(cert_id, reading)


def give_up_reading(cert: Certification) -> bool:
    """Stop waiting for a reading that never came (its worker died, the broker lost it): the
    operator types the values, as for an unreadable licence."""
    return _record(cert.id, None, detail={"gave_up": True})


def _record(cert_id: int, reading, detail: dict | None = None) -> bool:
    cert = db.session.get(Certification, cert_id)
    if cert is None or cert.status != workflow.READING:
        db.session.rollback()
        return False
    if reading is not None:
        record_reading(cert, reading)
    values = {key: getattr(cert, key) for key in (
        "ocr_name", "ocr_credit_code", "ocr_code_valid", "ocr_code_corrected_from",
        "ocr_name_uncertain", "ocr_code_uncertain", "ocr_engine", "ocr_seconds")}
    try:
        move(cert, workflow.WORKFLOW, "read", {SYSTEM}, values=values, detail={
            **(detail or {}), "name_read": bool(cert.ocr_name),
            "code_read": bool(cert.ocr_credit_code), "code_valid": cert.ocr_code_valid,
            "code_corrected": cert.code_corrected,
            "name_uncertain": bool(cert.ocr_name_uncertain), "engine": cert.ocr_engine})
    except Conflict:  # another reader recorded it a moment ago
        db.session.rollback()
        return False
    db.session.commit()
    return True


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
    read = cert.ocr_code_corrected_from or cert.ocr_credit_code
    uncertain = code_uncertain_positions(reading.lines, read) if read else None
    if uncertain is not None:
        cert.ocr_code_uncertain = ",".join(str(i) for i in uncertain)
    cert.ocr_engine = reading.engine
    cert.ocr_seconds = round(reading.seconds, 3)


def code_uncertain_positions(lines, read: str) -> tuple[int, ...] | None:
    """Positions in the code as read (``read``) of the characters OCR scored below
    :data:`~.licence.LOW_CHAR_CONFIDENCE`, from the first line whose folded text holds the
    code; None when no line holds it whole (then no character counts as uncertain)."""
    for line in lines:
        text, conf = line[0], line[2]
        _compact, scores = compact_with_confidences(text, conf)
        folded = fold_code_text(text)
        start = folded.find(read)
        if start >= 0 and len(folded) == len(scores):
            return tuple(i for i, score in enumerate(scores[start:start + len(read)])
                         if score < LOW_CHAR_CONFIDENCE)
    return None


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


# Why a submitted certification waits for staff (keys of ``review_reasons``).
UNREAD = "unread"
NAME_CHANGED = "name_changed"
CODE_CHANGED = "code_changed"
CODE_CLEAR = "code_clear"
CODE_UNSETTLED = "code_unsettled"
CODE_PROBLEMS = "code_problems"
CONFLICT = "conflict"

REASONS = {
    UNREAD: _l("The licence could not be read, so staff compare the values you typed with "
               "the licence."),
    NAME_CHANGED: _l("The unit name differs from the one read from the licence."),
    CODE_CHANGED: _l("The credit code differs from the one read from the licence in more "
                     "than one character."),
    CODE_CLEAR: _l("A character of the credit code that the licence shows clearly (read with "
                   "a high score) was corrected."),
    CODE_UNSETTLED: _l("The credit code read from the licence did not pass its checks as "
                       "read."),
    CODE_PROBLEMS: _l("The credit code fails a check of its parts (listed below)."),
    CONFLICT: _l("Another account has already certified this credit code: staff check which "
                 "account acts for the unit."),
}

_WHITESPACE = re.compile(r"\s+")


def review_reasons(cert: Certification, *, name: str, credit_code: str, conflict: bool,
                   problems: list[str]) -> list[str]:
    """Why the values submitted for ``cert`` wait for staff; empty: approved at once.

    The rule of automatic approval (the guide: a certification by the licence's recognition
    passes without waiting for staff, after the operator checked and adjusted the values):

    1. OCR read both a name and a credit code from the licence;
    2. the name is the name read, but for whitespace (OCR drops the spaces of a Latin name);
    3. the code is the code read as printed when that passed every check; else it differs
       from the code as read (before any correction the page offered) in exactly one
       character, and OCR scored that character low (below 0.9): the corrected character is
       the one the engine itself doubted. The code read failed its GB 32100 check character,
       which catches every single wrong character, so at most a few codes lie one character
       away from it and pass; the low score says which one;
    4. the code passes every check of its parts: registration authority and category,
       administrative division (GB/T 2260), organisation code (GB 11714) and check character
       (GB 32100);
    5. no other account holds an approved certification with that code.

    A correction the page offered (one code within the OCR confusions passes every check)
    and the operator confirms counts as the operator's: approved at once when it changed one
    low-scored character, else reviewed. Everything else waits for staff, with these reasons
    shown to the enterprise.
    """
    reasons = []
    if not (cert.ocr_name and cert.ocr_credit_code):
        reasons.append(UNREAD)
    else:
        if _WHITESPACE.sub("", name) != _WHITESPACE.sub("", cert.ocr_name):
            reasons.append(NAME_CHANGED)
        code_reason = _code_reason(cert, credit_code)
        if code_reason:
            reasons.append(code_reason)
    if problems:
        reasons.append(CODE_PROBLEMS)
    if conflict:
        reasons.append(CONFLICT)
    return reasons


def _code_reason(cert: Certification, code: str) -> str | None:
    if cert.ocr_code_valid and not cert.code_corrected:
        return None if code == cert.ocr_credit_code else CODE_CHANGED
    read = cert.ocr_code_corrected_from or cert.ocr_credit_code or ""
    if code == read:  # failing a soft check (CODE_PROBLEMS) or unsettled by the engine
        return None if creditcode.soft_problems(code) else CODE_UNSETTLED
    changed = [i for i, (a, b) in enumerate(zip(code, read, strict=False)) if a != b]
    if len(code) != len(read) or len(changed) != 1:
        return CODE_CHANGED
    uncertain = {int(p) for p in (cert.ocr_code_uncertain or "").split(",") if p.isdigit()}
    if changed[0] not in uncertain:
        return CODE_CLEAR
    return None


def waiting_reasons(cert: Certification) -> list[str]:
    """The translated reasons a submitted certification waits for staff (the rule of
    :func:`review_reasons` applied to what was submitted)."""
    if cert.status != workflow.MANUAL_REVIEW:
        return []
    keys = review_reasons(cert, name=cert.name or "", credit_code=cert.credit_code or "",
                          conflict=cert.conflict, problems=cert.code_problem_keys)
    return [str(REASONS[key]) for key in keys]


def correction_approvable(cert: Certification) -> bool:
    """The page offered a correction that is approved at once if confirmed unchanged."""
    return bool(cert.code_corrected and cert.ocr_name and cert.ocr_credit_code
                and _code_reason(cert, cert.ocr_credit_code) is None
                and not creditcode.credit_code_problems(cert.ocr_credit_code))


def submit(cert: Certification, *, name: str, credit_code: str, email: str) -> None:
    """The operator confirms (or corrects) the values: approve at once or queue for review.

    Approved at once by the rule of :func:`review_reasons`. A typed code failing only the
    registrar, division or GB 11714 check is accepted and flagged for staff
    (``code_problems``). A second submit of the same record (a double click) finds it moved
    and is refused.
    """
    if cert.status != workflow.RECOGNISED:
        raise FieldError("name", already_submitted())
    name, email, now = name.strip(), email.strip(), utcnow()
    conflict = code_held_elsewhere(credit_code, cert.enterprise_user_id)
    problems = creditcode.soft_problems(credit_code)
    reasons = review_reasons(cert, name=name, credit_code=credit_code, conflict=conflict,
                             problems=problems)
    values = {"name": name, "credit_code": credit_code, "email": email, "submitted_at": now,
              "conflict": conflict, "code_problems": ",".join(problems) or None}
    corrected = credit_code != (cert.ocr_code_corrected_from or cert.ocr_credit_code)
    try:
        if not reasons:
            move(cert, workflow.WORKFLOW, "auto_approve", {SYSTEM},
                 values={**values, "decided_at": now},
                 detail={"code_corrected": corrected} if corrected else None)
            import_pending_after_commit(cert)
        else:
            move(cert, workflow.WORKFLOW, "submit_for_review", {ENTERPRISE}, values=values,
                 detail={"reasons": reasons})
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
