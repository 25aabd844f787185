"""Flask-Admin views of declarations: one review queue per state the workflow table gives
its own decisions (待审核, 待复审), every declaration (withdrawal, reporting and the
municipal export), and the rounds (申报批次).

The grids use Flask-Admin's public extension points only: ``get_list`` (the page and its
capped count in one statement over a covering index), ``get_count_query`` (the count stops
at ``COUNT_CAP``), ``get_query``, ``column_formatters``, ``@action`` and a ``list_template``
that extends ``admin/model/list.html`` and overrides its blocks. What a grid offers — its
bulk actions, who may run them, its "all matching rows" buttons, the decision buttons of a
details page — is read from ``workflow.py``: a new transition there is a new action and
button here, and a state with decisions of its own is a new queue.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.sqla.filters import (
    BaseSQLAFilter,
    BooleanEqualFilter,
    FilterEqual,
)
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import String, cast, false, func, literal, null, select, true, union_all
from sqlalchemy.orm import joinedload, lazyload
from wtforms import StringField, ValidationError

from ..admin.base import (
    ALL_STAFF,
    DATE_FORMATTERS,
    IntEqualFilter,
    LocalDateTimeBetweenFilter,
    RoleModelView,
    current_staff,
    ref_options,
)
from ..admin.decisions import decision_summary
from ..core import audit, export
from ..core.errors import FieldError
from ..core.models import StaffComment
from ..core.params import page_number, record_id
from ..core.security import safe_next
from ..core.validators import strip_controls
from ..core.workflow import Transition, timeline
from ..extensions import db
from ..jobs import exports
from ..jobs.models import ExportJob
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
from .export import HEADER, TEXT_COLUMNS, rows
from .export import filename as export_filename
from .forms import DeclarationAdminForm, RoundForm
from .models import CORRECTION_DAYS, Declaration, DeclarationFile, Round
from .views import download_name

# Grids count rows exactly up to here; past it they say "more than 1,000" (a count of a
# large queue costs more than the rest of the page).
COUNT_CAP = 1000
# A municipal export of more rows than these is a job with a progress page; a smaller one
# streams in the request. Measured with ``bench.export`` (199,395 rows, SQLite, 2 shared
# cores): an XLSX sends its first byte only once the whole workbook is written (96 s for
# all rows streamed, about 10 s at 20,000), while as a job its progress page shows after
# 1.4 s and the first progress 0.5 s later; a CSV streams its first byte at once (0.25 s)
# and the whole file in 6.5 s, against 8.8 s as a job. Hence 20,000 rows for XLSX
# (``EXPORT_STREAM_ROWS``) and 250,000 for CSV (``EXPORT_STREAM_ROWS_CSV``: a full round).
STREAM_ROWS = {"xlsx": 20_000, "csv": 250_000}
STREAM_SETTINGS = {"xlsx": "EXPORT_STREAM_ROWS", "csv": "EXPORT_STREAM_ROWS_CSV"}
# What looks like an ID number inside a search term (masked wherever a search is shown).
ID_NUMBERS = re.compile(r"\d{17}[\dXx]|\d{15}")


def flows():
    """The workflow tables whose labelled transitions are the grids' decisions."""
    return (workflow.WORKFLOW, workflow.REPORTING, workflow.BUREAU)


# --- what the workflow table says ------------------------------------------------------------


def transition(name: str) -> Transition:
    """What the decision ``name`` means, from whichever table declares it."""
    for flow in flows():
        if name in flow.decisions():
            return flow.transition(name)
    raise KeyError(name)


def allowed(name: str, roles) -> bool:
    """``roles`` may take the decision ``name`` from at least one state."""
    return any(name in flow.decisions() and flow.allowed(name, roles) for flow in flows())


def queue_decisions(state: str) -> list[str]:
    """The decisions that leave from ``state`` alone (its stage's pass and reject), in
    table order: a state with any is a review queue, and they are its bulk actions."""
    flow = workflow.WORKFLOW
    return [name for name in flow.decisions(sources=[state]) if flow.sources(name) == [state]]


