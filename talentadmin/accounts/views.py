"""Portal routes for enterprise accounts. Thin: validate, call an operation, flash."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core import captcha
from ..core.errors import FieldError
from ..core.security import safe_next
from . import operations
from .forms import ChangeMobileForm, PasswordLoginForm, SetPasswordForm, SmsLoginForm

bp = Blueprint("accounts", __name__)


def _fresh_captcha(form) -> None:
    """Every render gets a new single-use image code; the typed answer is cleared."""
    form.captcha_id.data = captcha.new_challenge().id
    form.captcha.data = ""
    form.captcha.raw_data = None


def current_enterprise():
    """The logged-in enterprise user itself (not the proxy), or 403."""
    if getattr(current_user, "kind", None) != "enterprise":
        abort(403)
    return current_user._get_current_object()


@bp.route("/captcha/<challenge_id>.png")
def captcha_image(challenge_id: str):
    png = captcha.render_png(challenge_id)
    if png is None:
        abort(404)
    return png, 200, {"Content-Type": "image/png", "Cache-Control": "no-store"}


@bp.route("/captcha/new", methods=["POST"])
def captcha_new():
    """A new image code for the page's script (a click on the image): its id and image."""
    challenge = captcha.new_challenge()
    return {"id": challenge.id,
            "src": url_for(".captcha_image", challenge_id=challenge.id)}, 201


@bp.route("/login", methods=["GET", "POST"])
def login():
    mode = "password" if request.values.get("mode") == "password" else "sms"
    sms_form = SmsLoginForm(prefix="sms")
    password_form = PasswordLoginForm(prefix="pw")
    next_url = safe_next(request.values.get("next"), url_for("portal.home"))
    if current_user.is_authenticated and getattr(current_user, "kind", None) == "enterprise":
        return redirect(next_url)

    if request.method == "POST" and mode == "sms" and sms_form.validate_on_submit():
        try:
            if sms_form.send_code.data:
                operations.send_login_code(
                    sms_form.mobile.data, sms_form.captcha_id.data, sms_form.captcha.data
                )
                flash(_("An SMS code has been sent to %(mobile)s.", mobile=sms_form.mobile.data),
                      "success")
            else:
                user = operations.login_by_sms(sms_form.mobile.data, sms_form.sms_code.data)
                flash(_("Welcome, %(name)s.", name=user.display_name), "success")
                return redirect(next_url)
        except FieldError as error:
            error.attach(sms_form)
    elif request.method == "POST" and mode == "password" and password_form.validate_on_submit():
        try:
            operations.login_by_password(password_form.mobile.data, password_form.password.data)
            return redirect(next_url)
        except FieldError as error:
            error.attach(password_form)

    _fresh_captcha(sms_form)
    status = 400 if sms_form.errors or password_form.errors else 200
    return render_template(
        "accounts/login.html",
        mode=mode,
        sms_form=sms_form,
        password_form=password_form,
        next_url=request.values.get("next", ""),
    ), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    operations.logout(current_user._get_current_object())
    flash(_("You have logged out."), "info")
    return redirect(url_for("portal.home"))


@bp.route("/account")
@login_required
def profile():
    return render_template("accounts/profile.html", user=current_enterprise())


@bp.route("/notices", methods=["GET", "POST"])
@login_required
def notices():
    from ..core.models import Notice
    from ..core.notify import render
    from ..core.timeutil import utcnow
    from ..extensions import db

    user = current_enterprise()
    if request.method == "POST":  # mark all as read
        db.session.execute(
            db.update(Notice).where(Notice.enterprise_user_id == user.id,
                                    Notice.read_at.is_(None)).values(read_at=utcnow()))
        return redirect(url_for(".notices"))
    rows = list(db.session.execute(
        db.select(Notice).where(Notice.enterprise_user_id == user.id)
        .order_by(Notice.id.desc()).limit(200)).scalars())
    return render_template("accounts/notices.html", notices=rows, render=render,
                           unread=any(n.read_at is None for n in rows))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    user = current_enterprise()
    form = SetPasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            if form.send_code.data:
                operations.send_own_code(user, "password")
                flash(_("An SMS code has been sent to your registered mobile."), "success")
            else:
                operations.set_password(
                    user, form.new_password.data,
                    old_password=form.old_password.data or "", code=form.sms_code.data or "",
                )
                flash(_("Your password has been saved."), "success")
                return redirect(url_for(".profile"))
        except FieldError as error:
            error.attach(form)
    status = 400 if form.errors else 200
    return render_template("accounts/password.html", form=form), status


@bp.route("/account/mobile", methods=["GET", "POST"])
@login_required
def mobile():
    user = current_enterprise()
    form = ChangeMobileForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            if form.send_code.data:
                operations.send_change_mobile_code(
                    user, form.new_mobile.data, form.captcha_id.data, form.captcha.data
                )
                # One answer whatever the number: the page never tells who is registered.
                flash(_("If %(mobile)s can be used, an SMS code has been sent to it.",
                        mobile=form.new_mobile.data), "success")
            else:
                operations.change_mobile(user, form.new_mobile.data, form.sms_code.data)
                flash(_("Your registered mobile number has been changed."), "success")
                return redirect(url_for(".profile"))
        except FieldError as error:
            error.attach(form)
    _fresh_captcha(form)
    status = 400 if form.errors else 200
    return render_template("accounts/mobile.html", form=form), status
