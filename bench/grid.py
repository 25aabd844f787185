"""Declaration grids against a stock Flask-Admin ``ModelView``, in one run:
``python -m bench.grid [--database-url URL] [--instance DIR] [--repeats N]``.

Contenders, each over ``Declaration`` with the same columns, filters and sorting:

* ``ours_all``: ``AllDeclarationsView`` (``/admin/declaration_all/``) as shipped;
* ``ours_initial``: ``InitialQueueView`` (status scoped by the view, round filtered);
* ``stock``: ``flask_admin.contrib.sqla.ModelView(Declaration, db.session)``, registered on
  the same app under ``/admin/bench_stock/`` with the same filter objects, the same sort, and
  the relationship columns a stock view shows (``round``, ``enterprise_user``);

Scenarios: page 1 filtered by status + round, sorted by ``submitted_at``; page 2,000
unfiltered (sorted by ``submitted_at`` desc; clamped to the last page of a smaller set).
Medians of interleaved repeats through the Flask test client — wall time and this process's
CPU time — SQL statements per request (``before_cursor_execute``; ``grid_statements``
leaves out the session and the logged-in user, which every staff page reads), ratios to
stock. Targets: page 1 at most 0.6x stock with at most 3 statements of its own, page 2,000
at most 0.2x. Last line: JSON.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from urllib.parse import urlencode

from flask_admin.contrib.sqla import ModelView
from sqlalchemy import func, select

from talentadmin.declarations import workflow
from talentadmin.declarations.admin import DeclarationView
from talentadmin.declarations.models import Declaration, Round
from talentadmin.extensions import db

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
    return DeclarationView.column_filters


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


def register(admin, app) -> None:
    admin.add_view(StockDeclarationView(Declaration, db, name="Bench stock",
                                        endpoint="bench_stock"))


def hello_route(app) -> None:
    app.add_url_rule("/bench/hello", "bench_hello", lambda: "hello")


# --- measuring -----------------------------------------------------------------------------


def column_index(app, endpoint: str, name: str) -> int:
    """The ``sort`` argument of column ``name`` (its place in the view's ``column_list``)."""
    view = app.view_functions[f"{endpoint}.index_view"].__self__
    return list(view.column_list).index(name)


def urls(app, *, round_id: int, deep_page: int) -> dict[str, dict[str, str]]:
    """Page 1 (status + round filter, oldest submitted first) and the deep page
    (unfiltered, newest first) of each contender. Filter 0 = round, 1 = status in every view."""
    out: dict[str, dict[str, str]] = {"page1": {}, "deep": {}}
    for name, endpoint in (("ours_all", "declaration_all"), ("ours_initial", "declaration_initial"),
                           ("stock", "bench_stock")):
        sort = column_index(app, endpoint, "submitted_at")
        args = {"flt0_0": round_id, "sort": sort}
        if name != "ours_initial":
            args["flt1_1"] = workflow.PENDING_INITIAL
        out["page1"][name] = f"/admin/{endpoint}/?{urlencode(args)}"
        if name != "ours_initial":
            out["deep"][name] = (f"/admin/{endpoint}/?"
                                 + urlencode({"sort": sort, "desc": 1, "page": deep_page}))
    return out


# What every staff request reads (or writes) whatever the page: the server-side session and
# the logged-in user. "grid_statements" are the rest: the page's own.
FLOOR = re.compile(r"\bserver_session\b|^SELECT staff_user\.")
ROW_ID = re.compile(r"details/\?id=(\d+)")


def row_ids(html: str) -> list[int]:
    seen: list[int] = []
    for match in ROW_ID.finditer(html):
        value = int(match.group(1))
        if value not in seen:
            seen.append(value)
    return seen


def interleaved_cpu_ms(fns, repeats: int) -> dict[str, float]:
    """Median CPU time of this process per request (``time.process_time``), interleaved:
    on a shared machine it moves far less than the wall time (the database is in-process
    for SQLite; for PostgreSQL the server's own time is not in it)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.process_time()
            fn()
            times[name].append((time.process_time() - start) * 1000)
    return {name: round(statistics.median(values), 2) for name, values in times.items()}


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
            own = [s for s in counter.statements if not FLOOR.search(s)]
            stats[name] = {"statements": counter.count, "grid_statements": len(own),
                           "rows": len(pages[name]), "bytes": len(html)}
            if args.show_sql:
                print(f"--- {name} {scenario}: {counter.count} statements")
                for statement in counter.statements:
                    print("   ", " ".join(statement.split())[:220])

        def fetch(path):
            return lambda: client.get(path).close()

        fetchers = {name: fetch(path) for name, path in contenders.items()}
        medians = interleaved_ms(fetchers, repeats=args.repeats)
        cpu = interleaved_cpu_ms(fetchers, repeats=args.repeats)
        for name in contenders:
            stats[name]["median_ms"] = medians[name]
            stats[name]["ratio_to_stock"] = ratio(medians[name], medians["stock"])
            stats[name]["cpu_ms"] = cpu[name]
            stats[name]["cpu_ratio_to_stock"] = ratio(cpu[name], cpu["stock"])
        stats["stock_same_rows_as_ours"] = pages["stock"] == pages["ours_all"]
        result[scenario] = stats
    page1, deep = result["page1"], result["deep"]
    result["targets"] = {
        "page1_ratio_le_0.6": page1["ours_all"]["ratio_to_stock"] <= 0.6,
        "page1_cpu_ratio_le_0.6": page1["ours_all"]["cpu_ratio_to_stock"] <= 0.6,
        "page1_statements_le_3": page1["ours_all"]["grid_statements"] <= 3,
        "deep_ratio_le_0.2": deep["ours_all"]["ratio_to_stock"] <= 0.2,
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
                      f"{stats['cpu_ms']:7.2f} cpu ms  "
                      f"{stats['statements']:3d} SQL ({stats['grid_statements']} own)  rows={stats['rows']:3d}  "
                      f"x{stats['ratio_to_stock']} of stock (cpu x{stats['cpu_ratio_to_stock']})")
    print("targets:", result["targets"])
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
