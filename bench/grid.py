"""Declaration grids against a stock Flask-Admin ``ModelView``, in one run:
``python -m bench.grid [--database-url URL] [--instance DIR] [--repeats N]``.

Contenders, each over ``Declaration`` with the same columns, filters and sorting:

* ``ours_all``: ``AllDeclarationsView`` (``/admin/declaration_all/``) as shipped;
* ``ours_initial``: ``InitialQueueView`` (status scoped by the view, round filtered);
* ``stock``: ``flask_admin.contrib.sqla.ModelView(Declaration, db.session)``, registered on
  the same app under ``/admin/bench_stock/`` with the same filter objects, the same sort, and
  the relationship columns a stock view shows (``round``, ``enterprise_user``);
* ``proto``: a PROTOTYPE subclass of ``AllDeclarationsView`` defined below (not shipped
  code) with the changes the report proposes, to measure them: one user-load statement,
  one lookup statement per request for every reference list / round / reason template
  (formatters, filter options, the reason picker), and a deferred join with the total as
  a window count (``WHERE id IN (SELECT id … ORDER BY … LIMIT … OFFSET …)``).

Scenarios: page 1 filtered by status + round, sorted by ``submitted_at``; page 2,000
unfiltered (sorted by ``submitted_at`` desc; clamped to the last page of a smaller set).
Medians of interleaved repeats through the Flask test client, SQL statements per request
(``before_cursor_execute``), ratios to stock. Last line: JSON.
"""

from __future__ import annotations

import argparse
import re
import sys
from types import SimpleNamespace
from urllib.parse import urlencode

from flask import g, request
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, DateTimeBetweenFilter, FilterEqual
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, func, literal, select, union_all
from sqlalchemy.orm import joinedload, noload

from talentadmin.declarations import workflow
from talentadmin.declarations.models import Declaration, Round
from talentadmin.declarations.review import AllDeclarationsView, DeclarationView, PermitFilter
from talentadmin.extensions import db
from talentadmin.permits.models import PermitRevision

from .common import (
    PAGE_SIZE,
    SqlCounter,
    add_db_args,
    database_url,
    dialect_of,
    emit,
    interleaved_ms,
    login,
    make_app,
    ratio,
)

STOCK_COLUMNS = ("round", "enterprise_user", "name", "id_masked", "gender", "age", "education",
                 "condition", "status", "rejected_stage", "submitted_at", "duplicate")


def same_filters():
    """The filter objects of our grids (stock Flask-Admin filter classes, plus PermitFilter)."""
    return DeclarationView.column_filters.fget(None)


class StockDeclarationView(ModelView):
    """What a stock Flask-Admin grid over the same model looks like."""

    column_list = STOCK_COLUMNS
    column_sortable_list = ("submitted_at", "status", "name", "age", ("round", "round.opens_at"))
    column_default_sort = ("submitted_at", True)
    page_size = PAGE_SIZE
    can_create = can_edit = can_delete = False
    can_view_details = True

    def __init__(self, *args, **kwargs):
        self.column_filters = same_filters()
        super().__init__(*args, **kwargs)


# --- PROTOTYPE of the proposed change (bench only, not the shipped code) -----------------


def lookups() -> dict:
    """Every short list a declaration grid needs, in ONE statement per request (g-cached):
    reference items (labels, filter options), rounds (filter options), reason templates."""
    if "bench_lookups" in g:
        return g.bench_lookups
    from talentadmin.reference.models import ReasonTemplate, ReferenceItem

    refs = select(ReferenceItem.kind, ReferenceItem.code, ReferenceItem.name_zh,
                  ReferenceItem.name_en, ReferenceItem.position.label("pos"),
                  ReferenceItem.id.label("oid"), ReferenceItem.active)
    rounds = select(literal("#round").label("kind"), cast(Round.id, String), Round.name,
                    Round.name, literal(0), Round.id, literal(True))
    reasons = select(literal("#reason").label("kind"), cast(ReasonTemplate.id, String),
                     ReasonTemplate.text, ReasonTemplate.text, ReasonTemplate.position,
                     ReasonTemplate.id, ReasonTemplate.active)
    from flask_babel import get_locale

    english = str(get_locale() or "").startswith("en")
    data: dict = {"names": {}, "options": {}, "rounds": [], "reasons": []}
    rows = db.session.execute(union_all(refs, rounds, reasons)).all()
    for kind, code, zh, en, _pos, oid, active in sorted(rows, key=lambda r: (r[0], r[4], r[5])):
        if kind == "#round":
            data["rounds"].append((oid, zh))
        elif kind == "#reason":
            if active:
                data["reasons"].append(SimpleNamespace(text=zh))
        else:
            name = en if english else zh
            data["names"][(kind, code)] = name
            if active:
                data["options"].setdefault(kind, []).append((code, name))
    data["rounds"].reverse()  # newest first, as _round_options orders them
    g.bench_lookups = data
    return data


