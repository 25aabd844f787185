"""Flask-Admin views of declarations: the initial queue, the second queue and all
declarations (decisions one by one or in bulk, internal comments, the municipal export),
and the rounds (申报批次)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.sqla.filters import (
    BaseSQLAFilter,
    BooleanEqualFilter,
    FilterEqual,
)
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import String, cast, false, func, literal, null, select, true, union_all
from sqlalchemy.orm import joinedload, lazyload

from ..admin import fixed_url
from ..admin.base import (
    ALL_STAFF,
    IntEqualFilter,
    LocalDateTimeBetweenFilter,
    RoleModelView,
    current_staff,
    per_locale,
    ref_options,
)
from ..core import audit, export
from ..core.errors import FieldError
from ..core.forms import strip_controls
from ..core.models import StaffComment
from ..core.params import page_number, record_id
from ..core.security import safe_next
from ..core.timeutil import local_formatter
from ..core.workflow import timeline
from ..extensions import db
from ..permits.models import Permit, PermitRevision
from ..reference.models import (
    Choice,
    ReasonTemplate,
    choices_select,
    names,
    prime,
    reason_templates,
    reason_texts_select,
)
from . import operations, workflow
from .export import HEADER, rows
from .forms import DeclarationAdminForm, RoundForm
from .models import Declaration, DeclarationFile, Round
from .views import download_name

REVIEW_ROLES = ("admin", "initial_reviewer", "second_reviewer", "supervisor")
# Grids count rows exactly up to here; past it they say "more than 1,000" (a count of a
# large queue costs more than the rest of the page).
COUNT_CAP = 1000
# What looks like an ID number inside a search term (masked wherever a search is shown).
ID_NUMBERS = re.compile(r"\d{17}[\dXx]|\d{15}")


def _texts() -> dict:
    """The grid's repeated words, translated and marked up once per language."""

    def build():
        return {
            "status": {k: Markup('<span class="badge badge-{}">{}</span>').format(
                workflow.BADGES[k], v) for k, v in workflow.LABELS.items()},
            "stage": {k: escape(str(v)) for k, v in workflow.STAGES.items()},
            "gender": {"male": escape(_("Male")), "female": escape(_("Female"))},
            "duplicate": Markup('<span class="badge badge-danger">{}</span>').format(
                _("Duplicate")),
            "view": escape(admin_gettext("View Record")),
            "edit": escape(admin_gettext("Edit Record")),
        }

    return per_locale(("grid-texts",), build)


