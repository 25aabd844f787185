"""Everything that changes a declaration: drafts, submission, the two review stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, false, insert, or_, select

from ..accounts.models import EnterpriseUser
from ..core import audit, crypto
from ..core.errors import FieldError
from ..core.models import Notice
from ..core.notify import notify_many
from ..core.params import record_ids
from ..core.timeutil import local_today, to_local, to_utc, utcnow
from ..core.workflow import (
    ENTERPRISE,
    Conflict,
    TransitionError,
    check_reason,
    move,
    move_many,
    unique_or_conflict,
)
from ..extensions import db
from ..permits.models import PermitRevision
from ..permits.operations import permit_of
from . import workflow
from .models import Declaration, DeclarationFile, Round

FIELDS = ("name", "political_status", "title", "education", "degree", "school", "major",
          "condition", "gender")


def open_round() -> Round | None:
    now = utcnow()
    return db.session.execute(
        select(Round).where(Round.opens_at <= now, Round.closes_at > now)
        .order_by(Round.opens_at.desc()).limit(1)
    ).scalar_one_or_none()


def overlapping_round(opens_at, closes_at, exclude_id: int | None = None) -> Round | None:
    """Another round whose window overlaps: at most one round is open at a time."""
    query = select(Round).where(Round.opens_at < closes_at, Round.closes_at > opens_at)
    if exclude_id:
        query = query.where(Round.id != exclude_id)
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def may_declare(user_id: int) -> tuple[bool, str | None]:
    """Whether the account may add declarations now, and why not."""
    permit = permit_of(user_id)
    if permit is None or not permit.approved:
        return False, _("Declarations need an approved business permission.")
    if open_round() is None:
        return False, _("No declaration round is open now.")
    return True, None


def of_user(user_id: int, *, status: str | None = None, round_id: int | None = None):
    query = select(Declaration).where(Declaration.enterprise_user_id == user_id)
    if status:
        query = query.where(Declaration.status == status)
    if round_id:
        query = query.where(Declaration.round_id == round_id)
    return list(db.session.execute(query.order_by(Declaration.id.desc())).scalars())


def save(user, declaration: Declaration | None, form) -> Declaration:
    """Create or update from a checked form; submit when the form asks to.

    Every rule is checked before anything is changed, so a refusal leaves the session
    clean (the files stored for the form are kept for the next try)."""
    submitting = form.submitting
    if declaration is None:
        if form.form_key.data:  # a re-posted or double-clicked form: one declaration
            existing = _by_form_key(user.id, form.form_key.data)
            if existing is not None:
                raise AlreadySaved(existing)
        allowed, why = may_declare(user.id)
        if not allowed:
            raise FieldError("form", why)
        round_ = open_round()
    else:
        if declaration.status == workflow.REJECTED and not declaration.may_resubmit():
            raise FieldError("form", correction_window_passed(declaration))
        if not declaration.editable:
            raise FieldError("form", _("This declaration can no longer be changed."))
        if str(declaration.version) != (form.version.data or ""):
            raise FieldError("form", changed_elsewhere())
        round_ = declaration.round
        if submitting and not (permit_of(user.id) and permit_of(user.id).approved):
            # an imported declaration (the old system's 未通过) comes back only once the unit's
            # business permission is opened again (the guide), as a new one would
            raise FieldError("form", _("Declarations need an approved business permission."))
        # A rejected declaration may be resubmitted until its correction window closes
        # (checked above, on the clock of this request); a draft only while the round is open.
        if (submitting and declaration.status != workflow.REJECTED
                and not round_.is_open()):
            raise FieldError("form", _("The round of this declaration is closed."))
    number = form.id_number.data or None
    others = _same_person(round_.id, crypto.blind_index(number) if number else None,
                          declaration.id if declaration else None)
    if any(other.enterprise_user_id == user.id for other in others):
        raise FieldError("id_number", _(
            "This person is already declared by your unit in this round."))

    if declaration is None:
        try:
            with unique_or_conflict():
                declaration = _write(user, None, form, round_, number, others)
        except Conflict:  # the same form posted twice at once, or the same person
            existing = _by_form_key(user.id, form.form_key.data)
            if existing is not None:
                raise AlreadySaved(existing) from None
            raise FieldError("id_number", _(
                "This person is already declared by your unit in this round.")) from None
        if submitting:
            _submit(user, declaration)
    else:
        if submitting:  # the claim first: of two submits at once, one moves it
            _submit(user, declaration)
        _write(user, declaration, form, round_, number, others)
    if not submitting:
        audit.record("declaration.save", actor=user, target=declaration)
    return declaration


def _submit(user, declaration: Declaration) -> None:
    before = declaration.status
    action = (workflow.portal_action(before) or ("submit",))[0]  # none: refused below
    try:
        move(declaration, workflow.WORKFLOW, action, {ENTERPRISE}, actor=user)
    except TransitionError:
        raise AlreadySaved(declaration) from None
    except Conflict as conflict:
        if conflict.status == before:  # saved meanwhile (another tab), not submitted
            raise FieldError("form", changed_elsewhere()) from None
        db.session.refresh(declaration)
        raise AlreadySaved(declaration) from None


def correction_window_passed(declaration: Declaration) -> str:
    """Why a rejected declaration can no longer be resubmitted."""
    return _("The time to correct and resubmit this declaration ended (%(deadline)s). "
             "Contact the district talent office if it needs a correction.",
             deadline=declaration.resubmit_deadline())


class AlreadySaved(Exception):
    """The form was already saved or submitted (a double click, a re-posted form, another
    tab): ``declaration`` is the record it made."""

    def __init__(self, declaration: Declaration) -> None:
        super().__init__(declaration.id)
        self.declaration = declaration


def already_submitted() -> str:
    return _("This declaration was already submitted.")


def _by_form_key(user_id: int, form_key: str | None) -> Declaration | None:
    if not form_key:
        return None
    return db.session.execute(select(Declaration).where(
        Declaration.form_key == form_key,
        Declaration.enterprise_user_id == user_id)).scalar_one_or_none()


def _write(user, declaration: Declaration | None, form, round_, number, others) -> Declaration:
    """The declaration's fields and files from the form (a new draft when ``None``)."""
    if declaration is None:
        in_force: PermitRevision = permit_of(user.id).in_force
        declaration = Declaration(
            enterprise_user_id=user.id, round_id=round_.id, round=round_,
            status=workflow.DRAFT, unit_name=in_force.unit_name,
            credit_code=in_force.credit_code, form_key=form.form_key.data or None)
        db.session.add(declaration)
    for name in FIELDS:
        setattr(declaration, name, (form[name].data or "").strip() or None)
    declaration.name = declaration.name or ""
    declaration.age = int(form.age.data) if (form.age.data or "").strip().isdigit() else None
    declaration.set_id_number(number)
    elsewhere = [other for other in others if other.status != workflow.DRAFT]
    declaration.duplicate = bool(elsewhere)  # the same person declared by another unit
    for other in elsewhere:
        other.duplicate = True
    _replace_files(declaration, form)
    db.session.flush()
    return declaration


