"""Staff review of certifications in the manual queue: one by one, in bulk, and an
administrator's correction of the email."""

from __future__ import annotations

import io
import re

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


def make_queued(app, user_id: int, name: str = "北京云帆智联科技有限公司") -> int:
    png = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(png, format="PNG")
    png.seek(0)
    with app.test_request_context():
        licence = storage.save_upload(FileStorage(png, filename="执照.png"),
                                      enterprise_user_id=user_id)
        cert = Certification(
            enterprise_user_id=user_id, licence=licence, status="manual_review",
            ocr_name="北京云帆科技有限公司", ocr_credit_code=CODE, ocr_code_valid=True,
            name=name, credit_code=CODE, email="hr@example.com")
        db.session.add(cert)
        db.session.commit()
        return cert.id


@pytest.fixture
def queued(app, make_enterprise):
    """A certification waiting for review: the operator changed the recognised name."""
    return make_queued(app, make_enterprise("13800138000"))


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


def test_decide_refuses_what_is_not_a_staff_decision(client, app, staff_login, queued):
    """``auto_approve`` and ``submit_for_review`` are in the table but are not staff
    decisions; an unknown or missing action is no decision at all."""
    staff_login("reviewer", "initial_reviewer")
    token = csrf_in(client.get("/admin/").get_data(as_text=True))
    for action in ("auto_approve", "submit_for_review", "approve_all", "", None):
        data = {"csrf_token": token, "id": queued, **({"action": action} if action is not None
                                                      else {})}
        assert client.post("/admin/certification_queue/decide/", data=data).status_code == 400
    assert _cert(app, queued).status == "manual_review"


def test_details_buttons_and_badge_follow_the_table(client, staff_login, queued):
    staff_login("reviewer", "initial_reviewer")
    page = client.get(f"/admin/certification_queue/details/?id={queued}").get_data(as_text=True)
    assert re.findall(r'name="action" value="(\w+)"', page) == ["approve", "reject"]
    assert re.search(r'class="btn btn-success[^"]*">通过<', page)  # style and label
    assert re.search(r'class="btn btn-danger[^"]*">不通过<', page)
    assert 'badge badge-warning">待审核<' in page
    _decide(client, queued, "approve")
    page = client.get(f"/admin/certification_all/details/?id={queued}").get_data(as_text=True)
    assert 'name="action"' not in page and 'badge badge-success">已通过<' in page


def _bulk(client, grid, action, ids, reason=None):
    page = client.get(f"/admin/{grid}/").get_data(as_text=True)
    data = {"csrf_token": csrf_in(page), "action": action, "rowid": [str(i) for i in ids],
            "url": f"/admin/{grid}/"}
    if reason is not None:
        data["reason"] = reason
    response = client.post(f"/admin/{grid}/action/", data=data)
    assert response.status_code == 302
    return client.get(f"/admin/{grid}/").get_data(as_text=True)


def test_bulk_decisions_in_the_queue(client, app, staff_login, make_enterprise, outbox):
    first = make_queued(app, make_enterprise("13800138001"), "北京一号科技有限公司")
    second = make_queued(app, make_enterprise("13800138002"), "北京二号科技有限公司")
    third = make_queued(app, make_enterprise("13800138003"), "北京三号科技有限公司")
    staff_login("reviewer", "initial_reviewer")
    page = client.get("/admin/certification_queue/").get_data(as_text=True)
    assert re.findall(r'data-model-action="(\w+)"', page) == ["approve", "reject"]
    assert 'id="bulk-reason"' in page
    page = _bulk(client, "certification_queue", "approve", [first, second, 99999, "abc"])
    assert re.search(r"(单位认证审核通过|Certification approved):? 2", page)  # zh or en: the
    assert re.search(r"跳过 2 条|2 skipped", page)  # message's new words, before the catalogs
    assert [_cert(app, i).status for i in (first, second, third)] == [
        "approved", "approved", "manual_review"]
    page = _bulk(client, "certification_all", "reject", [first, third], reason="  ")
    assert "请填写不通过的原因" in page and _cert(app, third).status == "manual_review"
    page = _bulk(client, "certification_all", "reject", [first, third], reason="执照模糊")
    assert re.search(r"(单位认证审核不通过|Certification not approved):? 1", page)
    assert re.search(r"跳过 1 条|1 skipped", page)  # the first was approved already
    assert _cert(app, third).status == "rejected" and _cert(app, third).reason == "执照模糊"
    with app.app_context():
        from talentadmin.core.models import Notice

        kinds = sorted(n.kind for n in db.session.execute(select(Notice)).scalars())
    assert kinds == ["certification.approved", "certification.approved",
                     "certification.rejected"]


