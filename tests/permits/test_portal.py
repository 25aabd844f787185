"""The business permission (业务权限): apply, review, re-apply, change data."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from talentadmin.core.models import AuditEvent, Notice
from talentadmin.extensions import db
from talentadmin.permits.models import Permit, PermitRevision

from ..conftest import PASSWORD, UNIT, csrf_in, pdf_bytes, permit_form_data


@pytest.fixture
def operator(certified, portal):
    certified("13800138000")
    assert portal.login_password("13800138000", PASSWORD).status_code == 302
    return portal


def revisions(app) -> list[PermitRevision]:
    with app.app_context():
        return list(db.session.execute(select(PermitRevision).order_by(PermitRevision.id))
                    .scalars())


def _decide(app, revision_id: int, action: str, reason: str | None = None) -> bool:
    from talentadmin.accounts.models import StaffUser
    from talentadmin.permits import operations

    with app.test_request_context():
        staff = db.session.execute(select(StaffUser).filter_by(username="rev")).scalar_one_or_none()
        if staff is None:
            staff = StaffUser(username="rev", full_name="")
            staff.role_names = ["initial_reviewer"]
            staff.set_password(PASSWORD)
            db.session.add(staff)
        revision = db.session.get(PermitRevision, revision_id)
        done = (operations.approve(revision, staff) if action == "approve"
                else operations.reject(revision, staff, reason))
        db.session.commit()
        return done


def test_uncertified_unit_cannot_apply(portal, make_enterprise, client):
    make_enterprise("13800138000")
    portal.login_password("13800138000", PASSWORD)
    response = client.get("/talent/permit/apply")
    assert response.status_code == 302 and "/certification" in response.headers["Location"]
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert "只有认证通过的单位才能申请业务权限" in hub


def test_apply_shows_company_name_read_only_and_guidance(operator, client):
    page = client.get("/talent/permit/apply").get_data(as_text=True)
    assert f'value="{UNIT}" readonly' in page
    assert "根据单位认证自动带入" in page and "2025年纳税额（万元）" in page
    assert "高新技术企业证书" in page and "不超过 2000 字" in page


def test_submit_then_details_then_pending_on_hub(operator, client, app):
    response = operator.post_multipart("/talent/permit/apply", permit_form_data())
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "提交成功" in page and "查看详情" in page
    (revision,) = revisions(app)
    assert revision.status == "pending" and revision.unit_name == UNIT
    assert [f.label for f in revision.files] == [
        "高新技术企业证书", "2025年缴纳税费凭证", "2024年缴纳税费凭证", "2023年缴纳税费凭证"]
    detail = client.get(f"/talent/permit/{revision.id}").get_data(as_text=True)
    assert "待审核" in detail and "125.50" in detail and "朝阳区" in detail
    assert "待审核" in client.get("/talent/declare").get_data(as_text=True)
    # a second application while one waits is refused
    again = client.get("/talent/permit/apply")
    assert again.status_code == 302


def test_download_is_named_unit_dash_material(operator, client, app):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    first = revision.files[0]
    response = client.get(f"/talent/permit/{revision.id}/files/{first.id}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''" in disposition
    from urllib.parse import unquote

    assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"{UNIT}-高新技术企业证书.pdf"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("tax_1", "-1", "金额不能为负数"),
    ("tax_1", "abc", "请输入以万元为单位的数字"),
    ("tax_2", "1e9", "请输入以万元为单位的数字"),
    ("tax_3", "12.345", "最多保留两位小数"),
    ("intro", "长" * 2001, "企业简介不超过 2000 字"),
    ("contact_mobile", "12345", "010-12345678-123"),  # the example in its message
    ("registered_district", "", "此项为必填项"),
])
def test_bad_values_refused_beside_the_field_and_everything_kept(operator, client, app, field,
                                                                  value, message):
    response = operator.post_multipart("/talent/permit/apply",
                                       permit_form_data(**{field: value}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page
    assert 'value="王经办"' in page  # typed values kept
    assert ("人工智能软件研发企业。" if field != "intro" else value) in page
    assert "已上传" in page and "高新证书.pdf" in page and "2025.pdf" in page  # uploads kept
    assert revisions(app) == []
    # the kept files go in with the corrected submit, without uploading them again
    import re

    kept = dict(re.findall(r'name="((?:cert_hightech|tax_file_\d)_keep)"[^>]*value="([^"]*)"', page))
    fixed = permit_form_data(**{field: {"tax_1": "10", "tax_2": "10", "tax_3": "10",
                                        "intro": "简介", "contact_mobile": "13900001111",
                                        "registered_district": "chaoyang"}[field]},
                             cert_hightech=None, tax_file_1=None, tax_file_2=None,
                             tax_file_3=None, **kept)
    assert operator.post_multipart("/talent/permit/apply", fixed).status_code == 302
    assert len(revisions(app)[0].files) == 4


def test_qualification_chosen_without_its_certificate(operator, app):
    response = operator.post_multipart("/talent/permit/apply", permit_form_data(
        qualifications=["hightech", "foreign"], cert_hightech=None))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "已选择“高新技术企业”，请上传高新技术企业证书" in page
    assert "已选择“外商投资企业”" in page
    assert revisions(app) == []


def test_other_qualification_needs_no_certificate(operator, app):
    response = operator.post_multipart("/talent/permit/apply", permit_form_data(
        qualifications=["other"], cert_hightech=None))
    assert response.status_code == 302


def test_pdf_that_is_really_an_exe(operator, app):
    response = operator.post_multipart("/talent/permit/apply", permit_form_data(
        tax_file_1=(io.BytesIO(b"MZ\x90\x00" + b"\0" * 500), "税单.pdf")))
    assert response.status_code == 400
    assert "只接受 JPG、PNG 或 PDF" in response.get_data(as_text=True)


def test_reviewer_decisions_reach_the_enterprise(operator, client, app, outbox):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    assert _decide(app, revision.id, "reject", "纳税凭证不清晰")
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert "业务权限审核不通过" in hub and "纳税凭证不清晰" in hub and "重新申请" in hub
    assert "业务权限审核不通过" in outbox.messages()[-1]["text"]
    # 重新申请: the form comes pre-filled, the files included
    page = client.get("/talent/permit/apply").get_data(as_text=True)
    assert 'value="王经办"' in page and "高新证书.pdf" in page
    response = operator.post_multipart("/talent/permit/apply",
                                       {"submit": "1", **_form_values(page)})
    assert response.status_code == 302, response.get_data(as_text=True)
    first, second = revisions(app)
    assert second.number == 2 and second.status == "pending" and len(second.files) == 4
    assert _decide(app, second.id, "approve")
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert "已通过" in hub and "修改资料" in hub
    with app.app_context():
        kinds = [n.kind for n in db.session.execute(select(Notice)).scalars()]
    assert kinds == ["permit.rejected", "permit.approved"]


def _form_values(page: str) -> dict:
    """What the browser would send back from a pre-filled form."""
    import re

    values: dict = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        if name in ("csrf_token",) or name.startswith("qualifications"):
            continue
        values[name] = value
    values["qualifications"] = re.findall(
        r'<input checked[^>]*name="qualifications"[^>]*value="([^"]+)"', page) or re.findall(
        r'name="qualifications"[^>]*value="([^"]+)"[^>]*checked', page)
    for name in ("registered_district", "tax_district", "field"):
        match = re.search(rf'<select[^>]*name="{name}".*?<option selected value="([^"]*)"',
                          page, re.S) or re.search(
            rf'<select[^>]*name="{name}".*?<option value="([^"]*)" selected', page, re.S)
        values[name] = match.group(1)
    values["intro"] = re.search(r'<textarea[^>]*name="intro"[^>]*>\s*(.*?)</textarea>', page,
                                re.S).group(1)
    return values


def test_change_of_data_keeps_the_approved_revision_in_force(operator, client, app):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (first,) = revisions(app)
    _decide(app, first.id, "approve")
    response = operator.post_multipart("/talent/permit/apply", permit_form_data(
        field="finance", contact_name="李新经办"))
    assert response.status_code == 302
    second = revisions(app)[1]
    with app.app_context():
        permit = db.session.execute(select(Permit)).scalar_one()
        assert permit.in_force_id == first.id  # still the approved one
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert "审核期间原已通过的资料继续有效" in hub
    assert "可以填报个人信息" in hub  # the permission stays in force meanwhile
    _decide(app, second.id, "reject", "请补充材料")
    with app.app_context():
        assert db.session.execute(select(Permit)).scalar_one().in_force_id == first.id
    assert "请补充材料" in client.get("/talent/declare").get_data(as_text=True)
    third = operator.post_multipart("/talent/permit/apply", permit_form_data(field="finance"))
    assert third.status_code == 302
    _decide(app, revisions(app)[2].id, "approve")
    with app.app_context():
        assert db.session.execute(select(Permit)).scalar_one().in_force_id == revisions(app)[2].id


def test_decided_twice_counts_once(operator, app):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    assert _decide(app, revision.id, "approve") is True
    assert _decide(app, revision.id, "reject", "late") is False
    assert revisions(app)[0].status == "approved"


def test_other_enterprises_permit_is_404_and_audited(operator, client, app, certified, portal):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    file_id = revision.files[0].id
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    certified("13900139000", name="北京另一家科技有限公司", code="91110108MA00GH4T3U")
    portal.login_password("13900139000", PASSWORD)
    for url in (f"/talent/permit/{revision.id}", f"/talent/permit/{revision.id}/submitted",
                f"/talent/permit/{revision.id}/files/{file_id}",
                f"/files/{revision.files[0].attachment_id}"):
        assert client.get(url).status_code == 404, url
    with app.app_context():
        denied = db.session.execute(select(AuditEvent).where(
            AuditEvent.outcome == "failure")).scalars().all()
    assert {e.action for e in denied} == {"permit.denied", "file.denied"}
    assert all(e.actor_label == "139****9000" for e in denied)


def test_kept_file_ids_of_another_account_are_ignored(operator, client, app, certified, portal):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    foreign = revision.files[0].attachment_id
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    certified("13900139000", name="北京另一家科技有限公司", code="91110108MA00GH4T3U")
    portal.login_password("13900139000", PASSWORD)
    response = portal.post_multipart("/talent/permit/apply", permit_form_data(
        cert_hightech=None, cert_hightech_keep=str(foreign)))
    assert response.status_code == 400
    assert "请上传高新技术企业证书" in response.get_data(as_text=True)


def test_admin_bulk_reject_needs_a_reason(operator, app, client, staff_login):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("reviewer", "initial_reviewer")
    page = client.get("/admin/permit_review/").get_data(as_text=True)
    assert UNIT in page and 'data-model-action="reject"' in page
    assert "modelActions.execute" not in page  # no inline handler for our CSP to block
    token = csrf_in(page)
    response = client.post("/admin/permit_review/action/", data={
        "csrf_token": token, "action": "reject", "rowid": [str(revision.id)], "url": "/admin/"})
    assert revisions(app)[0].status == "pending"
    response = client.post("/admin/permit_review/action/", data={
        "csrf_token": token, "action": "reject", "rowid": [str(revision.id), "99999", "abc"],
        "reason": "资质证书已过期", "url": "/admin/permit_review/"})
    assert response.status_code == 302
    page = client.get("/admin/permit_review/").get_data(as_text=True)
    assert re.search(r"业务权限审核不通过:? 1", page)  # the message's words: zh or en, before
    assert re.search(r"跳过 2 条|2 skipped", page)  # the catalogs have them
    assert revisions(app)[0].status == "rejected" and revisions(app)[0].reason == "资质证书已过期"


def test_supervisor_sees_but_cannot_decide(operator, app, client, staff_login):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("boss", "supervisor")
    page = client.get(f"/admin/permit_review/details/?id={revision.id}").get_data(as_text=True)
    assert UNIT in page and 'value="approve"' not in page
    token = csrf_in(page)
    client.post("/admin/permit_review/action/", data={
        "csrf_token": token, "action": "approve", "rowid": [str(revision.id)]})
    client.post("/admin/permit_review/decide/", data={
        "csrf_token": token, "action": "approve", "id": revision.id})
    assert revisions(app)[0].status == "pending"


def test_reviewer_sees_the_files_inline(operator, app, client, staff_login):
    operator.post_multipart("/talent/permit/apply", permit_form_data(
        tax_file_3=(io.BytesIO(pdf_bytes()), "2023.pdf")))
    (revision,) = revisions(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("reviewer", "initial_reviewer")
    f = revision.files[0]
    response = client.get(f"/admin/permit_review/file/?id={revision.id}&file_id={f.id}&inline=1")
    assert response.status_code == 200 and "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get(f"/admin/permit_review/file/?id={revision.id}&file_id=99999").status_code == 404


def test_admin_correction_of_a_permit_is_audited(operator, app, client, staff_login):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("boss", "admin")
    page = client.get(f"/admin/permit_review/edit/?id={revision.id}").get_data(as_text=True)
    assert 'value="王经办"' in page
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    response = client.post(f"/admin/permit_review/edit/?id={revision.id}", data={
        "csrf_token": csrf_in(page), "version": version, "registered_district": "chaoyang",
        "tax_district": "haidian", "field": "ai", "contact_name": "王经办",
        "contact_mobile": "13900001111", "intro": "人工智能软件研发企业。"})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "permit.admin_update")).scalar_one()
    assert event.detail == {"tax_district": ["chaoyang", "haidian"]}
    bad = client.post(f"/admin/permit_review/edit/?id={revision.id}", data={
        "csrf_token": csrf_in(page), "version": version, "registered_district": "chaoyang",
        "tax_district": "haidian", "field": "ai", "contact_name": "王经办",
        "contact_mobile": "12345", "intro": "x"})
    assert "010-12345678-123" in bad.get_data(as_text=True)  # the message's example


def test_a_permit_correction_on_a_stale_page_is_refused(operator, app, client, staff_login):
    """An administrator's form opened before a decision (or another correction) does not
    save over it; what they typed stays on the page."""
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("boss", "admin", "initial_reviewer")
    page = client.get(f"/admin/permit_review/edit/?id={revision.id}").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    with app.app_context():  # meanwhile a reviewer rejects it
        from talentadmin.accounts.models import StaffUser
        from talentadmin.permits import operations
        from talentadmin.permits.models import PermitRevision

        staff = db.session.execute(select(StaffUser)).scalars().first()
        assert operations.reject(db.session.get(PermitRevision, revision.id), staff, "材料不全")
        db.session.commit()
    stale = client.post(f"/admin/permit_review/edit/?id={revision.id}", data={
        "csrf_token": csrf_in(page), "version": version, "registered_district": "chaoyang",
        "tax_district": "haidian", "field": "ai", "contact_name": "过期的修改",
        "contact_mobile": "13900001111", "intro": "人工智能软件研发企业。"})
    text = stale.get_data(as_text=True)
    assert stale.status_code == 200 and "已在别处被修改" in text and 'value="过期的修改"' in text
    for forged in ("", "abc", "999"):
        response = client.post(f"/admin/permit_review/edit/?id={revision.id}", data={
            "csrf_token": csrf_in(page), "version": forged, "registered_district": "chaoyang",
            "tax_district": "haidian", "field": "ai", "contact_name": "伪造",
            "contact_mobile": "13900001111", "intro": "x"})
        assert response.status_code == 200 and "已在别处被修改" in response.get_data(as_text=True)
    with app.app_context():
        saved = db.session.get(PermitRevision, revision.id)
        assert saved.contact_name == "王经办" and saved.status == "rejected"


def test_reviewers_cannot_correct_a_permit(operator, app, client, staff_login):
    operator.post_multipart("/talent/permit/apply", permit_form_data())
    (revision,) = revisions(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("r1", "initial_reviewer")
    assert client.get(f"/admin/permit_review/edit/?id={revision.id}").status_code == 302