def _same_person(round_id: int, id_hash: str | None, exclude_id: int | None):
    """Other declarations of the same person in the round (any unit)."""
    if not id_hash:
        return []
    query = select(Declaration).where(Declaration.round_id == round_id,
                                      Declaration.id_hash == id_hash)
    if exclude_id is not None:
        query = query.where(Declaration.id != exclude_id)
    return list(db.session.execute(query).scalars())


SLOTS = {
    "social_insurance": "北京市社会保险个人权益记录",
    "integrity": "诚信声明",
}


def _replace_files(declaration: Declaration, form) -> None:
    kept = getattr(form, "kept", {})
    wanted: list[tuple[str, object, str]] = []
    for slot, label in SLOTS.items():
        wanted += [(slot, a, label) for a in kept.get(slot, [])]
    condition = form.conditions.get(declaration.condition or "")
    evidence_label = (condition.evidence_zh if condition and condition.evidence_zh
                      else "佐证材料")
    evidence = kept.get("evidence", [])
    for n, attachment in enumerate(evidence, start=1):
        wanted.append(("evidence", attachment,
                       evidence_label if len(evidence) == 1 else f"{evidence_label}{n}"))
    current = {(f.slot, f.attachment_id) for f in declaration.files}
    if current == {(slot, a.id) for slot, a, _ in wanted} and declaration.files:
        return
    declaration.files.clear()
    for slot, attachment, label in wanted:
        declaration.files.append(DeclarationFile(attachment=attachment, slot=slot, label=label))


