"""State machines declared as data, and the one writer that moves a state.

Each feature's ``workflow.py`` declares its table with :class:`Workflow`
(``{state: {action: Transition}}`` and the states' labels and badges: everything a
transition means — roles, label, reason, stamped date, notice — so queues, actions, buttons
and notices are read from it). Every state change of every feature goes
through :func:`move_many` here (:func:`move` for one record loaded in the session): a
compare-and-set — ``UPDATE … WHERE id IN (…) AND status = :expected [AND version = :v]
RETURNING`` — so that of two requests acting on the same record at the same moment exactly
one moves it; then the timeline rows (``StatusChange``) and the audit events of the rows it
moved, written by :func:`log_moves` (the importer writes its rows with it too). The notice
is the caller's (``core.notify``): its SMS leaves only after the commit. ``SYSTEM`` and
``ENTERPRISE`` name the non-staff actors.

A record created in a state (a permit revision, a declaration) cannot be compared and set:
:func:`unique_or_conflict` turns the unique constraint a concurrent request violated into
:class:`Conflict`, rolling back only to a savepoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

SYSTEM = "system"
ENTERPRISE = "enterprise"

BATCH = 500  # ids per conditional UPDATE
REASON_MAX = 500  # characters of a decision's reason (it goes out by SMS)


class TransitionError(Exception):
    """The action is not possible from this state, or not for this actor."""

    def __init__(self, state: str, action: str, reason: str) -> None:
        super().__init__(f"{action} from {state}: {reason}")
        self.state, self.action, self.reason = state, action, reason


class Conflict(Exception):
    """Another request moved (or created) the record first: the compare-and-set found
    ``status`` (``None`` when unknown) instead of the state this request expected."""

    def __init__(self, status: str | None = None) -> None:
        super().__init__(f"changed meanwhile (now {status})")
        self.status = status


@dataclass(frozen=True)
class State:
    """A state as people see it: its translated label and its Bootstrap badge colour."""

    label: Any
    badge: str = "secondary"


@dataclass(frozen=True)
class Transition:
    """Everything an action means, declared once in the feature's ``workflow.py``.

    ``target``: the state it moves to; ``roles``: who may take it; ``label``: the text of its
    button and bulk action (``None``: not a staff decision); ``reason``: a reason is required
    (:func:`check_reason`); ``stamp``: the column the writer sets to now; ``values``:
    constant columns the writer sets (``rejected_stage`` …); ``notice``: the kind of notice
    (``core.notify``) the enterprise gets after the commit; ``confirm``: the question asked
    before a bulk action; ``style``: the Bootstrap colour of its button.
    """

    target: str
    roles: frozenset[str]
    label: Any = None
    reason: bool = False
    stamp: str | None = None
    values: dict = field(default_factory=dict)
    notice: str | None = None
    confirm: Any = None
    style: str = "primary"


@dataclass(frozen=True)
class Workflow:
    """``{state: {action: Transition}}`` plus the states' labels and badges.

    An action keeps its meaning whatever state it leaves from (``withdraw`` from any
    state is the same decision): :meth:`transition` answers for the action."""

    name: str
    transitions: dict[str, dict[str, Transition]]
    states: dict[str, State] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: dict[str, Transition] = {}
        for state, actions in self.transitions.items():
            for action, step in actions.items():
                first = seen.setdefault(action, step)
                if (first.label, first.reason, first.stamp, first.values, first.notice) != (
                        step.label, step.reason, step.stamp, step.values, step.notice):
                    raise ValueError(f"{self.name}.{action} means two things ({state})")

    def actions(self, state: str, roles) -> list[str]:
        """The actions ``roles`` may take from ``state``."""
        return [action for action, step in self.transitions.get(state, {}).items()
                if step.roles & set(roles)]

    def next_state(self, state: str, action: str, roles) -> str:
        try:
            step = self.transitions[state][action]
        except KeyError:
            raise TransitionError(state, action, "not possible from this state") from None
        if not step.roles & set(roles):
            raise TransitionError(state, action, "not allowed for this role")
        return step.target

    def sources(self, action: str) -> list[str]:
        """The states ``action`` leaves from (for conditional bulk updates)."""
        return [state for state, actions in self.transitions.items() if action in actions]

    def transition(self, action: str) -> Transition:
        """What ``action`` means (``KeyError`` for an action the table does not know)."""
        for actions in self.transitions.values():
            if action in actions:
                return actions[action]
        raise KeyError(action)

    def allowed(self, action: str, roles) -> bool:
        """``roles`` may take ``action`` from at least one state."""
        return any(action in self.actions(state, roles) for state in self.sources(action))

    def decisions(self, roles=None, *, sources: Iterable[str] | None = None) -> list[str]:
        """The staff decisions (actions with a label), in table order, that ``roles`` may
        take (any role when ``None``) from ``sources`` (every state when ``None``)."""
        found: dict[str, None] = {}
        for state, actions in self.transitions.items():
            if sources is not None and state not in sources:
                continue
            for action, step in actions.items():
                if step.label is not None and (roles is None or step.roles & set(roles)):
                    found[action] = None
        return list(found)

    def label(self, state: str):
        return self.states[state].label if state in self.states else state

    def badge(self, state: str) -> str:
        return self.states[state].badge if state in self.states else "secondary"

    def labels(self) -> dict:
        return {state: s.label for state, s in self.states.items()}

    def badges(self) -> dict[str, str]:
        return {state: s.badge for state, s in self.states.items()}


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def check_reason(reason: str | None, *, required: bool = True,
                 field: str = "reason") -> str | None:
    """The reason of a decision, stripped: every decision path (certification, permit,
    declaration, one or in bulk) checks it here. ``FieldError`` beside ``field`` when it is
    missing (and ``required``) or longer than :data:`REASON_MAX` characters."""
    from flask_babel import gettext as _

    from .errors import FieldError

    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise FieldError(field, _("The reason may be at most %(max)d characters long (it is "
                                  "%(length)d): shorten it.", max=REASON_MAX,
                                  length=len(reason)))
    if required and not reason:
        raise FieldError(field, _("Give the reason for the rejection."))
    return reason or None


@dataclass(frozen=True, slots=True)
class Moved:
    """A row the writer moved: its id, the columns asked for, from and to."""

    id: int
    row: tuple
    source: str
    target: str


def move_many(model, ids: Iterable[int], workflow: Workflow, action: str, roles, *,
              actor=None, reason: str | None = None, values: dict | None = None,
              where=None, sources: Iterable[str] | None = None, returning=(),
              detail: dict | None = None) -> list[Moved]:
    """THE writer: move the rows ``ids`` of ``model`` by ``action`` as ``workflow`` lets
    ``roles`` — per batch and source state one ``UPDATE … WHERE id IN (…) AND status =
    :source [AND where] RETURNING id, *returning`` that also sets ``values`` and bumps
    ``version`` — then their timeline rows and audit events in bulk. Rows in another state
    (moved meanwhile by someone else), unknown, or outside ``where`` are not moved and not
    returned. The caller queues the notices and commits."""
    from sqlalchemy import update

    from ..extensions import db
    from .timeutil import utcnow

    wanted = sorted({int(i) for i in ids})
    sources = [s for s in (sources if sources is not None else workflow.sources(action))
               if action in workflow.actions(s, roles)]
    if not wanted or not sources:
        return []
    step = workflow.transition(action)
    changes = {**step.values, **(values or {})}
    if step.stamp and step.stamp not in changes:
        changes[step.stamp] = utcnow()
    if hasattr(model, "version"):
        changes["version"] = model.version + 1
    moved: list[Moved] = []
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        for source in sources:
            target = workflow.next_state(source, action, roles)
            statement = (update(model)
                         .where(model.id.in_(chunk), model.status == source)
                         .values(status=target, **changes)
                         .returning(model.id, *returning)
                         .execution_options(synchronize_session=False))
            if where is not None:
                statement = statement.where(where)
            moved += [Moved(row[0], tuple(row[1:]), source, target)
                      for row in db.session.execute(statement)]
    log_moves(model.__tablename__, [(m.id, m.source, m.target) for m in moved],
              f"{workflow.name}.{action}", action=action, actor=actor, reason=reason,
              detail=detail, at=utcnow())
    return moved


def move(record, workflow: Workflow, action: str, roles, *, actor=None,
         reason: str | None = None, values: dict | None = None,
         detail: dict | None = None) -> str:
    """Move one record loaded in this session from the state it was read in: the writer
    with one id, ``AND version = :v`` when the model has a version. Raises
    :class:`TransitionError` when the table does not allow it and :class:`Conflict` when
    another request moved (or changed) the record since it was read. The record's
    attributes are brought up to date. Returns the previous state."""
    from sqlalchemy import select
    from sqlalchemy.orm.attributes import set_committed_value

    from ..extensions import db
    from .timeutil import utcnow

    model, before = type(record), record.status
    target = workflow.next_state(before, action, roles)
    step = workflow.transition(action)
    values = {**step.values, **(values or {})}
    if step.stamp and step.stamp not in values:
        values[step.stamp] = utcnow()
    db.session.flush()  # the record's own pending changes first (with their version check)
    versioned = hasattr(model, "version")
    moved = move_many(model, [record.id], workflow, action, roles, actor=actor, reason=reason,
                      values=values, sources=[before], detail=detail,
                      where=(model.version == record.version) if versioned else None)
    if not moved:
        raise Conflict(db.session.execute(
            select(model.status).where(model.id == record.id)).scalar_one_or_none())
    for key, value in {"status": target, **values}.items():
        set_committed_value(record, key, value)
    if versioned:
        set_committed_value(record, "version", record.version + 1)
    return before


def log_moves(target_type: str, moves: list[tuple[int, str | None, str]], audit_action: str,
              *, action: str, actor=None, actor_label: str | None = None,
              reason: str | None = None, detail: dict | None = None, at=None) -> None:
    """The timeline rows and audit events of ``moves`` (``(id, from, to)``), inserted in
    bulk: the only code that writes either for a state. ``detail`` replaces the audit
    event's default ``{"from", "to", "reason"}``."""
    from sqlalchemy import insert

    from ..extensions import db
    from . import audit
    from .models import AuditEvent, StatusChange
    from .timeutil import utcnow

    if not moves:
        return
    at = at or utcnow()
    actor_columns = audit.who(actor, actor_label)
    db.session.execute(insert(StatusChange), [
        {"target_type": target_type, "target_id": target_id, "at": at, "action": action,
         "from_status": source, "to_status": target, "reason": reason,
         "actor_type": actor_columns["actor_type"], "actor_label": actor_columns["actor_label"]}
        for target_id, source, target in moves])
    ip = audit.client_ip()
    db.session.execute(insert(AuditEvent), [
        {"at": at, **actor_columns, "action": audit_action, "outcome": "success",
         "target_type": target_type, "target_id": target_id, "ip": ip,
         "detail": detail if detail is not None else {
             "from": source, "to": target, **({"reason": reason} if reason else {})}}
        for target_id, source, target in moves])