def _cached_options(kind):
    def options():
        from flask import has_app_context

        return lookups()["options"].get(kind, []) if has_app_context() else []
    return options


def _cached_rounds():
    from flask import has_app_context

    return lookups()["rounds"] if has_app_context() else []


def _cached_ref(kind):
    def formatter(view, context, model, name):
        code = getattr(model, name)
        return lookups()["names"].get((kind, code), code) if code else ""
    return formatter


class ProtoDeclarationView(AllDeclarationsView):
    """PROTOTYPE (bench only): AllDeclarationsView with the proposed changes."""

    column_formatters = {**AllDeclarationsView.column_formatters,
                         "education": _cached_ref("education"),
                         "condition": _cached_ref("condition")}
    window_count = True

    @property
    def column_filters(self):
        return (
            FilterEqual(Declaration.round_id, _l("Round"), options=_cached_rounds),
            FilterEqual(Declaration.status, _l("Status"),
                        options=[(k, str(v)) for k, v in workflow.LABELS.items()
                                 if k != workflow.DRAFT]),
            PermitFilter(PermitRevision.registered_district, _l("District of registration"),
                         options=_cached_options("district")),
            PermitFilter(PermitRevision.field, _l("Field of business"),
                         options=_cached_options("field")),
            FilterEqual(Declaration.condition, _l("Introduction basis and condition"),
                        options=_cached_options("condition")),
            PermitFilter(PermitRevision.qualifications, _l("Unit qualifications"),
                         options=_cached_options("qualification"), contains=True),
            FilterEqual(Declaration.credit_code, _l("Unified social credit code")),
            DateTimeBetweenFilter(Declaration.submitted_at, _l("Submitted")),
            DateTimeBetweenFilter(Declaration.second_passed_at, _l("Second review passed")),
            BooleanEqualFilter(Declaration.duplicate, _l("Duplicate")),
        )

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["reason_templates"] = lookups()["reasons"]
            return super(DeclarationView, self).render(template, **kwargs)
        return super().render(template, **kwargs)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        if page_size is None:
            page_size = self.page_size
        if not execute or not page_size:
            return super().get_list(page, sort_column, sort_desc, search, filters,
                                    execute=execute, page_size=page_size)
        joins: dict = {}
        ids = self.scope_query(db.session.query(Declaration.id))
        if search:
            ids, _c, joins, _j = self._apply_search(ids, None, joins, {}, search)
        if filters and self._filters:
            ids, _c, joins, _j = self._apply_filters(ids, None, joins, {}, filters)
        ids, joins = self._apply_sorting(ids, joins, sort_column, sort_desc)
        order = list(ids._order_by_clauses)
        last_desc = bool(sort_desc) if sort_column is not None else bool(
            (self._get_default_order_value() or (None, False))[1])
        order.append(Declaration.id.desc() if last_desc else Declaration.id)  # a total order
        ids = ids.order_by(None).order_by(*order)
        extra = [func.row_number().over(order_by=order).label("rn")]
        if self.window_count:
            extra.append(func.count().over().label("total"))
        window = (ids.add_columns(*extra).limit(page_size)
                  .offset((page or 0) * page_size).subquery())
        columns = [Declaration] + ([window.c.total] if self.window_count else [])
        statement = (select(*columns).join(window, window.c.id == Declaration.id)
                     .options(joinedload(Declaration.round), noload(Declaration.files))
                     .order_by(window.c.rn))
        count = None
        if not self.window_count:
            count = db.session.execute(select(func.count()).select_from(
                ids.order_by(None).subquery())).scalar()
        rows = db.session.execute(statement).all()
        if self.window_count:
            if rows:
                count = rows[0][1]
            else:  # past the last page: the total from a count
                count = db.session.execute(select(func.count()).select_from(
                    ids.order_by(None).subquery())).scalar()
        return count, [row[0] for row in rows]

    def _get_default_order_value(self):
        default = self.column_default_sort
        if isinstance(default, tuple) and len(default) == 2 and isinstance(default[1], bool):
            return default
        return None