def shared_decisions() -> list[str]:
    """The decisions every grid of all declarations offers: those of the reporting table and
    those the main table allows from several states (withdrawal)."""
    flow = workflow.WORKFLOW
    return [*workflow.REPORTING.decisions(), *workflow.BUREAU.decisions(),
            *(name for name in flow.decisions() if len(flow.sources(name)) > 1)]


def _reason(form) -> str:
    """A chosen template and/or free text, joined."""
    parts = [form.get("reason_template", "").strip(), form.get("reason", "").strip()]
    return "\n".join(p for p in parts if p)


def _bulk_action(name: str):
    """The Flask-Admin action that takes the decision ``name`` on the selected rows: its
    text and question are the transition's label and ``confirm``."""
    step = transition(name)

    def run(self, ids):
        self.decide_rows(ids, name)

    run.__name__ = f"action_{name}"
    return action(name, step.label, step.confirm)(run)


# --- the cells --------------------------------------------------------------------------------


def words() -> dict:
    """The grid cells' translated words and badges, made once per request (a page prints
    them on every row; translating each time cost more than the rows)."""
    if "grid_words" not in g:
        flow = workflow.WORKFLOW
        g.grid_words = {
            "status": {state: Markup('<span class="badge badge-{}">{}</span>').format(
                flow.badge(state), flow.label(state)) for state in flow.states},
            "stage": {key: str(text) for key, text in workflow.STAGES.items()},
            "gender": {"male": _("Male"), "female": _("Female")},
            "duplicate": Markup('<span class="badge badge-danger">{}</span>').format(
                _("Duplicate")),
            "education": dict(names("education", active_only=False)),
            "condition": dict(names("condition", active_only=False)),
        }
    return g.grid_words


def _word(kind: str):
    """A cell that shows the word (or badge) of kind ``kind`` for the row's value."""
    def formatter(view, context, row, name):
        value = getattr(row, name)
        return words()[kind].get(value, value or "")

    return formatter


def _duplicate(view, context, row, name):
    return words()["duplicate"] if getattr(row, name) else ""


def _plain(view, context, row, name):
    value = getattr(row, name)
    return "" if value is None else value


def _minute(view, context, row, name):
    """A time in the viewer's zone, to the minute (the grids' type formatter)."""
    return DATE_FORMATTERS[datetime](view, getattr(row, name), name)


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


def _round_options():
    from flask import has_app_context

    return lookups()["rounds"] if has_app_context() else []


FILTERS = (
    IntEqualFilter(Declaration.round_id, _l("Round"), options=_round_options),
    FilterEqual(Declaration.status, _l("Status"),
                options=[(k, v) for k, v in workflow.LABELS.items() if k != workflow.DRAFT]),
    PermitFilter(PermitRevision.registered_district, _l("District of registration"),
                 options=ref_options("district")),
    PermitFilter(PermitRevision.field, _l("Field of business"), options=ref_options("field")),
    FilterEqual(Declaration.condition, _l("Introduction basis and condition"),
                options=ref_options("condition")),
    PermitFilter(PermitRevision.qualifications, _l("Unit qualifications"),
                 options=ref_options("qualification"), contains=True),
    FilterEqual(Declaration.credit_code, _l("Unified social credit code")),
    LocalDateTimeBetweenFilter(Declaration.submitted_at, _l("Submitted")),
    LocalDateTimeBetweenFilter(Declaration.second_passed_at, _l("Second review passed")),
    BooleanEqualFilter(Declaration.duplicate, _l("Duplicate")),
)

# What a grid row holds: its columns and its round's name (never the ciphertexts).
GRID_COLUMNS = (Declaration.id, Round.name.label("round_name"), Declaration.unit_name,
                Declaration.name, Declaration.id_masked, Declaration.gender, Declaration.age,
                Declaration.education, Declaration.condition, Declaration.status,
                Declaration.rejected_stage, Declaration.submitted_at, Declaration.duplicate)


@dataclass(frozen=True, slots=True)
class Count:
    """The rows a grid's search and filters select, counted up to ``COUNT_CAP``."""

    number: int
    capped: bool

    def label(self) -> str:
        """The count as the grid says it: "1,000" or "more than 1,000"."""
        if self.capped:
            return _("more than %(num)s", num=format_number(COUNT_CAP))
        return format_number(self.number)


