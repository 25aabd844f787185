"""Everything that changes a declaration: drafts, submission, the two review stages."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import insert, or_, select, update

from ..core import audit, crypto
from ..core.errors import FieldError
from ..core.timeutil import utcnow
from ..core.workflow import ENTERPRISE, apply
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
            existing = db.session.execute(select(Declaration).where(
                Declaration.form_key == form.form_key.data,
                Declaration.enterprise_user_id == user.id)).scalar_one_or_none()
            if existing is not None:
                return existing
        allowed, why = may_declare(user.id)
        if not allowed:
            raise FieldError("form", why)
        round_ = open_round()
    else:
        if not declaration.editable:
            raise FieldError("form", _("This declaration can no longer be changed."))
        if str(declaration.version) != (form.version.data or ""):
            raise FieldError("form", changed_elsewhere())
        round_ = declaration.round
        if submitting and not round_.is_open():
            raise FieldError("form", _("The round of this declaration is closed."))
    number = form.id_number.data or None
    others = _same_person(round_.id, crypto.blind_index(number) if number else None,
                          declaration.id if declaration else None)
    if any(other.enterprise_user_id == user.id for other in others):
        raise FieldError("id_number", _(
            "This person is already declared by your unit in this round."))

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
    if submitting:
        action = "resubmit" if declaration.status == workflow.REJECTED else "submit"
        apply(declaration, workflow.WORKFLOW, action, {ENTERPRISE}, actor=user)
        declaration.submitted_at = utcnow()
    else:
        audit.record("declaration.save", actor=user, target=declaration)
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

BATCH = 500


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

    Per batch: one conditional ``UPDATE … WHERE id IN (…) AND status = :expected
    RETURNING``, so two reviewers acting on the same rows at the same moment move each
    row once; then the timeline, audit and notice rows in bulk, and one SMS per
    enterprise. Rows not in the expected state, unknown or hidden by ``scope`` (a
    ``WHERE`` clause), or not for the staff member's roles are skipped and counted.
    The caller commits.
    """
    reason = (reason or "").strip() or None
    if (action in workflow.REJECT_STAGE or action == "withdraw") and not reason:
        raise FieldError("reason", _("Give the reason for the rejection.")
                         if action != "withdraw" else _("Give the reason for the withdrawal."))
    wanted = sorted({int(i) for i in ids if str(i).strip().isdigit()})
    outcome = Outcome()
    outcome.skip("unknown", len(list(ids)) - len(wanted))
    sources = workflow.WORKFLOW.sources(action)
    allowed = [s for s in sources
               if action in workflow.WORKFLOW.actions(s, staff.role_names)]
    if not allowed:
        outcome.skip("role", len(wanted))
        return outcome
    now = utcnow()
    values: dict = {"status": None, "version": Declaration.version + 1}
    if action == "pass_initial":
        values["initial_passed_at"] = now
    elif action == "pass_second":
        values["second_passed_at"] = now
    elif action in workflow.REJECT_STAGE:
        values.update(rejected_stage=workflow.REJECT_STAGE[action], reason=reason)
    elif action == "withdraw":
        values["reason"] = reason
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        moved_here = []
        for source in allowed:
            values["status"] = workflow.WORKFLOW.next_state(source, action, staff.role_names)
            statement = (update(Declaration)
                         .where(Declaration.id.in_(chunk), Declaration.status == source)
                         .values(**values)
                         .returning(Declaration.id, Declaration.enterprise_user_id,
                                    Declaration.name)
                         .execution_options(synchronize_session=False))
            if scope is not None:
                statement = statement.where(scope)
            rows = db.session.execute(statement).all()
            moved_here += [(row, source, values["status"]) for row in rows]
        outcome.done += [row.id for row, _s, _t in moved_here]
        outcome.skip("state", len(chunk) - len(moved_here))
        _record_decisions(moved_here, action, staff, reason, now)
    return outcome


def _record_decisions(moved, action: str, staff, reason, now) -> None:
    """Timeline, audit and notice rows for the moved declarations, inserted in bulk."""
    from ..accounts.models import EnterpriseUser
    from ..core.models import AuditEvent, Notice, StatusChange
    from ..core.notify import notify_text

    if not moved:
        return
    ip = audit.client_ip()
    role = ",".join(staff.role_names)
    db.session.execute(insert(StatusChange), [
        {"target_type": "declaration", "target_id": row.id, "at": now, "action": action,
         "from_status": source, "to_status": target, "reason": reason,
         "actor_type": "staff", "actor_label": staff.username}
        for row, source, target in moved])
    db.session.execute(insert(AuditEvent), [
        {"at": now, "actor_type": "staff", "actor_id": staff.id, "actor_label": staff.username,
         "role": role, "action": f"declaration.{action}", "outcome": "success",
         "target_type": "declaration", "target_id": row.id,
         "detail": {"from": source, "to": target, **({"reason": reason} if reason else {})},
         "ip": ip}
        for row, source, target in moved])
    kind = NOTICE_KINDS.get(action)
    if kind is None:
        return
    db.session.execute(insert(Notice), [
        {"enterprise_user_id": row.enterprise_user_id, "kind": kind, "created_at": now,
         "params": {"name": row.name, **({"reason": reason} if reason else {})},
         "link": f"/talent/declarations/{row.id}"}
        for row, _source, _target in moved])
    by_user: dict[int, list[str]] = {}
    for row, _source, _target in moved:
        by_user.setdefault(row.enterprise_user_id, []).append(row.name)
    mobiles = dict(db.session.execute(
        select(EnterpriseUser.id, EnterpriseUser.mobile)
        .where(EnterpriseUser.id.in_(list(by_user)))).all())
    for user_id, names in by_user.items():
        notify_text(mobiles[user_id], kind, names=names, reason=reason)


