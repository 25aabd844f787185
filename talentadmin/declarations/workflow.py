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
                            stamp="rejected_at",
                            notice="declaration.rejected", style="danger",
                            confirm=_l("Reject the selected declarations with the reason above?"))
PASS_SECOND = Transition(COMPLETED, SECOND, label=_l("Pass (second review)"),
                         stamp="second_passed_at", notice="declaration.completed",
                         confirm=_l("Pass the selected declarations?"),
                         style="success")
# Back to the initial stage on resubmission (the guide's 四).
REJECT_SECOND = Transition(REJECTED, SECOND, label=_l("Reject (second review)"),
                           reason=True, values={"rejected_stage": "second"},
                           stamp="rejected_at",
                           notice="declaration.rejected", style="danger",
                           confirm=_l("Reject the selected declarations with the reason above?"))
WITHDRAW = Transition(WITHDRAWN, ADMIN, label=_l("Withdraw"), reason=True,
                      notice="declaration.withdrawn",
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

# The municipal bureau's decision (the guide's 五: 市人才工作局按程序确定拟引进人才名单),
# recorded per declaration after the report, by the role that reports (the supervisor).
#
# Why a table of its own whose transitions leave ``completed`` where it is, and not two
# new states after ``completed``: the outcome is a fact about a declaration the district
# completed, not a further step of the district's review. As states, ``listed`` would stop
# being ``completed`` — the municipal export's default ("the completed ones"), the
# statistics by status, withdrawal and reporting, which all read ``completed`` as "passed
# the district", would each need to learn the new states. As transitions of this table it
# still has everything the table carries — roles, labels, confirmations, bulk actions on
# the grid of all declarations (``admin.flows``), notices, timeline rows and audit events
# through the one writer — while the outcome itself is a column (``bureau_outcome``,
# ``bureau_decided_on``) whose labels and badges are the ``State`` entries of ``OUTCOMES``.
# Each action records its outcome only on a reported declaration that does not hold it yet
# (``operations.record_outcome``): a wrong entry is corrected by recording the other one.
LISTED = "listed"
NOT_LISTED = "not_listed"
OUTCOMES = {
    LISTED: State(_l("On the list of talents proposed for introduction"), "success"),
    NOT_LISTED: State(_l("Not on the list of talents proposed for introduction"), "secondary"),
}
REPORTERS = roles("supervisor")
BUREAU = Workflow(
    "declaration",
    {COMPLETED: {
        "list": Transition(
            COMPLETED, REPORTERS, label=_l("Record: on the municipal list"),
            values={"bureau_outcome": LISTED}, notice="declaration.listed",
            confirm=_l("Record the selected reported declarations as on the list of talents "
                       "proposed for introduction, with the date above?"),
            style="success"),
        "not_list": Transition(
            COMPLETED, REPORTERS, label=_l("Record: not on the municipal list"),
            values={"bureau_outcome": NOT_LISTED}, notice="declaration.not_listed",
            confirm=_l("Record the selected reported declarations as not on the list of "
                       "talents proposed for introduction, with the date above?"),
            style="secondary"),
    }},
    STATES,
)
# The timeline's words for the entries that leave the state where it was.
SAME_STATE_ACTIONS = {
    "report": _l("Reported to the municipal bureau"),
    "list": OUTCOMES[LISTED].label,
    "not_list": OUTCOMES[NOT_LISTED].label,
}

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
    "declaration.withdrawn": _l("The declaration of %(name)s was withdrawn. Reason: "
                                "%(reason)s"),
    "declaration.listed": _l("%(name)s is on the municipal talent bureau's list of talents "
                             "proposed for introduction (%(date)s). Next step: fill in the "
                             "Beijing \"Talent Business Platform\" as the district talent "
                             "office will notify and guide you; the unit and the person "
                             "provide the materials and support their review."),
    "declaration.not_listed": _l("%(name)s is not on the municipal talent bureau's list of "
                                 "talents proposed for introduction (%(date)s)."),
})

# Read from the table (kept for the code that names them).
LABELS = WORKFLOW.labels()
BADGES = WORKFLOW.badges()
DECISIONS = {action: WORKFLOW.transition(action).label for action in WORKFLOW.decisions()}
REJECT_STAGE = {action: WORKFLOW.transition(action).values["rejected_stage"]
                for action in WORKFLOW.decisions()
                if "rejected_stage" in WORKFLOW.transition(action).values}
