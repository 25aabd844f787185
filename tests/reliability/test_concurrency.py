"""Two requests at the same moment on the same record: exactly one wins.

Real threads, each with its own test client (its own session and database connection),
released together by a barrier, against one database (SQLite, or PostgreSQL with
``TALENTADMIN_TEST_DATABASE_URL``). For every decision and every portal form: one state
change, one timeline row, one audit event, at most one SMS, and the loser is told so in
its language — never a 500, never "database is locked".
"""

from __future__ import annotations

import re
import threading

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from talentadmin.certification import operations as certification_ops
from talentadmin.certification.models import Certification
from talentadmin.core.models import AuditEvent, StatusChange
from talentadmin.declarations import operations as declaration_ops
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.permits.models import PermitRevision

from ..conftest import PASSWORD, Portal, csrf_in, permit_form_data, staff_client
from ..declarations.test_portal import declaration_data
from ..declarations.test_review import IDS

pytestmark = pytest.mark.real_commits  # threads, each with its own connection


def race(*actions):
    """Run the callables in threads released at the same instant; their results."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)
    errors: list = []

    def run(n, action):
        try:
            barrier.wait(timeout=30)
            results[n] = action()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n, a)) for n, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert all(r is not None for r in results)
    for response in results:
        assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    return results


def zh(app, message) -> str:
    """A message as the (Chinese) pages show it."""
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        return str(message() if callable(message) else message)


def shown(client, response) -> str:
    """The page the user ends up on: the response, or where it redirects."""
    if response.status_code in (302, 303):
        return client.get(response.headers["Location"],
                          follow_redirects=True).get_data(as_text=True)
    return response.get_data(as_text=True)


def enterprise_client(app, outbox, mobile: str = "13800138000"):
    client = app.test_client()
    assert Portal(client, app, outbox).login_password(mobile, PASSWORD).status_code == 302
    return client


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def timeline_rows(app, target_type: str, target_id: int, *actions: str) -> int:
    return count(app, StatusChange, StatusChange.target_type == target_type,
                 StatusChange.target_id == target_id, StatusChange.action.in_(actions))


def audit_rows(app, target_type: str, target_id: int, *actions: str) -> int:
    return count(app, AuditEvent, AuditEvent.target_type == target_type,
                 AuditEvent.target_id == target_id, AuditEvent.action.in_(actions))


def notices_sent(outbox) -> list[dict]:
    return [m for m in outbox.messages() if not m.get("code")]


def prepared_post(client, page_url: str, post_url: str, data: dict, **kwargs):
    """GET the page for its CSRF token now; the returned callable POSTs later."""
    token = csrf_in(client.get(page_url).get_data(as_text=True))
    return lambda: client.post(post_url, data={"csrf_token": token, **data}, **kwargs)


# --- staff decisions ------------------------------------------------------------------------


@pytest.fixture
def queued_certification(app, certified):
    """A certification waiting for review (the operator edited the name)."""
    user_id = certified("13800138000")
    with app.app_context():
        cert = db.session.execute(select(Certification)).scalar_one()
        cert.status, cert.name = "manual_review", "北京云帆智联科技（改）有限公司"
        db.session.commit()
        return user_id, cert.id


def test_certification_approved_and_rejected_at_once(app, make_staff, outbox,
                                                     queued_certification):
    _user_id, cert_id = queued_certification
    clients = [staff_client(app, make_staff, f"r{n}", "initial_reviewer") for n in (1, 2)]
    page = f"/admin/certification_queue/details/?id={cert_id}"
    url = "/admin/certification_queue/decide/"
    first, second = race(
        prepared_post(clients[0], page, url, {"id": cert_id, "action": "approve"}),
        prepared_post(clients[1], page, url, {"id": cert_id, "action": "reject",
                                               "reason": "执照不清晰"}))
    pages = [shown(c, r) for c, r in zip(clients, (first, second), strict=True)]
    refused = zh(app, "该认证已不在待审核状态")
    assert sum(refused in p for p in pages) == 1, "exactly one reviewer is told it was decided"
    with app.app_context():
        status = db.session.get(Certification, cert_id).status
    assert status in ("approved", "rejected")
    assert timeline_rows(app, "certification", cert_id, "approve", "reject") == 1
    assert audit_rows(app, "certification", cert_id, "certification.approve",
                      "certification.reject") == 1
    assert len(notices_sent(outbox)) == 1


@pytest.fixture
def pending_revision(app, certified, outbox):
    certified("13800138000")
    client = enterprise_client(app, outbox)
    response = Portal(client, app, outbox).post_multipart("/talent/permit/apply",
                                                          permit_form_data())
    assert response.status_code == 302
    with app.app_context():
        return db.session.execute(select(PermitRevision.id)).scalar_one()


def test_permit_revision_approved_and_rejected_at_once(app, make_staff, outbox,
                                                       pending_revision):
    clients = [staff_client(app, make_staff, f"r{n}", "initial_reviewer") for n in (1, 2)]
    page = f"/admin/permit_review/details/?id={pending_revision}"
    url = "/admin/permit_review/decide/"
    responses = race(
        prepared_post(clients[0], page, url, {"id": pending_revision, "action": "approve"}),
        prepared_post(clients[1], page, url, {"id": pending_revision, "action": "reject",
                                               "reason": "税费凭证不全"}))
    pages = [shown(c, r) for c, r in zip(clients, responses, strict=True)]
    refused = "该申请已不在待审核状态"
    assert sum(refused in p for p in pages) == 1
    assert timeline_rows(app, "permit_revision", pending_revision, "approve", "reject") == 1
    assert audit_rows(app, "permit_revision", pending_revision, "permit.approve",
                      "permit.reject") == 1
    assert len(notices_sent(outbox)) == 1


@pytest.fixture
def submitted_declarations(app, permitted, open_round, outbox):
    """Two declarations of one unit waiting for the initial review."""
    permitted("13800138000")
    client = enterprise_client(app, outbox)
    portal = Portal(client, app, outbox)
    for number in IDS[:2]:
        response = portal.post_multipart("/talent/declarations/new",
                                         declaration_data(id_number=number))
        assert response.status_code == 302, re.findall(
            r'invalid-feedback[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    outbox.path.unlink(missing_ok=True)
    with app.app_context():
        return list(db.session.execute(select(Declaration.id).order_by(Declaration.id))
                    .scalars())


def test_declaration_passed_and_rejected_at_once(app, make_staff, outbox,
                                                 submitted_declarations):
    target = submitted_declarations[0]
    clients = [staff_client(app, make_staff, f"r{n}", "initial_reviewer") for n in (1, 2)]
    page = f"/admin/declaration_initial/details/?id={target}"
    url = "/admin/declaration_initial/decide/"
    responses = race(
        prepared_post(clients[0], page, url, {"id": target, "action": "pass_initial"}),
        prepared_post(clients[1], page, url, {"id": target, "action": "reject_initial",
                                               "reason": "缺少学位证书"}))
    pages = [shown(c, r) for c, r in zip(clients, responses, strict=True)]
    refused = zh(app, lambda: gettext(
        "Nothing changed: the declaration is no longer in that state, or your role may not "
        "take this decision."))
    assert sum(refused in p for p in pages) == 1
    assert timeline_rows(app, "declaration", target, "pass_initial", "reject_initial") == 1
    assert audit_rows(app, "declaration", target, "declaration.pass_initial",
                      "declaration.reject_initial") == 1
    assert len(notices_sent(outbox)) == 1


def test_a_decision_on_a_page_left_open_after_another_decided(app, make_staff, outbox,
                                                               submitted_declarations):
    """The second reviewer's click lands after the first decision committed (the slower
    half of the race above): told nothing changed, taken back to the queue — not a 404."""
    target = submitted_declarations[0]
    clients = [staff_client(app, make_staff, f"r{n}", "initial_reviewer") for n in (1, 2)]
    page = f"/admin/declaration_initial/details/?id={target}"
    url = "/admin/declaration_initial/decide/"
    late = prepared_post(clients[1], page, url, {"id": target, "action": "reject_initial",
                                                 "reason": "缺少学位证书"})
    first = prepared_post(clients[0], page, url, {"id": target, "action": "pass_initial"})()
    assert first.status_code == 302
    response = late()
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/declaration_initial/")
    refused = zh(app, lambda: gettext(
        "Nothing changed: the declaration is no longer in that state, or your role may not "
        "take this decision."))
    assert refused in shown(clients[1], response)
    assert timeline_rows(app, "declaration", target, "pass_initial", "reject_initial") == 1
    missing = clients[1].post(url, data={"csrf_token": csrf_in(clients[1].get(
        "/admin/declaration_initial/").get_data(as_text=True)), "id": 999999,
        "action": "pass_initial"})
    assert missing.status_code == 404


def test_bulk_pass_by_two_reviewers_at_once(app, make_staff, outbox, submitted_declarations):
    clients = [staff_client(app, make_staff, f"r{n}", "initial_reviewer") for n in (1, 2)]
    page = url = "/admin/declaration_initial/"
    data = {"action": "pass_initial", "rowid": [str(i) for i in submitted_declarations],
            "url": url}
    responses = race(*(prepared_post(c, page, url + "action/", data) for c in clients))
    pages = [shown(c, r) for c, r in zip(clients, responses, strict=True)]
    moved = [int(m.group(1)) for p in pages for m in [re.search(r"(?:初审通过|Passed the initial review):? (\d+)", p)] if m]
    assert sorted(moved) == [0, 2], pages  # one reviewer moved both, the other none
    for target in submitted_declarations:
        assert timeline_rows(app, "declaration", target, "pass_initial") == 1
        assert audit_rows(app, "declaration", target, "declaration.pass_initial") == 1
    assert len(notices_sent(outbox)) == 1  # one SMS for the enterprise, naming both


def test_reporting_twice_at_once_reports_once(app, make_staff, outbox, submitted_declarations):
    from talentadmin.declarations import workflow
    from talentadmin.declarations.models import Declaration as D

    with app.app_context():
        db.session.execute(D.__table__.update().values(status=workflow.COMPLETED))
        db.session.commit()
    clients = [staff_client(app, make_staff, f"s{n}", "supervisor") for n in (1, 2)]
    page = url = "/admin/declaration_all/"
    data = {"action": "report", "rowid": [str(i) for i in submitted_declarations], "url": url}
    race(*(prepared_post(c, page, url + "action/", data) for c in clients))
    for target in submitted_declarations:
        assert timeline_rows(app, "declaration", target, "report") == 1
    assert len(notices_sent(outbox)) == 1


# --- double submits of the portal forms -------------------------------------------------------


@pytest.fixture
def recognised(app, make_enterprise):
    """A certification read cleanly, waiting for its operator's confirmation; its id."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from talentadmin.core import storage

    from ..conftest import UNIT, UNIT_CODE, png_bytes

    user_id = make_enterprise("13800138000")
    with app.test_request_context():
        licence = storage.save_upload(FileStorage(BytesIO(png_bytes()), filename="l.png"),
                                      enterprise_user_id=user_id)
        cert = Certification(enterprise_user_id=user_id, licence=licence, status="recognised",
                             ocr_name=UNIT, ocr_credit_code=UNIT_CODE, ocr_code_valid=True)
        db.session.add(cert)
        db.session.commit()
        return cert.id