def find_by_id_number(number: str):
    """Exact search on the blind index (never a LIKE over ID numbers)."""
    return select(Declaration).where(Declaration.id_hash == crypto.blind_index(number))


# --- the two review stages ------------------------------------------------------------------

@dataclass
class Outcome:
    """What a (bulk) decision did: the ids moved, and the skipped ones by reason."""

    done: list[int] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str, count: int) -> None:
        if count:
            self.skipped[why] = self.skipped.get(why, 0) + count


def decide_many(ids, action: str, staff, reason: str | None = None, *,
                scope=None) -> Outcome:
    """Pass, reject or withdraw many declarations at once, as the workflow table allows.

    Through the one writer (``core.workflow.move_many``): per batch one conditional
    ``UPDATE … WHERE id IN (…) AND status = :expected RETURNING``, so two reviewers acting
    on the same rows at the same moment move each row once; then the timeline and audit
    rows in bulk, the notices in bulk and one SMS per enterprise after the commit. Rows
    not in the expected state, unknown or hidden by ``scope`` (a ``WHERE`` clause), or not
    for the staff member's roles are skipped and counted. The caller commits.
    """
    table = workflow.WORKFLOW
    step = table.transition(action) if action in table.decisions() else None
    try:
        reason = check_reason(reason, required=bool(step and step.reason))
    except FieldError as error:
        if action == "withdraw" and not (reason or "").strip():
            error.message = _("Give the reason for the withdrawal.")
        raise
    wanted = sorted(record_ids(ids))
    outcome = Outcome()
    outcome.skip("unknown", len(list(ids)) - len(wanted))
    if step is None or not table.allowed(action, staff.role_names):
        outcome.skip("role", len(wanted))
        return outcome
    # The table's stamp and constant values are set by the writer; the reason is kept on
    # the record by the decisions that need one.
    moved = move_many(Declaration, wanted, table, action, staff.role_names,
                      actor=staff, reason=reason, where=scope,
                      values={"reason": reason} if step.reason else None,
                      returning=(Declaration.enterprise_user_id, Declaration.name))
    outcome.done = [m.id for m in moved]
    outcome.skip("state", len(wanted) - len(moved))
    if step.notice is not None:
        notify_many(step.notice, [
            (user_id, {"name": name, **({"reason": reason} if reason else {})},
             f"/talent/declarations/{m.id}") for m in moved for user_id, name in [m.row]],
            at=utcnow())
    return outcome


def decide(declaration: Declaration, staff, action: str, reason: str | None = None) -> bool:
    """One declaration: the bulk path with one id. ``False`` when it was skipped."""
    outcome = decide_many([declaration.id], action, staff, reason)
    if outcome.done:
        db.session.expire(declaration)
    return bool(outcome.done)


ID_SEARCH = "idx:"  # a grid search by ID number, as its URL carries it: idx:<blind index>


def id_search_token(term: str) -> str | None:
    """The search a grid URL may carry for a full ID number (its blind index, never the
    number); ``None`` when ``term`` is not a full ID number."""
    from ..core.validators import validate_id_number

    try:
        number = validate_id_number(term.strip().upper())
    except ValueError:
        return None
    return ID_SEARCH + crypto.blind_index(number)


