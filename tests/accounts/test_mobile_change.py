"""Changing the registered mobile number (SMS code to the new number, audited)."""

from __future__ import annotations

from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from talentadmin.accounts.models import EnterpriseUser
from talentadmin.core.models import AuditEvent
from talentadmin.extensions import db

OLD, NEW = "13800138000", "13900139000"


def test_change_mobile_with_code_sent_to_new_number(portal, app, outbox):
    portal.login_sms(OLD)
    response = portal.post_form("/account/mobile", {"new_mobile": NEW, "send_code": "1"})
    assert response.status_code == 200
    assert outbox.messages()[-1]["to"] == NEW
    response = portal.post_form("/account/mobile", {
        "new_mobile": NEW, "sms_code": outbox.last_code(NEW), "submit": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert list(db.session.execute(select(EnterpriseUser.mobile)).scalars()) == [NEW]
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "enterprise.mobile_change")
        ).scalar_one()
    assert event.detail == {"from": "138****8000", "to": "139****9000"}


def test_code_sent_to_old_number_does_not_change_it(portal, outbox):
    portal.login_sms(OLD)
    portal.post_form("/account/mobile", {"new_mobile": NEW, "send_code": "1"})
    response = portal.post_form("/account/mobile", {
        "new_mobile": NEW, "sms_code": "123456", "submit": "1"})
    assert response.status_code == 400
    assert f'value="{NEW}"' in response.get_data(as_text=True)


def test_number_of_another_account_gets_no_code_and_no_change(
        portal, make_enterprise, outbox, app):
    make_enterprise(NEW)
    portal.login_sms(OLD)
    response = portal.post_form("/account/mobile", {"new_mobile": NEW, "send_code": "1"})
    assert response.status_code == 200
    with app.test_request_context():
        answer = escape(gettext("If %(mobile)s can be used, an SMS code has been sent to it.",
                                mobile=NEW))
    assert answer in response.get_data(as_text=True)
    assert [m["to"] for m in outbox.messages()] == [OLD]
    response = portal.post_form("/account/mobile", {
        "new_mobile": NEW, "sms_code": "123456", "submit": "1"})
    assert response.status_code == 400 and "手机验证码错误" in response.get_data(as_text=True)


def test_number_registered_after_the_code_was_sent_refused_at_the_last_step(
        portal, make_enterprise, outbox, app):
    portal.login_sms(OLD)
    portal.post_form("/account/mobile", {"new_mobile": NEW, "send_code": "1"})
    make_enterprise(NEW)  # someone registers the number meanwhile
    response = portal.post_form("/account/mobile", {
        "new_mobile": NEW, "sms_code": outbox.last_code(NEW), "submit": "1"})
    assert response.status_code == 400
    assert "已被其他账号使用" in response.get_data(as_text=True)
    with app.app_context():
        assert sorted(db.session.execute(select(EnterpriseUser.mobile)).scalars()) == [OLD, NEW]


def test_same_number_refused(portal):
    portal.login_sms(OLD)
    response = portal.post_form("/account/mobile", {"new_mobile": OLD, "send_code": "1"})
    assert response.status_code == 400 and "这已是您的注册手机号" in response.get_data(as_text=True)


def test_wrong_captcha_when_sending(portal):
    portal.login_sms(OLD)
    response = portal.post_form("/account/mobile", {
        "new_mobile": NEW, "captcha": "WRONG", "send_code": "1"})
    assert response.status_code == 400 and "图形验证码错误" in response.get_data(as_text=True)