class PermitFilter(BaseSQLAFilter):
    """Declarations whose unit's permit in force has ``attribute`` equal to the value, or,
    ``contains``, holding it in its JSON list. The filter's own column is the declaration's
    unit, so Flask-Admin has nothing to join: the permit is a subquery ``apply`` adds."""

    def __init__(self, attribute, name, options=None, *, contains: bool = False):
        super().__init__(Declaration.enterprise_user_id, name, options)
        self.attribute = attribute
        self.contains = contains

    def condition(self, value):
        if self.contains:  # the quoted element: "hightech" is not part of "hightech2"
            return cast(self.attribute, String).contains(json.dumps(value), autoescape=True)
        return self.attribute == value

    def apply(self, query, value, alias=None):
        units = (select(Permit.enterprise_user_id)
                 .join(PermitRevision, Permit.in_force_id == PermitRevision.id)
                 .where(self.condition(value)))
        return query.filter(self.column.in_(units))

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
            LocalDateTimeBetweenFilter(Declaration.submitted_at, _l("Submitted")),
            LocalDateTimeBetweenFilter(Declaration.second_passed_at, _l("Second review passed")),
            BooleanEqualFilter(Declaration.duplicate, _l("Duplicate")),
        )

    def scope_query(self, query):
        return query.filter(Declaration.status != workflow.DRAFT)

    def get_query(self):
        return super().get_query().options(joinedload(Declaration.round),
                                           lazyload(Declaration.files))

    def filtered_ids(self, search, filters):
        """The ids the viewer's scope, search and filters select (a ``select()``; no
        order). Flask-Admin's filters only call ``.filter()``, which a select has too.
        Control characters in a search or a filter value are dropped (no NUL reaches the
        database)."""
        query = self.scope_query(select(Declaration.id))
        joins: dict = {}
        if search:
            query, _c, joins, _j = self._apply_search(query, None, joins, {}, search)
        if filters and self._filters:
            filters = [(index, name, strip_controls(value)) for index, name, value in filters]
            query, _c, joins, _j = self._apply_filters(query, None, joins, {}, filters)
        return query

    def read_page(self, page, sort_column, sort_desc, search, filters,
                  page_size) -> GridPage:
        """One statement for the page and its count: the page is found over ids alone and
        only its rows' grid columns are read (a deferred join, no OFFSET over wide rows,
        plain rows rather than ORM objects: the grid only prints them); the count stops
        at ``COUNT_CAP`` (past it the grid says "more than …" and pages on without a last
        page). One extra id tells whether a next page exists."""
        ids = self.filtered_ids(search, filters)
        if sort_column is None:
            sort_column, sort_desc = self.column_default_sort
        by_round = sort_column == "round"
        key = Round.opens_at if by_round else getattr(Declaration, sort_column)
        order = ([key.desc(), Declaration.id.desc()] if sort_desc
                 else [key.asc(), Declaration.id.asc()])
        inner = ids.join(Round, Round.id == Declaration.round_id) if by_round else ids
        page_ids = (inner.order_by(*order).limit(page_size + 1)
                    .offset(page_number(page) * page_size).subquery())
        capped = ids.order_by(None).limit(COUNT_CAP + 1).subquery()
        total = select(func.count().label("n")).select_from(capped).subquery()
        statement = (select(total.c.n, *_grid_columns()).select_from(total)
                     .outerjoin(page_ids, true())
                     .outerjoin(Declaration, Declaration.id == page_ids.c.id)
                     .outerjoin(Round, Round.id == Declaration.round_id)
                     .order_by(*order))
        result = db.session.execute(statement).all()
        count = result[0].n
        rows = [row[1:] for row in result if row.id is not None]
        return GridPage(rows=rows[:page_size], count=min(count, COUNT_CAP),
                        capped=count > COUNT_CAP, has_next=len(rows) > page_size)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """Flask-Admin's contract over ``read_page()``: the count is ``None`` past the cap."""
        if not execute:  # Flask-Admin's own callers; ours use filtered_ids()
            return super().get_list(page, sort_column, sort_desc, search, filters,
                                    execute=False, page_size=page_size)
        found = self.read_page(page, sort_column, sort_desc, search, filters,
                               page_size or self.page_size)
        return (None if found.capped else found.count), found.rows

    @expose("/")
    def index_view(self):
        """Flask-Admin's list page (same URLs, filters, actions and scripts), computing
        only what the grid template shows: no per-row forms, no row-action objects, no
        action form object (the template writes its fields)."""
        from math import ceil

        args = self._get_list_extra_args()
        token = args.search and operations.id_search_token(args.search)
        if token:  # a full ID number typed into the address: off the URL at once
            return redirect(self._get_list_url(args.clone(search=token)))
        column = self._get_column_by_idx(args.sort)
        page_size = self.get_safe_page_size(args.page_size)
        found = self.read_page(args.page, column[0] if column else None, args.sort_desc,
                               args.search, args.filters, page_size)
        actions, confirmations = self.get_actions_list()
        return_url = self._get_list_url(args)

        def pager_url(p):
            return self._get_list_url(args.clone(page=p or None))

        def sort_url(column, invert=False, desc=None):
            if not desc and invert and not args.sort_desc:
                desc = 1
            return self._get_list_url(args.clone(sort=column, sort_desc=desc))

        def page_size_url(size):
            return self._get_list_url(args.clone(page_size=size or self.page_size))

        with_checkbox = bool(actions)
        groups, groups_json = self.filter_groups_and_json()
        return self.render(
            self.list_template, data=found.rows, actions=actions,
            actions_confirmation=confirmations, count_label=found.label(),
            num_pages=None if found.capped else ceil(found.count / page_size),
            has_next=found.has_next, page=args.page, page_size=page_size,
            default_page_size=self.page_size, pager_url=pager_url,
            page_size_url=page_size_url, sort_column=args.sort, sort_desc=args.sort_desc,
            search=args.search, search_text=self.search_label(args.search),
            clear_search_url=self._get_list_url(args.clone(page=0, search=None,
                                                           filters=None)),
            filter_groups=groups, filter_groups_json=groups_json, active_filters=args.filters,
            filter_args=self._get_filters(args.filters), extra_args=args.extra_args,
            return_url=return_url, reason_templates=lookups()["reasons"], w=self.words(),
            header_html=self.header_html(with_checkbox, args.sort, args.sort_desc, sort_url),
            rows_html=self.rows_html(found.rows, with_checkbox, return_url),
            bulk_all_actions=[
                (name, workflow.DECISIONS[name]) for name, roles in self.action_roles.items()
                if name in workflow.DECISIONS and name != "withdraw" and self._has(roles)],
        )

    @expose("/search/", methods=("POST",))
    def search_view(self):
        """The search box posts here, so that a full ID number never reaches a URL (nor so
        the access logs): it goes on as a token of its blind index, other terms as typed.
        The list's other arguments (filters, sort, page size) ride on this URL."""
        args = request.args.to_dict()
        current = args.pop("search", None)
        args.pop("page", None)
        term = strip_controls(request.form.get("search", "")).strip()[:200]
        if current and term == self.search_label(current):  # the box sent back what it showed
            term = current
        else:
            term = operations.id_search_token(term) or term
        return redirect(url_for(".index_view", **args, search=term or None))

    def search_label(self, search: str | None) -> str:
        """A search as the page shows it and the audit records it: an ID-number search only
        masked (as on the declarations of this grid it finds, or ``****``)."""
        from ..core.validators import mask_id_number

        search = strip_controls(search or "").strip()
        if search.startswith(operations.ID_SEARCH):
            found = self.scope_query(select(Declaration.id_masked)).where(
                operations.search_condition(search)).limit(1)
            return db.session.execute(found).scalar() or mask_id_number("")
        return ID_NUMBERS.sub(lambda m: mask_id_number(m.group()), search)

    def _apply_search(self, query, count_query, joins, count_joins, search):
        condition = operations.search_condition(strip_controls(search).strip()[:200])
        query = query.filter(condition)
        if count_query is not None:
            count_query = count_query.filter(condition)
        return query, count_query, joins, count_joins

    # --- the detail page ------------------------------------------------------------------
    def render(self, template, **kwargs):
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

    def words(self) -> dict:
        """The list page's fixed words (Flask-Admin's own messages), once per language."""
        from flask_admin.babel import ngettext as admin_ngettext

        def build():
            return {
                "list": admin_gettext("List"), "add_filter": admin_gettext("Add Filter"),
                "items": admin_gettext("items"),
                "page_sizes": [(size, admin_ngettext(f"{size} item", f"{size} items", size))
                               for size in self.page_size_options],
                "with_selected": admin_gettext("With selected"),
                "search_placeholder": self.search_placeholder(),
                "search": admin_gettext("Search"), "apply": admin_gettext("Apply"),
                "reset_filters": admin_gettext("Reset Filters"),
                "empty": self.get_empty_list_message(),
                "select_one": admin_gettext("Please select at least one record."),
            }

        return per_locale(("grid-words", self.endpoint), build)

    def header_html(self, with_checkbox: bool, sort_column, sort_desc, sort_url) -> Markup:
        """The column headers, with sort links; their labels are translated once per
        language."""

        def build():
            sort_by = admin_gettext("Sort by %(name)s", name="\x00")
            return ([(c, escape(str(label)), escape(sort_by.replace("\x00", str(label))))
                     for c, label in self._list_columns],
                    escape(admin_gettext("Select all records")))

        columns, select_all = per_locale(("grid-header", self.endpoint), build)
        cells = [f'<th class="list-checkbox-column"><input type="checkbox" name="rowtoggle" '
                 f'class="action-rowtoggle" title="{select_all}"></th>'] if with_checkbox else []
        cells.append("<th>&nbsp;</th>")
        for index, (name, text, title) in enumerate(columns):
            if name not in self._sortable_columns:
                cells.append(f'<th class="column-header col-{escape(name)}">{text}</th>')
                continue
            current = sort_column == index
            arrow = ((' <span class="fa fa-chevron-down"></span>' if sort_desc
                      else ' <span class="fa fa-chevron-up"></span>') if current else "")
            cells.append(f'<th class="column-header col-{escape(name)}"><a href="'
                         f'{escape(sort_url(index, current))}" title="{title}">{text}{arrow}'
                         f'</a></th>')
        return Markup("".join(cells))  # noqa: S704 - every piece escaped above

    def rows_html(self, data, with_checkbox: bool, return_url: str | None) -> Markup:
        """The table body in one pass of Python: the grid's cost was Flask-Admin's per-row
        macros and ``url_for`` calls, not the database. Rows are the plain tuples of
        ``GRID_COLUMNS`` (in ``column_list`` order); labels are looked up and escaped once
        per request, and every value goes through ``escape()``."""
        from urllib.parse import quote

        from flask_babel import get_timezone

        back = escape(f"&url={quote(return_url, safe='')}" if return_url else "")
        details = escape(fixed_url(f"{self.endpoint}.details_view") + "?id=")
        edit = escape(fixed_url(f"{self.endpoint}.edit_view") + "?id=") if self.can_edit else None
        texts = _texts()
        eye, pencil = texts["view"], texts["edit"]
        status, stage, gender, duplicate = (texts["status"], texts["stage"], texts["gender"],
                                            texts["duplicate"])
        education = {code: escape(text) for code, text in names("education",
                                                                 active_only=False)}
        condition = {code: escape(text) for code, text in names("condition",
                                                                 active_only=False)}
        when = local_formatter(get_timezone(), "%Y-%m-%d %H:%M")
        parts = []
        for (pk, round_name, unit_name, name, id_masked, sex, age, edu, cond, state,
             rejected, submitted, dup) in data:
            links = (f'<a class="icon" href="{details}{pk}{back}" title="{eye}">'
                     f'<span class="fa fa-eye"></span></a>')
            if edit is not None:
                links += (f' <a class="icon" href="{edit}{pk}{back}" title="{pencil}">'
                          f'<span class="fa fa-pencil"></span></a>')
            parts.append(
                (f'<tr><td><input type="checkbox" name="rowid" class="action-checkbox" '
                 f'value="{pk}"></td>' if with_checkbox else "<tr>")
                + f'<td class="list-buttons-column">{links}</td>'
                f'<td class="col-round">{escape(round_name)}</td>'
                f'<td class="col-unit_name">{escape(unit_name)}</td>'
                f'<td class="col-name">{escape(name)}</td>'
                f'<td class="col-id_masked">{escape(id_masked or "")}</td>'
                f'<td class="col-gender">{gender.get(sex or "", "")}</td>'
                f'<td class="col-age">{"" if age is None else int(age)}</td>'
                f'<td class="col-education">{education.get(edu, "")}</td>'
                f'<td class="col-condition">{condition.get(cond, "")}</td>'
                f'<td class="col-status">{status[state]}</td>'
                f'<td class="col-rejected_stage">{stage.get(rejected or "", "")}</td>'
                f'<td class="col-submitted_at">{when(submitted)}</td>'
                f'<td class="col-duplicate">{duplicate if dup else ""}</td></tr>')
        return Markup("\n".join(parts))  # noqa: S704 - every piece escaped above

    @expose("/file/")
    def file(self):
        declaration = self.get_one(request.args.get("id"))
        item = db.session.get(DeclarationFile, request.args.get("file_id", type=record_id) or 0)
        if declaration is None or item is None or item.declaration_id != declaration.id:
            abort(404)
        return self.send_record_file(item.attachment, download_name(declaration, item),
                                     declaration)

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
        return refused or redirect(safe_next(request.form.get("url"), back))

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
        ids = list(db.session.execute(
            self.filtered_ids(view_args.search, view_args.filters)).scalars())
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


