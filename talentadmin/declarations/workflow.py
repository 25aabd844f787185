"""Declaration states and transitions: the two review stages of the guide's 四.

Everything a transition means is declared here, once: who may take it, the text of its
button and bulk action, whether it needs a reason, the date it stamps, the columns it sets
and the notice the enterprise gets. The back office's queues, actions and decision buttons,
the portal's status labels and the notices are read from this table.
"""

from flask_babel import lazy_gettext as _l

from ..core.notify import notice_texts
from ..core.workflow import ENTERPRISE, State, Transition, Workflow, roles

DRAFT = "draft"
PENDING_INITIAL = "pending_initial"
PENDING_SECOND = "pending_second"
COMPLETED = "completed"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"  # instead of a deletion: no personal record disappears untraced

STATES = {
    DRAFT: State(_l("Draft"), "secondary"),
    PENDING_INITIAL: State(_l("Pending review"), "warning"),
    PENDING_SECOND: State(_l("Pending second review"), "info"),
    COMPLETED: State(_l("Completed"), "success"),
    REJECTED: State(_l("Not approved"), "danger"),
    WITHDRAWN: State(_l("Withdrawn"), "dark"),
}
STAGES = {"initial": _l("Initial review"), "second": _l("Second review")}

INITIAL = roles("initial_reviewer", "admin")
SECOND = roles("second_reviewer", "admin")
OWNER = roles(ENTERPRISE)
ADMIN = roles("admin")

SUBMIT = Transition(PENDING_INITIAL, OWNER, stamp="submitted_at")
RESUBMIT = Transition(PENDING_INITIAL, OWNER, stamp="submitted_at")
PASS_INITIAL = Transition(PENDING_SECOND, INITIAL, label=_l("Pass (initial review)"),
                          stamp="initial_passed_at", notice="declaration.passed_initial",
                          confirm=_l("Pass the selected declarations?"),
                          style="success")
REJECT_INITIAL = Transition(REJECTED, INITIAL, label=_l("Reject (initial review)"),
                            reason=True, values={"rejected_stage": "initial"},
                            notice="declaration.rejected", style="danger",
                            confirm=_l("Reject the selected declarations with the reason above?"))
PASS_SECOND = Transition(COMPLETED, SECOND, label=_l("Pass (second review)"),
                         stamp="second_passed_at", notice="declaration.completed",
                         confirm=_l("Pass the selected declarations?"),
                         style="success")
# Back to the initial stage on resubmission (the guide's 四).
REJECT_SECOND = Transition(REJECTED, SECOND, label=_l("Reject (second review)"),
                           reason=True, values={"rejected_stage": "second"},
                           notice="declaration.rejected", style="danger",
                           confirm=_l("Reject the selected declarations with the reason above?"))
WITHDRAW = Transition(WITHDRAWN, ADMIN, label=_l("Withdraw"), reason=True,
                      confirm=_l("Withdraw the selected declarations? They stay on record."),
                      style="secondary")

WORKFLOW = Workflow(
    "declaration",
    {
        DRAFT: {"submit": SUBMIT, "withdraw": WITHDRAW},
        PENDING_INITIAL: {"pass_initial": PASS_INITIAL, "reject_initial": REJECT_INITIAL,
                          "withdraw": WITHDRAW},
        PENDING_SECOND: {"pass_second": PASS_SECOND, "reject_second": REJECT_SECOND,
                         "withdraw": WITHDRAW},
        REJECTED: {"resubmit": RESUBMIT, "withdraw": WITHDRAW},
        COMPLETED: {"withdraw": WITHDRAW},
    },
    STATES,
)

# Reporting to the municipal bureau: the state stays, the date and batch are recorded
# (once: the writer's condition is ``reported_at IS NULL``).
REPORTING = Workflow(
    "declaration",
    {COMPLETED: {"report": Transition(
        COMPLETED, roles("supervisor"), label=_l("Mark as reported to the municipal bureau"),
        notice="declaration.reported",
        confirm=_l("Mark the selected completed declarations as reported?"))}},
    STATES,
)

# The states the enterprise may still change: those it may (re)submit from.
EDITABLE = {state for state in WORKFLOW.transitions if WORKFLOW.actions(state, OWNER)}

# The states a decision with a reason leads to: the portal shows the reason beside them.
REASONED = {step.target for actions in WORKFLOW.transitions.values()
            for step in actions.values() if step.reason}

# What the enterprise's own actions are called on its pages (the table's labels name the
# staff decisions only: ``Workflow.decisions`` lists the labelled actions).
PORTAL_ACTIONS = {"submit": _l("Edit"), "resubmit": _l("Apply again")}


def portal_action(state: str) -> tuple[str, object] | None:
    """The enterprise's action from ``state`` and its link text (``None``: none)."""
    for action in WORKFLOW.actions(state, OWNER):
        return action, PORTAL_ACTIONS[action]
    return None


# The notice each kind of the table sends (``Transition.notice``), in the reader's language.
NOTICES = notice_texts({
    "declaration.passed_initial": _l("The declaration of %(name)s passed the initial review "
                                     "and awaits the second review."),
    "declaration.completed": _l("The declaration of %(name)s passed the second review "
                                "(completed at district level)."),
    "declaration.rejected": _l("The declaration of %(name)s was not approved. Reason: "
                               "%(reason)s"),
    "declaration.reported": _l("%(name)s was reported to the municipal talent bureau. "
                               "%(text)s"),
})

# Read from the table (kept for the code that names them).
LABELS = WORKFLOW.labels()
BADGES = WORKFLOW.badges()
DECISIONS = {action: WORKFLOW.transition(action).label for action in WORKFLOW.decisions()}
REJECT_STAGE = {action: WORKFLOW.transition(action).values["rejected_stage"]
                for action in WORKFLOW.decisions()
                if "rejected_stage" in WORKFLOW.transition(action).values}
