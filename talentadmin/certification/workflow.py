"""Unit certification (单位认证): states and who may move them."""

from flask_babel import lazy_gettext as _l

from ..core.workflow import ENTERPRISE, SYSTEM, Workflow, roles

RECOGNISED = "recognised"  # uploaded and read; the operator has not submitted yet
APPROVED = "approved"
MANUAL_REVIEW = "manual_review"
REJECTED = "rejected"

LABELS = {
    RECOGNISED: _l("Not submitted"),
    APPROVED: _l("Approved"),
    MANUAL_REVIEW: _l("Pending review"),
    REJECTED: _l("Not approved"),
}

REVIEWERS = roles("initial_reviewer", "admin")

WORKFLOW = Workflow(
    "certification",
    {
        RECOGNISED: {
            # Licence read cleanly, values unchanged, code not held by another account.
            "auto_approve": (APPROVED, roles(SYSTEM)),
            "submit_for_review": (MANUAL_REVIEW, roles(ENTERPRISE)),
        },
        MANUAL_REVIEW: {
            "approve": (APPROVED, REVIEWERS),
            "reject": (REJECTED, REVIEWERS),
        },
    },
)
