"""Every filter of every declaration grid, alone, in pairs and all at once: the rows the
grid lists, the rows "decide all" moves and the rows both exports hold are exactly the ones
the filter selects. The filters are read from the views, so a new filter is covered (its
test fails until this file knows what it means); the expected rows are worked out here, in
Python, from the data as written.

The data: four units (one with a newer permission still pending, one with no permission in
force), three rounds (one empty), declarations in every state but "withdrawn", spread a
day apart at noon UTC (so a day's range holds the same rows in any time zone).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.model import filters as base_filters
from sqlalchemy import delete, insert, select, update

from talentadmin.declarations import workflow
from talentadmin.declarations.admin import PermitFilter
from talentadmin.declarations.models import Declaration, Round
from talentadmin.extensions import db
from talentadmin.permits import workflow as permit_flow
from talentadmin.permits.models import Permit, PermitRevision
from talentadmin.reference.models import ReferenceItem

from ..conftest import csrf_in

DAY0 = datetime(2026, 3, 2, 12, 0)
# endpoint -> (the statuses it lists, the "decide all" action tried on it)
VIEWS = {
    "declaration_all": (set(workflow.LABELS) - {workflow.DRAFT}, "withdraw"),
    "declaration_initial": ({workflow.PENDING_INITIAL}, "pass_initial"),
    "declaration_second": ({workflow.PENDING_SECOND}, "pass_second"),
}
SOURCES = {"withdraw": set(workflow.LABELS) - {workflow.WITHDRAWN},
           "pass_initial": {workflow.PENDING_INITIAL}, "pass_second": {workflow.PENDING_SECOND}}
# mobile, unit, credit code, the permission in force (district, field, qualifications) or
# None, and a newer or refused revision that is not in force
UNITS = [
    ("13800000001", "甲科技有限公司", "91110105MA01R8DQ2M",
     ("chaoyang", "ai", ["hightech", "foreign"]), None),
    ("13800000002", "乙集成电路有限公司", "91110108MA00ABCD1X",
     ("haidian", "ic", ["hightech2", "service_package"]), None),
    ("13800000003", "丙金融服务有限公司", "91110112MA00EFGH2Y",
     ("tongzhou", "finance", ["serviceXpackage"]), ("chaoyang", "ai", ["hightech"])),
    ("13800000004", "丁文化有限公司", "91110101MA00JKLM3Z", None,
     ("chaoyang", "ai", ["hightech"])),
]
STATES = [workflow.DRAFT, workflow.PENDING_INITIAL, workflow.PENDING_INITIAL,
          workflow.PENDING_SECOND, workflow.PENDING_SECOND, workflow.COMPLETED,
          workflow.COMPLETED, workflow.REJECTED]
CONDITIONS = ["patent", "financing", "tax", "doctorate"]


def id_number(n: int) -> str:
    body = f"110105198{n % 10}0{1 + n % 9}{10 + n % 18}{100 + n:03d}"  # born 198x-0m-dd
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def _revision(permit, number, status, unit, code, values):
    district, field, qualifications = values
    return PermitRevision(
        permit=permit, number=number, status=status, unit_name=unit, credit_code=code,
        qualifications=qualifications, registered_district=district, tax_district=district,
        field=field, contact_name="王经办", contact_mobile="13900001111", tax_year_1=2025,
        tax_amount_1=1, tax_year_2=2024, tax_amount_2=1, tax_year_3=2023, tax_amount_3=1,
        intro="—")


@pytest.fixture
def grid(app, make_enterprise):
    """The data above (units without passwords: a hash each would cost more than the rest);
    returns the ids of the rounds."""
    from talentadmin.accounts.models import StaffUser
    from talentadmin.permits import operations as permit_ops

    users = [make_enterprise(mobile, password=None) for mobile, *_ in UNITS]
    with app.test_request_context():
        approver = StaffUser(username="approver", full_name="")
        approver.role_names = ["initial_reviewer"]
        db.session.add(approver)
        db.session.add(ReferenceItem(kind="qualification", code="hightech2",
                                     name_zh="高新技术企业二", name_en="High-tech 2",
                                     position=99))
        rounds = [Round(name=name, opens_at=DAY0 + timedelta(days=start),
                        closes_at=DAY0 + timedelta(days=start + 60))
                  for name, start in (("2026年第一批", -30), ("2026年第二批", 30),
                                      ("2027年第一批", 400))]
        db.session.add_all(rounds)
        for user_id, (_m, unit, code, in_force, other) in zip(users, UNITS, strict=True):
            permit = Permit(enterprise_user_id=user_id)
            db.session.add(permit)
            if in_force:
                revision = _revision(permit, 1, permit_flow.PENDING, unit, code, in_force)
                db.session.add(revision)
                db.session.flush()
                assert permit_ops.approve(revision, approver)
            if other:  # pending (after one in force) or refused: never what a filter reads
                status = permit_flow.PENDING if in_force else permit_flow.REJECTED
                db.session.add(_revision(permit, 2 if in_force else 1, status, unit, code,
                                         other))
        db.session.flush()
        n = 0
        for user_id, (_m, unit, code, *_r) in zip(users, UNITS, strict=True):
            for k, status in enumerate(STATES):
                declaration = Declaration(
                    enterprise_user_id=user_id, round_id=rounds[n % 2].id, status=status,
                    unit_name=unit, credit_code=code, name=f"申报人{n:02d}",
                    condition=CONDITIONS[(n + k) % len(CONDITIONS)], duplicate=n % 5 == 0,
                    education="10", gender="male", age=40)
                declaration.set_id_number(id_number(n))
                if status != workflow.DRAFT:
                    declaration.submitted_at = DAY0 + timedelta(days=n)
                if status == workflow.COMPLETED:
                    declaration.initial_passed_at = DAY0 + timedelta(days=n, hours=2)
                    declaration.second_passed_at = DAY0 + timedelta(days=40 + n)
                db.session.add(declaration)
                n += 1
        db.session.commit()
        return [r.id for r in rounds]


def records(app) -> list[dict]:
    """Every declaration with its unit's permission in force, read back as plain dicts."""
    with app.app_context():
        revisions = {permit.enterprise_user_id: revision for permit, revision in
                     db.session.execute(select(Permit, PermitRevision).join(
                         PermitRevision, Permit.in_force_id == PermitRevision.id))}
        found = []
        for d in db.session.execute(select(Declaration).order_by(Declaration.id)).scalars():
            row = {c.key: getattr(d, c.key) for c in Declaration.__table__.columns}
            revision = revisions.get(d.enterprise_user_id)
            row["permit"] = None if revision is None else {
                c.key: getattr(revision, c.key) for c in PermitRevision.__table__.columns}
            found.append(row)
        return found


