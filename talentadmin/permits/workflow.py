"""Business permission revisions: submitted, then approved or rejected by staff.

Everything a transition means (roles, button text, reason, stamped date, notice) is declared
here; the back office and the portal read it from this table."""

from flask_babel import lazy_gettext as _l

from ..core.notify import notice_texts
from ..core.workflow import State, Transition, Workflow, roles

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"

STATES = {
    PENDING: State(_l("Pending review"), "warning"),
    APPROVED: State(_l("Approved"), "success"),
    REJECTED: State(_l("Business permission not approved"), "danger"),
}

REVIEWERS = roles("initial_reviewer", "admin")

WORKFLOW = Workflow(
    "permit",
    {
        PENDING: {
            "approve": Transition(APPROVED, REVIEWERS, label=_l("Approve"),
                                  stamp="decided_at", notice="permit.approved",
                                  confirm=_l("Approve the selected applications?"),
                                  style="success"),
            "reject": Transition(REJECTED, REVIEWERS, label=_l("Reject"), reason=True,
                                 stamp="decided_at", notice="permit.rejected",
                                 confirm=_l("Reject the selected applications with the "
                                            "reason above?"),
                                 style="danger"),
        },
    },
    STATES,
)

NOTICES = notice_texts({
    "permit.approved": _l("Your business permission was approved: you may now add "
                          "declarations."),
    "permit.rejected": _l("Your business permission application was not approved. Reason: "
                          "%(reason)s"),
})

LABELS = WORKFLOW.labels()
