"""State machines declared as data: ``{state: {action: (next_state, roles)}}``.

Each feature's ``workflow.py`` declares its table with :class:`Workflow`; its
``operations.py`` asks the table before it changes a state. ``SYSTEM`` and
``ENTERPRISE`` name the non-staff actors.
"""

from __future__ import annotations

from dataclasses import dataclass

SYSTEM = "system"
ENTERPRISE = "enterprise"


class TransitionError(Exception):
    """The action is not possible from this state, or not for this actor."""

    def __init__(self, state: str, action: str, reason: str) -> None:
        super().__init__(f"{action} from {state}: {reason}")
        self.state, self.action, self.reason = state, action, reason


@dataclass(frozen=True)
class Workflow:
    name: str
    transitions: dict[str, dict[str, tuple[str, frozenset[str]]]]

    def actions(self, state: str, roles) -> list[str]:
        """The actions ``roles`` may take from ``state``."""
        return [action for action, (_, allowed) in self.transitions.get(state, {}).items()
                if allowed & set(roles)]

    def next_state(self, state: str, action: str, roles) -> str:
        try:
            target, allowed = self.transitions[state][action]
        except KeyError:
            raise TransitionError(state, action, "not possible from this state") from None
        if not allowed & set(roles):
            raise TransitionError(state, action, "not allowed for this role")
        return target

    def sources(self, action: str) -> list[str]:
        """The states ``action`` leaves from (for conditional bulk updates)."""
        return [state for state, actions in self.transitions.items() if action in actions]


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def apply(record, workflow: Workflow, action: str, roles, *, actor=None,
          reason: str | None = None) -> str:
    """Move ``record`` by ``action`` as the table allows; write its timeline row and
    its audit event. Returns the previous state."""
    from ..extensions import db
    from . import audit
    from .models import StatusChange

    before = record.status
    record.status = workflow.next_state(before, action, roles)
    event = audit.record(
        f"{workflow.name}.{action}", actor=actor, target=record,
        detail={"from": before, "to": record.status, **({"reason": reason} if reason else {})},
    )
    db.session.add(StatusChange(
        target_type=record.__tablename__, target_id=record.id, action=action,
        from_status=before, to_status=record.status, reason=reason,
        actor_type=event.actor_type, actor_label=event.actor_label,
    ))
    return before


def timeline(record) -> list:
    from ..extensions import db
    from .models import StatusChange

    return list(db.session.execute(
        db.select(StatusChange)
        .where(StatusChange.target_type == record.__tablename__,
               StatusChange.target_id == record.id)
        .order_by(StatusChange.at, StatusChange.id)
    ).scalars())