# --- what a filter means ------------------------------------------------------------------


def attribute(flt, row):
    if isinstance(flt, PermitFilter):
        return None if row["permit"] is None else row["permit"][flt.attribute.key]
    return row[flt.column.key]


def matches(flt, value: str, row) -> bool:
    """The filter's meaning, written out; a filter this does not know fails the test."""
    got = attribute(flt, row)
    if isinstance(flt, PermitFilter):
        return got is not None and (value in got if flt.contains else got == value)
    if isinstance(flt, base_filters.BaseDateTimeBetweenFilter):
        start, end = (datetime.strptime(v, "%Y-%m-%d %H:%M:%S") for v in value.split(" to "))
        return got is not None and start <= got <= end
    if isinstance(flt, base_filters.BaseBooleanFilter):
        return got == (value == "1")
    if isinstance(flt, base_filters.BaseIntFilter):
        return got == int(value)
    if type(flt) is FilterEqual:
        return got == value
    raise AssertionError(f"no meaning written for the filter {flt.name!s} "
                         f"({type(flt).__name__}): add it to matches()")


def day_range(day) -> str:
    return f"{day:%Y-%m-%d} 00:00:00 to {day:%Y-%m-%d} 23:59:59"


def candidates(view, flt, rows) -> list[str]:
    """Values to try: the filter's options, or values drawn from the data and a miss."""
    options = [str(key) for key, _label in (flt.get_options(view) or ())]
    if options:
        return options
    if isinstance(flt, base_filters.BaseDateTimeBetweenFilter):
        days = sorted({attribute(flt, r).date() for r in rows if attribute(flt, r)})
        third = max(len(days) // 3, 1)
        return [f"{days[third]:%Y-%m-%d} 00:00:00 to {days[2 * third]:%Y-%m-%d} 23:59:59",
                "2000-01-01 00:00:00 to 2000-01-02 00:00:00"]
    return sorted({str(attribute(flt, r)) for r in rows if attribute(flt, r) is not None}
                  ) + ["NO-SUCH-VALUE"]


class Grid:
    """One grid view: its filters (index, URL name, filter) and the rows in its scope."""

    def __init__(self, app, endpoint: str, rows: list[dict]) -> None:
        self.endpoint = endpoint
        self.view = app.view_functions[f"{endpoint}.index_view"].__self__
        statuses = VIEWS[endpoint][0]
        self.rows = [r for r in rows if r["status"] in statuses]
        with app.test_request_context():
            assert len(self.view.get_filters()) == len(self.view.column_filters)
            self.filters = [(self.view.get_filter_arg(i, flt), flt)
                            for i, flt in enumerate(self.view.get_filters())]
            self.tried = {arg: candidates(self.view, flt, rows) for arg, flt in self.filters}

    def expected(self, chosen: list[tuple[str, str]]) -> set[int]:
        flts = dict(self.filters)
        return {r["id"] for r in self.rows
                if all(matches(flts[arg], value, r) for arg, value in chosen)}

    def hit_and_miss(self, arg: str) -> list[str]:
        """A value that selects some rows of this grid and one that selects none (or, when
        every value selects some, another value)."""
        flt = dict(self.filters)[arg]
        found = {value: {r["id"] for r in self.rows if matches(flt, value, r)}
                 for value in self.tried[arg]}
        hit = next((v for v, ids in found.items() if ids), self.tried[arg][0])
        miss = next((v for v, ids in found.items() if not ids), None)
        if miss is None:
            miss = next(v for v, ids in found.items() if ids != found[hit])
        return [hit, miss]

    def of_row(self, row) -> dict[str, str]:
        """For each filter, a value that selects ``row`` (or the hit, where none can)."""
        values = {}
        for arg, flt in self.filters:
            got = attribute(flt, row)
            if got is None or got == []:
                values[arg] = self.hit_and_miss(arg)[0]
            elif isinstance(flt, base_filters.BaseDateTimeBetweenFilter):
                values[arg] = day_range(got)
            elif isinstance(flt, base_filters.BaseBooleanFilter):
                values[arg] = "1" if got else "0"
            else:
                values[arg] = str(got[0] if isinstance(got, list) else got)
        return values

    def query(self, chosen: list[tuple[str, str]]) -> str:
        return urlencode([(f"flt{pos}_{arg}", value)
                          for pos, (arg, value) in enumerate(chosen)])


def listed(client, grid: Grid, chosen) -> set[int]:
    response = client.get(f"/admin/{grid.endpoint}/?page_size=100&{grid.query(chosen)}")
    assert response.status_code == 200, (chosen, response.status_code)
    page = response.get_data(as_text=True)
    assert "alert-danger" not in page, chosen  # no "invalid filter value"
    return {int(pk) for pk in re.findall(r'/details/\?id=(\d+)', page)}


def combinations(grid: Grid):
    """Each filter alone (a hit and a miss), every pair and all at once (values that select
    one chosen row, so the answer is not merely empty)."""
    for arg, _flt in grid.filters:
        for value in grid.hit_and_miss(arg):
            yield [(arg, value)]
    target = grid.rows[len(grid.rows) // 2]
    values = grid.of_row(target)
    for (a, _f), (b, _g) in itertools.combinations(grid.filters, 2):
        yield [(a, values[a]), (b, values[b])]
    yield list(values.items())


@pytest.fixture
def boss(staff_login):
    staff_login("boss", "admin", "supervisor")


# --- the grids ----------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(VIEWS))
def test_every_filter_alone_in_pairs_and_all_at_once(app, client, grid, boss, endpoint):
    view = Grid(app, endpoint, records(app))
    assert view.rows and view.filters
    nonempty = 0
    for chosen in combinations(view):
        expected = view.expected(chosen)
        assert listed(client, view, chosen) == expected, chosen
        nonempty += bool(expected)
    assert nonempty > len(view.filters)  # the data makes the filters select something


def test_permission_filters_read_the_permission_in_force_and_whole_codes(app, client, grid,
                                                                          boss):
    """"hightech" is not "hightech2", "_" is no wildcard, and neither a newer pending
    revision nor a refused one counts."""
    view = Grid(app, "declaration_all", records(app))
    by_name = {str(flt.name): arg for arg, flt in view.filters}
    units = {}
    for chosen in (("Unit qualifications", "hightech"), ("Unit qualifications", "hightech2"),
                   ("Unit qualifications", "service_package"),
                   ("District of registration", "chaoyang"), ("Field of business", "ai")):
        ids = listed(client, view, [(by_name[chosen[0]], chosen[1])])
        units[chosen] = {r["unit_name"] for r in view.rows if r["id"] in ids}
    assert units == {("Unit qualifications", "hightech"): {UNITS[0][1]},
                     ("Unit qualifications", "hightech2"): {UNITS[1][1]},
                     ("Unit qualifications", "service_package"): {UNITS[1][1]},
                     ("District of registration", "chaoyang"): {UNITS[0][1]},
                     ("Field of business", "ai"): {UNITS[0][1]}}


# --- decide all and the exports under each filter -------------------------------------------


def snapshot(app) -> dict:
    """Every row of every table but the sessions', by primary key."""
    with app.app_context():
        return {table.name: {tuple(row[c.name] for c in table.primary_key): dict(row)
                             for row in db.session.execute(select(table)).mappings()}
                for table in db.metadata.sorted_tables if "session" not in table.name}


def restore(app, before: dict) -> None:
    """Put back the rows a decision changed, added or removed."""
    now = snapshot(app)
    tables = [t for t in db.metadata.sorted_tables if now.get(t.name) != before.get(t.name)]
    with app.app_context():
        for table in reversed(tables):
            for key in now[table.name].keys() - before[table.name].keys():
                db.session.execute(delete(table).where(
                    *[c == v for c, v in zip(table.primary_key, key, strict=True)]))
        for table in tables:
            for key, row in before[table.name].items():
                if key not in now[table.name]:
                    db.session.execute(insert(table).values(row))
                elif now[table.name][key] != row:
                    db.session.execute(update(table).where(
                        *[c == v for c, v in zip(table.primary_key, key, strict=True)])
                        .values(row))
        db.session.commit()
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", list(VIEWS))
def test_decide_all_moves_exactly_the_filtered_rows(app, client, grid, boss, endpoint):
    rows = records(app)
    view = Grid(app, endpoint, rows)
    action = VIEWS[endpoint][1]
    status = {r["id"]: r["status"] for r in rows}
    token = csrf_in(client.get(f"/admin/{endpoint}/").get_data(as_text=True))
    before = snapshot(app)
    tried = [[(arg, view.hit_and_miss(arg)[0])] for arg, _flt in view.filters]
    tried.append(list(view.of_row(view.rows[0]).items()))
    moved_any = 0
    for chosen in tried:
        response = client.post(f"/admin/{endpoint}/bulk_all/?{view.query(chosen)}", data={
            "csrf_token": token, "action": action, "reason": "按筛选批量处理"})
        assert response.status_code == 302, chosen
        after = {r["id"]: r["status"] for r in records(app)}
        moved = {pk for pk in after if after[pk] != status[pk]}
        expected = {pk for pk in view.expected(chosen) if status[pk] in SOURCES[action]}
        assert moved == expected, chosen
        moved_any += bool(moved)
        restore(app, before)
    assert moved_any >= len(view.filters) // 2


def exported(client, kind: str, query: str) -> list[str]:
    """The names in a municipal export (CSV or XLSX, parsed)."""
    response = client.get(f"/admin/declaration_all/municipal/{kind}/?{query}")
    assert response.status_code == 200, (kind, query)
    if kind == "csv":
        table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0][3] == "姓名"
    return [row[3] for row in table[1:]]


def test_both_exports_hold_exactly_the_filtered_rows(app, client, grid, boss):
    view = Grid(app, "declaration_all", records(app))
    names = {r["id"]: r["name"] for r in view.rows}
    tried = [[(arg, value)] for arg, _flt in view.filters for value in view.hit_and_miss(arg)]
    tried.append(list(view.of_row(view.rows[len(view.rows) // 2]).items()))
    for chosen in tried:
        expected = sorted(names[pk] for pk in view.expected(chosen))
        for kind in ("csv", "xlsx"):
            assert sorted(exported(client, kind, view.query(chosen))) == expected, (kind,
                                                                                   chosen)


@pytest.mark.parametrize("endpoint", list(VIEWS))
def test_hostile_filter_and_search_values_answer_without_error(app, client, grid, boss,
                                                               endpoint, caplog):
    """A NUL (which PostgreSQL refuses in text), a number past 64 bits, non-ASCII digits,
    a very long value: for every filter and the search, in the grid and the exports."""
    import logging

    view = Grid(app, endpoint, records(app))
    hostile = ["a\x00b", "99999999999999999999", "٣", "x" * 5000]
    paths = [f"/admin/{endpoint}/"]
    if endpoint == "declaration_all":
        paths += ["/admin/declaration_all/municipal/csv/",
                  "/admin/declaration_all/municipal/xlsx/"]
    caplog.set_level(logging.ERROR)
    for path in paths:
        for arg, value in [*((arg, v) for arg, _f in view.filters for v in hostile),
                           *(("search", v) for v in hostile)]:
            key = "search" if arg == "search" else f"flt0_{arg}"
            response = client.get(path, query_string={key: value})
            response.get_data()
            assert response.status_code in (200, 302, 400), (path, arg, value[:20])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