def test_certification_confirm_double_submit(app, recognised, outbox):
    from ..conftest import UNIT, UNIT_CODE

    cert_id = recognised
    clients = [enterprise_client(app, outbox) for _ in (1, 2)]
    url = f"/certification/{cert_id}/confirm"
    data = {"name": UNIT, "credit_code": UNIT_CODE, "email": "hr@example.com", "submit": "1"}
    responses = race(*(prepared_post(c, url, url, data) for c in clients))
    pages = [shown(c, r) for c, r in zip(clients, responses, strict=True)]
    assert sum(zh(app, certification_ops.already_submitted) in p for p in pages) == 1
    assert timeline_rows(app, "certification", cert_id, "auto_approve",
                         "submit_for_review") == 1
    assert audit_rows(app, "certification", cert_id, "certification.auto_approve",
                      "certification.submit_for_review") == 1


@pytest.mark.parametrize("revise", [False, True], ids=["apply", "revise"])
def test_permit_form_double_posted(app, certified, permitted, make_staff, outbox, revise):
    """申请开通 (first application) and 修改资料 (a new revision of an approved one)."""
    if revise:
        permitted("13800138000")
    else:
        certified("13800138000")
    clients = [enterprise_client(app, outbox) for _ in (1, 2)]
    url = "/talent/permit/apply"
    responses = race(*(prepared_post(c, url, url, permit_form_data(),
                                     content_type="multipart/form-data") for c in clients))
    pages = [shown(c, r) for c, r in zip(clients, responses, strict=True)]
    assert sum("已有申请在等待审核" in p for p in pages) == 1
    with app.app_context():
        revisions = db.session.execute(select(PermitRevision.number, PermitRevision.status)
                                       .order_by(PermitRevision.id)).all()
    assert [tuple(r) for r in revisions] == ([(1, "approved"), (2, "pending")] if revise
                                             else [(1, "pending")])
    assert count(app, AuditEvent, AuditEvent.action == "permit.submit") == len(revisions)


