"""The portal's public pages: home (通知公告, 政策文件, 操作指南, 常见问题), talent services, the
talent-introduction zone, support; the enterprise's step bar and the footer's texts."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core import storage
from ..core.i18n import LANG_COOKIE
from ..core.params import optional_id, page_number
from ..core.security import safe_next
from . import operations
from .models import ITEM_KINDS
from .operations import texts

bp = Blueprint("portal", __name__)

# The sections of dated items: URL segment -> kind (see ``ITEM_KINDS``).
SECTIONS = {"announcements": "notice", "policies": "policy"}
SECTION_OF = {kind: section for section, kind in SECTIONS.items()}

# The enterprise's way through the system, as the guide walks it: 注册 → 认证 → 开通 → 申报.
STEPS = (
    ("register", _l("Register")),
    ("certify", _l("Certify")),
    ("open", _l("Open the business")),
    ("declare", _l("Declare")),
)


@bp.route("/")
def home():
    return render_template(
        "portal/home.html",
        lists=[(section, ITEM_KINDS[kind], operations.published_items(kind))
               for section, kind in SECTIONS.items()],
        guide=operations.portal_file(),
        faq=texts("faq"),
    )


def _kind(section: str) -> str:
    kind = SECTIONS.get(section)
    if kind is None:
        abort(404)
    return kind


@bp.route("/<any(announcements, policies):section>")
def item_list(section: str):
    kind = _kind(section)
    total = operations.count_published(kind)
    pages = max(1, -(-total // operations.LIST_PAGE))
    page = min(max(page_number(request.args.get("page")), 1), pages)
    items = operations.published_items(kind, operations.LIST_PAGE,
                                       (page - 1) * operations.LIST_PAGE)
    return render_template("portal/items.html", section=section, heading=ITEM_KINDS[kind],
                           items=items, page=page, pages=pages)


@bp.route("/<any(announcements, policies):section>/<int:item_id>")
def item(section: str, item_id: int):
    kind = _kind(section)
    found = operations.published_item(kind, item_id) if optional_id(item_id) else None
    if found is None:
        abort(404)
    return render_template("portal/item.html", section=section, heading=ITEM_KINDS[kind],
                           item=found)


@bp.route("/guide")
def guide():
    """The operation guide as a download; while none is uploaded, a page that says so."""
    found = operations.portal_file()
    if found is None:
        return render_template("portal/guide_missing.html"), 404
    return storage.send_attachment(found.attachment, _("Operation guide"))


@bp.route("/faq")
def faq():
    return render_template("portal/faq.html", sections=texts("faq"))


@bp.route("/services")
def services():
    return render_template("portal/services.html")


@bp.route("/services/talent-introduction")
def talent_introduction():
    return render_template(
        "portal/talent_introduction.html",
        sections=texts("policy_basis", "conditions", "process"),
    )


@bp.route("/support")
def support():
    return render_template("portal/support.html", sections=texts("support"))


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    response = redirect(safe_next(request.form.get("next"), "/"))
    response.set_cookie(
        LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
        secure=request.is_secure,
    )
    return response


# --- what every portal page shows: the step bar and the footer --------------------------------

def enterprise_steps() -> list[dict] | None:
    """The signed-in enterprise's steps, each ``{key, label, state, note, endpoint}`` with
    ``state`` one of ``done``, ``current``, ``todo``; ``None`` for anyone else. Derived from
    the unit's certification (an approved one is the unit the account acts for) and its
    business permission (approved: one in force). Read once per request."""
    if getattr(current_user, "kind", None) != "enterprise":
        return None
    if "enterprise_steps" in g:
        return g.enterprise_steps
    from ..certification import operations as certification
    from ..permits import operations as permits

    notes: dict[str, str] = {}
    if certification.approved(current_user.id) is None:
        current = "certify"
        latest = certification.current(current_user.id)
        if latest is not None:
            notes["certify"] = latest.status_label
    else:
        permit = permits.permit_of(current_user.id)
        if permit is not None and permit.approved:
            current = "declare"
        else:
            current = "open"
            latest = permit.latest if permit is not None else None
            if latest is not None:
                notes["open"] = latest.status_label
    endpoints = {"register": "accounts.profile", "certify": "certification.status",
                 "open": "declarations.hub", "declare": "declarations.hub"}
    keys = [key for key, _label in STEPS]
    at = keys.index(current)
    g.enterprise_steps = [
        {"key": key, "label": str(label), "number": index + 1,
         "state": "done" if index < at else "current" if index == at else "todo",
         "note": notes.get(key, ""), "endpoint": endpoints[key]}
        for index, (key, label) in enumerate(STEPS)
    ]
    return g.enterprise_steps


def site_footer() -> list[tuple[str, str, str]]:
    if "site_footer" not in g:
        g.site_footer = operations.footer()
    return g.site_footer


@bp.app_context_processor
def _portal_globals():
    # Functions, not values: a page that does not print them costs no query.
    return {"enterprise_steps": enterprise_steps, "site_footer": site_footer}
