"""Permit applications for the initial reviewers: a grid (pending first), the full
detail with the files, and decisions one by one or in bulk — labels, badges, actions, who
may take them and the buttons all read from ``permits/workflow.py``."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from sqlalchemy import case

from ..admin.base import ALL_STAFF, RoleModelView, current_staff, ref_options
from ..admin.decisions import Decisions, status_badge
from ..core.params import page_number, record_id
from ..core.workflow import timeline
from ..extensions import db
from ..reference.models import label
from . import operations
from .forms import PermitAdminForm
from .models import PermitFile, PermitRevision
from .views import download_name
from .workflow import PENDING, WORKFLOW


def _ref(kind):
    return lambda view, context, model, name: label(kind, getattr(model, name))


class PermitReviewView(Decisions, RoleModelView):
    read_roles = ALL_STAFF
    allow_create = allow_delete = False
    edit_roles = ("admin",)  # corrections, audited with the before and after values
    form = PermitAdminForm
    workflow = WORKFLOW  # bulk actions, who may take them, the details buttons
    refused_message = _l("This application is no longer waiting for review, or your role "
                         "may not decide it.")
    list_template = "admin/review_list.html"
    details_template = "admin/permit_details.html"
    dynamic_filters = True
    column_list = ("submitted_at", "unit_name", "credit_code", "number", "registered_district",
                   "field", "contact_name", "status", "decided_at")
    column_sortable_list = ("submitted_at", "unit_name", "status", "decided_at")
    column_searchable_list = ("unit_name", "credit_code", "contact_name")
    column_formatters = {"status": status_badge(WORKFLOW),
                         "registered_district": _ref("district"), "field": _ref("field")}
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
                        options=list(WORKFLOW.labels().items())),
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
                case((PermitRevision.status == PENDING, 0), else_=1),
                PermitRevision.submitted_at)
            query = query.limit(page_size or self.page_size).offset(
                page_number(page) * (page_size or self.page_size))
            return count, query.all() if execute else query
        return super().get_list(page, sort_column, sort_desc, search, filters, execute,
                                page_size)

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            revision = kwargs["model"]
            kwargs.update(
                revision=revision, events=timeline(revision), **self.decision_context(revision),
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

    def decide_record(self, record, staff, action_name, reason):
        return operations.decide(record, staff, action_name, reason)
