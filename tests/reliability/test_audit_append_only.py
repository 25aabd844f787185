"""The audit log is append-only, and complete.

1. No admin endpoint edits or deletes an audit event or a timeline row: every URL rule of
   every admin view whose model is ``AuditEvent`` or ``StatusChange`` (found in the app's
   URL map, so a view added later is covered) is sent a POST that tries to change or
   delete rows, by a staff member holding every role; all are refused and the rows are
   unchanged, column by column.
2. Every transition, login, export and permission change leaves exactly one event saying
   who, when, from which IP and with what outcome.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from talentadmin.accounts.models import ROLES, StaffUser
from talentadmin.core.models import AuditEvent, StatusChange
from talentadmin.core.timeutil import utcnow
from talentadmin.extensions import db

from ..conftest import PASSWORD, Portal, csrf_in, staff_client
from ..declarations.test_review import bulk, three  # noqa: F401 - the fixture

APPEND_ONLY = (AuditEvent, StatusChange)
COLUMNS = {model: [c.key for c in model.__table__.columns] for model in APPEND_ONLY}


def snapshot(app) -> dict:
    with app.app_context():
        return {model.__tablename__: [
            tuple(getattr(row, key) for key in COLUMNS[model])
            for row in db.session.execute(select(model).order_by(model.id)).scalars()]
            for model in APPEND_ONLY}


def append_only_rules(app) -> list:
    """The admin URL rules served by views of the audit log or the timeline."""
    found = []
    for rule in app.url_map.iter_rules():
        view = getattr(app.view_functions.get(rule.endpoint), "__self__", None)
        if rule.rule.startswith("/admin/") and getattr(view, "model", None) in APPEND_ONLY:
            found.append(rule)
    return found


def test_no_admin_endpoint_changes_or_deletes_audit_or_timeline_rows(
        app, three, make_staff):  # noqa: F811 - the fixture imported above
    everyone = staff_client(app, make_staff, "root", *sorted(ROLES))
    reviewer = staff_client(app, make_staff, "r1", "initial_reviewer")
    assert bulk(reviewer, "declaration_initial", "pass_initial", three).status_code == 302
    before = snapshot(app)
    assert len(before["status_change"]) == 2 + 6  # the permit's submission and approval, 3 × (submit, pass)
    assert len(before["audit_event"]) > 7
    event_id = before["audit_event"][0][0]
    rules = append_only_rules(app)
    assert {r.endpoint.split(".")[1] for r in rules} >= {
        "index_view", "details_view", "edit_view", "delete_view", "create_view", "action_view"}

    page = everyone.get("/admin/audit_event/").get_data(as_text=True)
    token = csrf_in(page)
    tampered = {"action": "nothing.happened", "outcome": "failure", "actor_label": "nobody",
                "ip": "10.0.0.1", "detail": "{}", "at": "2020-01-01 00:00:00",
                "target_type": "declaration", "target_id": "1", "to_status": "completed"}
    answers = {}
    for rule in rules:
        url = rule.rule
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = everyone.open(
                f"{url}?id={event_id}&url=/admin/audit_event/", method=method,
                data={"csrf_token": token, "id": str(event_id), "rowid": [str(event_id)],
                      "action": "delete", "list_form_pk": str(event_id), "name": "action",
                      "pk": str(event_id), "value": "tampered", **tampered})
            answers[(method, url)] = response.status_code
            assert response.status_code < 500, (method, url)
            if method == "POST":
                assert response.status_code in (302, 400, 403, 404, 405), (url, response.status_code)
    assert snapshot(app)["status_change"] == before["status_change"]
    after = snapshot(app)["audit_event"]
    assert after[:len(before["audit_event"])] == before["audit_event"]  # appended to only
    assert all(row[COLUMNS[AuditEvent].index("action")] != "nothing.happened" for row in after)
    # the forms are not even offered
    for path in ("/admin/audit_event/edit/", "/admin/audit_event/new/"):
        response = everyone.get(f"{path}?id={event_id}")
        assert response.status_code in (302, 403, 404)
        assert 'name="action"' not in response.get_data(as_text=True)
    listing = everyone.get("/admin/audit_event/").get_data(as_text=True)
    assert "/admin/audit_event/delete/" not in listing and "/admin/audit_event/edit/" not in listing
    assert 'name="rowid"' not in listing  # no bulk action to run on events


# --- exactly one event each -------------------------------------------------------------


def events(app, **where) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        rows = db.session.execute(query).scalars().all()
        db.session.expunge_all()
        return rows


def complete(event: AuditEvent, *, outcome: str = "success") -> None:
    """Who, when, from where and how it ended are all recorded."""
    assert event.actor_type in ("enterprise", "staff", "anonymous")
    assert event.actor_label or event.actor_id
    assert abs(utcnow() - event.at) < timedelta(minutes=5)
    assert event.ip == "127.0.0.1"
    assert event.outcome == outcome


def test_each_login_leaves_exactly_one_event(app, client, outbox, make_enterprise, make_staff):
    user_id = make_enterprise("13800138000")
    portal = Portal(client, app, outbox)
    assert portal.login_password("13800138000", "wrong password").status_code != 302
    (failed,) = events(app, action="enterprise.login")
    complete(failed, outcome="failure")
    assert failed.actor_label == "138****8000"
    assert portal.login_password("13800138000", PASSWORD).status_code == 302
    failed_again, ok = events(app, action="enterprise.login")
    assert failed_again.id == failed.id
    complete(ok)
    assert ok.actor_id == user_id and ok.actor_type == "enterprise"

    home = client.get("/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_in(home)}).status_code == 302
    (logout,) = events(app, action="enterprise.logout")
    complete(logout)
    portal.login_sms("13800138000")  # by SMS code: one more login event, no other
    *_, by_sms = events(app, action="enterprise.login")
    assert len(events(app, action="enterprise.login")) == 3
    complete(by_sms)
    assert by_sms.detail == {"method": "sms"} and by_sms.actor_id == user_id

    staff_id = make_staff("r1", "initial_reviewer")
    browser = app.test_client()
    html = browser.get("/admin/login").get_data(as_text=True)
    browser.post("/admin/login", data={"csrf_token": csrf_in(html), "username": "r1",
                                       "password": "wrong password"})
    browser.post("/admin/login", data={"csrf_token": csrf_in(html), "username": "nobody",
                                       "password": PASSWORD})
    browser.post("/admin/login", data={"csrf_token": csrf_in(html), "username": "r1",
                                       "password": PASSWORD})
    bad, unknown, good = events(app, action="staff.login")
    complete(bad, outcome="failure")
    complete(unknown, outcome="failure")
    assert unknown.actor_label == "nobody" and unknown.actor_id is None
    complete(good)
    assert good.actor_id == staff_id and good.role == "initial_reviewer"

    home = browser.get("/admin/").get_data(as_text=True)
    assert browser.post("/admin/logout", data={"csrf_token": csrf_in(home)}).status_code == 302
    (staff_logout,) = events(app, action="staff.logout")
    complete(staff_logout)


def test_every_transition_leaves_one_event_beside_its_timeline_row(
        app, three, make_staff):  # noqa: F811 - the fixture imported above
    first = staff_client(app, make_staff, "r1", "initial_reviewer")
    second = staff_client(app, make_staff, "r2", "second_reviewer")
    assert bulk(first, "declaration_initial", "pass_initial", three).status_code == 302
    bulk(second, "declaration_second", "pass_second", three[:1])
    bulk(second, "declaration_second", "reject_second", three[1:2], reason="学历存疑")
    with app.app_context():
        timeline = db.session.execute(select(StatusChange).where(
            StatusChange.target_type == "declaration")).scalars().all()
        db.session.expunge_all()
    assert len(timeline) == 3 + 3 + 2  # submitted, passed, then completed or rejected
    for row in timeline:
        matching = [e for e in events(app, target_type="declaration", target_id=row.target_id)
                    if e.action.endswith("." + row.action) and e.at == row.at]
        assert len(matching) == 1, (row.action, row.target_id)
        (event,) = matching
        complete(event)
        assert event.detail["from"] == row.from_status and event.detail["to"] == row.to_status
        assert event.actor_label == row.actor_label
    (rejected,) = [r for r in timeline if r.action == "reject_second"]
    assert [e.detail.get("reason") for e in events(app, action="declaration.reject_second")] \
        == ["学历存疑"] == [rejected.reason]


def test_an_export_leaves_exactly_one_event(app, three, make_staff):  # noqa: F811
    supervisor = staff_client(app, make_staff, "boss", "supervisor")
    response = supervisor.get("/admin/declaration_all/municipal/csv/?search=申报人")
    assert response.status_code == 200
    response.get_data()  # the whole file streamed
    (event,) = events(app, action="declaration.export")
    complete(event)
    assert event.actor_label == "boss" and event.detail["format"] == "csv"


def test_a_permission_change_leaves_exactly_one_event(app, client, staff_login, make_staff):
    staff_login("admin1", "admin")
    staff_id = make_staff("zhang", "initial_reviewer")
    before = len(events(app))
    html = client.get(f"/admin/staff_user/edit/?id={staff_id}").get_data(as_text=True)
    response = client.post(f"/admin/staff_user/edit/?id={staff_id}", data={
        "csrf_token": csrf_in(html), "username": "zhang", "full_name": "",
        "roles": ["supervisor", "second_reviewer"], "active": "y", "password": ""})
    assert response.status_code == 302
    new = events(app)[before:]
    assert [e.action for e in new] == ["staff.update"]
    (event,) = new
    complete(event)
    assert event.actor_label == "admin1" and event.target_id == staff_id
    assert event.detail == {"roles": [["initial_reviewer"], ["second_reviewer", "supervisor"]]}
    with app.app_context():
        assert sorted(db.session.get(StaffUser, staff_id).role_names) == [
            "second_reviewer", "supervisor"]


@pytest.mark.parametrize("path", ["/admin/audit_event/", "/admin/audit_event/details/"])
def test_reading_the_log_is_for_admins_and_supervisors_only(app, make_staff, path):
    reviewer = staff_client(app, make_staff, "r1", "initial_reviewer")
    assert reviewer.get(path).status_code == 403