def test_new_declaration_double_submitted(app, permitted, open_round, outbox):
    permitted("13800138000")
    clients = [enterprise_client(app, outbox) for _ in (1, 2)]
    url = "/talent/declarations/new"
    html = clients[0].get(url).get_data(as_text=True)
    form_key = re.search(r'name="form_key"[^>]*value="([^"]+)"', html).group(1)
    responses = race(*(prepared_post(c, url, url, declaration_data(form_key=form_key),
                                     content_type="multipart/form-data") for c in clients))
    pages = [shown(c, r) for c, r in zip(clients, responses, strict=True)]
    assert sum(zh(app, declaration_ops.already_submitted) in p for p in pages) == 1
    assert count(app, Declaration) == 1
    with app.app_context():
        declaration_id = db.session.execute(select(Declaration.id)).scalar_one()
    assert timeline_rows(app, "declaration", declaration_id, "submit") == 1
    assert audit_rows(app, "declaration", declaration_id, "declaration.submit") == 1


def test_resubmission_double_submitted(app, make_staff, outbox, submitted_declarations):
    target = submitted_declarations[0]
    reviewer = staff_client(app, make_staff, "r1", "initial_reviewer")
    page = f"/admin/declaration_initial/details/?id={target}"
    prepared_post(reviewer, page, "/admin/declaration_initial/decide/",
                  {"id": target, "action": "reject_initial", "reason": "缺少学位证书"})()
    with app.app_context():
        version = db.session.get(Declaration, target).version
    clients = [enterprise_client(app, outbox) for _ in (1, 2)]
    url = f"/talent/declarations/{target}/edit"
    responses = race(*(prepared_post(c, url, url, declaration_data(version=str(version)),
                                     content_type="multipart/form-data") for c in clients))
    pages = [shown(c, r) for c, r in zip(clients, responses, strict=True)]
    assert sum(zh(app, declaration_ops.already_submitted) in p for p in pages) == 1
    with app.app_context():
        assert db.session.get(Declaration, target).status == "pending_initial"
    assert timeline_rows(app, "declaration", target, "resubmit") == 1
    assert audit_rows(app, "declaration", target, "declaration.resubmit") == 1