@pytest.mark.parametrize("role", ["second_reviewer", "supervisor"])
def test_other_roles_have_no_bulk_decisions(client, app, staff_login, queued, role):
    staff_login("viewer", role)
    page = client.get("/admin/certification_queue/").get_data(as_text=True)
    assert "北京云帆智联科技有限公司" in page and "data-model-action" not in page
    client.post("/admin/certification_queue/action/", data={
        "csrf_token": csrf_in(page), "action": "approve", "rowid": [str(queued)]})
    assert _cert(app, queued).status == "manual_review"


def _edit(client, cert_id, **changes):
    url = f"/admin/certification_all/edit/?id={cert_id}"
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_in(page),
            "email_seen": re.search(r'name="email_seen"[^>]*value="([^"]*)"', page).group(1),
            "name": "北京云帆智联科技有限公司", "credit_code": CODE, "email": "hr@example.com"}
    return page, client.post(url, data={**data, **changes})


def test_admin_corrects_the_email_only(client, app, staff_login, queued):
    staff_login("boss", "admin")
    page, response = _edit(client, queued, email="it@example.com", name="别的名称",
                           credit_code="91110108MA00GH4T3U")
    assert re.search(r'<input[^>]*name="name"[^>]*readonly', page)
    assert re.search(r'<input[^>]*name="credit_code"[^>]*readonly', page)
    assert response.status_code == 302
    cert = _cert(app, queued)
    assert (cert.email, cert.name, cert.credit_code, cert.status) == (
        "it@example.com", "北京云帆智联科技有限公司", CODE, "manual_review")
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "certification.admin_update")).scalar_one()
    assert event.detail == {"email": ["hr@example.com", "it@example.com"]}


def test_a_bad_email_gets_the_portal_message(client, app, staff_login, queued):
    staff_login("boss", "admin")
    for bad, message in (("not-an-email", "请输入有效的电子邮箱"), ("", "此项为必填项"),
                         (" it@example.com", "请输入有效的电子邮箱"),
                         ("a" * 250 + "@x.cn", "不能超过 254 个字符")):
        _, response = _edit(client, queued, email=bad, name="别的名称")
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and message in text, bad
        assert 'value="北京云帆智联科技有限公司"' in text and "别的名称" not in text
    assert _cert(app, queued).email == "hr@example.com"


def test_an_email_correction_on_a_stale_page_is_refused(client, app, staff_login, queued):
    staff_login("boss", "admin")
    _, response = _edit(client, queued, email_seen="old@example.com", email="new@example.com")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="new@example.com"' in text
    assert "在别处被修改" in text or "changed elsewhere" in text
    assert _cert(app, queued).email == "hr@example.com"


@pytest.mark.parametrize("role", ["initial_reviewer", "second_reviewer", "supervisor"])
def test_only_an_administrator_corrects(client, app, staff_login, queued, role):
    staff_login("viewer", role)
    assert client.get(f"/admin/certification_all/edit/?id={queued}").status_code == 302
    token = csrf_in(client.get("/admin/").get_data(as_text=True))
    client.post(f"/admin/certification_all/edit/?id={queued}", data={
        "csrf_token": token, "email_seen": "hr@example.com", "name": "x", "credit_code": CODE,
        "email": "evil@example.com"})
    assert _cert(app, queued).email == "hr@example.com"


def test_a_decision_in_the_queue_returns_to_the_queue(client, app, staff_login, queued):
    """The record leaves the queue when decided: the reviewer is taken back to the queue
    (not to a details page that no longer holds it), and a reviewer deciding a record
    someone else decided meanwhile is told so, not "not found"."""
    staff_login("reviewer", "initial_reviewer")
    details = f"/admin/certification_queue/details/?id={queued}&url=/admin/certification_queue/"
    page = client.get(details).get_data(as_text=True)
    assert 'name="url" value="/admin/certification_queue/"' in page
    response = client.post("/admin/certification_queue/decide/", data={
        "csrf_token": csrf_in(page), "id": queued, "action": "approve",
        "url": "/admin/certification_queue/"})
    assert response.headers["Location"].endswith("/admin/certification_queue/")
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "审核意见已保存" in shown and "记录不存在" not in shown
    late = client.post("/admin/certification_queue/decide/", data={  # the page opened before
        "csrf_token": csrf_in(page), "id": queued, "action": "reject", "reason": "晚了",
        "url": "https://evil.example/"})
    assert late.status_code == 302 and "evil" not in late.headers["Location"]
    shown = client.get(late.headers["Location"]).get_data(as_text=True)
    assert "已不在待审核状态" in shown and _cert(app, queued).status == "approved"
