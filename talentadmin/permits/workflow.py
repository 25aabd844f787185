"""Business permission revisions: submitted, then approved or rejected by staff."""

from flask_babel import lazy_gettext as _l

from ..core.workflow import Workflow, roles

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"

LABELS = {
    PENDING: _l("Pending review"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Business permission not approved"),
}

REVIEWERS = roles("initial_reviewer", "admin")

WORKFLOW = Workflow(
    "permit",
    {
        PENDING: {
            "approve": (APPROVED, REVIEWERS),
            "reject": (REJECTED, REVIEWERS),
        },
    },
)
