"""A supervisor filters the grid by district, then searches it by ID number, in Chinese: the
filter bar works on a permission column, and the number never shows in the address."""

from __future__ import annotations

import re

import pytest

from talentadmin.accounts.models import EnterpriseUser
from talentadmin.core.timeutil import utcnow
from talentadmin.core.validators import id_check_char
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.permits.models import Permit, PermitRevision

from ..conftest import PASSWORD

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

NUMBERS = [body + id_check_char(body) for body in ("11010519800101001", "11010519800101002",
                                                   "11010519800101003")]


@pytest.fixture
def units(app, open_round):
    """Two units with permissions in force (朝阳区, 海淀区) and their declarations."""
    with app.app_context():
        for n, (mobile, district, numbers) in enumerate(
                (("13800138000", "chaoyang", NUMBERS[:2]), ("13800138001", "haidian",
                                                            NUMBERS[2:]))):
            user = EnterpriseUser(mobile=mobile)
            permit = Permit(enterprise_user=user)
            revision = PermitRevision(
                permit=permit, status="approved", unit_name=f"单位{n}",
                credit_code="91110105MA01R8DQ2M", qualifications=["hightech"],
                registered_district=district, tax_district=district, field="ai",
                contact_name="王经办", contact_mobile="13900001111", tax_year_1=2025,
                tax_amount_1=1, tax_year_2=2024, tax_amount_2=1, tax_year_3=2023,
                tax_amount_3=1, intro="—")
            db.session.add_all([user, permit, revision])
            db.session.flush()
            permit.in_force_id = revision.id
            for number in numbers:
                d = Declaration(enterprise_user_id=user.id, round_id=open_round,
                                status="pending_initial", unit_name=f"单位{n}",
                                credit_code="91110105MA01R8DQ2M", name=f"申报人{number[-2:]}",
                                submitted_at=utcnow())
                d.set_id_number(number)
                db.session.add(d)
        db.session.commit()


def test_filter_by_district_then_search_by_id_number(contexts, make_staff, units):
    make_staff("boss", "supervisor")
    admin = contexts.new_page()
    admin.goto("/admin/login")
    admin.get_by_label("用户名", exact=True).fill("boss")
    admin.get_by_label("密码", exact=True).fill(PASSWORD)
    admin.get_by_role("button", name="登录", exact=True).click()
    admin.wait_for_url(re.compile(r"/admin/?$"))
    admin.goto("/admin/declaration_all/")
    rows = admin.get_by_role("row").filter(has_text="申报人")
    expect(rows).to_have_count(3)

    admin.locator('a[data-toggle="dropdown"]', has_text=re.compile(r"^\s*筛选\s*$")).click()
    admin.locator(".field-filters a.filter", has_text="注册地所在区").click()
    admin.locator("table.filters select.filter-val").select_option(label="朝阳区", force=True)
    admin.get_by_role("button", name="应用").click()
    admin.wait_for_url(re.compile(r"flt\d+_\d+=chaoyang"))
    expect(rows).to_have_count(2)

    admin.get_by_placeholder(re.compile("身份证号")).fill(NUMBERS[1])
    admin.get_by_role("button", name="搜索").click()
    admin.wait_for_url(re.compile(r"search=idx"))
    assert NUMBERS[1] not in admin.url and "chaoyang" in admin.url  # the filter kept
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("申报人" + NUMBERS[1][-2:])
    expect(admin.get_by_placeholder(re.compile("身份证号"))).to_have_value(
        NUMBERS[1][:4] + "*" * 10 + NUMBERS[1][-4:])
