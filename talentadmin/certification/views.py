"""Portal routes for unit certification (我的认证 → 单位认证)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from ..accounts.views import current_enterprise
from ..core import audit, pdf, storage
from ..core.bodylimit import body_limit
from ..core.errors import FieldError
from ..core.uploads import request_cap
from ..extensions import db
from ..jobs import readings
from . import operations, workflow
from .forms import CertificationForm, LicenceUploadForm
from .models import Certification

bp = Blueprint("certification", __name__, url_prefix="/certification")


@bp.route("/")
@login_required
def status():
    user = current_enterprise()
    cert = operations.current(user.id)
    if cert is None:
        return redirect(url_for(".upload"))
    if cert.status in (workflow.READING, workflow.RECOGNISED):
        return redirect(url_for(".confirm", cert_id=cert.id))
    from ..permits.operations import permit_of

    return render_template("certification/status.html", cert=cert, workflow=workflow,
                           reasons=operations.waiting_reasons(cert),
                           permit=permit_of(user.id))


@bp.route("/upload", methods=["GET", "POST"])
@body_limit(request_cap(LicenceUploadForm))  # the licence and the form's few fields
@login_required
def upload():
    user = current_enterprise()
    form = LicenceUploadForm()
    if form.validate_on_submit():
        try:
            cert = operations.upload(user, form.licence.data)
            return redirect(url_for(".confirm", cert_id=cert.id))
        except FieldError as error:
            error.attach(form)
    status = 400 if form.errors else 200
    return render_template("certification/upload.html", form=form,
                           previous=operations.current(user.id)), status


def _own(cert_id: int) -> Certification:
    user = current_enterprise()
    cert = db.session.get(Certification, cert_id)
    if cert is None or cert.enterprise_user_id != user.id:
        audit.record("certification.denied", outcome="failure", detail={"certification": cert_id})
        abort(404)
    return cert


@bp.route("/<int:cert_id>/confirm", methods=["GET", "POST"])
@login_required
def confirm(cert_id: int):
    cert = _own(cert_id)
    if cert.status == workflow.READING:
        if not readings.is_stale(cert):
            response = make_response(render_template("certification/reading.html", cert=cert))
            response.headers["Refresh"] = "3"  # until a worker has read the licence
            return response
        operations.give_up_reading(cert)  # its worker never came: the operator types
        cert = _own(cert_id)
    if cert.status != workflow.RECOGNISED:
        if request.method == "POST":  # a second submit (another tab, a double click)
            flash(operations.already_submitted(), "warning")
        return redirect(url_for(".status"))
    form = CertificationForm(data={"name": cert.ocr_name, "credit_code": cert.ocr_credit_code})
    if form.validate_on_submit():
        try:
            operations.submit(cert, name=form.name.data, credit_code=form.credit_code.data,
                              email=form.email.data)
        except FieldError as error:
            error.attach(form)
        else:
            if cert.status == workflow.APPROVED:
                flash(_("Certification approved: the licence was recognised."), "success")
            else:
                flash(_("Submitted. Staff will review the certification."), "info")
            return redirect(url_for(".status"))
    status = 400 if form.errors else 200
    return render_template("certification/confirm.html", form=form, cert=cert,
                           correction_approvable=operations.correction_approvable(cert)), status


@bp.route("/<int:cert_id>/licence.png")
@login_required
def licence_preview(cert_id: int):
    """The licence as a picture for the confirm and status pages: an image scaled down, a
    PDF's first page rendered (a browser shows no PDF in an ``<img>``). The owner's only."""
    cert = _own(cert_id)
    try:
        return storage.send_preview(cert.licence)
    except (pdf.PdfError, OSError):  # stored files were checked on upload; a lost one
        abort(404)
