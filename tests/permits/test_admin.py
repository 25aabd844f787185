"""The permit review grid reads its decisions from ``permits/workflow.py``: bulk actions, who
may run them, the details page's buttons and badge, and the ``decide`` endpoint."""

from __future__ import annotations

import re

import pytest
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from sqlalchemy import select

from talentadmin.accounts.models import StaffUser
from talentadmin.core.workflow import State, Transition, Workflow, roles
from talentadmin.extensions import db
from talentadmin.permits import workflow
from talentadmin.permits.admin import PermitReviewView
from talentadmin.permits.models import PermitRevision

from ..conftest import PASSWORD, csrf_in, permit_form_data


@pytest.fixture
def pending(certified, portal, client, app):
    """A revision waiting for review; the client logged out again."""
    certified("13800138000")
    portal.login_password("13800138000", PASSWORD)
    assert portal.post_multipart("/talent/permit/apply", permit_form_data()).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    with app.app_context():
        return db.session.execute(select(PermitRevision.id)).scalar_one()


def status(app, revision_id: int) -> str:
    with app.app_context():
        return db.session.get(PermitRevision, revision_id).status


def test_grid_actions_and_badges_come_from_the_table(client, staff_login, pending):
    staff_login("reviewer", "initial_reviewer")
    page = client.get("/admin/permit_review/").get_data(as_text=True)
    assert re.findall(r'data-model-action="(\w+)"', page) == ["approve", "reject"]
    assert 'badge badge-warning">待审核<' in page
    details = client.get(f"/admin/permit_review/details/?id={pending}").get_data(as_text=True)
    assert re.findall(r'name="action" value="(\w+)"', details) == ["approve", "reject"]
    assert re.search(r'class="btn btn-success[^"]*">通过<', details)  # style and label
    assert 'id="reason-reject"' in details


@pytest.mark.parametrize("role", ["second_reviewer", "supervisor"])
def test_roles_the_table_leaves_out_see_no_decision(client, staff_login, pending, role):
    staff_login("viewer", role)
    page = client.get("/admin/permit_review/").get_data(as_text=True)
    assert "data-model-action" not in page and 'id="bulk-reason"' not in page
    details = client.get(f"/admin/permit_review/details/?id={pending}").get_data(as_text=True)
    assert 'name="action"' not in details


def test_one_decision_from_the_details_page(client, app, staff_login, pending, outbox):
    staff_login("reviewer", "initial_reviewer")
    page = client.get(f"/admin/permit_review/details/?id={pending}").get_data(as_text=True)
    token = csrf_in(page)
    for action in ("auto_approve", "approve_all", "", None):  # no staff decision of the table
        data = {"csrf_token": token, "id": pending,
                **({"action": action} if action is not None else {})}
        assert client.post("/admin/permit_review/decide/", data=data).status_code == 400
    response = client.post("/admin/permit_review/decide/", data={
        "csrf_token": token, "id": pending, "action": "reject", "reason": " "})
    assert "请填写不通过的原因" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert status(app, pending) == "pending"
    response = client.post("/admin/permit_review/decide/", data={
        "csrf_token": token, "id": pending, "action": "approve", "reason": "ignored"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "审核意见已保存" in page
    assert 'badge badge-success">已通过<' in page and 'name="action"' not in page
    with app.app_context():
        revision = db.session.get(PermitRevision, pending)
        assert revision.reason is None and revision.decided_at is not None  # stamped
        assert revision.permit.in_force_id == revision.id
    assert "业务权限已审核通过" in outbox.messages()[-1]["text"]
    response = client.post("/admin/permit_review/decide/", data={
        "csrf_token": token, "id": pending, "action": "reject", "reason": "晚了"})
    assert "不在待审核状态" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert status(app, pending) == "approved"


def test_a_transition_added_to_the_table_is_an_action_a_check_and_a_button(app, pending,
                                                                         make_staff):
    """Adding a decision is one edit of the table: the view gains its bulk action, the
    roles that may run it and its button on the records it leaves from."""
    table = Workflow("permit", {
        workflow.PENDING: {**workflow.WORKFLOW.transitions[workflow.PENDING],
                           "hold": Transition("on_hold", roles("admin"), label=_l("Approve"),
                                              style="secondary")},
        "on_hold": {"approve": workflow.WORKFLOW.transitions[workflow.PENDING]["approve"]},
    }, {**workflow.STATES, "on_hold": State(_l("Pending review"), "info")})

    class HoldView(PermitReviewView):
        workflow = table
        action_roles = {"remind": ("supervisor",)}  # an action of the view's own: kept

    assert HoldView.action_roles == {"remind": ("supervisor",),
                                     "approve": ("admin", "initial_reviewer"),
                                     "reject": ("admin", "initial_reviewer"),
                                     "hold": ("admin",)}
    admin_id, reviewer_id = make_staff("boss", "admin"), make_staff("rev", "initial_reviewer")
    with app.test_request_context():
        view = HoldView(PermitRevision, endpoint="permit_hold_test")
        revision = db.session.get(PermitRevision, pending)
        login_user(db.session.get(StaffUser, admin_id))
        actions, _confirm = view.get_actions_list()
        assert [name for name, _text in actions] == ["approve", "hold", "reject"]
        assert [name for name, _step in view.decisions_for(revision)] == [
            "approve", "reject", "hold"]
        login_user(db.session.get(StaffUser, reviewer_id))
        assert [name for name, _step in view.decisions_for(revision)] == ["approve", "reject"]
        assert not view.is_action_allowed("hold")
