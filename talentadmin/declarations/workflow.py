"""Declaration states and transitions: the two review stages of the guide's 四."""

from flask_babel import lazy_gettext as _l

from ..core.workflow import ENTERPRISE, Workflow, roles

DRAFT = "draft"
PENDING_INITIAL = "pending_initial"
PENDING_SECOND = "pending_second"
COMPLETED = "completed"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"  # instead of a deletion: no personal record disappears untraced

LABELS = {
    DRAFT: _l("Draft"),
    PENDING_INITIAL: _l("Pending review"),
    PENDING_SECOND: _l("Pending second review"),
    COMPLETED: _l("Completed"),
    REJECTED: _l("Not approved"),
    WITHDRAWN: _l("Withdrawn"),
}
STAGES = {"initial": _l("Initial review"), "second": _l("Second review")}
BADGES = {DRAFT: "secondary", PENDING_INITIAL: "warning", PENDING_SECOND: "info",
          COMPLETED: "success", REJECTED: "danger", WITHDRAWN: "dark"}

INITIAL = roles("initial_reviewer", "admin")
SECOND = roles("second_reviewer", "admin")
OWNER = roles(ENTERPRISE)
ADMIN = roles("admin")

WORKFLOW = Workflow(
    "declaration",
    {
        DRAFT: {"submit": (PENDING_INITIAL, OWNER), "withdraw": (WITHDRAWN, ADMIN)},
        PENDING_INITIAL: {
            "pass_initial": (PENDING_SECOND, INITIAL),
            "reject_initial": (REJECTED, INITIAL),
            "withdraw": (WITHDRAWN, ADMIN),
        },
        PENDING_SECOND: {
            "pass_second": (COMPLETED, SECOND),
            "reject_second": (REJECTED, SECOND),  # back to the initial stage on resubmission
            "withdraw": (WITHDRAWN, ADMIN),
        },
        REJECTED: {"resubmit": (PENDING_INITIAL, OWNER), "withdraw": (WITHDRAWN, ADMIN)},
        COMPLETED: {"withdraw": (WITHDRAWN, ADMIN)},
    },
)

# Reporting to the municipal bureau: the state stays, the date and batch are recorded
# (once: the writer's condition is ``reported_at IS NULL``).
REPORTING = Workflow("declaration", {COMPLETED: {"report": (COMPLETED, roles("supervisor"))}})

EDITABLE = {DRAFT, REJECTED}
REJECT_STAGE = {"reject_initial": "initial", "reject_second": "second"}
DECISIONS = {
    "pass_initial": _l("Pass (initial review)"),
    "reject_initial": _l("Reject (initial review)"),
    "pass_second": _l("Pass (second review)"),
    "reject_second": _l("Reject (second review)"),
    "withdraw": _l("Withdraw"),
}
