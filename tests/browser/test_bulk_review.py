"""A reviewer rejects several declarations at once, with one reason, in Chinese."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from talentadmin.accounts.models import EnterpriseUser
from talentadmin.core.timeutil import utcnow
from talentadmin.core.validators import id_check_char
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import PASSWORD

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


@pytest.fixture
def queue(app, open_round):
    """Three declarations waiting for the initial review (written straight to the database)."""
    with app.app_context():
        user = EnterpriseUser(mobile="13800138000")
        db.session.add(user)
        db.session.flush()
        for n in range(3):
            body = f"1101051980010100{n}"
            d = Declaration(enterprise_user_id=user.id, round_id=open_round,
                            status="pending_initial", unit_name="北京云帆智联科技有限公司",
                            credit_code="91110105MA01R8DQ2M", name=f"申报人{n}",
                            gender="male", age=46, submitted_at=utcnow())
            d.set_id_number(body + id_check_char(body))
            db.session.add(d)
        db.session.commit()


def initial_queue(contexts, make_staff):
    """A reviewer logged in (in Chinese) and looking at the three-row initial queue."""
    make_staff("reviewer", "initial_reviewer")
    admin = contexts.new_page()
    admin.goto("/admin/login")
    admin.get_by_label("用户名", exact=True).fill("reviewer")
    admin.get_by_label("密码", exact=True).fill(PASSWORD)
    admin.get_by_role("button", name="登录", exact=True).click()
    admin.wait_for_url(re.compile(r"/admin/?$"))
    admin.goto("/admin/declaration_initial/")
    expect(admin.get_by_role("row").filter(has_text="申报人")).to_have_count(3)
    return admin


def test_bulk_reject_with_a_reason_in_chinese(app, contexts, shot, make_staff, queue):
    admin = initial_queue(contexts, make_staff)
    shot("queue", admin)

    admin.locator("input.action-rowtoggle").check()
    admin.get_by_label("常用原因").select_option(label="附件材料不完整，请补充上传后重新提交。")
    admin.locator("#bulk-reason").fill("缺少学位证书扫描件")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="批量操作").click()
    admin.locator('[data-model-action="reject_initial"]').click()
    admin.wait_for_load_state()
    expect(admin.locator(".alert").filter(  # zh or en: the message's words, before the catalogs
        has_text=re.compile(r"(初审未通过|Not approved in the initial review):? 3"))).to_be_visible()
    shot("rejected", admin)

    with app.app_context():
        rows = db.session.execute(select(Declaration.status, Declaration.reason)).all()
    assert {status for status, _ in rows} == {"rejected"}
    assert {reason for _, reason in rows} == {
        "附件材料不完整，请补充上传后重新提交。\n缺少学位证书扫描件"}


def test_filter_the_queue_by_status_and_reset(app, contexts, make_staff, queue):
    """The grid's filter bar (Flask-Admin's filter script over our markup) in Chinese."""
    admin = initial_queue(contexts, make_staff)

    admin.locator('a[data-toggle="dropdown"]', has_text=re.compile(r"^\s*筛选\s*$")).click()
    admin.locator(".field-filters a.filter", has_text="状态").click()
    # select2 hides the native select; set it as select2 does
    admin.locator("table.filters select.filter-val").select_option(label="待复审", force=True)
    admin.get_by_role("button", name="应用").click()
    admin.wait_for_url(re.compile(r"flt\d+_\d+=pending_second"))
    expect(admin.get_by_role("row").filter(has_text="申报人")).to_have_count(0)
    expect(admin.get_by_role("link", name="列表 (0)")).to_be_visible()
    admin.get_by_role("link", name="清除筛选").click()
    expect(admin.get_by_role("row").filter(has_text="申报人")).to_have_count(3)