class DeclarationView(RoleModelView):
    """Submitted declarations (drafts stay private to the enterprise). A subclass names the
    ``decisions`` it offers (read from the workflow table); each becomes a Flask-Admin
    action when the class is made."""

    read_roles = ("admin", "supervisor")
    decisions: tuple[str, ...] = ()
    bulk_all_decisions: tuple[str, ...] = ()  # offered as "all rows the filter selects"
    allow_create = allow_delete = False
    edit_roles = ()
    dynamic_filters = True
    list_template = "admin/declaration_grid.html"
    details_template = "admin/declaration_details.html"
    can_set_page_size = True
    column_display_actions = True
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
    # Every cell: the template calls these directly (a row is a plain row of the page
    # statement; Flask-Admin's value lookup and type formatters would only pass them on).
    column_formatters = {
        "round": lambda view, context, row, name: row.round_name,
        "unit_name": _plain, "name": _plain, "id_masked": _plain, "age": _plain,
        "submitted_at": _minute,
        "gender": _word("gender"), "education": _word("education"),
        "condition": _word("condition"), "status": _word("status"),
        "rejected_stage": _word("stage"), "duplicate": _duplicate,
    }
    column_filters = FILTERS

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for position, name in enumerate(cls.decisions):  # numbered: table order
            setattr(cls, f"decision_{position:02d}_{name}", _bulk_action(name))

    def search_placeholder(self) -> str:
        return _("Name, enterprise, credit code or full ID number")

    # --- who may do what: the table --------------------------------------------------------
    def is_action_allowed(self, name: str) -> bool:
        staff = current_staff()
        return (name in self.decisions and staff is not None
                and allowed(name, staff.role_names))

    # --- what may be seen -----------------------------------------------------------------
    def scope_clause(self):
        return Declaration.status != workflow.DRAFT

    def scope_query(self, query):
        return query.filter(self.scope_clause())

    def get_query(self):
        return super().get_query().options(joinedload(Declaration.round),
                                           lazyload(Declaration.files))

    def filtered_ids(self, search, filters):
        """The ids the viewer's scope, ``search`` and ``filters`` (as ``get_list`` takes
        them) select: a ``select()``, no order. Each filter's public ``clean`` and
        ``apply``; control characters in a search or a filter value are dropped (no NUL
        reaches the database), and a value that then no longer cleans selects nothing."""
        query = self.scope_query(select(Declaration.id))
        if search:
            query = query.where(operations.search_condition(
                strip_controls(search).strip()[:200]))
        for index, _name, value in filters or ():
            flt = self.list_filters[index]
            try:
                query = flt.apply(query, flt.clean(strip_controls(value)))
            except ValueError:
                query = query.where(false())
        return query

    def get_count_query(self, ids=None):
        """The number of rows ``ids`` (default: every row in the viewer's scope) selects,
        counted only up to one past ``COUNT_CAP``."""
        if ids is None:
            ids = self.scope_query(select(Declaration.id))
        capped = ids.order_by(None).limit(COUNT_CAP + 1).subquery()
        return select(func.count().label("n")).select_from(capped)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """One statement for the page and its count: the page is found over ids alone and
        only its rows' grid columns are read (a deferred join over a covering index, no
        OFFSET over wide rows, plain rows rather than ORM objects); the count stops past
        ``COUNT_CAP``, and is ``None`` then (Flask-Admin pages on without a last page)."""
        if not execute:  # Flask-Admin's own query, for its own callers
            return super().get_list(page, sort_column, sort_desc, search, filters,
                                    execute=False, page_size=page_size)
        page_size = page_size or self.page_size
        lookups()  # the labels the cells show, read with the filter choices
        ids = self.filtered_ids(search, filters)
        if sort_column is None:
            sort_column, sort_desc = self.column_default_sort
        by_round = sort_column == "round"
        key = Round.opens_at if by_round else getattr(Declaration, sort_column)
        order = ([key.desc(), Declaration.id.desc()] if sort_desc
                 else [key.asc(), Declaration.id.asc()])
        inner = ids.join(Round, Round.id == Declaration.round_id) if by_round else ids
        page_ids = (inner.order_by(*order).limit(page_size)
                    .offset(page_number(page) * page_size).subquery())
        total = self.get_count_query(ids).subquery()
        statement = (select(total.c.n, *GRID_COLUMNS).select_from(total)
                     .outerjoin(page_ids, true())
                     .outerjoin(Declaration, Declaration.id == page_ids.c.id)
                     .outerjoin(Round, Round.id == Declaration.round_id)
                     .order_by(*order))
        result = db.session.execute(statement).all()
        count = g.grid_count = Count(min(result[0].n, COUNT_CAP), result[0].n > COUNT_CAP)
        return (None if count.capped else count.number), [
            row for row in result if row.id is not None]

    # --- the list page ------------------------------------------------------------------------
    @expose("/")
    def index_view(self):
        """Flask-Admin's list page; a full ID number typed into the address is moved off it
        at once (to a token of its blind index)."""
        token = operations.id_search_token(request.args.get("search") or "")
        if token:
            return redirect(url_for(".index_view", **{**request.args.to_dict(),
                                                      "search": token}))
        return super().index_view()

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs.update(self.list_context(kwargs))
        elif template == self.details_template and kwargs.get("model") is not None:
            kwargs.update(self.details_context(kwargs["model"]))
        return super().render(template, **kwargs)

    def list_context(self, page: dict) -> dict:
        """What the grid template shows beyond Flask-Admin's list context: the count as
        said, the search as shown, the links of a row and of the pager, sort headers and
        page sizes (each from one ``url_for``), the reason templates and the "all matching
        rows" decisions."""
        from urllib.parse import quote

        count = g.get("grid_count") or Count(0, False)
        staff = current_staff()
        roles = staff.role_names if staff else ()
        back = page.get("return_url")
        urls = self.list_urls(page)
        return {
            "count_label": count.label(),
            "search_text": self.search_label(page.get("search")),
            "row_links": SimpleNamespace(  # attributes: a row reads them without a miss
                details=url_for(".details_view") + "?id=",
                edit=url_for(".edit_view") + "?id=" if self.can_edit else None,
                back=f"&url={quote(back, safe='')}" if back else "",
                view=admin_gettext("View Record"), edit_title=admin_gettext("Edit Record"),
                select=admin_gettext("Select record"),
                select_all=admin_gettext("Select all records")),
            **urls,
            "headers": self.headers(page, urls["sort_url"]),
            "reason_templates": lookups()["reasons"],
            "bulk_all_actions": [(name, transition(name)) for name in self.bulk_all_decisions
                                 if allowed(name, roles)],
        }

    def headers(self, page: dict, sort_url) -> list[tuple]:
        """The column headers: ``(name, label, sort link or None, its title, sorted by
        it)`` — Flask-Admin's, with the "Sort by" title translated once a page."""
        sort_by = admin_gettext("Sort by %(name)s", name="\x00")
        current = page.get("sort_column")
        found = []
        for index, (name, text) in enumerate(page.get("list_columns", ())):
            text = str(text)
            if self.is_sortable(name):
                found.append((name, text, sort_url(index, index == current),
                              sort_by.replace("\x00", text), index == current))
            else:
                found.append((name, text, None, None, False))
        return found

    def list_urls(self, page: dict) -> dict:
        """The list page's ``pager_url``, ``sort_url`` and ``page_size_url``, as Flask-Admin
        makes them (the same arguments in the same order) from one ``url_for``: a page
        prints a dozen or more."""
        from urllib.parse import urlencode

        base = url_for(".index_view")
        fixed = [("search", page.get("search")), *page.get("extra_args", {}).items()]
        filters = list(page.get("filter_args", {}).items())
        current = {"page": page.get("page"), "sort": page.get("sort_column"),
                   "desc": page.get("sort_desc"), "page_size": page.get("page_size")}

        def url(**changes) -> str:
            args = {**current, **changes}
            pairs = [("page", args["page"] or None), ("sort", args["sort"]),
                     ("desc", 1 if args["desc"] else None), *fixed,
                     ("page_size", self.get_safe_page_size(args["page_size"])), *filters]
            return f"{base}?{urlencode([(k, v) for k, v in pairs if v is not None])}"

        def sort_url(column, invert=False, desc=None):
            if not desc and invert and not current["desc"]:
                desc = 1
            return url(sort=column, desc=desc)

        return {"pager_url": lambda p: url(page=p), "sort_url": sort_url,
                "page_size_url": lambda size: url(page_size=size or self.page_size)}

    def action_form(self, obj=None):
        """The form of a bulk action, built to read a posted one; the list page writes its
        fields itself (``admin/actions.html``) and does not need the object."""
        if request.method == "GET":
            return None
        return super().action_form(obj)

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

    def list_args(self):
        """The search and the filters of this request, as the list page reads them; a
        filter value its filter refuses is a 400 here (the rows a change or an export
        touches are never wider than asked)."""
        try:
            filters = self.list_filter_args()
        except ValueError:
            abort(400)
        return request.args.get("search"), filters

    # --- the detail page ------------------------------------------------------------------
    def details_context(self, declaration) -> dict:
        staff = current_staff()
        permit = db.session.execute(select(Permit).where(
            Permit.enterprise_user_id == declaration.enterprise_user_id)).scalar_one_or_none()
        audit.record("declaration.view", target=declaration)  # full ID shown: audited
        return {
            "d": declaration, "events": timeline(declaration), "workflow": workflow,
            "revision": permit.in_force if permit else None,
            "decisions": [(name, workflow.WORKFLOW.transition(name)) for name in
                          workflow.WORKFLOW.decisions(staff.role_names,
                                                      sources=[declaration.status])],
            "reasons": reason_templates(),
            "comments": list(db.session.execute(select(StaffComment).where(
                StaffComment.target_type == "declaration",
                StaffComment.target_id == declaration.id).order_by(StaffComment.id))
                .scalars()),
            "show_full_id": staff.has_role(*ALL_STAFF),
            "file_url": lambda f: url_for(".file", id=declaration.id, file_id=f.id),
            "inline_url": lambda f: url_for(".file", id=declaration.id, file_id=f.id,
                                            inline=1),
            "preview_url": lambda f: url_for(".file", id=declaration.id, file_id=f.id,
                                             preview=1),
        }

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
        refusal = _("Nothing changed: the declaration is no longer in that state, or your "
                    "role may not take this decision.")
        declaration = self.get_one(request.form.get("id"))
        if declaration is None:
            found = request.form.get("id", type=record_id)
            if not found or db.session.get(Declaration, found) is None:
                abort(404)
            flash(refusal, "error")  # decided a moment ago: no longer in this queue
            return redirect(url_for(".index_view"))
        back = url_for(".details_view", id=declaration.id, url=request.form.get("url"))
        name = request.form.get("action", "")
        if name not in workflow.WORKFLOW.decisions():
            abort(400)
        refused = self.run_decision(
            lambda: operations.decide(declaration, current_staff(), name,
                                      _reason(request.form)),
            back, refusal)
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
        if not self.is_action_allowed(name):
            abort(403)
        search, filters = self.list_args()
        ids = list(db.session.execute(self.filtered_ids(search, filters)).scalars())
        self.decide_rows(ids, name)
        return redirect(url_for(".index_view", **request.args))

    def decide_rows(self, ids, name: str) -> None:
        """The decision ``name`` on the rows ``ids`` within this grid's scope, through the
        one writer; rows in another state, unknown or not for the viewer's roles are
        skipped and counted. One commit."""
        if name in workflow.REPORTING.decisions():
            self.report_rows(ids)
            return
        if name in workflow.BUREAU.decisions():
            self.outcome_rows(ids, name)
            return
        try:
            outcome = operations.decide_many(ids, name, current_staff(), _reason(request.form),
                                             scope=self.scope_clause())
        except FieldError as error:
            flash(error.message, "error")
            return
        db.session.commit()
        flash(summary(outcome, name), "success" if outcome.done else "warning")

    def report_rows(self, ids) -> None:
        batch, count = operations.mark_reported(ids, current_staff(),
                                                scope=self.scope_clause())
        db.session.commit()
        flash(ngettext("%(num)d declaration marked as reported (batch %(batch)s).",
                       "%(num)d declarations marked as reported (batch %(batch)s).",
                       count, batch=batch), "success" if count else "warning")

    def outcome_rows(self, ids, name: str) -> None:
        """The bureau's outcome ``name`` dated as typed beside the actions (``decided_on``)."""
        try:
            day = operations.parse_outcome_date(request.form.get("decided_on"))
        except FieldError as error:
            flash(error.message, "error")
            return
        outcome = operations.record_outcome(ids, name, current_staff(), day,
                                            scope=self.scope_clause())
        db.session.commit()
        flash(summary(outcome, name), "success" if outcome.done else "warning")


