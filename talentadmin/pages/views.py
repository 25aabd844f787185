"""The portal's public pages: home, talent services, the talent-introduction zone, support."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request

from ..core.i18n import LANG_COOKIE
from ..core.security import safe_next
from .operations import texts

bp = Blueprint("portal", __name__)


@bp.route("/")
def home():
    return render_template("portal/home.html")


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
