"""Certification grids: the manual-review queue and every record, with the licence beside
the recognised and the typed values. States, badges, bulk actions, who may take them and the
decision buttons are read from ``certification/workflow.py``; the edit form is the portal's
(:class:`~.forms.CertificationAdminForm`)."""

from __future__ import annotations

from flask import abort, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import update
from sqlalchemy.orm import joinedload

from ..admin.base import ALL_STAFF, RoleModelView, current_staff
from ..admin.decisions import Decisions, status_badge
from ..core import audit
from ..core.errors import FieldError
from ..core.models import AuditEvent
from ..core.params import optional_id
from ..extensions import db
from . import operations
from .forms import CertificationAdminForm
from .models import Certification
from .workflow import MANUAL_REVIEW, RECOGNISED, WORKFLOW


def _flag(view, context, model, name):
    return Markup('<span class="badge badge-danger">{}</span>').format(_("Conflict")) \
        if model.conflict else ""


def _changed(view, context, model, name):
    if model.status == RECOGNISED:
        return ""
    changed = [str(label) for flag, label in ((model.name_changed, _l("name")),
                                              (model.code_changed, _l("credit code"))) if flag]
    return ", ".join(changed) or _("unchanged")


def correct_email(cert: Certification, staff, form) -> dict:
    """An administrator's correction of a certification's email, audited with the before
    and after; refused when the email changed since the form was opened (the form's
    ``email_seen``). The name and credit code are never taken from the form."""
    seen = form.email_seen.data or None
    claimed = db.session.execute(
        update(Certification)
        .where(Certification.id == cert.id,
               Certification.email.is_(None) if seen is None else Certification.email == seen)
        .values(email=Certification.email)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not claimed:
        raise FieldError("email", _(
            "This certification was changed elsewhere since you opened it. Reload the page "
            "to see the current version, then make your change again."))
    return audit.correct(cert, form, ("email",), "certification.admin_update", staff)


class CertificationView(Decisions, RoleModelView):
    """Every certification record, newest first (history included)."""

    read_roles = ALL_STAFF
    allow_create = allow_delete = False
    edit_roles = ("admin",)  # the email only, audited
    form = CertificationAdminForm
    read_only = ("name", "credit_code")  # the licence's values, shown, never taken
    form_widget_args = {name: {"readonly": True} for name in read_only}
    workflow = WORKFLOW
    decision_sources = (MANUAL_REVIEW,)
    refused_message = _l("This certification is no longer waiting for review.")
    list_template = "admin/review_list.html"
    details_template = "admin/certification_details.html"
    column_list = ("submitted_at", "name", "credit_code", "enterprise_user", "status",
                   "conflict", "changed")
    column_sortable_list = ("submitted_at", "name", "credit_code", "status")
    column_searchable_list = ("name", "credit_code")
    column_filters = (
        FilterEqual(Certification.status, _l("Status"), options=list(WORKFLOW.labels().items())),
        "conflict", "submitted_at", "decided_at",
    )
    column_default_sort = ("id", True)
    column_formatters = {"status": status_badge(WORKFLOW), "conflict": _flag,
                         "changed": _changed}
    column_labels = {
        "submitted_at": _l("Submitted"), "name": _l("Unit name"),
        "credit_code": _l("Unified social credit code"), "enterprise_user": _l("Account"),
        "status": _l("Status"), "conflict": _l("Conflict"), "changed": _l("Edited by operator"),
    }

    @staticmethod
    def visible(query):
        """What staff see: a licence that was read but never submitted stays the
        enterprise's own."""
        return query.filter(Certification.status != RECOGNISED)

    def scope_query(self, query):
        return self.visible(query)

    def decision_record(self, id):
        """Any certification staff see, also from the queue: one decided meanwhile has
        left the queue, and the reviewer is told so."""
        pk = optional_id(id)
        if pk is None:
            return None
        return self.visible(db.session.query(Certification)).filter(
            Certification.id == pk).one_or_none()

    def get_query(self):
        return super().get_query().options(joinedload(Certification.enterprise_user))

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            cert = kwargs["model"]
            kwargs.update(
                cert=cert, **self.decision_context(cert),
                history=db.session.query(Certification)
                .filter(Certification.enterprise_user_id == cert.enterprise_user_id,
                        Certification.status != RECOGNISED)
                .order_by(Certification.id.desc()).all(),
                events=db.session.query(AuditEvent)
                .filter(AuditEvent.target_type == "certification", AuditEvent.target_id == cert.id)
                .order_by(AuditEvent.id).all(),
            )
        return super().render(template, **kwargs)

    def edit_form(self, obj=None):
        """The portal's form on the record: its read-only fields hold the record's values
        whatever was posted; ``email_seen`` is set when the page is opened (a form shown
        again after an error keeps what it saw)."""
        form = super().edit_form(obj)
        for name in self.read_only:
            form[name].data = form[name].object_data
        if request.method == "GET":
            form.email_seen.data = form.email.object_data or ""
        return form

    def update_model(self, form, model):
        return self.save_form(
            form, lambda: correct_email(model, current_staff(), form)) is not False

    @expose("/file/")
    def file(self):
        """The licence of a certification this viewer may see (``?inline=1`` shown)."""
        cert = self.get_one(request.args.get("id"))
        if cert is None:
            abort(404)
        return self.send_record_file(cert.licence, f"{cert.name or cert.ocr_name or cert.id}-"
                                                   f"{_('Business licence')}", cert)

    def decide_record(self, record, staff, action_name, reason):
        operations.decide(record, staff, action_name, reason)  # a refusal: FieldError
        return True


class CertificationQueueView(CertificationView):
    """Only the records waiting for a reviewer."""

    column_default_sort = ("submitted_at", False)

    def scope_query(self, query):
        return query.filter(Certification.status == MANUAL_REVIEW)