def search_condition(term: str):
    """Grid search: an ID-number token (or a full ID number) matches exactly on the hash, a
    malformed token nothing, anything else the name, unit or credit code."""
    term = term.strip()
    if term.startswith(ID_SEARCH):
        digest = term[len(ID_SEARCH):]
        if len(digest) != 64 or digest.strip("0123456789abcdef"):
            return false()
        return Declaration.id_hash == digest
    token = id_search_token(term)
    if token is None:
        return or_(Declaration.name.contains(term, autoescape=True),
                   Declaration.unit_name.contains(term, autoescape=True),
                   Declaration.credit_code == term.upper())
    return Declaration.id_hash == token[len(ID_SEARCH):]


def save_round(round_: Round | None, *, name: str, opens_at, closes_at,
               correction_days: int | None = None) -> Round:
    """Create or change a round; windows may not overlap (one open round at a time).
    ``correction_days`` (``None``: the default, or unchanged): the calendar days after a
    rejection during which the declaration may be resubmitted (``Round``)."""
    clash = overlapping_round(opens_at, closes_at, exclude_id=round_.id if round_ else None)
    if clash is not None:
        raise FieldError("opens_at", _("The dates overlap the round %(name)s: only one round "
                                       "may be open at a time.", name=clash.name))
    created = round_ is None
    if created:
        round_ = Round(name=name, opens_at=opens_at, closes_at=closes_at)
        db.session.add(round_)
    else:
        round_.name, round_.opens_at, round_.closes_at = name, opens_at, closes_at
    if correction_days is not None:
        round_.correction_days = correction_days
    db.session.flush()
    audit.record("round.create" if created else "round.update", target=round_,
                 detail={"name": name, "opens_at": opens_at.isoformat() + "Z",  # UTC
                         "closes_at": closes_at.isoformat() + "Z",
                         "correction_days": round_.correction_days})
    return round_


# --- reporting to the municipal bureau ---------------------------------------------------------


def mark_reported(ids, staff, *, scope=None) -> tuple[str, int]:
    """Record that completed declarations went to the municipal bureau: a batch id, the
    date, a timeline entry, and a notice with the next step (the text admins edit) —
    through the one writer, so a declaration is reported once however often it is sent."""
    from ..core.notify import send_raw
    from ..pages.operations import texts

    now = utcnow()
    batch = to_local(now).strftime("%Y%m%d-%H%M%S")  # read beside local times
    wanted = sorted(record_ids(ids))
    where = Declaration.reported_at.is_(None)
    if scope is not None:
        where = and_(where, scope)
    moved = move_many(Declaration, wanted, workflow.REPORTING, "report", staff.role_names,
                      actor=staff, reason=batch, where=where, detail={"batch": batch},
                      values={"reported_at": now, "report_batch": batch},
                      returning=(Declaration.enterprise_user_id, Declaration.name))
    if not moved:
        return batch, 0
    (notice_text,) = texts("report_notice") or [None]
    text = {"text_zh": getattr(notice_text, "body_zh", ""),
            "text_en": getattr(notice_text, "body_en", "")}
    kind = workflow.REPORTING.transition("report").notice
    db.session.execute(insert(Notice), [
        {"enterprise_user_id": user_id, "kind": kind, "created_at": now,
         "link": f"/talent/declarations/{m.id}", "params": {"name": name, **text}}
        for m in moved for user_id, name in [m.row]])
    users = {m.row[0] for m in moved}
    mobiles = db.session.execute(select(EnterpriseUser.mobile)
                                 .where(EnterpriseUser.id.in_(users))).scalars()
    for mobile in mobiles:
        send_raw(mobile, text["text_zh"])
    return batch, len(moved)


# --- the municipal bureau's outcome --------------------------------------------------------


def parse_outcome_date(text: str | None) -> date:
    """The date of the bureau's decision as typed (``YYYY-MM-DD``, in the office's calendar):
    ``FieldError`` beside ``decided_on`` when missing, malformed or in the future."""
    text = (text or "").strip()
    if not text:
        raise FieldError("decided_on", _("Give the date of the municipal bureau's decision."))
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FieldError("decided_on", _("Type the date of the municipal bureau's decision "
                                         "as YYYY-MM-DD.")) from None
    if day > local_today():
        raise FieldError("decided_on", _("The date of the municipal bureau's decision cannot "
                                         "be in the future."))
    return day


