"""Declaration grids for staff: the initial queue, the second queue, and all declarations,
with decisions one by one or in bulk, internal comments, and the municipal export."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.sqla.filters import (
    BaseSQLAFilter,
    BooleanEqualFilter,
    DateTimeBetweenFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import String, cast, select
from sqlalchemy.orm import joinedload, lazyload

from ..admin.base import RoleModelView, current_staff, ref_options
from ..core import audit, export
from ..core.errors import FieldError
from ..core.models import StaffComment
from ..core.workflow import timeline
from ..extensions import db
from ..permits.models import Permit, PermitRevision
from ..reference.models import label, reason_templates
from . import operations, workflow
from .export import HEADER, rows
from .forms import DeclarationAdminForm
from .models import Declaration, DeclarationFile, Round
from .views import download_name

REVIEW_ROLES = ("admin", "initial_reviewer", "second_reviewer", "supervisor")


def _texts() -> dict:
    """The grid's repeated words, translated once per request."""
    from flask import g

    if "grid_texts" not in g:
        g.grid_texts = {
            "status": {k: Markup('<span class="badge badge-{}">{}</span>').format(
                workflow.BADGES[k], v) for k, v in workflow.LABELS.items()},
            "stage": {k: str(v) for k, v in workflow.STAGES.items()},
            "gender": {"male": _("Male"), "female": _("Female")},
            "duplicate": Markup('<span class="badge badge-danger">{}</span>').format(
                _("Duplicate")),
        }
    return g.grid_texts


def _status(view, context, model, name):
    return _texts()["status"][model.status]


def _stage(view, context, model, name):
    return _texts()["stage"].get(model.rejected_stage or "", "")


def _gender(view, context, model, name):
    return _texts()["gender"].get(model.gender or "", "")


def _ref(kind):
    return lambda view, context, model, name: label(kind, getattr(model, name))


def _duplicate(view, context, model, name):
    return _texts()["duplicate"] if model.duplicate else ""


class PermitFilter(BaseSQLAFilter):
    """Declarations whose unit's permit in force has ``column`` equal to the value."""

    def __init__(self, column, name, options=None, *, contains: bool = False):
        super().__init__(column, name, options)
        self.contains = contains

    def apply(self, query, value, alias=None):
        condition = (cast(self.column, String).like(f'%"{value}"%') if self.contains
                     else self.column == value)
        units = (select(Permit.enterprise_user_id)
                 .join(PermitRevision, Permit.in_force_id == PermitRevision.id)
                 .where(condition))
        return query.filter(Declaration.enterprise_user_id.in_(units))

    def operation(self):
        return _l("equals")


