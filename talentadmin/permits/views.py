"""Portal routes for the business permission (需求申报 → 申请开通 / 修改资料 / 重新申请)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ..accounts.views import current_enterprise
from ..certification.operations import approved as approved_certification
from ..core import audit, storage
from ..core.bodylimit import body_limit
from ..core.errors import FieldError, too_large
from ..core.uploads import preset, request_cap
from ..extensions import db
from . import operations, workflow
from .forms import collect_files, permit_form
from .models import PermitFile, PermitRevision

bp = Blueprint("permits", __name__, url_prefix="/talent/permit")
bp.register_error_handler(413, too_large)


def _cap() -> int:
    """The request cap: the form's files at their limits (its certificate fields follow the
    editable list of qualifications, so the form is made, without data, for each request)."""
    return request_cap(permit_form(formdata=None, meta={"csrf": False}))


def _own(revision_id: int) -> PermitRevision:
    user = current_enterprise()
    revision = db.session.get(PermitRevision, revision_id)
    if revision is None or revision.permit.enterprise_user_id != user.id:
        audit.record("permit.denied", outcome="failure", detail={"revision": revision_id})
        abort(404)
    return revision


def _prefill(form, revision: PermitRevision) -> None:
    form.qualifications.data = list(revision.qualifications)
    for name in ("registered_district", "tax_district", "field", "contact_name",
                 "contact_mobile", "intro"):
        form[name].data = getattr(revision, name)
    sent = {year: (n, amount) for n, (year, amount) in enumerate(revision.taxes, start=1)}
    for n, year in enumerate(form.years, start=1):  # by year: a later round asks for others
        if year in sent:
            slot, amount = sent[year]
            form[f"tax_{n}"].data = str(amount)
            preset(form, f"tax_file_{n}",
                   [f.attachment for f in revision.files_for(f"tax:{slot}")])
    for item in form.qualification_items:
        if item.needs_evidence:
            preset(form, f"cert_{item.code}",
                   [f.attachment for f in revision.files_for(f"qualification:{item.code}")])


@bp.route("/apply", methods=["GET", "POST"])
@body_limit(_cap)
@login_required
def apply():
    user = current_enterprise()
    cert = approved_certification(user.id)
    if cert is None:
        flash(_("Certify the unit first: only a certified unit may apply."), "warning")
        return redirect(url_for("certification.status"))
    permit = operations.permit_of(user.id)
    latest = permit.latest if permit else None
    if latest is not None and latest.status == workflow.PENDING:
        flash(_("An application is already waiting for review."), "info")
        return redirect(url_for(".detail", revision_id=latest.id))
    form = permit_form()
    if request.method == "GET" and latest is not None:
        _prefill(form, latest)  # 重新申请 / 修改资料 start from what was sent last
    if request.method == "POST":
        valid = form.validate_on_submit()  # first: validating resets each field's errors
        if collect_files(form, user.id) and valid:
            try:
                revision = operations.submit(user, form)
            except FieldError as error:
                error.attach(form)
            else:
                return redirect(url_for(".submitted", revision_id=revision.id))
    status = 400 if form.errors else 200
    return render_template("permits/apply.html", form=form, cert=cert, latest=latest,
                           permit=permit, workflow=workflow), status


@bp.route("/<int:revision_id>/submitted")
@login_required
def submitted(revision_id: int):
    return render_template("permits/submitted.html", revision=_own(revision_id))


@bp.route("/<int:revision_id>")
@login_required
def detail(revision_id: int):
    revision = _own(revision_id)
    return render_template(
        "permits/detail.html", revision=revision, workflow=workflow,
        file_url=lambda f: url_for(".download", revision_id=revision.id, file_id=f.id))


@bp.route("/<int:revision_id>/files/<int:file_id>")
@login_required
def download(revision_id: int, file_id: int):
    revision = _own(revision_id)
    permit_file = db.session.get(PermitFile, file_id)
    if permit_file is None or permit_file.revision_id != revision.id:
        abort(404)
    return storage.send_attachment(permit_file.attachment, download_name(revision, permit_file))


def download_name(revision: PermitRevision, permit_file: PermitFile) -> str:
    """``单位-材料名称``, as the guide asks files to be named (the stem: the extension of the
    stored type is added when the file is sent)."""
    return f"{revision.unit_name}-{permit_file.label}"