def record_outcome(ids, action: str, staff, decided_on: date, *, scope=None) -> Outcome:
    """Record the municipal bureau's 拟引进人才名单 outcome (``workflow.BUREAU``: ``list`` or
    ``not_list``) dated ``decided_on`` on many declarations at once, through the one
    writer: each moves once, and only when it was reported to the bureau on or before that
    date and does not hold that outcome yet (recording the other outcome corrects a wrong
    entry). Timeline and audit rows, a notice per declaration and one SMS per enterprise
    with the guide's next step (after the commit). Rows in another state, not reported,
    unknown, hidden by ``scope`` or not for the staff member's roles are skipped and
    counted. The caller commits."""
    table = workflow.BUREAU
    if action not in table.decisions():
        raise KeyError(action)
    step = table.transition(action)
    wanted = sorted(record_ids(ids))
    outcome = Outcome()
    outcome.skip("unknown", len(list(ids)) - len(wanted))
    if not table.allowed(action, staff.role_names):
        outcome.skip("role", len(wanted))
        return outcome
    target = step.values["bureau_outcome"]
    day_after = to_utc(datetime.combine(decided_on + timedelta(days=1), datetime.min.time()))
    where = and_(Declaration.reported_at.is_not(None), Declaration.reported_at < day_after,
                 or_(Declaration.bureau_outcome.is_(None), Declaration.bureau_outcome != target))
    if scope is not None:
        where = and_(where, scope)
    moved = move_many(Declaration, wanted, table, action, staff.role_names, actor=staff,
                      where=where,
                      values={"bureau_decided_on": decided_on},
                      detail={"outcome": target, "decided_on": decided_on.isoformat()},
                      returning=(Declaration.enterprise_user_id, Declaration.name))
    outcome.done = [m.id for m in moved]
    outcome.skip("state", len(wanted) - len(moved))
    _notify_dated(step.notice, [(m.id, *m.row) for m in moved], decided_on)
    return outcome


def _notify_dated(kind: str, rows: list[tuple[int, int, str]], day: date) -> None:
    """The notices of a dated outcome (``(declaration id, enterprise, name)``) and one SMS
    per enterprise naming its declarations, through the outbox (``core.notify``)."""
    from ..core.notify import queue_many, sms_text

    if not rows:
        return
    when = day.isoformat()
    db.session.execute(insert(Notice), [
        {"enterprise_user_id": user_id, "kind": kind, "created_at": utcnow(),
         "link": f"/talent/declarations/{declaration_id}",
         "params": {"name": name, "date": when}}
        for declaration_id, user_id, name in rows])
    by_user: dict[int, list[str]] = {}
    for _id, user_id, name in rows:
        by_user.setdefault(user_id, []).append(name)
    mobiles = dict(db.session.execute(select(EnterpriseUser.id, EnterpriseUser.mobile)
                                      .where(EnterpriseUser.id.in_(list(by_user)))).all())
    queue_many([(mobiles[user_id], sms_text(kind, names=names, date=when), kind)
                for user_id, names in by_user.items()])


def add_comment(declaration: Declaration, staff, text: str) -> None:
    from ..core.models import StaffComment

    text = (text or "").strip()
    if not text:
        raise FieldError("text", _("Write the comment first."))
    db.session.add(StaffComment(target_type="declaration", target_id=declaration.id,
                                staff_id=staff.id, staff_label=staff.username, text=text[:2000]))
    audit.record("declaration.comment", actor=staff, target=declaration)


def changed_elsewhere() -> str:
    """What a save on a stale page is told (the declaration changed since it was opened)."""
    return _("This declaration was changed elsewhere since you opened it. Reload the page "
             "to see the current version, then make your change again.")


def admin_update(declaration: Declaration, staff, form) -> dict:
    """An administrator's correction (the fields ``form.corrections`` names), audited with
    the before and after values."""
    if str(declaration.version) != (form.version.data or ""):
        raise FieldError("name", changed_elsewhere())
    return audit.correct(declaration, form, form.corrections, "declaration.admin_update",
                         staff)
