"""The declaration state machine and the two review stages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from talentadmin.accounts.models import StaffUser
from talentadmin.core.errors import FieldError
from talentadmin.core.models import Notice, StatusChange
from talentadmin.core.workflow import ENTERPRISE, TransitionError
from talentadmin.declarations import operations, workflow
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import PASSWORD
from .test_portal import declaration_data


def test_the_table_matches_the_guide():
    w = workflow.WORKFLOW
    assert w.next_state("draft", "submit", {ENTERPRISE}) == "pending_initial"
    assert w.next_state("pending_initial", "pass_initial", {"initial_reviewer"}) == \
        "pending_second"
    assert w.next_state("pending_initial", "reject_initial", {"initial_reviewer"}) == "rejected"
    assert w.next_state("pending_second", "pass_second", {"second_reviewer"}) == "completed"
    assert w.next_state("pending_second", "reject_second", {"second_reviewer"}) == "rejected"
    assert w.next_state("rejected", "resubmit", {ENTERPRISE}) == "pending_initial"
    with pytest.raises(TransitionError):  # an initial reviewer cannot pass the second stage
        w.next_state("pending_second", "pass_second", {"initial_reviewer"})
    with pytest.raises(TransitionError):
        w.next_state("completed", "reject_second", {"admin"})
    assert w.actions("pending_initial", {"second_reviewer"}) == []
    assert w.sources("pass_second") == ["pending_second"]


def _staff(username: str, role: str) -> StaffUser:
    staff = db.session.execute(select(StaffUser).filter_by(username=username)).scalar_one_or_none()
    if staff is None:
        staff = StaffUser(username=username, full_name="")
        staff.role_names = [role]
        staff.set_password(PASSWORD)
        db.session.add(staff)
        db.session.flush()
    return staff


def decide(app, declaration_id, username, role, action, reason=None):
    with app.test_request_context():
        declaration = db.session.get(Declaration, declaration_id)
        done = operations.decide(declaration, _staff(username, role), action, reason)
        db.session.commit()
        return done


@pytest.fixture
def submitted(permitted, open_round, portal, app):
    permitted("13800138000")
    response = portal.post_multipart("/talent/declarations/new", declaration_data())
    assert response.status_code == 302
    with app.app_context():
        return db.session.execute(select(Declaration.id)).scalar_one()


def _status(app, declaration_id):
    with app.app_context():
        return db.session.get(Declaration, declaration_id).status


def test_two_stages_to_completed_with_notices(app, submitted, client, outbox):
    assert not decide(app, submitted, "r2", "second_reviewer", "pass_second")  # wrong stage
    assert not decide(app, submitted, "r2", "second_reviewer", "pass_initial")  # wrong role
    assert decide(app, submitted, "r1", "initial_reviewer", "pass_initial")
    assert _status(app, submitted) == "pending_second"
    assert "待复审" in client.get("/talent/declare").get_data(as_text=True)
    assert decide(app, submitted, "r2", "second_reviewer", "pass_second")
    assert _status(app, submitted) == "completed"
    page = client.get(f"/talent/declarations/{submitted}").get_data(as_text=True)
    assert "已完成" in page and "仅表示区级审核通过" in page
    with app.app_context():
        kinds = [n.kind for n in db.session.execute(select(Notice).order_by(Notice.id)).scalars()]
        steps = [c.to_status for c in db.session.execute(
            select(StatusChange).where(StatusChange.target_type == "declaration")
            .order_by(StatusChange.id)).scalars()]
    assert kinds[-2:] == ["declaration.passed_initial", "declaration.completed"]
    assert steps == ["pending_initial", "pending_second", "completed"]
    assert "张三 的申报已通过复审" in outbox.messages()[-1]["text"]


def test_second_stage_rejection_returns_to_the_initial_stage(app, submitted, client, portal):
    decide(app, submitted, "r1", "initial_reviewer", "pass_initial")
    with pytest.raises(FieldError):
        decide(app, submitted, "r2", "second_reviewer", "reject_second", "  ")
    assert decide(app, submitted, "r2", "second_reviewer", "reject_second", "学历证明不清晰")
    page = client.get(f"/talent/declarations/{submitted}").get_data(as_text=True)
    assert "未通过" in page and "学历证明不清晰" in page and "复审" in page and "重新申请" in page
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert "重新申请" in hub
    with app.app_context():
        d = db.session.get(Declaration, submitted)
        version, stage = d.version, d.rejected_stage
    assert stage == "second"
    response = portal.post_multipart(f"/talent/declarations/{submitted}/edit", declaration_data(
        version=str(version), social_insurance=None, integrity=None, evidence=None,
        **_kept(client, submitted)))
    assert response.status_code == 302
    assert _status(app, submitted) == "pending_initial"
    timeline = client.get(f"/talent/declarations/{submitted}").get_data(as_text=True)
    assert timeline.count("待审核") >= 2 and "学历证明不清晰" in timeline


def _kept(client, declaration_id) -> dict:
    import re

    page = client.get(f"/talent/declarations/{declaration_id}/edit").get_data(as_text=True)
    return dict(re.findall(r'name="(\w+_keep)"[^>]*value="([^"]*)"', page))


def test_submitted_declarations_cannot_be_edited(app, submitted, client):
    response = client.get(f"/talent/declarations/{submitted}/edit")
    assert response.status_code == 302
