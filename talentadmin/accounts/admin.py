"""Admin grids for staff accounts (admins only) and enterprise accounts."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..admin.base import ALL_STAFF, RoleModelView
from ..extensions import db
from . import operations
from .forms import EnterpriseAdminForm, StaffForm
from .models import ROLES, StaffRole, StaffUser


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

    def update_model(self, form, model):
        operations.set_enterprise_active(model, form.active.data)
        db.session.commit()
        return True
