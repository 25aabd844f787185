"""The municipal bureau's 拟引进人才名单 outcome: recorded after the report, per declaration
and in bulk, by the supervisor (the role that reports), dated, audited, on the timeline,
notified (with the guide's next step) and shown on the dashboard and the enterprise's pages.
Withdrawal notifies the enterprise too.

Pages with the new sentences are read in English (their Chinese is added to the catalog
later); SMS are checked for what does not depend on the language (names, dates)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from talentadmin.accounts.models import StaffUser
from talentadmin.core.models import AuditEvent, Notice, StatusChange
from talentadmin.core.timeutil import local_today, utcnow
from talentadmin.declarations import operations, workflow
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import PASSWORD, csrf_in
from .test_review import _complete_all, bulk, three  # noqa: F401  (the fixture)


@pytest.fixture
def reported(client, app, staff_login, three):  # noqa: F811
    """Three completed declarations, the first two reported; the client is a supervisor
    (with every review role), reading English."""
    _complete_all(client, three, staff_login)
    bulk(client, "declaration_all", "report", three[:2])
    english(client)
    return three


def english(client) -> None:
    client.post("/language/en", data={"csrf_token": csrf_in(client.get("/").get_data(
        as_text=True))})


def rows(app) -> list[Declaration]:
    with app.app_context():
        found = list(db.session.execute(select(Declaration).order_by(Declaration.id)).scalars())
        for row in found:
            db.session.expunge(row)
        return found


def local_day(app, days: int = 0) -> date:
    with app.test_request_context():
        return local_today() + timedelta(days=days)


def today(app) -> str:
    return local_day(app).isoformat()


def test_the_outcome_is_a_table_of_transitions_that_keep_completed():
    table = workflow.BUREAU
    assert table.decisions() == ["list", "not_list"]
    for action, outcome in (("list", "listed"), ("not_list", "not_listed")):
        step = table.transition(action)
        assert table.sources(action) == ["completed"] and step.target == "completed"
        assert step.roles == {"supervisor"} and step.values == {"bureau_outcome": outcome}
        assert step.notice in workflow.NOTICES
    assert not table.allowed("list", {"admin", "initial_reviewer", "second_reviewer"})


def test_bulk_list_records_reported_rows_only_and_tells_each_enterprise(
        client, app, reported, outbox):
    with app.app_context():
        before = len(outbox.messages())
    day = today(app)
    response = bulk(client, "declaration_all", "list", reported, decided_on=day)
    assert response.status_code == 302
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    assert "1 skipped" in page  # the third was never reported
    found = rows(app)
    assert [(r.bureau_outcome, r.bureau_decided_on) for r in found] == [
        ("listed", local_day(app)), ("listed", local_day(app)), (None, None)]
    assert {r.status for r in found} == {"completed"}
    with app.app_context():
        changes = db.session.execute(select(StatusChange).where(
            StatusChange.action == "list")).scalars().all()
        assert sorted(c.target_id for c in changes) == reported[:2]
        assert {(c.from_status, c.to_status) for c in changes} == {("completed", "completed")}
        events = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "declaration.list")).scalars().all()
        assert len(events) == 2 and events[0].detail == {"outcome": "listed",
                                                          "decided_on": day}
        assert events[0].role and "supervisor" in events[0].role
        notices = db.session.execute(select(Notice).where(
            Notice.kind == "declaration.listed")).scalars().all()
        assert sorted(n.link for n in notices) == [f"/talent/declarations/{i}"
                                                  for i in reported[:2]]
    sms = outbox.messages()[before:]
    assert len(sms) == 1  # one SMS for the unit, naming both
    assert "申报人0" in sms[0]["text"] and "申报人1" in sms[0]["text"] and day in sms[0]["text"]


def test_one_by_one_and_a_correction(client, app, reported, outbox):
    bulk(client, "declaration_all", "not_list", reported[:1], decided_on=today(app))
    bulk(client, "declaration_all", "not_list", reported[:1], decided_on=today(app))  # again
    assert [r.bureau_outcome for r in rows(app)] == ["not_listed", None, None]
    yesterday = local_day(app, -1).isoformat()
    with app.app_context():  # reported two days ago, so both dates are after the report
        db.session.execute(update(Declaration).where(Declaration.reported_at.is_not(None))
                           .values(reported_at=utcnow() - timedelta(days=2)))
        db.session.commit()
    bulk(client, "declaration_all", "list", reported[:1], decided_on=yesterday)  # corrected
    first = rows(app)[0]
    assert (first.bureau_outcome, first.bureau_decided_on.isoformat()) == ("listed", yesterday)
    with app.app_context():
        actions = list(db.session.execute(select(StatusChange.action).where(
            StatusChange.target_id == reported[0],
            StatusChange.action.in_(("list", "not_list"))).order_by(StatusChange.id)).scalars())
        kinds = list(db.session.execute(select(Notice.kind).where(
            Notice.kind.in_(("declaration.listed", "declaration.not_listed")))
            .order_by(Notice.id)).scalars())
    assert actions == ["not_list", "list"]
    assert kinds == ["declaration.not_listed", "declaration.listed"]


@pytest.mark.parametrize("value, message", [
    ("", "Give the date of the municipal bureau's decision."),
    ("30/11/2026", "Type the date of the municipal bureau's decision as YYYY-MM-DD."),
    ("2026-02-30", "Type the date of the municipal bureau's decision as YYYY-MM-DD."),
    ("\x00", "Type the date of the municipal bureau's decision as YYYY-MM-DD."),
    ((date.today() + timedelta(days=3)).isoformat(),
     "The date of the municipal bureau's decision cannot be in the future."),
])
def test_a_bad_date_changes_nothing_and_says_why(client, app, reported, value, message):
    bulk(client, "declaration_all", "list", reported[:2], decided_on=value)
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    assert message.replace("'", "&#39;") in page
    assert [r.bureau_outcome for r in rows(app)] == [None, None, None]


def test_a_date_before_the_report_is_skipped(client, app, reported):
    before = local_day(app, -1).isoformat()  # reported today
    bulk(client, "declaration_all", "list", reported[:2], decided_on=before)
    assert [r.bureau_outcome for r in rows(app)] == [None, None, None]
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    assert "2 skipped" in page


@pytest.mark.parametrize("role", ["admin", "initial_reviewer", "second_reviewer"])
def test_only_the_reporting_role_records_the_outcome(client, app, reported, staff_login, role):
    client.post("/admin/logout", data={"csrf_token": csrf_in(client.get("/admin/").get_data(
        as_text=True))})
    staff_login(f"other-{role}", role)
    token = csrf_in(client.get("/admin/").get_data(as_text=True))
    response = client.post("/admin/declaration_all/action/", data={
        "csrf_token": token, "action": "list", "rowid": [str(i) for i in reported],
        "decided_on": today(app), "url": "/admin/declaration_all/"})
    assert response.status_code in (302, 403)
    with app.test_request_context():
        staff = db.session.execute(select(StaffUser).filter_by(
            username=f"other-{role}")).scalar_one()
        outcome = operations.record_outcome(reported, "list", staff, local_today())
        assert outcome.done == [] and outcome.skipped == {"role": 3}
    assert [r.bureau_outcome for r in rows(app)] == [None, None, None]


def test_two_supervisors_at_once_record_each_row_once(app, reported, make_staff, outbox):
    make_staff("sup-b", "supervisor")
    with app.test_request_context():
        a, b = (db.session.execute(select(StaffUser).filter_by(username=name)).scalar_one()
                for name in ("r1", "sup-b"))
        first = operations.record_outcome(reported[:2], "list", a, local_today())
        second = operations.record_outcome(reported[:2], "list", b, local_today())
        db.session.commit()
        assert len(first.done) == 2 and second.done == [] and second.skipped == {"state": 2}
        assert db.session.execute(select(db.func.count()).select_from(Notice).where(
            Notice.kind == "declaration.listed")).scalar() == 2


def test_the_enterprise_sees_the_outcome_and_the_next_step(client, app, reported, portal):
    bulk(client, "declaration_all", "list", reported[:1], decided_on=today(app))
    bulk(client, "declaration_all", "not_list", reported[1:2], decided_on=today(app))
    client.post("/admin/logout", data={"csrf_token": csrf_in(client.get("/admin/").get_data(
        as_text=True))})
    portal.login_password("13800138000", PASSWORD)
    english(client)
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert hub.count("bureau-outcome") == 2
    assert "On the list of talents proposed for introduction" in hub
    assert "Not on the list of talents proposed for introduction" in hub
    listed = client.get(f"/talent/declarations/{reported[0]}").get_data(as_text=True)
    assert 'id="bureau-outcome"' in listed and "Talent Business Platform" in listed
    not_listed = client.get(f"/talent/declarations/{reported[1]}").get_data(as_text=True)
    assert "Not on the list" in not_listed and "Talent Business Platform" not in not_listed
    awaiting = client.get(f"/talent/declarations/{reported[2]}").get_data(as_text=True)
    assert 'id="bureau-outcome"' not in awaiting


def test_the_dashboard_counts_the_outcomes(client, app, reported):
    bulk(client, "declaration_all", "list", reported[:1], decided_on=today(app))
    page = client.get("/admin/dashboard/").get_data(as_text=True)
    for key, count in (("reported", 2), ("listed", 1), ("not_listed", 0), ("awaiting", 1)):
        assert f'id="bureau-{key}" data-count="{count}"' in page, key
    with app.app_context():  # a declaration withdrawn after the report is not counted
        db.session.execute(update(Declaration).where(Declaration.id == reported[0])
                           .values(status="withdrawn"))
        db.session.commit()
    page = client.get("/admin/dashboard/").get_data(as_text=True)
    assert 'id="bureau-reported" data-count="1"' in page
    assert 'id="bureau-listed" data-count="0"' in page


def test_the_grid_offers_the_date_to_the_supervisor_only(client, app, reported, staff_login):
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    assert 'name="decided_on" form="action_form"' in page
    assert f'value="{today(app)}"' in page
    client.post("/admin/logout", data={"csrf_token": csrf_in(page)})
    staff_login("boss", "admin")
    assert 'name="decided_on"' not in client.get("/admin/declaration_all/").get_data(
        as_text=True)


def test_withdrawal_notifies_the_enterprise(client, app, staff_login, three, outbox):  # noqa: F811
    staff_login("boss", "admin")
    with app.app_context():
        before = len(outbox.messages())
    bulk(client, "declaration_all", "withdraw", three[:1], reason="企业申请撤回")
    with app.app_context():
        notice = db.session.execute(select(Notice).where(
            Notice.kind == "declaration.withdrawn")).scalar_one()
        assert notice.params == {"name": "申报人0", "reason": "企业申请撤回"}
    sms = outbox.messages()[before:]
    assert len(sms) == 1 and "申报人0" in sms[0]["text"] and "企业申请撤回" in sms[0]["text"]


def test_the_back_office_record_shows_the_outcome_and_its_date(client, app, reported):
    bulk(client, "declaration_all", "list", reported[:1], decided_on=today(app))
    page = client.get(f"/admin/declaration_all/details/?id={reported[0]}").get_data(
        as_text=True)
    assert 'id="bureau-outcome">On the list of talents proposed for introduction' in page
    with app.test_request_context():
        from flask_babel import force_locale, format_date

        with force_locale("en"):
            shown = format_date(local_today())
    assert shown in page
    other = client.get(f"/admin/declaration_all/details/?id={reported[1]}").get_data(
        as_text=True)
    assert 'id="bureau-outcome"' not in other


@pytest.mark.real_commits
def test_two_connections_recording_the_same_rows_move_each_once(app, reported):
    """Two supervisors, two database connections, the same rows at the same moment: the
    first UPDATE holds them until it commits; the second then finds them recorded."""
    import threading
    from types import SimpleNamespace

    supervisors = [SimpleNamespace(id=None, username=name, role_names=("supervisor",))
                   for name in ("a", "b")]
    day = local_day(app)
    outcomes = {}
    first_updated = threading.Event()

    def second():
        with app.test_request_context():
            first_updated.wait()
            outcomes["b"] = operations.record_outcome(reported, "list", supervisors[1], day)
            db.session.commit()

    thread = threading.Thread(target=second)
    thread.start()
    with app.test_request_context():
        outcomes["a"] = operations.record_outcome(reported, "list", supervisors[0], day)
        first_updated.set()
        db.session.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert sorted(outcomes["a"].done) == reported[:2]
    assert outcomes["b"].done == [] and outcomes["b"].skipped == {"state": 3}
    with app.app_context():
        assert db.session.execute(select(db.func.count(AuditEvent.id)).where(
            AuditEvent.action == "declaration.list")).scalar() == 2


def test_the_municipal_export_carries_the_outcome_and_its_date(client, app, reported):
    import csv
    import io

    bulk(client, "declaration_all", "list", reported[:1], decided_on=today(app))
    bulk(client, "declaration_all", "not_list", reported[1:2], decided_on=today(app))
    response = client.get("/admin/declaration_all/municipal/csv/")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header = table[0]
    assert header[-2:] == ["拟引进人才名单", "市级部门结果日期"]
    outcomes = {(row[header.index("拟引进人才名单")], row[-1]) for row in table[1:]}
    assert outcomes == {("在名单中", today(app)), ("不在名单中", today(app)), ("", "")}
