"""Every SMS is in one language (Chinese) after the office's bracketed signature
(``SMS_SIGNATURE``, 【人才服务】 by default), whatever the language of the page that sent it."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from talentadmin.accounts.models import EnterpriseUser
from talentadmin.core import notify, sms
from talentadmin.core.i18n import LANG_COOKIE
from talentadmin.core.models import SmsOutbox
from talentadmin.extensions import db

MOBILE = "13800138000"


@contextmanager
def signature(app, value):
    saved = app.config["SMS_SIGNATURE"]
    app.config["SMS_SIGNATURE"] = value
    try:
        yield
    finally:
        app.config["SMS_SIGNATURE"] = saved


def queued(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(select(SmsOutbox.text).order_by(SmsOutbox.id)).scalars())


def test_the_default_signature_is_neutral(app):
    assert app.config["SMS_SIGNATURE"] == "【人才服务】"


@pytest.mark.parametrize(("setting", "head"), [
    ("【朝阳区人才服务】", "【朝阳区人才服务】"),
    ("朝阳区人才服务", "【朝阳区人才服务】"),  # the brackets are added
    (" [朝阳区人才服务] ", "【朝阳区人才服务】"),  # ASCII brackets and spaces become 【】
    ("", ""),  # none: a gateway that adds its own
    ("【】", ""),
])
def test_the_signature_is_configurable(app, setting, head):
    with signature(app, setting), app.test_request_context():
        assert sms.signed("您的申报已通过初审。") == head + "您的申报已通过初审。"


def test_a_notice_sms_is_chinese_from_an_english_page(app, make_enterprise):
    user_id = make_enterprise(MOBILE)
    with app.test_request_context(headers={"Cookie": f"{LANG_COOKIE}=en"}):
        notice = notify.notify(db.session.get(EnterpriseUser, user_id), "permit.approved")
        assert notify.render(notice).startswith("Your business permission")  # the page: en
        db.session.commit()
    assert queued(app) == ["【人才服务】业务权限已审核通过，可以新增申报、填报个人信息。"]


def test_a_bulk_notice_sms_is_signed_once(app, make_enterprise):
    with signature(app, "朝阳区人才服务"), app.test_request_context(
            headers={"Cookie": f"{LANG_COOKIE}=en"}):
        text = notify.sms_text("declaration.passed_initial",
                               names=[f"申报人{n}" for n in range(7)])
    assert text.startswith("【朝阳区人才服务】申报人0、申报人1")
    assert text.count("【") == 1 and "已通过初审" in text


def test_an_office_text_is_signed(app):
    with app.test_request_context():
        notify.send_raw(MOBILE, "请于本周内补充材料。")
        db.session.commit()
    assert queued(app) == ["【人才服务】请于本周内补充材料。"]


def _code_text(client, portal, outbox, language: str | None) -> str:
    if language:
        client.set_cookie(LANG_COOKIE, language, domain="localhost")
    else:
        client.delete_cookie(LANG_COOKIE, domain="localhost")
    assert portal.request_code(MOBILE).status_code == 200
    text = outbox.messages()[-1]["text"]
    from ..conftest import forget_minute_limit

    forget_minute_limit(portal.app)
    return text


def test_the_login_code_sms_is_the_same_from_either_language(client, portal, outbox):
    chinese = _code_text(client, portal, outbox, None)
    english = _code_text(client, portal, outbox, "en")
    assert chinese.startswith("【人才服务】") and english.startswith("【人才服务】")
    assert "[Talent Introduction]" not in english
    same = re.compile(r"\d{6}")
    assert same.sub("CODE", chinese) == same.sub("CODE", english)  # one language


def test_no_sms_is_composed_outside_the_signature():
    """Every SMS text gets its head from ``sms.signed``: no feature writes a signature of
    its own (the old ``[Talent Introduction]`` prefix) into a catalog string."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "talentadmin"
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if "[Talent Introduction]" in path.read_text("utf-8")
                 or "【人才引进】" in path.read_text("utf-8")]
    assert offenders == []