class ProtoCountView(ProtoDeclarationView):
    """PROTOTYPE variant: a separate COUNT instead of the window count."""

    window_count = False


def proto_user_loader(app):
    """PROTOTYPE of the _load_user change: StaffUser and its roles in one statement.
    Swapped in for the prototype's URLs only, so the other contenders run the shipped one."""
    from flask_login import current_user  # noqa: F401

    from talentadmin import _load_user
    from talentadmin.accounts.models import EnterpriseUser, StaffUser
    from talentadmin.extensions import login_manager

    def one_statement_loader(user_id: str):
        kind, _, rest = user_id.partition(":")
        pk, _, stamp = rest.partition(":")
        model = {"e": EnterpriseUser, "s": StaffUser}.get(kind)
        if model is None or not pk.isdigit():
            return None
        query = select(model).where(model.id == int(pk))
        if model is StaffUser:
            query = query.options(joinedload(StaffUser.role_rows))
        user = db.session.execute(query).unique().scalar_one_or_none()
        if user is None or user.security_stamp != stamp or not user.active:
            return None
        return user

    def choose_loader():
        proto = request.path.startswith(("/admin/bench_proto", "/admin/bench_protocount"))
        login_manager._user_callback = one_statement_loader if proto else _load_user

    app.before_request_funcs.setdefault(None, []).insert(0, choose_loader)


def register(admin, app) -> None:
    admin.add_view(StockDeclarationView(Declaration, db.session, name="Bench stock",
                                        endpoint="bench_stock"))
    admin.add_view(ProtoDeclarationView(Declaration, name="Bench prototype",
                                        endpoint="bench_proto"))
    admin.add_view(ProtoCountView(Declaration, name="Bench prototype (count)",
                                  endpoint="bench_protocount"))
    proto_user_loader(app)


def hello_route(app) -> None:
    app.add_url_rule("/bench/hello", "bench_hello", lambda: "hello")


# --- measuring -----------------------------------------------------------------------------


def column_index(app, endpoint: str, name: str) -> int:
    (admin,) = app.extensions["admin"]
    view = next(v for v in admin._views if getattr(v, "endpoint", None) == endpoint)
    return [c for c, _label in view._list_columns].index(name)