def summary(outcome: operations.Outcome, name: str) -> str:
    return decision_summary(f"{workflow.WORKFLOW.name}.{name}", len(outcome.done),
                            outcome.skipped)


class QueueView(DeclarationView):
    """A review queue: the declarations in one ``state``, oldest first, with the decisions
    that leave from that state alone."""

    state: str = ""
    column_default_sort = ("submitted_at", False)

    def scope_clause(self):
        return Declaration.status == self.state


def queue_view(state: str) -> type[QueueView]:
    """The queue of ``state``, as the table makes it: its decisions (in bulk too), and who
    may read it — whoever may take one of them, the admin and the supervisor."""
    names = tuple(queue_decisions(state))
    roles = {"admin", "supervisor"}.union(*(transition(name).roles for name in names))
    return type(f"QueueView_{state}", (QueueView,), {
        "__doc__": f"The {state} queue.", "state": state, "decisions": names,
        "bulk_all_decisions": names, "read_roles": tuple(sorted(roles))})


# A queue per state that has decisions of its own, in the table's order.
QUEUES = {state: queue_view(state) for state in workflow.WORKFLOW.states
          if queue_decisions(state)}
InitialQueueView = QUEUES[workflow.PENDING_INITIAL]  # 待审核
SecondQueueView = QUEUES[workflow.PENDING_SECOND]  # 待复审
# Their menu entries and addresses (a new queue is listed under its state's label).
QUEUE_MENU = {workflow.PENDING_INITIAL: ("declaration_initial", _l("Initial review queue")),
              workflow.PENDING_SECOND: ("declaration_second", _l("Second review queue"))}


