"""Admin() assembly: built inside create_app(), never at module level."""

from __future__ import annotations

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from ..core.security import csp_nonce
from .views import AuditLogView, StaffIndexView


def build_admin(app) -> Admin:
    from ..accounts.admin import EnterpriseUserView, StaffUserView
    from ..accounts.models import EnterpriseUser, StaffUser
    from ..core.models import AuditEvent
    from ..pages.admin import PageTextView
    from ..pages.models import PageText

    admin = Admin(
        app,
        name=_l("Talent Office"),
        index_view=StaffIndexView(name=_l("Home"), url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/talentadmin_base.html", fluid=True),
        csp_nonce_generator=csp_nonce,
        # Fills the few strings Flask-Admin's shipped zh catalog lacks; its own come after.
        translations_path=app.config["BABEL_TRANSLATION_DIRECTORIES"],
    )
    admin.add_view(EnterpriseUserView(EnterpriseUser, name=_l("Enterprise accounts"),
                                      category=_l("Accounts"), endpoint="enterprise_user"))
    admin.add_view(StaffUserView(StaffUser, name=_l("Staff accounts"),
                                 category=_l("Accounts"), endpoint="staff_user"))
    admin.add_view(PageTextView(PageText, name=_l("Page texts"), category=_l("Settings"),
                                endpoint="page_text"))
    admin.add_view(AuditLogView(AuditEvent, name=_l("Audit log"), endpoint="audit_event"))
    return admin