@dataclass(frozen=True, slots=True)
class GridPage:
    """A page of grid rows, the count up to ``COUNT_CAP``, and whether more follow."""

    rows: list
    count: int
    capped: bool
    has_next: bool

    def label(self) -> str:
        """The count as the grid says it: "1,000" or "more than 1,000"."""
        if self.capped:
            return per_locale(("more-than", COUNT_CAP), lambda: _(
                "more than %(num)s", num=format_number(COUNT_CAP)))
        return str(self.count) if self.count < 1000 else format_number(self.count)


def _grid_columns():
    """What a grid row shows, in ``column_list`` order (``rows_html`` unpacks them): its
    columns and its round's name (never the ciphertexts)."""
    return (Declaration.id, Round.name.label("round_name"), Declaration.unit_name,
            Declaration.name, Declaration.id_masked, Declaration.gender, Declaration.age,
            Declaration.education, Declaration.condition, Declaration.status,
            Declaration.rejected_stage, Declaration.submitted_at, Declaration.duplicate)


def _round_options():
    from flask import has_app_context

    return lookups()["rounds"] if has_app_context() else []


def lookups() -> dict:
    """What a grid labels and filters with — every reference list, the rounds, the active
    reason templates — read in one statement per request (the reference lists' and the
    reason templates' per-request copies are filled from it)."""
    if "grid_lookups" in g:
        return g.grid_lookups
    statement = _LOOKUPS.get("statement")
    if statement is None:
        blank = null().cast(String)
        lists = choices_select().order_by(None)
        rounds = select(literal("~round"), blank, Round.name, Round.name, blank, blank,
                        false(), func.row_number().over(order_by=Round.opens_at.desc()),
                        true(), Round.id)
        reasons = reason_texts_select().order_by(None).with_only_columns(
            literal("~reason"), blank, ReasonTemplate.text, ReasonTemplate.text, blank, blank,
            false(), ReasonTemplate.position, true(), ReasonTemplate.id)
        union = union_all(lists, rounds, reasons)
        columns = union.selected_columns
        statement = _LOOKUPS["statement"] = union.order_by(columns.kind, columns.position,
                                                           columns.id)
    rows = tuple(db.session.execute(statement).all())
    built = _LOOKUPS.get("rows") == rows and _LOOKUPS.get("built")
    if not built:  # the lists changed (or first use): build the read-only copies again
        choices, found = [], {"~round": [], "~reason": []}
        for row in rows:
            if row[0] in found:
                found[row[0]].append(row)
            else:
                choices.append(Choice(*row))
        built = {"choices": choices,
                 "rounds": [(row[-1], row[2]) for row in found["~round"]],
                 "reasons": [row[2] for row in found["~reason"]]}
        _LOOKUPS.update(rows=rows, built=built)
    prime(built["choices"], built["reasons"])  # shared, read-only
    g.grid_lookups = built
    return built


