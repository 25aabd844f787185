"""Certification grids: the manual-review queue and every record, with the licence beside
the recognised and the typed values."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from ..admin.base import ALL_STAFF, RoleModelView, current_staff
from ..core.errors import FieldError
from ..core.models import AuditEvent
from ..extensions import db
from . import operations, workflow
from .forms import ApproveForm, RejectForm
from .models import Certification


def _status(view, context, model, name):
    colour = {"approved": "success", "manual_review": "warning", "rejected": "danger"}.get(
        model.status, "secondary")
    return Markup('<span class="badge badge-{}">{}</span>').format(colour, model.status_label)


def _flag(view, context, model, name):
    return Markup('<span class="badge badge-danger">{}</span>').format(_("Conflict")) \
        if model.conflict else ""


def _changed(view, context, model, name):
    if model.status == workflow.RECOGNISED:
        return ""
    changed = [str(label) for flag, label in ((model.name_changed, _l("name")),
                                              (model.code_changed, _l("credit code"))) if flag]
    return ", ".join(changed) or _("unchanged")


class CertificationView(RoleModelView):
    """Every certification record, newest first (history included)."""

    read_roles = ALL_STAFF
    allow_create = allow_edit = allow_delete = False
    details_template = "admin/certification_details.html"
    column_list = ("submitted_at", "name", "credit_code", "enterprise_user", "status",
                   "conflict", "changed")
    column_sortable_list = ("submitted_at", "name", "credit_code", "status")
    column_searchable_list = ("name", "credit_code")
    column_filters = (
        FilterEqual(Certification.status, _l("Status"),
                    options=[(k, v) for k, v in workflow.LABELS.items()]),
        "conflict", "submitted_at", "decided_at",
    )
    column_default_sort = ("id", True)
    column_formatters = {"status": _status, "conflict": _flag, "changed": _changed}
    column_labels = {
        "submitted_at": _l("Submitted"), "name": _l("Unit name"),
        "credit_code": _l("Unified social credit code"), "enterprise_user": _l("Account"),
        "status": _l("Status"), "conflict": _l("Conflict"), "changed": _l("Edited by operator"),
    }

    def scope_query(self, query):
        # A licence that was read but never submitted stays the enterprise's own.
        return query.filter(Certification.status != workflow.RECOGNISED)

    def get_query(self):
        return super().get_query().options(joinedload(Certification.enterprise_user))

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            cert = kwargs["model"]
            staff = current_staff()
            kwargs.update(
                cert=cert,
                actions=workflow.WORKFLOW.actions(cert.status, staff.role_names),
                approve_form=ApproveForm(), reject_form=RejectForm(),
                history=db.session.query(Certification)
                .filter(Certification.enterprise_user_id == cert.enterprise_user_id,
                        Certification.status != workflow.RECOGNISED)
                .order_by(Certification.id.desc()).all(),
                events=db.session.query(AuditEvent)
                .filter(AuditEvent.target_type == "certification", AuditEvent.target_id == cert.id)
                .order_by(AuditEvent.id).all(),
            )
        return super().render(template, **kwargs)

    @expose("/file/")
    def file(self):
        """The licence of a certification this viewer may see (``?inline=1`` shown)."""
        cert = self.get_one(request.args.get("id"))
        if cert is None:
            abort(404)
        return self.send_record_file(cert.licence, f"{cert.name or cert.ocr_name or cert.id}-"
                                                   f"{_('Business licence')}", cert)

    @expose("/decide/", methods=("POST",))
    def decide(self):
        cert = self.get_one(request.form.get("id"))
        if cert is None:
            abort(404)
        staff = current_staff()
        back = url_for(".details_view", id=cert.id, url=request.form.get("url"))
        try:
            if request.form.get("action") == "approve" and ApproveForm().validate_on_submit():
                operations.approve(cert, staff)
                flash(_("Certification approved."), "success")
            elif request.form.get("action") == "reject":
                if not RejectForm().validate_on_submit():  # the CSRF token
                    abort(400)
                operations.reject(cert, staff, request.form.get("reason"))
                flash(_("Certification rejected."), "success")
            else:
                abort(400)
        except FieldError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(back)
        db.session.commit()
        return redirect(back)


class CertificationQueueView(CertificationView):
    """Only the records waiting for a reviewer."""

    column_default_sort = ("submitted_at", False)

    def scope_query(self, query):
        return query.filter(Certification.status == workflow.MANUAL_REVIEW)
