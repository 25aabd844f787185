"""No page tells which mobile numbers or usernames have an account.

Answers for a registered and an unregistered name are compared byte for byte, after the
per-request tokens (CSRF, image code, CSP nonce) and the typed name itself are blanked.
Timing: a failed password login runs the same scrypt check whether the name is known or
not (the test counts the key derivations; it does not time anything).
"""

from __future__ import annotations

import re

import pytest
from werkzeug import security

from talentadmin.accounts import models as account_models

from ..conftest import PASSWORD, captcha_in, csrf_in

OWN, TAKEN, FREE = "13800138000", "13900139000", "13700137000"


def blank(page: str, *names: str) -> str:
    """The page with its per-request tokens and the given names replaced by fixed text."""
    page = re.sub(r'(name="(?:[\w-]*-)?(?:csrf_token|captcha_id)"[^>]*value=")[^"]+"',
                  r'\1TOKEN"', page)
    page = re.sub(r'(value=")[^"]+("[^>]*name="(?:[\w-]*-)?(?:csrf_token|captcha_id)")',
                  r'\1TOKEN\2', page)
    page = re.sub(r"/captcha/[\w-]+\.png", "/captcha/TOKEN.png", page)
    page = re.sub(r'nonce="[^"]+"', 'nonce="TOKEN"', page)
    for name in names:
        page = page.replace(name, "NAME")
    return page


# --- changing the registered mobile number -----------------------------------------------


def _send_change_code(portal, mobile: str, captcha: str | None = None):
    html = portal.client.get("/account/mobile").get_data(as_text=True)
    challenge_id, right = captcha_in(html, portal.app)
    return portal.client.post("/account/mobile", data={
        "csrf_token": csrf_in(html), "new_mobile": mobile, "captcha_id": challenge_id,
        "captcha": right if captcha is None else captcha, "send_code": "1"})


def test_change_mobile_answers_the_same_for_a_taken_and_a_free_number(
        portal, make_enterprise, outbox):
    make_enterprise(TAKEN)
    portal.login_sms(OWN)
    taken = _send_change_code(portal, TAKEN)
    free = _send_change_code(portal, FREE)
    assert taken.status_code == free.status_code == 200
    assert blank(taken.get_data(as_text=True), TAKEN) == blank(free.get_data(as_text=True), FREE)
    assert [m["to"] for m in outbox.messages()] == [OWN, FREE]  # nothing to the taken number

    # The last step too: a wrong code reads the same for either number.
    pages = [portal.post_form("/account/mobile", {
        "new_mobile": mobile, "sms_code": "000001", "submit": "1"}) for mobile in (TAKEN, FREE)]
    assert [page.status_code for page in pages] == [400, 400]
    assert blank(pages[0].get_data(as_text=True), TAKEN) == blank(
        pages[1].get_data(as_text=True), FREE)


def test_change_mobile_last_step_does_not_tell_without_a_code(portal, make_enterprise):
    make_enterprise(TAKEN)
    portal.login_sms(OWN)
    pages = [portal.post_form("/account/mobile", {
        "new_mobile": mobile, "sms_code": "000001", "submit": "1"}) for mobile in (TAKEN, FREE)]
    assert [page.status_code for page in pages] == [400, 400]
    assert "已被其他账号使用" not in pages[0].get_data(as_text=True)
    assert blank(pages[0].get_data(as_text=True), TAKEN) == blank(
        pages[1].get_data(as_text=True), FREE)


def test_change_mobile_counts_a_taken_number_like_a_send(portal, make_enterprise, outbox):
    make_enterprise(TAKEN)
    portal.login_sms(OWN)
    answers = []
    for mobile in (TAKEN, FREE):
        assert _send_change_code(portal, mobile).status_code == 200
        again = _send_change_code(portal, mobile)  # within the minute
        assert again.status_code == 400
        answers.append(re.sub(r"\d+ 秒", "N 秒", blank(again.get_data(as_text=True), mobile)))
    assert "不到一分钟前已发送验证码" in answers[0]
    assert answers[0] == answers[1]


