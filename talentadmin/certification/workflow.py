"""Unit certification (单位认证): states and who may move them.

Everything a transition means (roles, button text, reason, stamped date, notice) is declared
here; the back office and the portal read it from this table."""

from flask_babel import lazy_gettext as _l

from ..core.notify import notice_texts
from ..core.workflow import ENTERPRISE, SYSTEM, State, Transition, Workflow, roles

READING = "reading"  # uploaded; a worker reads the licence (jobs.readings)
RECOGNISED = "recognised"  # uploaded and read; the operator has not submitted yet
APPROVED = "approved"
MANUAL_REVIEW = "manual_review"
REJECTED = "rejected"

STATES = {
    READING: State(_l("Reading the licence"), "info"),
    RECOGNISED: State(_l("Not submitted"), "secondary"),
    APPROVED: State(_l("Approved"), "success"),
    MANUAL_REVIEW: State(_l("Pending review"), "warning"),
    REJECTED: State(_l("Not approved"), "danger"),
}

REVIEWERS = roles("initial_reviewer", "admin")

WORKFLOW = Workflow(
    "certification",
    {
        # Read by a worker (values or none: an unreadable licence is typed by the operator).
        READING: {"read": Transition(RECOGNISED, roles(SYSTEM))},
        RECOGNISED: {
            # Licence read cleanly, values unchanged, code not held by another account.
            "auto_approve": Transition(APPROVED, roles(SYSTEM), stamp="decided_at"),
            "submit_for_review": Transition(MANUAL_REVIEW, roles(ENTERPRISE)),
        },
        MANUAL_REVIEW: {
            "approve": Transition(APPROVED, REVIEWERS, label=_l("Approve"), stamp="decided_at",
                                  notice="certification.approved",
                                  confirm=_l("Approve the selected certifications?"),
                                  style="success"),
            "reject": Transition(REJECTED, REVIEWERS, label=_l("Reject"), reason=True,
                                 stamp="decided_at", notice="certification.rejected",
                                 confirm=_l("Reject the selected certifications with the "
                                            "reason above?"),
                                 style="danger"),
        },
    },
    STATES,
)

NOTICES = notice_texts({
    "certification.approved": _l("Your unit certification was approved."),
    "certification.rejected": _l("Your unit certification was not approved. Reason: "
                                 "%(reason)s"),
})

LABELS = WORKFLOW.labels()
