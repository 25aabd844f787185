"""Permit applications for the initial reviewers: a grid (pending first), the full
detail with the files, and decisions one by one or in bulk."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import case

from ..admin.base import ALL_STAFF, RoleModelView, current_staff, ref_options
from ..certification.forms import ApproveForm, RejectForm
from ..core.errors import FieldError
from ..core.params import page_number, record_id, record_ids
from ..core.workflow import check_reason, timeline
from ..extensions import db
from ..reference.models import label
from . import operations, workflow
from .forms import PermitAdminForm
from .models import PermitFile, PermitRevision
from .views import download_name


def _status(view, context, model, name):
    colour = {"pending": "warning", "approved": "success", "rejected": "danger"}[model.status]
    return Markup('<span class="badge badge-{}">{}</span>').format(colour, model.status_label)


def _ref(kind):
    return lambda view, context, model, name: label(kind, getattr(model, name))


class PermitReviewView(RoleModelView):
    read_roles = ALL_STAFF
    allow_create = allow_delete = False
    edit_roles = ("admin",)  # corrections, audited with the before and after values
    form = PermitAdminForm
    action_roles = {"approve": ("initial_reviewer", "admin"),
                    "reject": ("initial_reviewer", "admin")}
    list_template = "admin/review_list.html"
    details_template = "admin/permit_details.html"
    dynamic_filters = True
    column_list = ("submitted_at", "unit_name", "credit_code", "number", "registered_district",
                   "field", "contact_name", "status", "decided_at")
    column_sortable_list = ("submitted_at", "unit_name", "status", "decided_at")
    column_searchable_list = ("unit_name", "credit_code", "contact_name")
    column_formatters = {"status": _status, "registered_district": _ref("district"),
                         "field": _ref("field")}
    column_labels = {
        "submitted_at": _l("Submitted"), "unit_name": _l("Enterprise name"),
        "credit_code": _l("Unified social credit code"), "number": _l("Revision"),
        "registered_district": _l("District of registration"), "field": _l("Field of business"),
        "contact_name": _l("Unit contact person"), "status": _l("Status"),
        "decided_at": _l("Decided"),
    }

    @property
    def column_filters(self):  # choices come from the editable reference lists
        return (
            FilterEqual(PermitRevision.status, _l("Status"),
                        options=list(workflow.LABELS.items())),
            FilterEqual(PermitRevision.registered_district, _l("District of registration"),
                        options=ref_options("district")),
            FilterEqual(PermitRevision.field, _l("Field of business"),
                        options=ref_options("field")),
            "submitted_at",
        )

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        if sort_column is None:  # pending first, then the oldest submission first
            count, query = super().get_list(page, sort_column, sort_desc, search, filters,
                                            execute=False, page_size=page_size)
            query = query.limit(None).offset(None).order_by(None).order_by(
                case((PermitRevision.status == workflow.PENDING, 0), else_=1),
                PermitRevision.submitted_at)
            query = query.limit(page_size or self.page_size).offset(
                page_number(page) * (page_size or self.page_size))
            return count, query.all() if execute else query
        return super().get_list(page, sort_column, sort_desc, search, filters, execute,
                                page_size)

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            revision = kwargs["model"]
            staff = current_staff()
            kwargs.update(
                revision=revision, events=timeline(revision), status_labels=workflow.LABELS,
                actions=workflow.WORKFLOW.actions(revision.status, staff.role_names),
                approve_form=ApproveForm(), reject_form=RejectForm(),
                file_url=lambda f: url_for(".file", id=revision.id, file_id=f.id),
                inline_url=lambda f: url_for(".file", id=revision.id, file_id=f.id, inline=1),
                preview_url=lambda f: url_for(".file", id=revision.id, file_id=f.id, preview=1),
            )
        return super().render(template, **kwargs)

    def update_model(self, form, model):
        return self.save_form(
            form, lambda: operations.admin_update(model, current_staff(), form)) is not False

    @expose("/file/")
    def file(self):
        revision = self.get_one(request.args.get("id"))
        permit_file = db.session.get(PermitFile, request.args.get("file_id", type=record_id) or 0)
        if revision is None or permit_file is None or permit_file.revision_id != revision.id:
            abort(404)
        return self.send_record_file(permit_file.attachment,
                                     download_name(revision, permit_file), revision)

    @expose("/decide/", methods=("POST",))
    def decide(self):
        revision = self.get_one(request.form.get("id"))
        if revision is None:
            abort(404)
        back = url_for(".details_view", id=revision.id)
        staff = current_staff()
        action_name = request.form.get("action")
        if action_name == "approve" and ApproveForm().validate_on_submit():
            def decide():
                return operations.approve(revision, staff)
        elif action_name == "reject":
            def decide():
                return operations.reject(revision, staff, request.form.get("reason", ""))
        else:
            abort(400)
        return self.run_decision(
            decide, back, _("This application is no longer waiting for review, or your role "
                            "may not decide it.")) or redirect(back)

    # --- bulk decisions: the single operation per row, counted -----------------------------
    def _bulk(self, ids, decide) -> None:
        staff = current_staff()
        done = skipped = 0
        rows = self.get_query().filter(PermitRevision.id.in_(record_ids(ids))).all()
        for revision in rows:
            if decide(revision, staff):
                done += 1
            else:
                skipped += 1
        skipped += len(ids) - len(rows)
        db.session.commit()
        flash(ngettext("%(num)d decided", "%(num)d decided", done) + ", " +
              ngettext("%(num)d skipped (not pending, or not yours to decide)",
                       "%(num)d skipped (not pending, or not yours to decide)", skipped),
              "success" if done else "warning")

    @action("approve", _l("Approve"), _l("Approve the selected applications?"))
    def action_approve(self, ids):
        self._bulk(ids, operations.approve)

    @action("reject", _l("Reject with the reason above"),
            _l("Reject the selected applications with the reason above?"))
    def action_reject(self, ids):
        try:
            reason = check_reason(request.form.get("reason"))
        except FieldError as error:
            flash(error.message, "error")
            return
        self._bulk(ids, lambda revision, staff: operations.reject(revision, staff, reason))
