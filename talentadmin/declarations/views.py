"""Portal routes: the 需求申报 page, declarations, their files and timeline."""

from __future__ import annotations

import io
import secrets

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.views import current_enterprise
from ..certification.operations import approved as approved_certification
from ..core import audit, storage
from ..core.bodylimit import body_limit
from ..core.errors import FieldError, too_large
from ..core.params import record_id
from ..core.timeutil import local_today
from ..core.uploads import preset, request_cap
from ..core.workflow import timeline
from ..extensions import db
from ..permits import workflow as permit_workflow
from ..permits.operations import permit_of
from . import operations, statement, workflow
from .forms import DeclarationForm
from .models import Declaration, DeclarationFile, Round

bp = Blueprint("declarations", __name__, url_prefix="/talent")
bp.register_error_handler(413, too_large)
# Every file of the form at its limit (the evidence: each of MAX_EVIDENCE_FILES) goes through.
CAP = request_cap(DeclarationForm)


@bp.route("/declare")
@login_required
def hub():
    """需求申报: the permission's state, then every declaration of the unit."""
    user = current_enterprise()
    permit = permit_of(user.id)
    status = request.args.get("status")
    status = status if status in workflow.WORKFLOW.states else None
    round_id = request.args.get("round", type=record_id)
    allowed, why = operations.may_declare(user.id)
    return render_template(
        "declarations/hub.html",
        cert=approved_certification(user.id), permit=permit,
        latest=permit.latest if permit else None,
        declarations=operations.of_user(user.id, status=status, round_id=round_id),
        rounds=list(db.session.execute(select(Round).order_by(Round.opens_at.desc())).scalars()),
        workflow=workflow, permit_workflow=permit_workflow.WORKFLOW, status=status,
        round_id=round_id, may_declare=allowed,
        why_not=why, open_round=operations.open_round(),
    )


def _own(declaration_id: int) -> Declaration:
    user = current_enterprise()
    declaration = db.session.get(Declaration, declaration_id)
    if declaration is None or declaration.enterprise_user_id != user.id:
        audit.record("declaration.denied", outcome="failure",
                     detail={"declaration": declaration_id})
        abort(404)
    return declaration


def _edit(declaration: Declaration | None):
    user = current_enterprise()
    form = DeclarationForm()
    if request.method == "GET":
        if declaration is None:
            allowed, why = operations.may_declare(user.id)
            if not allowed:
                flash(why, "warning")
                return redirect(url_for(".hub"))
            form.form_key.data = secrets.token_urlsafe(32)
        else:
            for name in operations.FIELDS:
                form[name].data = getattr(declaration, name)
            form.age.data = str(declaration.age) if declaration.age else ""
            form.id_number.data = declaration.id_number or ""
            form.version.data = str(declaration.version)
            form.today = local_today()
            form.mark_derived()
            for slot in ("social_insurance", "integrity", "evidence"):
                preset(form, slot, [f.attachment for f in declaration.files_for(slot)])
    elif form.check(user.id):
        try:
            saved = operations.save(user, declaration, form)
            db.session.commit()
        except FieldError as error:
            error.attach(form)
        except operations.AlreadySaved as done:  # a double click: the first one counted
            saved = done.declaration
            if saved.status == workflow.DRAFT:
                flash(_("Saved as draft."), "success")
                return redirect(url_for(".edit", declaration_id=saved.id))
            flash(operations.already_submitted(), "info")
            return redirect(url_for(".detail", declaration_id=saved.id))
        except StaleDataError:
            db.session.rollback()
            form.form_errors.append(operations.changed_elsewhere())
        else:
            if saved.status == workflow.DRAFT:
                flash(_("Saved as draft."), "success")
                return redirect(url_for(".edit", declaration_id=saved.id))
            flash(_("Submitted. The declaration is pending review."), "success")
            return redirect(url_for(".detail", declaration_id=saved.id))
    status = 400 if form.errors else 200
    return render_template("declarations/edit.html", form=form, declaration=declaration,
                           open_round=operations.open_round(),
                           today=form.today or local_today()), status


@bp.route("/declarations/new", methods=["GET", "POST"])
@body_limit(CAP)
@login_required
def new():
    return _edit(None)


@bp.route("/declarations/<int:declaration_id>/edit", methods=["GET", "POST"])
@body_limit(CAP)
@login_required
def edit(declaration_id: int):
    declaration = _own(declaration_id)
    if not declaration.editable:
        flash(_("This declaration can no longer be changed."), "info")
        return redirect(url_for(".detail", declaration_id=declaration.id))
    return _edit(declaration)


@bp.route("/declarations/<int:declaration_id>")
@login_required
def detail(declaration_id: int):
    declaration = _own(declaration_id)
    return render_template("declarations/detail.html", declaration=declaration,
                           events=timeline(declaration), workflow=workflow)


@bp.route("/declarations/<int:declaration_id>/files/<int:file_id>")
@login_required
def download(declaration_id: int, file_id: int):
    declaration = _own(declaration_id)
    declaration_file = db.session.get(DeclarationFile, file_id)
    if declaration_file is None or declaration_file.declaration_id != declaration.id:
        abort(404)
    return storage.send_attachment(declaration_file.attachment,
                                   download_name(declaration, declaration_file))


def download_name(declaration: Declaration, declaration_file: DeclarationFile) -> str:
    """``单位-姓名-材料名称``, as the guide asks users to name their files (the stem: the
    extension of the stored type is added when the file is sent)."""
    return f"{declaration.unit_name}-{declaration.name}-{declaration_file.label}"


@bp.route("/integrity-statement")
@bp.route("/declarations/<int:declaration_id>/integrity-statement")
@login_required
def integrity_statement(declaration_id: int | None = None):
    """A print-ready 诚信声明 filled in with the unit (and the person and ID, when known)."""
    filled = _statement(declaration_id)
    response = make_response(render_template("declarations/integrity_statement.html",
                                             statement=filled, declaration_id=declaration_id,
                                             signature_lines=statement.signature_lines()))
    response.headers["Cache-Control"] = "no-store"  # the ID number, for its owner only
    return response


@bp.route("/integrity-statement.pdf")
@bp.route("/declarations/<int:declaration_id>/integrity-statement.pdf")
@login_required
def integrity_statement_pdf(declaration_id: int | None = None):
    """The same 诚信声明 as a PDF, named ``单位-姓名-诚信声明.pdf`` as the guide asks."""
    filled = _statement(declaration_id)
    stem = "-".join(part for part in (filled.values["unit"], filled.values["name"],
                                      filled.title) if part)
    response = send_file(io.BytesIO(filled.pdf()), mimetype="application/pdf",
                         as_attachment=True, download_name=f"{stem}.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


def _statement(declaration_id: int | None) -> statement.Statement:
    user = current_enterprise()
    declaration = _own(declaration_id) if declaration_id else None
    if declaration is not None:
        return statement.statement(declaration.unit_name, declaration.name,
                                   declaration.id_number or "", declaration.round.name)
    permit = permit_of(user.id)
    unit = (permit.in_force.unit_name if permit and permit.in_force else
            getattr(approved_certification(user.id), "name", ""))
    open_round = operations.open_round()
    return statement.statement(unit, round_name=open_round.name if open_round else "")
