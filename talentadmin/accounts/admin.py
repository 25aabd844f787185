"""Admin grids for staff accounts (admins only) and enterprise accounts."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from ..admin.base import ALL_STAFF, RoleModelView, current_staff, deny
from ..core import storage
from ..core.errors import FieldError
from ..core.models import Attachment, AuditEvent
from ..core.params import record_id
from ..extensions import db
from . import operations, transfer
from .forms import EnterpriseAdminForm, StaffForm
from .models import ROLES, EnterpriseUser, StaffRole, StaffUser
from .transfer_forms import ConfirmForm, MobileChangeForm, UnitMoveForm

# The audit actions of the two staff procedures, shown on the account's page with their evidence.
PROCEDURES = {
    "enterprise.mobile_reassign": _l("Mobile number changed by the office"),
    "enterprise.unit_move_out": _l("Unit moved to another account"),
    "enterprise.unit_move_in": _l("Unit moved to this account"),
}


class RoleFilter(BaseSQLAFilter):
    """Staff holding a given role (roles live in their own table)."""

    def apply(self, query, value, alias=None):
        return query.filter(StaffUser.role_rows.any(StaffRole.role == value))

    def operation(self):
        return _l("equals")


def _roles_formatter(view, context, model, name):
    return ", ".join(str(ROLES.get(role, role)) for role in model.role_names)


def _yes_no(view, context, model, name):
    return Markup('<span class="badge badge-{}">{}</span>').format(
        "success" if getattr(model, name) else "secondary",
        _l("Yes") if getattr(model, name) else _l("No"),
    )


class StaffUserView(RoleModelView):
    read_roles = create_roles = edit_roles = ("admin",)
    form = StaffForm
    column_list = ("username", "full_name", "roles", "active", "last_login_at", "created_at")
    column_details_list = column_list
    column_searchable_list = ("username", "full_name")
    column_sortable_list = ("username", "full_name", "active", "last_login_at", "created_at")
    column_filters = (
        "active",
        RoleFilter(StaffUser.id, _l("Role"), options=list(ROLES.items())),
    )
    column_formatters = {"roles": _roles_formatter, "active": _yes_no}
    column_formatters_detail = column_formatters
    column_labels = {
        "username": _l("Username"),
        "full_name": _l("Full name"),
        "roles": _l("Roles"),
        "active": _l("Active"),
        "last_login_at": _l("Last login"),
        "created_at": _l("Created"),
    }

    def on_form_prefill(self, form, id):
        model = self.get_one(id)
        form.roles.data = list(model.role_names)
        form.password.data = ""

    def create_model(self, form):
        if not form.password.data:
            form.password.errors = [
                *form.password.errors, _l("Set a password for the new account.")
            ]
            return False
        return self.save_form(form, lambda: operations.create_staff(
            form.username.data, form.password.data, form.roles.data,
            full_name=form.full_name.data, active=form.active.data))

    def update_model(self, form, model):
        return self.save_form(form, lambda: operations.update_staff(
            model, username=form.username.data, full_name=form.full_name.data,
            roles=form.roles.data, active=form.active.data,
            password=form.password.data)) is not False


class EnterpriseUserView(RoleModelView):
    """Every staff role may read; only admins may disable or re-enable an account."""

    read_roles = ALL_STAFF
    edit_roles = ("admin",)
    allow_create = False
    form = EnterpriseAdminForm
    column_list = ("mobile", "active", "has_password", "last_login_at", "created_at")
    column_details_list = column_list
    column_searchable_list = ("mobile",)
    column_sortable_list = ("mobile", "active", "last_login_at", "created_at")
    column_filters = ("active", "created_at", "last_login_at")
    column_default_sort = ("created_at", True)
    column_formatters = {"active": _yes_no, "has_password": _yes_no}
    column_formatters_detail = column_formatters
    column_labels = {
        "mobile": _l("Mobile number"),
        "active": _l("Active"),
        "has_password": _l("Password set"),
        "last_login_at": _l("Last login"),
        "created_at": _l("Registered"),
    }

    details_template = "admin/enterprise_details.html"

    def update_model(self, form, model):
        operations.set_enterprise_active(model, form.active.data)
        db.session.commit()
        return True

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs["procedures"] = self.procedures(kwargs["model"])
            kwargs["may_change"] = self.has_roles(("admin",))
            kwargs["procedure_labels"] = PROCEDURES
        return super().render(template, **kwargs)

    @staticmethod
    def procedures(user: EnterpriseUser) -> list[AuditEvent]:
        return list(db.session.execute(
            select(AuditEvent).where(AuditEvent.target_type == EnterpriseUser.__tablename__,
                                     AuditEvent.target_id == user.id,
                                     AuditEvent.action.in_(list(PROCEDURES)))
            .order_by(AuditEvent.id.desc())).scalars())

    # --- the staff procedures for a lost phone or a departed operator (admins only) ----------
    @expose("/mobile/", methods=("GET", "POST"))
    def mobile_view(self):
        """The account's registered mobile number becomes another one."""
        return self.procedure("mobile", MobileChangeForm)

    @expose("/move/", methods=("GET", "POST"))
    def move_view(self):
        """The unit's records move from this account to another one."""
        return self.procedure("move", UnitMoveForm)

    @expose("/evidence/")
    def evidence_view(self):
        """The evidence file of one procedure (an audit event of this account)."""
        event = db.session.get(AuditEvent, request.args.get("event", type=record_id) or 0)
        user = self.get_one(request.args.get("id"))
        if (user is None or event is None or event.action not in PROCEDURES
                or event.target_id != user.id
                or event.target_type != EnterpriseUser.__tablename__):
            abort(404)
        attachment = db.session.get(Attachment, (event.detail or {}).get("evidence") or 0)
        if attachment is None:
            abort(404)
        return self.send_record_file(attachment, f"{user.mobile}-{_('Evidence')}", user)

    def procedure(self, kind: str, form_class):
        if not self.has_roles(("admin",)):
            return deny()
        user = self.get_one(request.args.get("id"))
        if user is None:
            abort(404)
        here = url_for(f".{kind}_view", id=user.id)
        if request.method == "POST" and "token" in request.form:
            return self.confirmed(kind, user, ConfirmForm(), here)
        form = form_class()
        if form.validate_on_submit():
            try:
                if kind == "mobile":
                    transfer.check_new_mobile(user, form.new_mobile.data)
                    target = None
                else:
                    target = transfer.find_target(user, form.target_mobile.data)
                proof = storage.save_upload(form.evidence.data)
            except FieldError as error:
                error.attach(form)
            except storage.UploadError as error:
                form.evidence.errors = [storage.upload_error_message(error.reason)]
            else:
                db.session.commit()  # the evidence, kept whether or not it is confirmed
                accounts = (user,) if target is None else (user, target)
                token = transfer.sign({
                    "kind": kind, "account": user.id, "target": getattr(target, "id", None),
                    "new_mobile": form.new_mobile.data if kind == "mobile" else None,
                    "reason": form.reason.data, "evidence": proof.id,
                    "seen": transfer.fingerprint(*accounts)})
                confirm = ConfirmForm(token=token)
                return self.render("admin/account_procedure_confirm.html", kind=kind,
                                   account=user, target=target, form=confirm, action=here,
                                   new_mobile=form.new_mobile.data if kind == "mobile" else "",
                                   reason=form.reason.data, proof=proof,
                                   moving=transfer.holdings(user.id),
                                   theirs=transfer.holdings(target.id) if target else None,
                                   back=url_for(".details_view", id=user.id))
        status = 400 if form.errors else 200
        return self.render("admin/account_procedure.html", kind=kind, account=user, form=form,
                           action=here, back=url_for(".details_view", id=user.id)), status

    def confirmed(self, kind: str, user: EnterpriseUser, confirm: ConfirmForm, here: str):
        stale = _("This confirmation is out of date: the account or its records changed since "
                  "it was shown, or it was already carried out. Nothing was changed; check the "
                  "account and start again.")
        try:
            if not confirm.validate_on_submit():
                raise transfer.Stale()
            payload = transfer.unsign(confirm.token.data)
            if payload.get("kind") != kind or payload.get("account") != user.id:
                raise transfer.Stale()
            staff = current_staff()
            if kind == "mobile":
                transfer.change_mobile(user, payload["new_mobile"], reason=payload["reason"],
                                       evidence_id=payload["evidence"], seen=payload["seen"],
                                       staff=staff)
                done = _("The registered mobile number was changed; the account's sessions "
                         "ended and both numbers were told by SMS.")
            else:
                target = db.session.get(EnterpriseUser, payload.get("target") or 0)
                if target is None:
                    raise transfer.Stale()
                transfer.move_unit(user, target, reason=payload["reason"],
                                   evidence_id=payload["evidence"], seen=payload["seen"],
                                   staff=staff)
                done = _("The unit was moved; both accounts' sessions ended and both numbers "
                         "were told by SMS.")
            db.session.commit()
        except transfer.Stale:
            db.session.rollback()
            flash(stale, "error")
            return redirect(here), 303
        except FieldError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(here), 303
        flash(done, "success")
        return redirect(url_for(".details_view", id=user.id)), 303