# --- the SMS leaves after the commit ----------------------------------------------------------


def test_a_rolled_back_decision_sends_no_sms(app, make_staff, outbox, queued_certification):
    from talentadmin.accounts.models import StaffUser

    _user_id, cert_id = queued_certification
    make_staff("r1", "initial_reviewer")
    with app.test_request_context():
        staff = db.session.execute(select(StaffUser)).scalar_one()
        certification_ops.approve(db.session.get(Certification, cert_id), staff)
        assert notices_sent(outbox) == []  # queued, not sent
        db.session.rollback()
    assert notices_sent(outbox) == []
    with app.app_context():
        assert db.session.get(Certification, cert_id).status == "manual_review"
    with app.test_request_context():  # a savepoint rolled back drops what it queued
        staff = db.session.execute(select(StaffUser)).scalar_one()
        with pytest.raises(RuntimeError), db.session.begin_nested():
            certification_ops.approve(db.session.get(Certification, cert_id), staff)
            raise RuntimeError("after the decision, before the commit")
        db.session.commit()
    assert notices_sent(outbox) == []
    with app.test_request_context():
        staff = db.session.execute(select(StaffUser)).scalar_one()
        certification_ops.approve(db.session.get(Certification, cert_id), staff)
        db.session.commit()
    assert len(notices_sent(outbox)) == 1


def test_reason_is_limited_on_every_decision_path(app, make_staff, outbox,
                                                  queued_certification):
    """A 20,000-character reason is refused with the rule, nothing decided, no SMS."""
    from talentadmin.core.workflow import REASON_MAX

    _user_id, cert_id = queued_certification
    client = staff_client(app, make_staff, "r1", "initial_reviewer")
    page = f"/admin/certification_queue/details/?id={cert_id}"
    response = prepared_post(client, page, "/admin/certification_queue/decide/",
                             {"id": cert_id, "action": "reject", "reason": "长" * 20_000})()
    assert str(REASON_MAX) in shown(client, response)
    with app.app_context():
        assert db.session.get(Certification, cert_id).status == "manual_review"
    assert notices_sent(outbox) == []


def test_certification_confirmed_again_after_it_was_decided(app, recognised, outbox):
    """The slower half of the race above, by a clear margin: the second tab's submit finds
    the certification approved and is told it was already submitted."""
    from ..conftest import UNIT, UNIT_CODE

    cert_id = recognised
    client = enterprise_client(app, outbox)
    url = f"/certification/{cert_id}/confirm"
    data = {"name": UNIT, "credit_code": UNIT_CODE, "email": "hr@example.com", "submit": "1"}
    late = prepared_post(client, url, url, data)
    assert prepared_post(client, url, url, data)().status_code == 302
    response = late()
    assert response.status_code == 302
    assert zh(app, certification_ops.already_submitted) in shown(client, response)
    assert audit_rows(app, "certification", cert_id, "certification.auto_approve",
                      "certification.submit_for_review") == 1