def queues() -> list[tuple[type[QueueView], str, object]]:
    """``(view class, endpoint, menu name)`` of every queue, for the admin's assembly."""
    return [(view, *QUEUE_MENU.get(state, (f"declaration_{state}",
                                           workflow.WORKFLOW.label(state))))
            for state, view in QUEUES.items()]


class AllDeclarationsView(DeclarationView):
    """Every declaration: exports and reporting (supervisor), corrections and withdrawal
    (admin: declarations are withdrawn, never deleted)."""

    read_roles = ("admin", "supervisor")
    edit_roles = ("admin",)
    form = DeclarationAdminForm
    decisions = tuple(shared_decisions())
    list_template = "admin/declaration_grid_outcome.html"  # + the bureau decision's date

    def list_context(self, page: dict) -> dict:
        """The grid's context, with what the bureau's outcome actions need: their names
        and today's date (the default of the decision's date)."""
        from ..core.timeutil import local_today

        return {**super().list_context(page), "outcome_actions": workflow.BUREAU.decisions(),
                "today": local_today().isoformat()}

    def update_model(self, form, model):
        return self.save_form(
            form, lambda: operations.admin_update(model, current_staff(), form),
            stale=FieldError("name", operations.changed_elsewhere())) is not False

    @expose("/municipal/<kind>/")
    def municipal_export(self, kind: str):
        """The current grid filter (default: completed ones) in the municipal layout, or
        (``zip``, always a job) the attachments of those rows."""
        if kind not in ("csv", "xlsx", "zip") or not current_staff().has_role("supervisor"):
            abort(403)
        search, filters = self.list_args()
        query = self.filtered_ids(search, filters)
        if not filters and not search:
            query = query.filter(Declaration.status == workflow.COMPLETED)
        ids = query.scalar_subquery()
        total = db.session.execute(select(db.func.count()).select_from(
            select(Declaration.id).where(Declaration.id.in_(ids)).subquery())).scalar()
        audit.record("declaration.export", detail={
            "format": kind, "rows": total, "search": self.search_label(search),
            "filters": [list(map(str, f)) for f in filters]})
        filename = export_filename(kind, total)
        if kind == "zip" or total > current_app.config.get(STREAM_SETTINGS[kind],
                                                           STREAM_ROWS[kind]):
            ordered = db.session.scalars(
                select(Declaration.id).where(Declaration.id.in_(ids))
                .order_by(Declaration.submitted_at, Declaration.id)).all()
            job = exports.start(current_staff().id, kind, list(ordered), filename)
            db.session.commit()
            exports.run_pending()
            return redirect(url_for(".export_job", job_id=job.id))
        db.session.commit()
        if kind == "csv":
            return export.csv_response(filename, HEADER, rows(ids), text_columns=TEXT_COLUMNS)
        return export.xlsx_response(filename, HEADER, rows(ids))

    def own_job(self, job_id: int) -> ExportJob:
        """The supervisor's own export job; another's (or none) is a 404."""
        if not current_staff().has_role("supervisor"):
            abort(403)
        job = db.session.get(ExportJob, job_id)
        if job is None or job.staff_id != current_staff().id:
            abort(404)
        return exports.refresh(job)

    @expose("/export-job/<int:job_id>/")
    def export_job(self, job_id: int):
        """The job's progress (the page reloads itself while it runs), then its download."""
        job = self.own_job(job_id)
        return self.render("admin/export_job.html", job=job,
                           ready=exports.path_of(job) is not None,
                           percent=int(100 * job.written / job.total) if job.total else 100)

    @expose("/export-job/<int:job_id>/download")
    def export_download(self, job_id: int):
        from flask import send_file

        job = self.own_job(job_id)
        path = exports.path_of(job)
        if path is None:
            abort(404)
        audit.record("declaration.export.download", detail={
            "job": job.id, "format": job.kind, "rows": job.total})
        db.session.commit()
        response = send_file(path, as_attachment=True, download_name=job.filename)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/export-job/<int:job_id>/restart", methods=("POST",))
    def export_restart(self, job_id: int):
        job = self.own_job(job_id)
        if job.status != "failed":
            abort(409)
        exports.restart(job)
        audit.record("declaration.export.restart", detail={"job": job.id})
        db.session.commit()
        exports.run_pending()
        return redirect(url_for(".export_job", job_id=job.id))


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


