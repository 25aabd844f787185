"""Staff review of certifications in the manual queue."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from talentadmin.certification.models import Certification
from talentadmin.core import storage
from talentadmin.core.models import AuditEvent
from talentadmin.extensions import db

from ..conftest import PASSWORD, csrf_in

CODE = "91110105MA01R8DQ2M"


@pytest.fixture
def queued(app, make_enterprise):
    """A certification waiting for review: the operator changed the recognised name."""
    user_id = make_enterprise("13800138000")
    png = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(png, format="PNG")
    png.seek(0)
    with app.test_request_context():
        licence = storage.save_upload(FileStorage(png, filename="执照.png"),
                                      enterprise_user_id=user_id)
        cert = Certification(
            enterprise_user_id=user_id, licence=licence, status="manual_review",
            ocr_name="北京云帆科技有限公司", ocr_credit_code=CODE, ocr_code_valid=True,
            name="北京云帆智联科技有限公司", credit_code=CODE, email="hr@example.com")
        db.session.add(cert)
        db.session.commit()
        return cert.id


def _decide(client, cert_id, action, reason=None):
    html = client.get(f"/admin/certification_queue/details/?id={cert_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_in(html), "id": cert_id, "action": action}
    if reason is not None:
        data["reason"] = reason
    return client.post("/admin/certification_queue/decide/", data=data)


def _cert(app, cert_id) -> Certification:
    with app.app_context():
        return db.session.get(Certification, cert_id)


def test_queue_lists_the_record_and_details_show_the_difference(client, staff_login, queued):
    staff_login("reviewer", "initial_reviewer")
    page = client.get("/admin/certification_queue/").get_data(as_text=True)
    assert "北京云帆智联科技有限公司" in page and "名称" in page
    page = client.get(f"/admin/certification_queue/details/?id={queued}").get_data(as_text=True)
    assert "北京云帆科技有限公司" in page and "北京云帆智联科技有限公司" in page
    assert "已修改" in page and "table-warning" in page
    assert 'name="action" value="approve"' in page and 'name="action" value="reject"' in page


def test_reviewer_approves(client, app, staff_login, queued, portal):
    staff_login("reviewer", "initial_reviewer")
    response = _decide(client, queued, "approve")
    assert response.status_code == 302
    cert = _cert(app, queued)
    assert cert.status == "approved" and cert.decided_by_id is not None
    assert client.get("/admin/certification_queue/").get_data(as_text=True).count(
        "北京云帆智联科技有限公司") == 0  # left the queue
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "certification.approve")).scalar_one()
        assert event.detail == {"from": "manual_review", "to": "approved"}
        assert event.actor_label == "reviewer"


def test_reject_needs_a_reason_and_the_operator_sees_it(client, app, staff_login, queued,
                                                        portal):
    staff_login("reviewer", "initial_reviewer")
    response = _decide(client, queued, "reject", reason="   ")
    assert response.status_code == 302
    assert "请填写不通过的原因" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _cert(app, queued).status == "manual_review"
    _decide(client, queued, "reject", reason="名称与营业执照不一致")
    assert _cert(app, queued).status == "rejected"
    client.post("/admin/logout", data={"csrf_token": csrf_in(client.get("/admin/").get_data(
        as_text=True))})
    portal.login_password("13800138000", PASSWORD)
    page = client.get("/certification/").get_data(as_text=True)
    assert "未通过" in page and "名称与营业执照不一致" in page and "重新认证" in page


@pytest.mark.parametrize("role", ["second_reviewer", "supervisor"])
def test_other_roles_see_but_cannot_decide(client, app, staff_login, queued, role):
    staff_login("viewer", role)
    page = client.get(f"/admin/certification_queue/details/?id={queued}").get_data(as_text=True)
    assert "北京云帆智联科技有限公司" in page and 'value="approve"' not in page
    token = csrf_in(page)
    client.post("/admin/certification_queue/decide/",
                data={"csrf_token": token, "id": queued, "action": "approve"})
    assert _cert(app, queued).status == "manual_review"


def test_decide_on_unknown_id_is_404_and_without_csrf_400(client, staff_login, queued):
    staff_login("reviewer", "initial_reviewer")
    token = csrf_in(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/certification_queue/decide/",
                       data={"csrf_token": token, "id": 99999, "action": "approve"}
                       ).status_code == 404
    assert client.post("/admin/certification_queue/decide/",
                       data={"id": queued, "action": "approve"}).status_code == 400


def test_deciding_twice_is_refused(client, app, staff_login, queued):
    staff_login("reviewer", "initial_reviewer")
    _decide(client, queued, "approve")
    response = client.post("/admin/certification_all/decide/", data={
        "csrf_token": csrf_in(client.get("/admin/").get_data(as_text=True)),
        "id": queued, "action": "reject", "reason": "late"})
    assert "已不在待审核状态" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _cert(app, queued).status == "approved"
