"""The supervisors' dashboard: the figures of a round, its charts, who may see it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, update

from talentadmin import create_app
from talentadmin.admin.dashboard import DashboardView, bar_chart, column_chart
from talentadmin.extensions import db

from ..conftest import PASSWORD, TEST_DATABASE_URL, csrf_in, seed_defaults


@pytest.fixture(scope="module")
def app(app, tmp_path_factory):
    """The session app when it already serves the dashboard; otherwise an app of our own.

    Flask refuses new blueprints once an app has served a request, which the session app
    usually has by the time this module runs, so registering the view on it is not an
    option; a module app with the view added before any request is."""
    if "dashboard.index" in app.view_functions:
        yield app
        return
    instance = tmp_path_factory.mktemp("dashboard")
    own = create_app({
        **{key: app.config[key] for key in ("SMS_BACKEND", "SMS_ENABLED", "SERVER_NAME",
                                            "PASSWORD_HASH_METHOD")},
        "TESTING": True, "INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{instance / 'test.db'}",
        "REDIS_URL": None, "CAPTCHA_TEST_MODE": False,
    })
    own.extensions["admin"][0].add_view(DashboardView(name="Dashboard", endpoint="dashboard"))
    with own.app_context():
        upgrade()
        seed_defaults()
        db.session.commit()
    yield own
    with own.app_context():
        db.engine.dispose()


# --- data ------------------------------------------------------------------------------------


def utc(day: int, hour: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour)


def _enterprise(n: int, district: str, field: str):
    from talentadmin.accounts.models import EnterpriseUser
    from talentadmin.permits.models import Permit, PermitRevision

    user = EnterpriseUser(mobile=f"1380013800{n}")
    db.session.add(user)
    db.session.flush()
    permit = Permit(enterprise_user_id=user.id)
    db.session.add(permit)
    db.session.flush()
    revision = PermitRevision(
        permit_id=permit.id, status="approved", unit_name=f"单位{n}",
        credit_code=f"9111010500000000{n:02d}", qualifications=["hightech"],
        registered_district=district, tax_district=district, field=field,
        contact_name="王经办", contact_mobile="13900001111", intro="—",
        tax_year_1=2025, tax_amount_1=Decimal(1), tax_year_2=2024, tax_amount_2=Decimal(1),
        tax_year_3=2023, tax_amount_3=Decimal(1))
    db.session.add(revision)
    db.session.flush()
    permit.in_force_id = revision.id
    return user


# the action taken at each step: (action, from, to)
STEPS = {
    "submit": ("draft", "pending_initial"),
    "resubmit": ("rejected", "pending_initial"),
    "pass_initial": ("pending_initial", "pending_second"),
    "reject_initial": ("pending_initial", "rejected"),
    "pass_second": ("pending_second", "completed"),
    "reject_second": ("pending_second", "rejected"),
}


def _declaration(round_id, user, condition, status, history=(), stage=None):
    from talentadmin.core.models import StatusChange
    from talentadmin.declarations.models import Declaration

    submitted = [at for action, at in history if action in ("submit", "resubmit")]
    declaration = Declaration(
        round_id=round_id, enterprise_user_id=user.id, status=status, rejected_stage=stage,
        unit_name="单位", credit_code="911101050000000000", name="张三", condition=condition,
        submitted_at=submitted[-1] if submitted else None)
    db.session.add(declaration)
    db.session.flush()
    for action, at in history:
        before, after = STEPS[action]
        db.session.add(StatusChange(target_type="declaration", target_id=declaration.id,
                                    at=at, action=action, from_status=before, to_status=after,
                                    actor_type="staff"))
    return declaration


@pytest.fixture
def data(app):
    """Round A (open) and round B (an old one), with the figures the tests expect:

    A, submitted: pending_initial 1, pending_second 2, completed 1, rejected 2
    (1 initial, 1 second), plus 1 draft; district haidian 4 / chaoyang 2; field ai 4 /
    ic 2; condition doctorate 3 / patent 2 / tax 1; per Shanghai day 03-01: 1,
    03-02: 3, 03-03: 2; initial stage 6 stays, 63 h → 10.5 h; second 2 stays, 42 h → 21 h.
    """
    from talentadmin.core.timeutil import utcnow
    from talentadmin.declarations.models import Round

    with app.app_context():
        now = utcnow()
        a = Round(name="Round A 2026", opens_at=now - timedelta(days=1),
                  closes_at=now + timedelta(days=30))
        b = Round(name="Round B 2025", opens_at=datetime(2025, 6, 1),
                  closes_at=datetime(2025, 7, 1))
        db.session.add_all([a, b])
        db.session.flush()
        e1 = _enterprise(1, "chaoyang", "ai")
        e2 = _enterprise(2, "haidian", "ai")
        e3 = _enterprise(3, "haidian", "ic")
        _declaration(a.id, e1, "doctorate", "draft")
        # 15:30 UTC is 23:30 in Shanghai: 03-01; the next one, 16:30 UTC, is 03-02 there
        _declaration(a.id, e1, "doctorate", "pending_initial", [("submit", utc(1, 15) +
                                                                 timedelta(minutes=30))])
        _declaration(a.id, e1, "patent", "pending_second", [
            ("submit", utc(1, 16) + timedelta(minutes=30)),
            ("pass_initial", utc(2, 4) + timedelta(minutes=30))])  # 12 h
        _declaration(a.id, e2, "doctorate", "completed", [
            ("submit", utc(2, 1)), ("pass_initial", utc(2, 7)),  # 6 h
            ("pass_second", utc(3, 7))])  # 24 h
        _declaration(a.id, e2, "tax", "rejected", [
            ("submit", utc(2, 2)), ("reject_initial", utc(2, 20))], stage="initial")  # 18 h
        _declaration(a.id, e3, "patent", "rejected", [
            ("submit", utc(3, 0)), ("pass_initial", utc(3, 12)),  # 12 h
            ("reject_second", utc(4, 6))], stage="second")  # 18 h
        _declaration(a.id, e3, "doctorate", "pending_second", [
            ("submit", utc(1, 0)), ("reject_initial", utc(1, 6)),  # 6 h
            ("resubmit", utc(3, 0)), ("pass_initial", utc(3, 9))])  # 9 h
        _declaration(b.id, e1, "award", "completed", [
            ("submit", datetime(2025, 6, 10, 2)), ("pass_initial", datetime(2025, 6, 11, 2)),
            ("pass_second", datetime(2025, 6, 13, 2))])
        db.session.commit()
        return {"a": a.id, "b": b.id}


@pytest.fixture
def english(client):
    html = client.get("/").get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_in(html)})


@pytest.fixture
def supervisor(staff_login, english):
    staff_login("boss", "supervisor")


def cell(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'{attribute}="{value}">([^<]*)<', html)
    assert match, (attribute, value)
    return match.group(1)


def table(html: str, table_id: str) -> dict[str, int]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert body, table_id
    return {label.strip(): int(count) for label, count in re.findall(
        r'<tr><td>([^<]*)</td><td class="text-right" data-count="\d+">(\d+)</td></tr>',
        body.group(0))}


def stage(html: str, name: str) -> tuple[str, str, str]:
    row = re.search(rf'<tr data-stage="{name}">.*?</tr>', html, re.S).group(0)
    return tuple(re.search(rf'class="text-right stage-{part}">([^<]*)<', row).group(1)
                 for part in ("count", "hours", "days"))


# --- the figures -----------------------------------------------------------------------------


def test_counts_of_the_open_round(client, supervisor, data):
    response = client.get("/admin/dashboard/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<span id="round-name">Round A 2026</span>' in html
    assert f'<option value="{data["a"]}" selected>' in html
    assert cell(html, "data-status", "pending_initial") == "1"
    assert cell(html, "data-status", "pending_second") == "2"
    assert cell(html, "data-status", "completed") == "1"
    assert cell(html, "data-status", "rejected") == "2"
    assert cell(html, "data-status", "draft") == "1"
    assert cell(html, "data-rejected-stage", "initial") == "1"
    assert cell(html, "data-rejected-stage", "second") == "1"
    assert re.search(r'id="total-submitted">6<', html)
    assert table(html, "table-district") == {"Haidian": 4, "Chaoyang": 2}
    assert table(html, "table-field") == {"Artificial intelligence": 4,
                                          "Integrated circuits": 2}
    assert table(html, "table-condition") == {
        "Holds a doctorate": 3, "Holds invention patents (patent clause)": 2,
        "Tax contribution of the enterprise (tax clause)": 1}
    assert table(html, "table-per-day") == {"2026-03-01": 1, "2026-03-02": 3, "2026-03-03": 2}
    assert stage(html, "initial") == ("6", "10.5", "0.4")
    assert stage(html, "second") == ("2", "21.0", "0.9")
    assert "Award" not in html  # round B's condition


def test_charts_are_inline_accessible_svg(client, supervisor, data):
    html = client.get("/admin/dashboard/").get_data(as_text=True)
    svgs = re.findall(r'<svg[^>]*>.*?</svg>', html, re.S)
    ids = [re.search(r'id="([^"]+)"', svg).group(1) for svg in svgs]
    assert ids == ["chart-status", "chart-district", "chart-field", "chart-condition",
                   "chart-per-day"]
    for svg in svgs:
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    bars = {chart_id: re.findall(r'<rect class="bar"[^>]*data-value="(\d+)"', svg)
            for chart_id, svg in zip(ids, svgs, strict=True)}
    assert bars["chart-status"] == ["1", "2", "1", "1", "1"]  # rejected split by stage
    assert bars["chart-district"] == ["4", "2"]
    assert bars["chart-field"] == ["4", "2"]
    assert bars["chart-condition"] == ["3", "2", "1"]
    assert bars["chart-per-day"] == ["1", "3", "2"]
    assert "03-02" in svgs[-1]
    # the longest bar spans the scale, the others in proportion
    widths = re.findall(r'<rect class="bar"[^>]*width="([\d.]+)"', svgs[1])
    assert [float(w) for w in widths] == [280.0, 140.0]
    # no script anywhere in the page's own markup, no event handlers in the charts
    assert not re.search(r"\son[a-z]+=", "".join(svgs))
    assert "<script" not in "".join(svgs)


def test_round_switch(client, supervisor, data):
    html = client.get(f"/admin/dashboard/?round={data['b']}").get_data(as_text=True)
    assert '<span id="round-name">Round B 2025</span>' in html
    assert f'<option value="{data["b"]}" selected>' in html
    assert cell(html, "data-status", "completed") == "1"
    assert cell(html, "data-status", "pending_second") == "0"
    assert table(html, "table-condition") == {"Won a provincial or national award": 1}
    assert table(html, "table-district") == {"Chaoyang": 1}
    assert table(html, "table-per-day") == {"2025-06-10": 1}
    assert stage(html, "initial") == ("1", "24.0", "1.0")
    assert stage(html, "second") == ("1", "48.0", "2.0")
    # the form that switches is a plain GET form
    assert re.search(r'<form method="get"[^>]*id="round-switch"', html)
    assert client.get("/admin/dashboard/?round=999999").status_code == 404
    assert client.get("/admin/dashboard/?round=abc").status_code == 200  # the default


def test_default_is_the_open_round_else_the_newest(app, client, supervisor, data):
    from talentadmin.core.timeutil import utcnow
    from talentadmin.declarations.models import Round

    with app.app_context():
        now = utcnow()
        db.session.add(Round(name="Round C later", opens_at=now + timedelta(days=60),
                             closes_at=now + timedelta(days=90)))
        db.session.commit()
    html = client.get("/admin/dashboard/").get_data(as_text=True)
    assert '<span id="round-name">Round A 2026</span>' in html
    with app.app_context():
        db.session.execute(update(Round).where(Round.id == data["a"])
                           .values(closes_at=now - timedelta(hours=1)))
        db.session.commit()
    html = client.get("/admin/dashboard/").get_data(as_text=True)
    assert '<span id="round-name">Round C later</span>' in html
    assert "No submitted declarations." in html


def test_no_rounds(client, supervisor):
    response = client.get("/admin/dashboard/")
    assert response.status_code == 200
    assert "There are no rounds yet." in response.get_data(as_text=True)


def test_a_constant_number_of_queries(app, client, supervisor, data, sql_log):
    with sql_log() as statements:
        client.get("/admin/")
        baseline = len(statements)
        statements.clear()
        assert client.get("/admin/dashboard/").status_code == 200
        first = len(statements)
        with app.app_context():
            from talentadmin.accounts.models import EnterpriseUser

            users = [*db.session.execute(select(EnterpriseUser)).scalars(),
                     _enterprise(4, "daxing", "it")]
            for n in range(12):
                _declaration(data["a"], users[n % 4], "other", "pending_second",
                             [("submit", utc(5, n)), ("pass_initial", utc(6, n))])
            db.session.commit()
        statements.clear()
        assert client.get("/admin/dashboard/").status_code == 200
        assert len(statements) == first
    # rounds, statuses, dimensions, days, stage times, labels (the rest is the login)
    assert first - baseline <= 6, (first, baseline)


# --- who may see it ------------------------------------------------------------------------


@pytest.mark.parametrize("role,expected", [("supervisor", 200), ("admin", 200),
                                           ("initial_reviewer", 403),
                                           ("second_reviewer", 403)])
def test_staff_roles(client, staff_login, role, expected):
    staff_login("viewer", role)
    assert client.get("/admin/dashboard/").status_code == expected


def test_anonymous_goes_to_the_login(client):
    response = client.get("/admin/dashboard/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_enterprise_goes_to_the_login(client, portal, make_enterprise):
    make_enterprise("13900139000")
    assert portal.login_password("13900139000", PASSWORD).status_code == 302
    response = client.get("/admin/dashboard/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


# --- the chart builders --------------------------------------------------------------------


def test_chart_text_is_escaped():
    svg = str(bar_chart("c", "<b>title</b>", [("<script>alert(1)</script>", 3), ("a&b", 0)]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg
    assert "&lt;b&gt;title&lt;/b&gt;" in svg
    svg = str(column_chart("d", "t", [('"x"', 1)]))
    assert "&#34;x&#34;" in svg and 'role="img"' in svg
    assert bar_chart("e", "t", []) == "" and column_chart("f", "t", []) == ""