class DeclarationView(RoleModelView):
    """Every submitted declaration (drafts stay private to the enterprise)."""

    read_roles = ("admin", "supervisor")
    allow_create = allow_delete = False
    edit_roles = ()
    dynamic_filters = True
    list_template = "admin/declaration_grid.html"
    details_template = "admin/declaration_details.html"
    can_set_page_size = True
    column_list = ("round", "unit_name", "name", "id_masked", "gender", "age", "education",
                   "condition", "status", "rejected_stage", "submitted_at", "duplicate")
    column_sortable_list = ("submitted_at", "status", "unit_name", "name", "age",
                            "initial_passed_at", "second_passed_at", "reported_at",
                            ("round", "round.opens_at"))
    column_default_sort = ("submitted_at", True)
    column_formatters = {"status": _status, "rejected_stage": _stage, "gender": _gender,
                         "education": _ref("education"), "condition": _ref("condition"),
                         "duplicate": _duplicate}
    column_labels = {
        "round": _l("Round"), "unit_name": _l("Enterprise name"), "name": _l("Name"),
        "id_masked": _l("ID card number"), "gender": _l("Gender"), "age": _l("Age"),
        "education": _l("Highest education"), "condition": _l("Introduction basis and condition"),
        "status": _l("Status"), "rejected_stage": _l("Stage of the last rejection"),
        "submitted_at": _l("Submitted"), "duplicate": _l("Duplicate"),
    }
    column_searchable_list = ("name",)  # the real search is search_condition() below

    def search_placeholder(self) -> str:
        return _("Name, enterprise, credit code or full ID number")

    @property
    def column_filters(self):
        return (
            IntEqualFilter(Declaration.round_id, _l("Round"), options=_round_options),
            FilterEqual(Declaration.status, _l("Status"),
                        options=[(k, v) for k, v in workflow.LABELS.items()
                                 if k != workflow.DRAFT]),
            PermitFilter(PermitRevision.registered_district, _l("District of registration"),
                         options=ref_options("district")),
            PermitFilter(PermitRevision.field, _l("Field of business"),
                         options=ref_options("field")),
            FilterEqual(Declaration.condition, _l("Introduction basis and condition"),
                        options=ref_options("condition")),
            PermitFilter(PermitRevision.qualifications, _l("Unit qualifications"),
                         options=ref_options("qualification"), contains=True),
            FilterEqual(Declaration.credit_code, _l("Unified social credit code")),
            DateTimeBetweenFilter(Declaration.submitted_at, _l("Submitted")),
            DateTimeBetweenFilter(Declaration.second_passed_at, _l("Second review passed")),
            BooleanEqualFilter(Declaration.duplicate, _l("Duplicate")),
        )

    def scope_query(self, query):
        return query.filter(Declaration.status != workflow.DRAFT)

    def get_query(self):
        return super().get_query().options(joinedload(Declaration.round),
                                           lazyload(Declaration.files))

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """A deferred join: the filtered, sorted page is found over ids alone, then only
        those rows are loaded (with their round) — no OFFSET over wide rows."""
        count, query = super().get_list(page, sort_column, sort_desc, search, filters,
                                        execute=False, page_size=page_size)
        if not execute:
            return count, query
        ids = [row.id for row in query.options(lazyload("*")).with_entities(Declaration.id)]
        if not ids:
            return count, []
        rows = {d.id: d for d in db.session.execute(
            select(Declaration).where(Declaration.id.in_(ids))
            .options(joinedload(Declaration.round), lazyload(Declaration.files))).scalars()}
        return count, [rows[i] for i in ids if i in rows]

    def _apply_search(self, query, count_query, joins, count_joins, search):
        condition = operations.search_condition(search.strip()[:200])
        query = query.filter(condition)
        if count_query is not None:
            count_query = count_query.filter(condition)
        return query, count_query, joins, count_joins

    # --- the detail page ------------------------------------------------------------------
    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["rows_html"] = self.rows_html(kwargs["data"], bool(kwargs.get("actions")),
                                                 kwargs.get("return_url"))
            kwargs["reason_templates"] = reason_templates()
            kwargs["bulk_all_actions"] = [
                (name, workflow.DECISIONS[name]) for name, roles in self.action_roles.items()
                if name in workflow.DECISIONS and name != "withdraw" and self._has(roles)]
        if template == self.details_template and kwargs.get("model") is not None:
            declaration = kwargs["model"]
            staff = current_staff()
            permit = db.session.execute(select(Permit).where(
                Permit.enterprise_user_id == declaration.enterprise_user_id)).scalar_one_or_none()
            kwargs.update(
                d=declaration, events=timeline(declaration), workflow=workflow,
                revision=permit.in_force if permit else None,
                actions=list(workflow.WORKFLOW.actions(declaration.status,
                                                              staff.role_names)),
                reasons=reason_templates(),
                comments=list(db.session.execute(select(StaffComment).where(
                    StaffComment.target_type == "declaration",
                    StaffComment.target_id == declaration.id).order_by(StaffComment.id))
                    .scalars()),
                show_full_id=staff.has_role("admin", "initial_reviewer", "second_reviewer",
                                            "supervisor"),
                file_url=lambda f: url_for(".file", id=declaration.id, file_id=f.id),
                inline_url=lambda f: url_for(".file", id=declaration.id, file_id=f.id,
                                             inline=1),
                preview_url=lambda f: url_for(".file", id=declaration.id, file_id=f.id,
                                              preview=1),
            )
            audit.record("declaration.view", target=declaration)  # full ID shown: audited
        return super().render(template, **kwargs)

    def rows_html(self, data, with_checkbox: bool, return_url: str | None) -> Markup:
        """The table body in one pass of Python: the grid's cost was Flask-Admin's per-row
        macros and ``url_for`` calls, not the database. Every value goes through
        ``escape()`` (a ``Markup`` from a formatter passes unchanged)."""
        from urllib.parse import quote

        from markupsafe import escape

        from ..admin.base import _local_datetime

        back = escape(f"&url={quote(return_url, safe='')}" if return_url else "")
        details = escape(url_for(".details_view") + "?id=")
        edit = escape(url_for(".edit_view") + "?id=") if self.can_edit else None
        eye = escape(admin_gettext("View Record"))
        pencil = escape(admin_gettext("Edit Record"))
        columns = [(name, escape(name)) for name, _title in self._list_columns]
        formatters = self.column_formatters
        parts = []
        for row in data:
            pk = int(row.id)
            cells = []
            if with_checkbox:
                cells.append(f'<td><input type="checkbox" name="rowid" class="action-checkbox" '
                             f'value="{pk}"></td>')
            links = (f'<a class="icon" href="{details}{pk}{back}" title="{eye}">'
                     f'<span class="fa fa-eye"></span></a>')
            if edit is not None:
                links += (f' <a class="icon" href="{edit}{pk}{back}" title="{pencil}">'
                          f'<span class="fa fa-pencil"></span></a>')
            cells.append(f'<td class="list-buttons-column">{links}</td>')
            for name, css in columns:
                formatter = formatters.get(name)
                if formatter is not None:
                    value = formatter(self, None, row, name)
                else:
                    value = getattr(row, name)
                    if value is None:
                        value = ""
                    elif hasattr(value, "strftime"):
                        value = _local_datetime(self, value)
                cells.append(f'<td class="col-{css}">{escape(value)}</td>')
            parts.append("<tr>" + "".join(cells) + "</tr>")
        return Markup("\n".join(parts))  # noqa: S704 - every piece escaped above

    @expose("/file/")
    def file(self):
        declaration = self.get_one(request.args.get("id"))
        item = db.session.get(DeclarationFile, request.args.get("file_id", type=int) or 0)
        if declaration is None or item is None or item.declaration_id != declaration.id:
            abort(404)
        return self.send_record_file(item.attachment, download_name(declaration, item))

    @expose("/decide/", methods=("POST",))
    def decide(self):
        declaration = self.get_one(request.form.get("id"))
        if declaration is None:
            abort(404)
        back = url_for(".details_view", id=declaration.id, url=request.form.get("url"))
        name = request.form.get("action", "")
        if name not in workflow.DECISIONS:
            abort(400)
        refused = self.run_decision(
            lambda: operations.decide(declaration, current_staff(), name,
                                      _reason(request.form)),
            back, _("Nothing changed: the declaration is no longer in that state, or your "
                    "role may not take this decision."))
        return refused or redirect(request.form.get("url") or back)

    @expose("/comment/", methods=("POST",))
    def comment(self):
        declaration = self.get_one(request.form.get("id"))
        if declaration is None:
            abort(404)
        try:
            operations.add_comment(declaration, current_staff(), request.form.get("text", ""))
        except FieldError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
        return redirect(url_for(".details_view", id=declaration.id))

    # --- bulk decisions --------------------------------------------------------------------
    @expose("/bulk_all/", methods=("POST",))
    def bulk_all(self):
        """Decide every row the current search and filters select (not only one page)."""
        name = request.form.get("action", "")
        roles = self.action_roles.get(name)
        if name not in workflow.DECISIONS or roles is None or not self._has(roles):
            abort(403)
        view_args = self._get_list_extra_args()
        _count, query = self.get_list(0, None, False, view_args.search, view_args.filters,
                                      execute=False, page_size=0)
        ids = [row.id for row in query.order_by(None).with_entities(Declaration.id)]
        self._bulk(ids, name)
        return redirect(url_for(".index_view", **request.args))

    def _bulk(self, ids, name: str) -> None:
        try:
            outcome = operations.decide_many(ids, name, current_staff(), _reason(request.form),
                                             scope=self._scope_clause())
        except FieldError as error:
            flash(error.message, "error")
            return
        db.session.commit()
        flash(summary(outcome), "success" if outcome.done else "warning")

    def _scope_clause(self):
        return Declaration.status != workflow.DRAFT


