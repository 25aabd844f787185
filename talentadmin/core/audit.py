"""The one way to write an audit event.

Callers pass what happened; who and from where come from the request. Never pass
a code, a password or a full ID number in ``detail``.
"""

from __future__ import annotations

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from .models import AuditEvent

# What each kind of event is called wherever people read it: every timeline (the back
# office's details pages, the enterprise's declaration page), the audit log grid and the
# bulk decisions' summaries. A kind is what ``record()`` is given, or ``<workflow>.<action>``
# for the rows the workflow writer logs (``core.workflow.log_moves``). Every kind written
# anywhere in ``talentadmin/`` has its label here (tests/admin/test_words.py reads the code).
EVENTS: dict[str, object] = {
    # unit certification
    "certification.upload": _l("Licence uploaded"),
    "certification.read": _l("Licence read"),
    "certification.auto_approve": _l("Certified automatically"),
    "certification.submit_for_review": _l("Submitted for staff review"),
    "certification.approve": _l("Certification approved"),
    "certification.reject": _l("Certification not approved"),
    "certification.admin_update": _l("Certification corrected by staff"),
    "certification.denied": _l("Certification access refused"),
    # business permission
    "permit.submit": _l("Business permission application submitted"),
    "permit.approve": _l("Business permission approved"),
    "permit.reject": _l("Business permission not approved"),
    "permit.admin_update": _l("Business permission corrected by staff"),
    "permit.denied": _l("Business permission access refused"),
    # declarations
    "declaration.create": _l("Declaration created"),  # its first line, before any event
    "declaration.save": _l("Draft saved"),
    "declaration.submit": _l("Declaration submitted"),
    "declaration.resubmit": _l("Declaration submitted again"),
    "declaration.pass_initial": _l("Passed the initial review"),
    "declaration.reject_initial": _l("Not approved in the initial review"),
    "declaration.pass_second": _l("Passed the second review"),
    "declaration.reject_second": _l("Not approved in the second review"),
    "declaration.withdraw": _l("Declaration withdrawn"),
    "declaration.report": _l("Reported to the municipal bureau"),
    "declaration.list": _l("On the list of talents proposed for introduction"),
    "declaration.not_list": _l("Not on the list of talents proposed for introduction"),
    "declaration.import": _l("Imported from the old system"),
    "declaration.import_file": _l("Old system file imported"),
    "declaration.import.check": _l("Old data checked (dry run)"),
    "declaration.import.run": _l("Old data import started"),
    "declaration.import.restart": _l("Old data import restarted"),
    "declaration.import.report": _l("Old data import report downloaded"),
    "declaration.admin_update": _l("Declaration corrected by staff"),
    "declaration.comment": _l("Internal comment added"),
    "declaration.view": _l("Declaration opened with the full ID number"),
    "declaration.export": _l("Declarations exported"),
    "declaration.export.download": _l("Export downloaded"),
    "declaration.export.restart": _l("Export restarted"),
    "declaration.denied": _l("Declaration access refused"),
    "round.create": _l("Round created"),
    "round.update": _l("Round changed"),
    # files
    "file.read": _l("File opened"),
    "file.denied": _l("File access refused"),
    # accounts
    "enterprise.register": _l("Enterprise registered"),
    "enterprise.login": _l("Enterprise login"),
    "enterprise.logout": _l("Enterprise logout"),
    "enterprise.password_change": _l("Password changed"),
    "enterprise.mobile_change": _l("Registered mobile number changed"),
    "enterprise.update": _l("Enterprise account changed"),
    "enterprise.mobile_reassign": _l("Mobile number changed by the office"),
    "enterprise.unit_move_out": _l("Unit moved to another account"),
    "enterprise.unit_move_in": _l("Unit moved to this account"),
    "staff.login": _l("Staff login"),
    "staff.logout": _l("Staff logout"),
    "staff.create": _l("Staff account created"),
    "staff.update": _l("Staff account changed"),
    # SMS
    "sms.sent": _l("Verification code sent"),
    "sms.resend": _l("Notice SMS sent again"),
    # settings
    "reference.create": _l("Reference item added"),
    "reference.update": _l("Reference item changed"),
    "reason_template.create": _l("Reason template added"),
    "reason_template.update": _l("Reason template changed"),
    "page_text.update": _l("Page text changed"),
    "portal_item.create": _l("Notice or policy added"),
    "portal_item.update": _l("Notice or policy changed"),
    "portal_item.publish": _l("Notice or policy published"),
    "portal_item.unpublish": _l("Notice or policy withdrawn"),
    "portal_file.upload": _l("Operation guide uploaded"),
}

# The workflow of a timeline row's table (``StatusChange.target_type``) where its name differs.
WORKFLOW_OF = {"permit_revision": "permit"}


# Who acted, when no label names the actor (the system's own moves, an anonymous visitor).
ACTORS: dict[str, object] = {"enterprise": _l("Enterprise"), "staff": _l("Staff"),
                             "anonymous": _l("Anonymous"), "system": _l("System")}


def actor_name(event) -> str:
    """Who did ``event`` (an audit event or a timeline row): its actor's label, else the
    kind of actor in the reader's language."""
    if event.actor_label:
        return event.actor_label
    name = ACTORS.get(event.actor_type)
    return (event.actor_type or "") if name is None else str(name)


def event_kind(event) -> str:
    """The kind of an audit event, of a timeline row (``StatusChange``: the workflow of its
    table and its action), or ``event`` itself when it is a kind."""
    if isinstance(event, str):
        return event
    if hasattr(event, "to_status"):  # a timeline row
        return f"{WORKFLOW_OF.get(event.target_type, event.target_type)}.{event.action}"
    return event.action


def event_label(event) -> str:
    """What ``event`` (an audit event, a timeline row or a kind) is called, in the reader's
    language; an unknown kind is shown as it is."""
    kind = event_kind(event)
    label = EVENTS.get(kind)
    return kind if label is None else str(label)


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