def created(record, workflow: Workflow, action: str, *, actor=None,
            actor_label: str | None = None, reason: str | None = None,
            detail: dict | None = None) -> None:
    """The timeline row and audit event of a record just inserted in its first state."""
    log_moves(record.__tablename__, [(record.id, None, record.status)],
              f"{workflow.name}.{action}", action=action, actor=actor,
              actor_label=actor_label, reason=reason, detail=detail)


@contextmanager
def unique_or_conflict():
    """Run the block in a savepoint: when a unique constraint is violated by a concurrent
    request (the other one won), roll back to the savepoint only and raise
    :class:`Conflict`. On SQLite the write lock is taken first (``BEGIN IMMEDIATE``,
    waiting up to the busy timeout) so the savepoint belongs to the request's transaction
    and the block's writes wait their turn instead of failing with "database is locked"."""
    from sqlalchemy.exc import IntegrityError

    from ..extensions import db

    connection = db.session.connection()
    driver = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError as error:
        raise Conflict() from error


def timeline(record) -> list:
    from ..extensions import db
    from .models import StatusChange

    return list(db.session.execute(
        db.select(StatusChange)
        .where(StatusChange.target_type == record.__tablename__,
               StatusChange.target_id == record.id)
        .order_by(StatusChange.at, StatusChange.id)
    ).scalars())
