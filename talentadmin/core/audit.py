"""The one way to write an audit event.

Callers pass what happened; who and from where come from the request. Never pass
a code, a password or a full ID number in ``detail``.
"""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from ..extensions import db
from .models import AuditEvent


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(
    action: str,
    *,
    outcome: str = "success",
    actor=None,
    actor_label: str | None = None,
    target=None,
    detail: dict | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the request commits it).

    ``actor`` defaults to the logged-in user; ``actor_label`` names an anonymous
    actor (e.g. the masked mobile number of a failed login).
    """
    event = AuditEvent(
        action=action,
        outcome=outcome,
        **who(actor, actor_label),
        target_type=getattr(target, "__tablename__", None),
        target_id=getattr(target, "id", None),
        detail=detail,
        ip=client_ip(),
    )
    db.session.add(event)
    return event


def who(actor=None, actor_label: str | None = None) -> dict:
    """The actor columns of an audit event (also used for rows inserted in bulk):
    ``actor`` defaults to the logged-in user."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    return {
        "actor_type": getattr(actor, "kind", None)
        or ("anonymous" if has_request_context() else "system"),
        "actor_id": getattr(actor, "id", None),
        "actor_label": getattr(actor, "audit_label", None) or actor_label,
        "role": ",".join(getattr(actor, "role_names", ()) or ()) or getattr(actor, "kind", None),
    }


def correct(target, form, fields, action: str, actor) -> dict:
    """Copy ``fields`` from ``form`` onto ``target`` and audit what changed, before and
    after (an administrator's correction of what an enterprise submitted)."""
    changes = {}
    for name in fields:
        after = (form[name].data or "").strip()
        before = getattr(target, name) or ""
        if after != before:
            changes[name] = [before, after]
            setattr(target, name, after)
    if changes:
        record(action, actor=actor, target=target, detail=changes)
    return changes