def round_window(app, round_id: int) -> str | None:
    """On PostgreSQL the Round filter (``FilterEqual`` on the integer ``round_id`` with a
    string value) fails: ``integer = character varying`` (HTTP 500). There the benchmark
    selects the same rows by the round's window instead (filter 7, ``submitted_at``
    between): rounds never overlap, so it is the same set of declarations."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return None
        round_ = db.session.get(Round, round_id)
        return (f"{round_.opens_at:%Y-%m-%d %H:%M:%S} to "
                f"{round_.closes_at:%Y-%m-%d %H:%M:%S}")


def urls(app, *, round_id: int, deep_page: int) -> dict[str, dict[str, str]]:
    """Page 1 (status + round filter, oldest submitted first) and the deep page
    (unfiltered, newest first) of each contender. Filter 0 = round, 1 = status in every view."""
    window = round_window(app, round_id)
    out: dict[str, dict[str, str]] = {"page1": {}, "deep": {}}
    for name, endpoint in (("ours_all", "declaration_all"), ("ours_initial", "declaration_initial"),
                           ("stock", "bench_stock"), ("proto", "bench_proto"),
                           ("proto_count", "bench_protocount")):
        sort = column_index(app, endpoint, "submitted_at")
        args = {"flt0_0": round_id, "sort": sort} if window is None else {
            "flt0_7": window, "sort": sort}
        if name != "ours_initial":
            args["flt1_1"] = workflow.PENDING_INITIAL
        out["page1"][name] = f"/admin/{endpoint}/?{urlencode(args)}"
        if name != "ours_initial":
            out["deep"][name] = (f"/admin/{endpoint}/?"
                                 + urlencode({"sort": sort, "desc": 1, "page": deep_page}))
    return out


ROW_ID = re.compile(r"details/\?id=(\d+)")


def row_ids(html: str) -> list[int]:
    seen: list[int] = []
    for match in ROW_ID.finditer(html):
        value = int(match.group(1))
        if value not in seen:
            seen.append(value)
    return seen


def run(args) -> dict:
    url = database_url(args)
    app = make_app(url, args.instance, extra_views=register, extra_routes=hello_route)
    client = app.test_client()
    login(client)
    with app.app_context():
        current_round = db.session.execute(select(func.max(Round.id))).scalar()
        submitted = db.session.execute(select(func.count()).select_from(Declaration).where(
            Declaration.status != workflow.DRAFT)).scalar()
        total = db.session.execute(select(func.count()).select_from(Declaration)).scalar()
        engine = db.engine
    last_page = max(0, (submitted - 1) // PAGE_SIZE)
    deep_page = min(args.deep_page - 1, last_page)
    plan = urls(app, round_id=current_round, deep_page=deep_page)

    result: dict = {"bench": "grid", "dialect": dialect_of(url), "declarations": total,
                    "round_filter": "round_id" if round_window(app, current_round) is None
                    else "submitted_at window of the round (round_id filter fails on PG)",
                    "deep_page": deep_page + 1, "page_size": PAGE_SIZE, "urls": plan}
    for scenario, contenders in plan.items():
        stats: dict = {}
        pages: dict = {}
        for name, path in contenders.items():
            counter = SqlCounter(engine)
            counter.keep = True
            with counter:
                response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{name} {path}: HTTP {response.status_code}")
            html = response.get_data(as_text=True)
            pages[name] = row_ids(html)
            stats[name] = {"statements": counter.count, "rows": len(pages[name]),
                           "bytes": len(html)}
            if args.show_sql:
                print(f"--- {name} {scenario}: {counter.count} statements")
                for statement in counter.statements:
                    print("   ", " ".join(statement.split())[:220])

        def fetch(path):
            return lambda: client.get(path).close()

        medians = interleaved_ms({name: fetch(path) for name, path in contenders.items()},
                                 repeats=args.repeats)
        for name in contenders:
            stats[name]["median_ms"] = medians[name]
            stats[name]["ratio_to_stock"] = ratio(medians[name], medians["stock"])
        # the prototype must show exactly the rows our view shows
        stats["proto_same_rows_as_ours"] = pages["proto"] == pages["ours_all"] and \
            pages["proto_count"] == pages["ours_all"]
        stats["stock_same_rows_as_ours"] = pages["stock"] == pages["ours_all"]
        result[scenario] = stats
    page1, deep = result["page1"], result["deep"]
    result["targets"] = {
        "page1_ratio_le_0.5": page1["ours_all"]["ratio_to_stock"] <= 0.5,
        "page1_statements_le_3": page1["ours_all"]["statements"] <= 3,
        "deep_ratio_le_0.5": deep["ours_all"]["ratio_to_stock"] <= 0.5,
        "proto_page1_ratio_le_0.5": page1["proto"]["ratio_to_stock"] <= 0.5,
        "proto_page1_statements_le_3": page1["proto"]["statements"] <= 3,
        "proto_deep_ratio_le_0.5": deep["proto"]["ratio_to_stock"] <= 0.5,
    }
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_args(parser)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--deep-page", type=int, default=2000, help="1-based page number")
    parser.add_argument("--show-sql", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    for scenario in ("page1", "deep"):
        for name, stats in result[scenario].items():
            if isinstance(stats, dict):
                print(f"{scenario:6s} {name:13s} {stats['median_ms']:9.2f} ms  "
                      f"{stats['statements']:3d} SQL  rows={stats['rows']:3d}  "
                      f"x{stats['ratio_to_stock']} of stock")
    print("targets:", result["targets"])
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