def _reason(form) -> str:
    """A chosen template and/or free text, joined."""
    parts = [form.get("reason_template", "").strip(), form.get("reason", "").strip()]
    return "\n".join(p for p in parts if p)


def _round_options():
    from flask import has_app_context

    if not has_app_context():
        return []
    return [(r.id, r.name) for r in db.session.execute(
        select(Round).order_by(Round.opens_at.desc())).scalars()]


def summary(outcome: operations.Outcome) -> str:
    from flask_babel import ngettext

    why = {"state": _("not in the expected state"), "role": _("not for your role"),
           "unknown": _("unknown or not visible")}
    text = ngettext("%(num)d decided", "%(num)d decided", len(outcome.done))
    skipped = sum(outcome.skipped.values())
    if skipped:
        reasons = ", ".join(f"{count} {why[key]}" for key, count in outcome.skipped.items())
        text += ", " + ngettext("%(num)d skipped", "%(num)d skipped", skipped) + f" ({reasons})"
    return text


class InitialQueueView(DeclarationView):
    """待审核: the initial reviewers' queue, oldest first."""

    read_roles = ("admin", "initial_reviewer", "supervisor")
    action_roles = {"pass_initial": ("initial_reviewer", "admin"),
                     "reject_initial": ("initial_reviewer", "admin")}
    column_default_sort = ("submitted_at", False)

    def scope_query(self, query):
        return query.filter(Declaration.status == workflow.PENDING_INITIAL)

    def _scope_clause(self):
        return Declaration.status == workflow.PENDING_INITIAL

    @action("pass_initial", _l("Pass (initial review)"), _l("Pass the selected declarations?"))
    def action_pass_initial(self, ids):
        self._bulk(ids, "pass_initial")

    @action("reject_initial", _l("Reject with the reason above"),
            _l("Reject the selected declarations with the reason above?"))
    def action_reject_initial(self, ids):
        self._bulk(ids, "reject_initial")