# The last lookups read and what was built from them (equal rows: the same lists).
_LOOKUPS: dict = {}


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
        return self.save_form(
            form, lambda: operations.admin_update(model, current_staff(), form),
            stale=FieldError("name", operations.changed_elsewhere())) is not False

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
        query = self.filtered_ids(view_args.search, view_args.filters)
        if not view_args.filters and not view_args.search:
            query = query.filter(Declaration.status == workflow.COMPLETED)
        ids = query.scalar_subquery()
        total = db.session.execute(select(db.func.count()).select_from(
            select(Declaration.id).where(Declaration.id.in_(ids)).subquery())).scalar()
        audit.record("declaration.export", detail={
            "format": kind, "rows": total, "search": self.search_label(view_args.search),
            "filters": [list(map(str, f)) for f in (view_args.filters or [])]})
        db.session.commit()
        filename = f"人才引进需求申报-{total}.{kind}"
        if kind == "csv":
            return export.csv_response(filename, HEADER, rows(ids))
        return export.xlsx_response(filename, HEADER, rows(ids))


class RoundView(RoleModelView):
    read_roles = ALL_STAFF
    create_roles = edit_roles = ("admin",)
    form = RoundForm
    column_list = ("name", "opens_at", "closes_at", "created_at")
    column_default_sort = ("opens_at", True)
    column_sortable_list = ("name", "opens_at", "closes_at")
    column_labels = {"name": _l("Round name"), "opens_at": _l("Opens at"),
                     "closes_at": _l("Closes at"), "created_at": _l("Created")}

    def _save(self, form, model):
        return self.save_form(form, lambda: operations.save_round(
            model, name=form.name.data.strip(), opens_at=form.opens_at.data,
            closes_at=form.closes_at.data))

    def create_model(self, form):
        return self._save(form, None)

    def update_model(self, form, model):
        return self._save(form, model) is not False