NOTICE_KINDS = {
    "pass_initial": "declaration.passed_initial",
    "pass_second": "declaration.completed",
    "reject_initial": "declaration.rejected",
    "reject_second": "declaration.rejected",
}


def decide(declaration: Declaration, staff, action: str, reason: str | None = None) -> bool:
    """One declaration: the bulk path with one id. ``False`` when it was skipped."""
    outcome = decide_many([declaration.id], action, staff, reason)
    if outcome.done:
        db.session.expire(declaration)
    return bool(outcome.done)


def search_condition(term: str):
    """Grid search: a full ID number matches exactly on the hash, anything else by name."""
    from ..core.validators import validate_id_number

    try:
        number = validate_id_number(term.strip())
    except ValueError:
        return or_(Declaration.name.contains(term, autoescape=True),
                   Declaration.unit_name.contains(term, autoescape=True),
                   Declaration.credit_code == term.strip().upper())
    return Declaration.id_hash == crypto.blind_index(number)


def save_round(round_: Round | None, *, name: str, opens_at, closes_at) -> Round:
    """Create or change a round; windows may not overlap (one open round at a time)."""
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
    db.session.flush()
    audit.record("round.create" if created else "round.update", target=round_,
                 detail={"name": name, "opens_at": opens_at.isoformat(),
                         "closes_at": closes_at.isoformat()})
    return round_


# --- reporting to the municipal bureau ---------------------------------------------------------


def mark_reported(ids, staff, *, scope=None) -> tuple[str, int]:
    """Record that completed declarations went to the municipal bureau: a batch id, the
    date, a timeline entry, and a notice with the next step (the text admins edit)."""
    from ..accounts.models import EnterpriseUser
    from ..core.models import AuditEvent, Notice, StatusChange
    from ..core.notify import send_raw
    from ..pages.operations import texts

    now = utcnow()
    batch = now.strftime("%Y%m%d-%H%M%S")
    wanted = sorted({int(i) for i in ids if str(i).strip().isdigit()})
    statement = (update(Declaration)
                 .where(Declaration.id.in_(wanted), Declaration.status == workflow.COMPLETED,
                        Declaration.reported_at.is_(None))
                 .values(reported_at=now, report_batch=batch, version=Declaration.version + 1)
                 .returning(Declaration.id, Declaration.enterprise_user_id, Declaration.name)
                 .execution_options(synchronize_session=False))
    if scope is not None:
        statement = statement.where(scope)
    moved = db.session.execute(statement).all() if wanted else []
    if not moved:
        return batch, 0
    db.session.execute(insert(StatusChange), [
        {"target_type": "declaration", "target_id": row.id, "at": now, "action": "report",
         "from_status": workflow.COMPLETED, "to_status": workflow.COMPLETED,
         "reason": batch, "actor_type": "staff", "actor_label": staff.username}
        for row in moved])
    db.session.execute(insert(AuditEvent), [
        {"at": now, "actor_type": "staff", "actor_id": staff.id, "actor_label": staff.username,
         "role": ",".join(staff.role_names), "action": "declaration.report",
         "outcome": "success", "target_type": "declaration", "target_id": row.id,
         "detail": {"batch": batch}, "ip": audit.client_ip()}
        for row in moved])
    (notice_text,) = texts("report_notice") or [None]
    db.session.execute(insert(Notice), [
        {"enterprise_user_id": row.enterprise_user_id, "kind": "declaration.reported",
         "created_at": now, "link": f"/talent/declarations/{row.id}",
         "params": {"name": row.name, "text_zh": getattr(notice_text, "body_zh", ""),
                    "text_en": getattr(notice_text, "body_en", "")}}
        for row in moved])
    users = {row.enterprise_user_id for row in moved}
    mobiles = db.session.execute(select(EnterpriseUser.mobile)
                                 .where(EnterpriseUser.id.in_(users))).scalars()
    for mobile in mobiles:
        send_raw(mobile, getattr(notice_text, "body_zh", ""))
    return batch, len(moved)


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


ADMIN_FIELDS = ("name", "political_status", "title", "education", "degree", "school", "major",
                "condition")


def admin_update(declaration: Declaration, staff, form) -> dict:
    """An administrator's correction, audited with the before and after values."""
    if str(declaration.version) != (form.version.data or ""):
        raise FieldError("name", changed_elsewhere())
    return audit.correct(declaration, form, ADMIN_FIELDS, "declaration.admin_update", staff)
