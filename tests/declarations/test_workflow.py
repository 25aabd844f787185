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


# --- everything a transition means is read from the table -----------------------------------


def _declaration_notices() -> list[str]:
    return list(db.session.execute(select(Notice.kind).where(
        Notice.kind.startswith("declaration.")).order_by(Notice.id)).scalars())


def test_every_notice_the_tables_send_has_its_text_in_both_languages(app):
    from flask_babel import force_locale

    from talentadmin.core.notify import MESSAGES

    kinds = {step.notice for table in (workflow.WORKFLOW, workflow.REPORTING, workflow.BUREAU)
             for actions in table.transitions.values() for step in actions.values()
             if step.notice}
    assert kinds == {"declaration.passed_initial", "declaration.completed",
                     "declaration.rejected", "declaration.reported", "declaration.withdrawn",
                     "declaration.listed", "declaration.not_listed"}
    params = {"name": "张三", "reason": "R", "text": "T", "date": "2026-11-30"}
    with app.test_request_context():
        for kind in kinds:
            with force_locale("en"):
                english = str(MESSAGES[kind]) % params
            with force_locale("zh_Hans_CN"):
                chinese = str(MESSAGES[kind]) % params
            assert "张三" in english and "张三" in chinese, kind
            assert english != chinese, kind


def test_a_decision_stamps_sets_and_notifies_what_its_transition_says(app, submitted,
                                                                      monkeypatch):
    """Change the table, not the code: pass_initial made to stamp another date, set a
    column and send another notice."""
    from dataclasses import replace

    from talentadmin.core.workflow import Workflow

    table = workflow.WORKFLOW
    changed = {state: dict(actions) for state, actions in table.transitions.items()}
    initial = changed[workflow.PENDING_INITIAL]
    initial["pass_initial"] = replace(initial["pass_initial"], stamp="second_passed_at",
                                      values={"rejected_stage": "none"},
                                      notice="declaration.completed")
    monkeypatch.setattr(workflow, "WORKFLOW", Workflow(table.name, changed, table.states))

    assert decide(app, submitted, "r1", "initial_reviewer", "pass_initial")
    with app.app_context():
        d = db.session.get(Declaration, submitted)
        assert (d.status, d.initial_passed_at, d.rejected_stage) == (
            "pending_second", None, "none")
        assert d.second_passed_at is not None
        assert _declaration_notices() == ["declaration.completed"]


def test_a_rejection_needs_a_reason_because_its_transition_says_so(app, submitted,
                                                                   monkeypatch):
    from dataclasses import replace

    from talentadmin.core.workflow import Workflow

    with pytest.raises(FieldError):
        decide(app, submitted, "r1", "initial_reviewer", "reject_initial", "")
    table = workflow.WORKFLOW
    changed = {state: dict(actions) for state, actions in table.transitions.items()}
    initial = changed[workflow.PENDING_INITIAL]
    initial["reject_initial"] = replace(initial["reject_initial"], reason=False, notice=None)
    monkeypatch.setattr(workflow, "WORKFLOW", Workflow(table.name, changed, table.states))
    assert decide(app, submitted, "r1", "initial_reviewer", "reject_initial", "")
    with app.app_context():
        d = db.session.get(Declaration, submitted)
        assert (d.status, d.rejected_stage, d.reason) == ("rejected", "initial", None)
        assert _declaration_notices() == []


def test_submitting_stamps_the_date_the_table_names(app, submitted):
    assert workflow.WORKFLOW.transition("submit").stamp == "submitted_at"
    with app.app_context():
        assert db.session.get(Declaration, submitted).submitted_at is not None


def test_the_portal_shows_the_tables_labels_badges_and_actions(app, submitted, client):
    """The hub's filter lists every state of the table; each row and the detail page show
    the state's label and badge; the link is the enterprise's action from that state."""
    hub = client.get("/talent/declare").get_data(as_text=True)
    with app.test_request_context():
        labels = {state: str(label) for state, label in workflow.WORKFLOW.labels().items()}
    assert labels["withdrawn"] == "已撤回" and len(labels) == 6
    for state, label in labels.items():
        assert f'<option value="{state}" >{label}</option>' in hub, state
    assert '<span class="badge badge-warning">待审核</span>' in hub
    decide(app, submitted, "r1", "initial_reviewer", "reject_initial", "照片不清晰")
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert '<span class="badge badge-danger">未通过</span>' in hub and "重新申请" in hub
    page = client.get(f"/talent/declarations/{submitted}").get_data(as_text=True)
    assert 'class="alert alert-danger">未通过 (初审)' in page and "照片不清晰" in page
    filtered = client.get("/talent/declare?status=rejected").get_data(as_text=True)
    assert '<option value="rejected" selected>' in filtered and "照片不清晰" not in filtered
    assert "张三" in filtered
    assert "张三" not in client.get("/talent/declare?status=completed").get_data(as_text=True)


def test_a_withdrawn_declaration_shows_its_reason_without_a_stage_or_an_action(app, submitted,
                                                                              client):
    """Withdrawal needs a reason (its transition says so), so the portal shows it; a stage
    left from an earlier rejection is not shown beside it; nothing may be done from it."""
    with pytest.raises(FieldError) as refused:
        decide(app, submitted, "boss", "admin", "withdraw", " ")
    assert refused.value.message == "请填写撤回原因。"
    decide(app, submitted, "r1", "initial_reviewer", "reject_initial", "照片不清晰")
    assert decide(app, submitted, "boss", "admin", "withdraw", "单位申请撤回")
    page = client.get(f"/talent/declarations/{submitted}").get_data(as_text=True)
    assert 'class="alert alert-dark">已撤回 — ' in page and "单位申请撤回" in page
    assert f"/talent/declarations/{submitted}/edit" not in page
    assert client.get(f"/talent/declarations/{submitted}/edit").status_code == 302
