"""Register / log in by mobile + image code + SMS code (guide 一, 第一步)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from talentadmin.accounts.models import EnterpriseUser
from talentadmin.core.models import AuditEvent, CaptchaChallenge, SmsCode
from talentadmin.extensions import db

from ..conftest import captcha_in, csrf_in, forget_minute_limit

MOBILE = "13800138000"


def _users(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(select(EnterpriseUser.mobile)).scalars())


def _actions(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.outcome) for e in db.session.execute(
            select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def test_new_number_registers_and_logs_in(portal, app, outbox):
    response = portal.request_code(MOBILE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "手机验证码已发送至 13800138000" in page
    assert f'value="{MOBILE}"' in page  # the number stays in the form

    response = portal.submit_code(MOBILE, outbox.last_code(MOBILE))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _users(app) == [MOBILE]
    assert ("enterprise.register", "success") in _actions(app)
    assert ("enterprise.login", "success") in _actions(app)
    assert "138****8000" in portal.client.get("/").get_data(as_text=True)


def test_known_number_logs_in_without_a_second_account(portal, app, make_enterprise):
    make_enterprise(MOBILE)
    portal.login_sms(MOBILE)
    assert _users(app) == [MOBILE]
    assert ("enterprise.register", "success") not in _actions(app)


def test_outbox_line_has_the_documented_fields(portal, outbox):
    portal.request_code(MOBILE)
    (message,) = outbox.messages()
    assert set(message) == {"to", "text", "code", "sent_at"}
    assert message["to"] == MOBILE and len(message["code"]) == 6 and message["code"].isdigit()
    assert message["code"] in message["text"] and message["text"].startswith("【人才服务】")
    # Chinese whatever the page's language: "5分钟" once the catalogs have helper 7's msgid.
    assert "5分钟" in message["text"] or "5 minutes" in message["text"]


def test_code_is_stored_hashed_and_never_audited(portal, app, outbox):
    portal.login_sms(MOBILE)
    code = outbox.last_code(MOBILE)
    with app.app_context():
        hashes = list(db.session.execute(select(SmsCode.code_hash)).scalars())
        details = [str(e.detail) for e in db.session.execute(select(AuditEvent)).scalars()]
    assert hashes and all(code not in h for h in hashes)
    assert all(code not in d for d in details)


# --- image code ---------------------------------------------------------------------------


def test_wrong_captcha_refused_beside_field_and_number_kept(portal, outbox):
    response = portal.request_code(MOBILE, answer="ZZZZ")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "图形验证码错误" in page and 'id="sms-captcha-error"' in page
    assert f'value="{MOBILE}"' in page
    assert outbox.messages() == []


def test_expired_captcha_refused(portal, app, outbox):
    html = portal.login_page()
    challenge_id, answer = captcha_in(html, app)
    with app.app_context():
        db.session.execute(update(CaptchaChallenge).where(CaptchaChallenge.id == challenge_id)
                           .values(expires_at=CaptchaChallenge.created_at))
        db.session.commit()
    response = portal.client.post("/login", data={
        "csrf_token": csrf_in(html), "sms-mobile": MOBILE, "sms-captcha_id": challenge_id,
        "sms-captcha": answer, "sms-send_code": "1"})
    assert response.status_code == 400
    assert "图形验证码已过期" in response.get_data(as_text=True)
    assert outbox.messages() == []


def test_captcha_is_single_use(portal, app, outbox):
    html = portal.login_page()
    challenge_id, answer = captcha_in(html, app)
    data = {"csrf_token": csrf_in(html), "sms-mobile": MOBILE, "sms-captcha_id": challenge_id,
            "sms-captcha": answer, "sms-send_code": "1"}
    assert portal.client.post("/login", data=data).status_code == 200
    data["sms-mobile"] = "13900139000"
    again = portal.client.post("/login", data=data)
    assert again.status_code == 400 and "图形验证码错误" in again.get_data(as_text=True)
    assert [m["to"] for m in outbox.messages()] == [MOBILE]


def test_captcha_image_is_a_png_served_without_cache(portal, app):
    challenge_id, _ = captcha_in(portal.login_page(), app)
    response = portal.client.get(f"/captcha/{challenge_id}.png")
    assert response.status_code == 200 and response.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert response.headers["Cache-Control"] == "no-store"
    assert portal.client.get("/captcha/unknown.png").status_code == 404


def test_captcha_answer_never_in_cookie(portal, client):
    portal.login_page()
    cookie = client.get_cookie("talentadmin_session")
    with client.session_transaction() as session:
        assert not any("captcha" in key for key in session)
    assert cookie is None or "captcha" not in cookie.value


def test_captcha_test_mode_accepts_passed(app, portal, outbox):
    app.config["CAPTCHA_TEST_MODE"] = True
    try:
        assert portal.request_code(MOBILE, answer="PASSED").status_code == 200
    finally:
        app.config["CAPTCHA_TEST_MODE"] = False
    assert outbox.last_code(MOBILE)


def test_passed_is_wrong_outside_test_mode(portal):
    assert portal.request_code(MOBILE, answer="PASSED").status_code == 400


# --- mobile numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["12345678901", "1380013800", "138001380000", "1380013800a",
                                 "abcdefghijk", "+8712345678901"])
def test_malformed_mobile_refused(portal, outbox, bad):
    response = portal.request_code(bad)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请输入以 1 开头的 11 位手机号码" in page and 'id="sms-mobile-error"' in page
    assert outbox.messages() == []


@pytest.mark.parametrize("typed", ["１３８００１３８０００", "+8613800138000", "008613800138000",
                                   "+86 138-0013-8000", " 13800138000 "])
def test_mobile_forms_are_normalised(portal, outbox, typed):
    assert portal.request_code(typed).status_code == 200
    assert outbox.messages()[-1]["to"] == MOBILE


# --- SMS codes -----------------------------------------------------------------------------


def test_wrong_code_five_times_kills_the_code(portal, outbox):
    portal.request_code(MOBILE)
    right = outbox.last_code(MOBILE)
    wrong = "000000" if right != "000000" else "111111"
    for _attempt in range(4):
        response = portal.submit_code(MOBILE, wrong)
        assert response.status_code == 400
        assert "手机验证码错误。" in response.get_data(as_text=True)
    response = portal.submit_code(MOBILE, wrong)  # the 5th kills it, and says so
    assert response.status_code == 400
    assert "错误次数过多" in response.get_data(as_text=True)
    response = portal.submit_code(MOBILE, right)
    assert response.status_code == 400
    assert "错误次数过多" in response.get_data(as_text=True)


def test_right_code_after_four_wrong_ones_logs_in(portal, outbox):
    """Message and rule agree: a code that was not called dead still works."""
    portal.request_code(MOBILE)
    right = outbox.last_code(MOBILE)
    wrong = "000000" if right != "000000" else "111111"
    for _attempt in range(4):
        page = portal.submit_code(MOBILE, wrong).get_data(as_text=True)
        assert "手机验证码错误。" in page and "错误次数过多" not in page
    assert portal.submit_code(MOBILE, right).status_code == 302


def test_expired_code_refused(portal, app, outbox):
    portal.request_code(MOBILE)
    with app.app_context():
        db.session.execute(update(SmsCode).values(expires_at=SmsCode.created_at))
        db.session.commit()
    response = portal.submit_code(MOBILE, outbox.last_code(MOBILE))
    assert response.status_code == 400 and "手机验证码已过期" in response.get_data(as_text=True)


def test_code_is_single_use(portal, client, outbox):
    portal.login_sms(MOBILE)
    token = csrf_in(client.get("/account").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    response = portal.submit_code(MOBILE, outbox.last_code(MOBILE))
    assert response.status_code == 400


def test_code_for_another_number_refused(portal, outbox):
    portal.request_code(MOBILE)
    response = portal.submit_code("13900139000", outbox.last_code(MOBILE))
    assert response.status_code == 400 and "请先获取手机验证码" in response.get_data(as_text=True)


def test_resend_within_a_minute_says_seconds_left(portal, outbox):
    assert portal.request_code(MOBILE).status_code == 200
    response = portal.request_code(MOBILE)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "不到一分钟前已发送验证码" in page and "秒后再试" in page
    assert len(outbox.messages()) == 1


def test_eleventh_send_in_an_hour_refused(portal, app, outbox):
    for _ in range(10):
        assert portal.request_code(MOBILE).status_code == 200
        forget_minute_limit(app)
    response = portal.request_code(MOBILE)
    assert response.status_code == 400
    assert "获取验证码次数过多" in response.get_data(as_text=True)
    assert len(outbox.messages()) == 10


def test_thirty_sends_an_hour_per_client_ip(portal, outbox):
    for n in range(30):
        assert portal.request_code(f"139{n:08d}").status_code == 200
    response = portal.request_code("13700000000")
    assert response.status_code == 400 and "获取验证码次数过多" in response.get_data(as_text=True)
    assert len(outbox.messages()) == 30


def test_disabled_account_cannot_log_in(portal, make_enterprise, outbox):
    make_enterprise(MOBILE, active=False)
    portal.request_code(MOBILE)
    response = portal.submit_code(MOBILE, outbox.last_code(MOBILE))
    assert response.status_code == 400 and "账号已停用" in response.get_data(as_text=True)


def test_missing_code_and_missing_captcha_named_beside_fields(portal):
    html = portal.login_page()
    response = portal.client.post("/login", data={
        "csrf_token": csrf_in(html), "sms-mobile": MOBILE, "sms-send_code": "1"})
    assert response.status_code == 400 and "请输入图片中的字符" in response.get_data(as_text=True)
    response = portal.submit_code(MOBILE, "")
    assert response.status_code == 400
    assert "请输入发送到手机的 6 位验证码" in response.get_data(as_text=True)