class RoundAdminForm(RoundForm):
    """The round form with its correction window (``Round.correction_days``)."""

    correction_days = StringField(
        _l("Correction window after a rejection (calendar days)"),
        default=str(CORRECTION_DAYS),
        description=_l("A rejected declaration may be corrected and resubmitted (Apply again) "
                       "for this many calendar days after the day of its rejection — weekends "
                       "and holidays included — even after the round has closed. 7 calendar "
                       "days are about 5 working days. 0: only while the round is open."))

    def validate_correction_days(self, field) -> None:
        text = (field.data if isinstance(field.data, str) else str(field.data or "")).strip()
        if not text.isdigit() or int(text) > 365:
            raise ValidationError(_("Give a whole number of days from 0 to 365."))
        field.data = text


class RoundView(RoleModelView):
    read_roles = ALL_STAFF
    create_roles = edit_roles = ("admin",)
    form = RoundAdminForm
    column_list = ("name", "opens_at", "closes_at", "correction_days", "created_at")
    column_default_sort = ("opens_at", True)
    column_sortable_list = ("name", "opens_at", "closes_at")
    column_labels = {"name": _l("Round name"), "opens_at": _l("Opens at"),
                     "closes_at": _l("Closes at"), "created_at": _l("Created"),
                     "correction_days": _l("Correction window (calendar days)")}

    def _save(self, form, model):
        return self.save_form(form, lambda: operations.save_round(
            model, name=form.name.data.strip(), opens_at=form.opens_at.data,
            closes_at=form.closes_at.data, correction_days=int(form.correction_days.data)))

    def create_model(self, form):
        return self._save(form, None)

    def update_model(self, form, model):
        return self._save(form, model) is not False
