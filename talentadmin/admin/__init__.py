"""Admin() assembly: built inside create_app(), never at module level."""

from __future__ import annotations

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..core.audit import actor_name, event_label
from ..core.filelabels import file_label
from ..core.security import csp_nonce
from . import words
from .dashboard import DashboardView
from .outbox import OutboxView
from .views import AuditLogView, StaffIndexView


def build_admin(app) -> Admin:
    from ..accounts.admin import EnterpriseUserView, StaffUserView
    from ..accounts.models import EnterpriseUser, StaffUser
    from ..certification.admin import CertificationQueueView, CertificationView
    from ..certification.models import Certification
    from ..core.models import AuditEvent
    from ..declarations.admin import AllDeclarationsView, RoundView, queues
    from ..declarations.import_admin import LegacyImportView
    from ..declarations.models import Declaration, Round
    from ..pages.admin import GuideFileView, PageTextView, PortalItemView
    from ..pages.models import PageText, PortalItem
    from ..permits.admin import PermitReviewView
    from ..permits.models import PermitRevision
    from ..reference.admin import ReasonTemplateView, ReferenceItemView
    from ..reference.models import KINDS, ReasonTemplate

    admin = Admin(
        app,
        name=_l("Talent Office"),
        index_view=StaffIndexView(name=_l("Home"), url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/talentadmin_base.html", fluid=True),
        csp_nonce_generator=csp_nonce,
        # Fills the few strings Flask-Admin's shipped zh catalog lacks; its own come after.
        translations_path=app.config["BABEL_TRANSLATION_DIRECTORIES"],
    )
    admin.add_view(CertificationQueueView(Certification, name=_l("Certification review"),
                                          category=_l("Certification"),
                                          endpoint="certification_queue"))
    admin.add_view(CertificationView(Certification, name=_l("All certifications"),
                                     category=_l("Certification"), endpoint="certification_all"))
    admin.add_view(DashboardView(name=_l("Dashboard"), endpoint="dashboard"))
    admin.add_view(PermitReviewView(PermitRevision, name=_l("Business permissions"),
                                    endpoint="permit_review"))
    for queue, endpoint, name in queues():  # one per state with decisions of its own
        admin.add_view(queue(Declaration, name=name, category=_l("Declarations"),
                             endpoint=endpoint))
    admin.add_view(AllDeclarationsView(Declaration, name=_l("All declarations"),
                                       category=_l("Declarations"), endpoint="declaration_all"))
    admin.add_view(ReasonTemplateView(ReasonTemplate, name=_l("Reason templates"),
                                      category=_l("Settings"), endpoint="reason_template"))
    admin.add_view(RoundView(Round, name=_l("Rounds"), category=_l("Settings"),
                             endpoint="round"))
    for kind, title in KINDS.items():
        admin.add_view(ReferenceItemView(kind, name=title, category=_l("Reference lists"),
                                         endpoint=f"reference_{kind}"))
    admin.add_view(EnterpriseUserView(EnterpriseUser, name=_l("Enterprise accounts"),
                                      category=_l("Accounts"), endpoint="enterprise_user"))
    admin.add_view(StaffUserView(StaffUser, name=_l("Staff accounts"),
                                 category=_l("Accounts"), endpoint="staff_user"))
    admin.add_view(PageTextView(PageText, name=_l("Page texts"), category=_l("Settings"),
                                endpoint="page_text"))
    admin.add_view(PortalItemView(PortalItem, name=_l("Notices and policies"),
                                  category=_l("Settings"), endpoint="portal_item"))
    admin.add_view(GuideFileView(name=_l("Operation guide"), category=_l("Settings"),
                                 endpoint="portal_guide"))
    admin.add_view(AuditLogView(AuditEvent, name=_l("Audit log"), endpoint="audit_event"))
    admin.add_view(LegacyImportView(name=_l("Import old data"), endpoint="legacy_import"))
    admin.add_view(OutboxView(name=_l("SMS outbox"), endpoint="sms_outbox"))
    app.add_template_global(cached_menu)
    app.add_template_global(fixed_url)
    app.add_template_global(event_label)  # every timeline's words (portal pages too)
    app.add_template_global(actor_name)
    app.add_template_global(file_label)  # a file's name in the reader's language
    app.after_request(_html_lang)
    app.before_request(_refuse_odd_return_url)
    app.before_request(words.prefer_ours)  # Flask-Admin's words as the office says them
    return admin


def _refuse_odd_return_url():
    """Flask-Admin redirects to its ``url`` argument after checking only where it points:
    a line break in it made the redirect's header raise (a 500). None of our links has
    one: such a request is a 400."""
    from flask import abort, request

    if request.path.startswith("/admin"):
        url = request.values.get("url") or ""
        if "\n" in url or "\r" in url:
            abort(400)


def _html_lang(response):
    """Flask-Admin's base template opens with a bare ``<html>``: the back office says its
    language there too, as the portal does (screen readers, and the browser's choice of
    Chinese or Latin fonts, read it)."""
    from flask import request
    from flask_babel import get_locale

    if (response.mimetype != "text/html" or response.direct_passthrough
            or response.is_streamed or not request.path.startswith("/admin")):
        return response
    body = response.get_data()
    head = body[:200]
    if b"<html>" in head:
        lang = b"en" if str(get_locale() or "").startswith("en") else b"zh-Hans"
        response.set_data(head.replace(b"<html>", b'<html lang="' + lang + b'">', 1)
                          + body[200:])
    return response


_STATIC_URLS: dict[tuple, str] = {}


def fixed_url(endpoint: str, **values) -> str:
    """``url_for`` of an address that depends on nothing but its (absolute) endpoint and
    values — a static file, an export link — once per mount point: a page prints a dozen,
    and templates name a fixed set of them, so the cache stays small."""
    from flask import request, url_for

    key = (request.script_root, endpoint, tuple(sorted(values.items())))
    url = _STATIC_URLS.get(key)
    if url is None:
        url = _STATIC_URLS[key] = url_for(endpoint, **values)
    return url


_MENUS: dict[tuple, Markup] = {}


def cached_menu(view, render) -> Markup:
    """The navigation bar, rendered once per active view, language and set of roles: it
    asks every view whether the viewer may open it, which cost more than a grid's rows.
    ``render`` is the menu macro of ``templates/admin/menu.html``. The key space is bounded (views ×
    languages × role sets)."""
    from flask import request
    from flask_babel import get_locale

    from .base import current_staff

    staff = current_staff()
    entries = sum(1 + len(item.get_children()) for item in view.admin.menu())  # views added
    key = (id(view.admin), entries, view.endpoint, str(get_locale()),
           request.script_root, tuple(sorted(staff.role_names)) if staff else ())
    html = _MENUS.get(key)
    if html is None:
        html = _MENUS[key] = Markup(render())  # noqa: S704 - a Jinja macro's output
    return html