class SecondQueueView(DeclarationView):
    """待复审: the second reviewers' queue (区委人才办)."""

    read_roles = ("admin", "second_reviewer", "supervisor")
    action_roles = {"pass_second": ("second_reviewer", "admin"),
                     "reject_second": ("second_reviewer", "admin")}
    column_default_sort = ("submitted_at", False)

    def scope_query(self, query):
        return query.filter(Declaration.status == workflow.PENDING_SECOND)

    def _scope_clause(self):
        return Declaration.status == workflow.PENDING_SECOND

    @action("pass_second", _l("Pass (second review)"), _l("Pass the selected declarations?"))
    def action_pass_second(self, ids):
        self._bulk(ids, "pass_second")

    @action("reject_second", _l("Reject with the reason above"),
            _l("Reject the selected declarations with the reason above?"))
    def action_reject_second(self, ids):
        self._bulk(ids, "reject_second")


class AllDeclarationsView(DeclarationView):
    """Every declaration: exports and reporting (supervisor), corrections and withdrawal
    (admin: declarations are withdrawn, never deleted)."""

    read_roles = ("admin", "supervisor")
    edit_roles = ("admin",)
    form = DeclarationAdminForm

    def update_model(self, form, model):
        try:
            operations.admin_update(model, current_staff(), form)
        except FieldError as error:
            error.attach(form)
            return False
        db.session.commit()
        return True

    action_roles = {"report": ("supervisor",), "withdraw": ("admin",)}
    list_template = "admin/declaration_grid_export.html"

    @action("report", _l("Mark as reported to the municipal bureau"),
            _l("Mark the selected completed declarations as reported?"))
    def action_report(self, ids):
        batch, count = operations.mark_reported(ids, current_staff(),
                                                scope=self._scope_clause())
        db.session.commit()
        from flask_babel import ngettext

        flash(ngettext("%(num)d declaration marked as reported (batch %(batch)s).",
                       "%(num)d declarations marked as reported (batch %(batch)s).",
                       count, batch=batch), "success" if count else "warning")

    @action("withdraw", _l("Withdraw with the reason above"),
            _l("Withdraw the selected declarations? They stay on record."))
    def action_withdraw(self, ids):
        self._bulk(ids, "withdraw")

    @expose("/municipal/<kind>/")
    def municipal_export(self, kind: str):
        """The current grid filter (default: completed ones) in the municipal layout."""
        if kind not in ("csv", "xlsx") or not current_staff().has_role("supervisor"):
            abort(403)
        view_args = self._get_list_extra_args()
        count, query = self.get_list(0, None, False, view_args.search, view_args.filters,
                                     execute=False, page_size=0)
        if not view_args.filters and not view_args.search:
            query = query.filter(Declaration.status == workflow.COMPLETED)
        ids = query.order_by(None).with_entities(Declaration.id).scalar_subquery()
        total = db.session.execute(select(db.func.count()).select_from(
            select(Declaration.id).where(Declaration.id.in_(ids)).subquery())).scalar()
        audit.record("declaration.export", detail={
            "format": kind, "rows": total, "search": view_args.search or "",
            "filters": [list(map(str, f)) for f in (view_args.filters or [])]})
        db.session.commit()
        filename = f"人才引进需求申报-{total}.{kind}"
        if kind == "csv":
            return export.csv_response(filename, HEADER, rows(ids))
        return export.xlsx_response(filename, HEADER, rows(ids))
