"""Staff decisions read from a workflow table: a grid's bulk actions, who may run them,
the buttons of a details page and its one-record ``decide`` endpoint.

A view mixes :class:`Decisions` in before :class:`~talentadmin.admin.base.RoleModelView`,
names its ``workflow`` (and the states it decides from, ``decision_sources``) and says how
one record is decided (``decide_record``). Every labelled transition of the table becomes a
Flask-Admin ``@action`` when the class is made (its text the transition's label, its
question the transition's ``confirm``) and an entry of ``action_roles`` (the transition's
roles), so adding a decision to the table adds its bulk action, its check and its button.
"""

from __future__ import annotations

from contextlib import suppress

from babel.lists import format_list
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from ..core.audit import event_label
from ..core.errors import FieldError
from ..core.forms import Form
from ..core.params import record_ids
from ..core.workflow import REASON_MAX, Transition, Workflow, check_reason
from ..extensions import db
from .base import current_staff


def status_badge(workflow: Workflow):
    """A grid's column formatter: the record's state as the table labels and colours it."""

    def formatter(view, context, model, name):
        state = getattr(model, name)
        return Markup('<span class="badge badge-{}">{}</span>').format(
            workflow.badge(state), workflow.label(state))

    return formatter


def decision_summary(kind: str, done: int, skipped: dict[str, int]) -> str:
    """What a bulk decision did, in one sentence named by its event (``kind``): "初审通过 3
    条，跳过 2 条（状态不符 1 条、不存在或不可见 1 条）". ``skipped`` counts the rows left
    alone by why: ``state`` (not in a state the decision leaves from), ``role`` (not for the
    viewer's roles), ``unknown`` (unknown or outside the grid)."""
    why = {"state": _("not in the expected state"), "role": _("not for your role"),
           "unknown": _("unknown or not visible")}
    text = ngettext("%(event)s: %(num)d", "%(event)s: %(num)d", done, event=event_label(kind))
    total = sum(skipped.values())
    if total:
        reasons = format_list([_("%(why)s: %(num)d", why=why[key], num=count)
                               for key, count in skipped.items() if count],
                              locale=get_locale() or "zh_Hans_CN")
        text = _("%(done)s, %(skipped)s", done=text, skipped=ngettext(
            "%(num)d skipped (%(reasons)s)", "%(num)d skipped (%(reasons)s)", total,
            reasons=reasons))
    return text


def bulk_action(name: str, step: Transition):
    """The Flask-Admin action running the decision ``name`` on the selected rows."""

    def run(self, ids):
        return self.decide_rows(ids, name)

    run.__name__ = f"action_{name}"
    return action(name, step.label, step.confirm)(run)


class Decisions:
    """Bulk actions, allowed-action checks, details buttons and ``decide`` from ``workflow``.

    Subclasses set ``workflow`` (and ``decision_sources``: the states the grid decides
    from, every state when ``None``) and implement :meth:`decide_record`."""

    workflow: Workflow | None = None
    decision_sources: tuple[str, ...] | None = None
    refused_message = None  # said when a decision on one record did not apply (set it)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.workflow is None:
            return
        names = cls.workflow.decisions(sources=cls.decision_sources)
        roles: dict[str, set[str]] = {name: set() for name in names}
        for state, actions in cls.workflow.transitions.items():
            if cls.decision_sources is None or state in cls.decision_sources:
                for name, step in actions.items():
                    if name in roles:
                        roles[name] |= step.roles
        own = {name: allowed for name, allowed in getattr(cls, "action_roles", {}).items()
               if name not in cls.workflow.decisions()}  # the view's own actions
        cls.action_roles = {**own, **{name: tuple(sorted(roles[name])) for name in names}}
        for name in names:
            setattr(cls, f"action_{name}", bulk_action(name, cls.workflow.transition(name)))

    # --- what a view says ------------------------------------------------------------------
    def decide_record(self, record, staff, action_name: str, reason: str | None) -> bool:
        """Take the decision on one record (an ``operations.py`` call): ``True`` when it
        applied, ``False`` (or a ``FieldError``) when the record was not in a state this
        staff member may decide from."""
        raise NotImplementedError

    # --- read from the table ----------------------------------------------------------------
    def decisions_for(self, record) -> list[tuple[str, Transition]]:
        """The decisions the viewer may take on ``record`` now, as ``(action, Transition)``
        in table order: the buttons of its details page."""
        staff = current_staff()
        if staff is None:
            return []
        return [(name, self.workflow.transition(name))
                for name in self.workflow.decisions(staff.role_names, sources=[record.status])]

    def decision_context(self, record) -> dict:
        """What ``admin/decision_buttons.html`` needs on a details page."""
        return {"decisions": self.decisions_for(record), "reason_max": REASON_MAX,
                "workflow": self.workflow}

    # --- one record, from its details page ------------------------------------------------
    def decision_record(self, id):
        """The record a decision is about: ``get_one``. A grid narrower than what its viewer
        may see (a queue) looks wider here, so that a record decided meanwhile is refused
        with a message rather than not found."""
        return self.get_one(id)

    @expose("/decide/", methods=("POST",))
    def decide(self):
        record = self.decision_record(request.form.get("id"))
        if record is None:
            abort(404)
        name = request.form.get("action")
        if name not in self.workflow.decisions() or not Form().validate_on_submit():
            abort(400)
        staff = current_staff()
        reason = request.form.get("reason") if self.workflow.transition(name).reason else None
        self.run_decision(lambda: self.decide_record(record, staff, name, reason),
                          request.url, str(self.refused_message))  # commits, or not; says so
        if self.get_one(record.id) is None:  # it left this grid (a queue): back to the grid
            return redirect(get_redirect_target() or url_for(".index_view"))
        return redirect(url_for(".details_view", id=record.id,
                                url=request.form.get("url") or None))

    # --- the selected rows of the grid ----------------------------------------------------
    def decide_rows(self, ids, name: str) -> None:
        """The single decision per row, through the view's scoped query; rows in another
        state, unknown or not the viewer's to decide are skipped and counted; one commit."""
        reason = None
        if self.workflow.transition(name).reason:
            try:
                reason = check_reason(request.form.get("reason"))
            except FieldError as error:
                flash(error.message, "error")
                return
        staff = current_staff()
        rows = self.get_query().filter(self.model.id.in_(record_ids(ids))).all()
        done = 0
        for record in rows:
            with suppress(FieldError):  # decided meanwhile: skipped like a row in another state
                done += bool(self.decide_record(record, staff, name, reason))
        db.session.commit()
        flash(decision_summary(f"{self.workflow.name}.{name}", done,
                               {"state": len(rows) - done, "unknown": len(ids) - len(rows)}),
              "success" if done else "warning")