@pytest.mark.parametrize("captcha", ["WRONG", ""])
def test_change_mobile_sends_nothing_without_the_image_code(
        portal, make_enterprise, outbox, captcha):
    make_enterprise(TAKEN)
    portal.login_sms(OWN)
    for mobile in (TAKEN, FREE):
        response = _send_change_code(portal, mobile, captcha=captcha)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "图形验证码错误" in page or "请输入图片中的字符" in page
        assert "已被其他账号使用" not in page
    assert [m["to"] for m in outbox.messages()] == [OWN]


# --- login pages -------------------------------------------------------------------------


def test_sms_login_answers_the_same_for_a_registered_and_a_new_number(
        portal, make_enterprise):
    make_enterprise(TAKEN)
    known = portal.request_code(TAKEN)
    new = portal.request_code(FREE)
    assert known.status_code == new.status_code == 200
    assert blank(known.get_data(as_text=True), TAKEN) == blank(new.get_data(as_text=True), FREE)


def test_password_login_answers_the_same_for_a_registered_and_an_unknown_number(
        portal, make_enterprise):
    make_enterprise(TAKEN)
    make_enterprise(OWN, password=None)  # registered by SMS, no password yet
    pages = [portal.login_password(mobile, "wrong-password")
             for mobile in (TAKEN, OWN, FREE)]
    assert [page.status_code for page in pages] == [400, 400, 400]
    first, *others = [blank(page.get_data(as_text=True), mobile)
                      for page, mobile in zip(pages, (TAKEN, OWN, FREE), strict=True)]
    assert all(other == first for other in others)


def test_staff_login_answers_the_same_for_a_known_and_an_unknown_name(client, make_staff):
    make_staff("reviewer", "initial_reviewer")
    pages = []
    for username in ("reviewer", "nobody01"):
        html = client.get("/admin/login").get_data(as_text=True)
        response = client.post("/admin/login", data={
            "csrf_token": csrf_in(html), "username": username, "password": "wrong-password"})
        assert response.status_code == 400
        pages.append(blank(response.get_data(as_text=True), username))
    assert pages[0] == pages[1]


# --- the same work for a known and an unknown name ---------------------------------------


@pytest.fixture
def derivations(monkeypatch):
    """The scrypt parameters of every password check, in order."""
    seen: list[str] = []
    real = security.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        seen.append(pwhash.split("$", 1)[0])  # "scrypt:N:r:p": the cost, not the hash
        return real(pwhash, password)

    monkeypatch.setattr(account_models, "check_password_hash", spy)
    return seen


def test_unknown_staff_name_costs_one_scrypt_check_like_a_known_one(
        client, make_staff, app, derivations):
    make_staff("reviewer", "initial_reviewer")
    for username in ("reviewer", "nobody01"):
        html = client.get("/admin/login").get_data(as_text=True)
        client.post("/admin/login", data={
            "csrf_token": csrf_in(html), "username": username, "password": "wrong-password"})
    method = app.config["PASSWORD_HASH_METHOD"]  # the test suite's cost; production's is scrypt
    real = security.generate_password_hash(PASSWORD, method=method).split("$", 1)[0]
    assert real.startswith("scrypt:")
    assert derivations == [real, real]


def test_unknown_number_and_passwordless_account_cost_one_scrypt_check(
        app, portal, make_enterprise, derivations):
    make_enterprise(TAKEN)
    make_enterprise(OWN, password=None)
    for mobile in (TAKEN, OWN, FREE):
        portal.login_password(mobile, "wrong-password")
    method = app.config["PASSWORD_HASH_METHOD"]
    real = security.generate_password_hash(PASSWORD, method=method).split("$", 1)[0]
    assert derivations == [real, real, real]
