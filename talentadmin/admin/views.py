"""The admin home (the work waiting for the staff member's roles; the staff login) and the
audit log grid."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from ..accounts import operations
from ..accounts.forms import StaffLoginForm
from ..accounts.models import ROLES
from ..core.audit import ACTORS as audit_actors
from ..core.audit import event_label
from ..core.errors import FieldError
from ..core.models import AuditEvent
from ..core.security import safe_next
from .base import ALL_STAFF, RoleModelView, current_staff, deny


def queues() -> list[tuple]:
    """The review queues of the home page: ``(model, workflow, state, label, endpoint, url
    arguments)``, each shown to the staff whose roles may decide from its state (the workflow
    table says who), with a link to the grid that lists it."""
    from ..certification import workflow as certification
    from ..certification.models import Certification
    from ..declarations import workflow as declaration
    from ..declarations.models import Declaration
    from ..permits import workflow as permit
    from ..permits.models import PermitRevision

    return [
        (Declaration, declaration.WORKFLOW, declaration.PENDING_INITIAL,
         _l("Awaiting the initial review"), "declaration_initial.index_view", {}),
        (Declaration, declaration.WORKFLOW, declaration.PENDING_SECOND,
         _l("Awaiting the second review"), "declaration_second.index_view", {}),
        (Certification, certification.WORKFLOW, certification.MANUAL_REVIEW,
         _l("Certifications awaiting review"), "certification_queue.index_view", {}),
        # the grid of every revision, filtered on its first filter (the status)
        (PermitRevision, permit.WORKFLOW, permit.PENDING,
         _l("Business permissions awaiting review"), "permit_review.index_view",
         {"flt0_0": permit.PENDING}),
    ]


def waiting_work(staff) -> list[dict]:
    """What waits for ``staff``: per queue its label, count and link, for the queues its
    roles may decide from; one counting statement per model (``GROUP BY status``)."""
    from sqlalchemy import func, select

    from ..extensions import db

    mine = [queue for queue in queues() if queue[1].actions(queue[2], staff.role_names)]
    states: dict = {}
    for model, _workflow, state, *_rest in mine:
        states.setdefault(model, []).append(state)
    counts: dict = {}
    for model, wanted in states.items():
        counts[model] = dict(db.session.execute(
            select(model.status, func.count()).where(model.status.in_(wanted))
            .group_by(model.status)).all())
    return [{"label": label, "count": counts[model].get(state, 0), "state": state,
             "url": url_for(endpoint, **args)}
            for model, _workflow, state, label, endpoint, args in mine]


class StaffIndexView(AdminIndexView):
    """``/admin``: the staff home; ``/admin/login`` and ``/admin/logout`` are open to all."""

    def is_accessible(self) -> bool:
        if request.endpoint in (f"{self.endpoint}.login", f"{self.endpoint}.logout"):
            return True  # the way in and out is open to all
        staff = current_staff()
        return staff is not None and staff.has_role(*ALL_STAFF)

    def inaccessible_callback(self, name, **kwargs):
        return deny(name)

    @expose("/")
    def index(self):
        staff = current_staff()
        return self.render("admin/talentadmin_index.html", staff=staff, roles=ROLES,
                           waiting=waiting_work(staff))

    @expose("/login", methods=("GET", "POST"))
    def login(self):
        form = StaffLoginForm()
        target = safe_next(request.values.get("next"), url_for(".index"))
        if current_staff() is not None:
            return redirect(target)
        if form.validate_on_submit():
            try:
                operations.staff_login(form.username.data, form.password.data)
                return redirect(target)
            except FieldError as error:
                error.attach(form)
        status = 400 if form.errors else 200
        return self.render("admin/talentadmin_login.html", form=form), status

    @expose("/logout", methods=("POST",))
    def logout(self):
        if current_user.is_authenticated:
            operations.logout(current_user._get_current_object())
        flash(_("You have logged out."), "info")
        return redirect(url_for(".login"))


class AuditLogView(RoleModelView):
    """Read-only: admins and supervisors see who did what, when, from where."""

    read_roles = ("admin", "supervisor")
    allow_create = allow_edit = allow_delete = False
    column_list = ("at", "actor_type", "actor_label", "role", "action", "outcome",
                   "target_type", "target_id", "ip")
    column_details_list = (*column_list, "detail")
    column_default_sort = ("at", True)
    column_sortable_list = ("at", "action", "outcome", "actor_type")
    column_searchable_list = ("actor_label", "action")
    column_filters = (
        "at",
        FilterEqual(AuditEvent.outcome, _l("Outcome"),
                    options=(("success", _l("Success")), ("failure", _l("Failure")))),
        FilterEqual(AuditEvent.actor_type, _l("Actor type"),
                    options=(("enterprise", _l("Enterprise")), ("staff", _l("Staff")),
                             ("anonymous", _l("Anonymous")), ("system", _l("System")))),
        "action",
        "ip",
    )
    column_labels = {
        "at": _l("Time"),
        "actor_type": _l("Actor type"),
        "actor_label": _l("Actor"),
        "role": _l("Role"),
        "action": _l("Action"),
        "outcome": _l("Outcome"),
        "target_type": _l("Target type"),
        "target_id": _l("Target ID"),
        "ip": _l("Client IP"),
        "detail": _l("Detail"),
    }
    page_size = 50
    # The event's name in the reader's language; its kind (what the filter and search
    # match) on hover.
    column_formatters = {
        "action": lambda view, context, model, name: Markup('<span title="{}">{}</span>')
        .format(model.action, event_label(model)),
        "actor_type": lambda view, context, model, name: str(
            audit_actors.get(model.actor_type, model.actor_type or "")),
    }
