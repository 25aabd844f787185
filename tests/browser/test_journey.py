"""The whole enterprise journey in a real browser, in Chinese (the default) and in English.

Register by SMS, certify the unit with a licence photo (real OCR), apply for the business
permission, have a reviewer approve it in the admin, then file a declaration. Every step
checks the visible texts in the chosen language.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from talentadmin.core.validators import age_on

from ..conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.ocr]  # the licence is read by the real engine

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

LICENCES = Path(__file__).resolve().parents[1] / "fixtures" / "licences"
LICENCE = "dev01_clean.jpg"
MOBILE = "13812345678"
ID_NUMBER = "11010519491231002X"  # born 1949-12-31, female
ID_MASKED = "1101**********002X"
OCR_TIMEOUT = 120_000  # the first recognition also loads the OCR models

TEXTS = {
    "zh_Hans_CN": {
        "language_name": "中文",
        "mobile": "手机号", "image_code": "图形验证码", "sms_code": "手机验证码",
        "get_code": "获取验证码", "login_register": "登录/注册",
        "code_sent": "手机验证码已发送至 {mobile}。",
        "my_certification": "我的认证", "unit_certification": "单位认证",
        "licence": "营业执照", "upload": "上传并识别",
        "unit_name": "单位名称", "credit_code": "统一社会信用代码", "email": "邮箱",
        "submit": "提交", "approved": "已通过",
        "cert_approved": "认证已通过：营业执照识别成功，自动通过。",
        "declare": "需求申报", "apply": "申请开通", "business_permission": "业务权限",
        "hightech": "高新技术企业", "hightech_cert": "高新技术企业证书",
        "registered_district": "注册地所在区", "tax_district": "纳税所在区",
        "field": "从事领域", "district": "朝阳区", "field_choice": "人工智能",
        "contact": "单位联系人", "contact_mobile": "联系电话", "intro": "企业简介",
        "intro_text": "人工智能软件研发企业，员工约一百二十人。",
        "submitted": "提交成功",
        "username": "用户名", "password": "密码", "log_in": "登录",
        "approve": "通过", "decision_saved": "审核意见已保存。",
        "new_declaration": "新增申报", "name": "姓名", "id_number": "身份证",
        "political_status": "政治面貌", "party_member": "中共党员",
        "title": "职称", "title_value": "无",
        "education": "最高学历", "education_value": "大学本科",
        "degree": "最高学位", "degree_value": "学士",
        "school": "最高学历(学位)所在院校", "major": "所学专业",
        "condition": "引进依据及条件", "condition_value": "拥有发明专利（专利条款）",
        "social_insurance": "2020年1月至今《北京市社会保险个人权益记录（参保人员缴费信息）》（PDF）",
        "integrity": "《诚信声明》（法人签字盖公章）扫描件",
        "evidence": "根据所选“引进依据及条件”需要佐证的其他材料",
        "declaration_submitted": "提交成功，申报进入“待审核”状态。",
        "pending": "待审核", "female": "女",
        "person": "张晓雯", "school_value": "清华大学", "major_value": "计算机科学与技术",
    },
    "en": {
        "language_name": "English",
        "mobile": "Mobile number", "image_code": "Image code", "sms_code": "SMS code",
        "get_code": "Get SMS code", "login_register": "Log in / Register",
        "code_sent": "An SMS code has been sent to {mobile}.",
        "my_certification": "My certification", "unit_certification": "Unit certification",
        "licence": "Business licence", "upload": "Upload and recognise",
        "unit_name": "Unit name", "credit_code": "Unified social credit code",
        "email": "Email", "submit": "Submit", "approved": "Approved",
        "cert_approved": "Certification approved: the licence was recognised.",
        "declare": "Demand declaration", "apply": "Apply to open",
        "business_permission": "Business permission",
        "hightech": "High-tech enterprise", "hightech_cert": "High-tech enterprise certificate",
        "registered_district": "District of registration",
        "tax_district": "District of tax payment", "field": "Field of business",
        "district": "Chaoyang", "field_choice": "Artificial intelligence",
        "contact": "Unit contact person", "contact_mobile": "Contact number",
        "intro": "Company profile",
        "intro_text": "Develops AI software; about 120 employees.",
        "submitted": "Submitted successfully",
        "username": "Username", "password": "Password", "log_in": "Log in",
        "approve": "Approve", "decision_saved": "Decision saved.",
        "new_declaration": "New declaration", "name": "Name", "id_number": "ID card number",
        "political_status": "Political status", "party_member": "CPC member",
        "title": "Professional title", "title_value": "none",
        "education": "Highest education", "education_value": "Undergraduate",
        "degree": "Highest degree", "degree_value": "Bachelor",
        "school": "School of the highest education (degree)", "major": "Major",
        "condition": "Introduction basis and condition",
        "condition_value": "Holds invention patents (patent clause)",
        "social_insurance": "Beijing social insurance record since January 2020 (PDF)",
        "integrity": "Integrity statement, signed and sealed (scan)",
        "evidence": "Evidence for the chosen condition",
        "declaration_submitted": "Submitted. The declaration is pending review.",
        "pending": "Pending review", "female": "Female",
        "person": "Zhang Xiaowen", "school_value": "Tsinghua University",
        "major_value": "Computer science",
    },
}


def truth() -> dict:
    return json.loads((LICENCES / "truth.json").read_text("utf-8"))[LICENCE]


def make_files(folder: Path) -> dict[str, Path]:
    """Small but real PDF and PNG files, as a user would upload them."""

    def pdf(name: str, colour: str) -> Path:
        path = folder / name
        Image.new("RGB", (120, 160), colour).save(path, "PDF")
        return path

    def png(name: str) -> Path:
        path = folder / name
        Image.new("RGB", (120, 160), "white").save(path, "PNG")
        return path

    return {
        "hightech": pdf("hightech-certificate.pdf", "white"),
        "tax_1": pdf("tax-1.pdf", "white"), "tax_2": pdf("tax-2.pdf", "lightgrey"),
        "tax_3": png("tax-3.png"),
        "social_insurance": pdf("social-insurance.pdf", "white"),
        "integrity": png("integrity-statement.png"),
        "evidence_1": pdf("patent-1.pdf", "white"), "evidence_2": pdf("patent-2.pdf", "ivory"),
    }


def label(page, text: str):
    """The form control with exactly this label (a missing label fails the test)."""
    return page.get_by_label(text, exact=True)


def button(page, text: str):
    return page.get_by_role("button", name=text, exact=True)


def nav(page, text: str):
    """A link of the portal's top bar."""
    return page.locator("header").get_by_role("link", name=text, exact=True)


def choose_language(page, language: str) -> None:
    """Chinese is the default; English is chosen with the switch at the top right."""
    if language == "en":
        page.locator(".language-switch").get_by_role("button", name="English").click()
    expect(page.locator(".language-switch .lang-current")).to_have_text(
        TEXTS[language]["language_name"])


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_enterprise_journey(language, page, contexts, shot, outbox, make_staff, open_round,
                            tmp_path):
    t = TEXTS[language]
    files = make_files(tmp_path)
    expected = truth()

    # 1. Register: a new mobile number, the image code, the SMS code from the outbox.
    page.goto("/login")
    choose_language(page, language)
    expect(page.locator("html")).to_have_attribute("lang", "en" if language == "en" else "zh-Hans")
    expect(page).to_have_url(re.compile(r"/login$"))
    label(page, t["mobile"]).fill(MOBILE)
    label(page, t["image_code"]).fill("PASSED")
    button(page, t["get_code"]).click()
    expect(page.get_by_role("status").filter(has_text=MOBILE)).to_have_text(
        t["code_sent"].format(mobile=MOBILE))
    expect(label(page, t["mobile"])).to_have_value(MOBILE)
    label(page, t["sms_code"]).fill(outbox.last_code(MOBILE))
    shot("1-login-code-sent")
    button(page, t["login_register"]).click()
    page.wait_for_url("**/")
    expect(nav(page, t["my_certification"])).to_be_visible()
    shot("1-registered")

    # 2. Certify: upload the licence, the recognised values are pre-filled, submit.
    nav(page, t["my_certification"]).click()
    page.wait_for_url("**/certification/upload")
    expect(page.get_by_role("heading", name=t["unit_certification"])).to_be_visible()
    label(page, t["licence"]).set_input_files(LICENCES / LICENCE)
    shot("2-licence-chosen")
    button(page, t["upload"]).click()
    page.wait_for_url(re.compile(r"/certification/\d+/confirm$"), timeout=OCR_TIMEOUT)
    expect(label(page, t["unit_name"])).to_have_value(expected["name"])
    expect(label(page, t["credit_code"])).to_have_value(expected["credit_code"])
    label(page, t["email"]).fill("hr@example.com")
    shot("2-recognised")
    button(page, t["submit"]).click()
    page.wait_for_url("**/certification/")
    expect(page.get_by_role("status").filter(has_text=t["cert_approved"])).to_be_visible()
    expect(page.locator(".alert-success strong")).to_have_text(t["approved"])
    expect(page.locator("dl")).to_contain_text(expected["credit_code"])
    shot("2-certified")

    # 3. Apply for the business permission.
    nav(page, t["declare"]).click()
    page.wait_for_url("**/talent/declare")
    page.get_by_role("link", name=t["apply"], exact=True).click()
    page.wait_for_url("**/talent/permit/apply")
    expect(page.locator("#unit_name")).to_have_value(expected["name"])
    label(page, t["hightech"]).check()
    label(page, t["hightech_cert"]).set_input_files(files["hightech"])
    label(page, t["registered_district"]).select_option(label=t["district"])
    label(page, t["tax_district"]).select_option(label=t["district"])
    label(page, t["field"]).select_option(label=t["field_choice"])
    label(page, t["contact"]).fill("王经办" if language != "en" else "Wang Jingban")
    label(page, t["contact_mobile"]).fill("13900001111")
    for n, amount in ((1, "125.50"), (2, "98"), (3, "0.75")):
        page.locator(f"#tax_{n}").fill(amount)
        page.locator(f"#tax_file_{n}").set_input_files(files[f"tax_{n}"])
    label(page, t["intro"]).fill(t["intro_text"])
    shot("3-permit-form")
    button(page, t["submit"]).click()
    page.wait_for_url(re.compile(r"/talent/permit/\d+/submitted$"))
    expect(page.get_by_role("heading", name=t["submitted"])).to_be_visible()
    shot("3-permit-submitted")
    nav(page, t["declare"]).click()
    page.wait_for_url("**/talent/declare")
    expect(page.locator("section.card .badge")).to_have_text(t["pending"])

    # 4. An initial reviewer approves it in the admin (a second browser).
    make_staff("reviewer", "initial_reviewer")
    admin = contexts.new_page()
    admin.goto("/admin/login")
    choose_language(admin, language)
    label(admin, t["username"]).fill("reviewer")
    label(admin, t["password"]).fill(PASSWORD)
    button(admin, t["log_in"]).click()
    admin.wait_for_url(re.compile(r"/admin/?$"))
    admin.goto("/admin/permit_review/")
    row = admin.get_by_role("row").filter(has_text=expected["credit_code"])
    expect(row).to_have_count(1)
    shot("4-review-grid", admin)
    row.locator('a[href*="/admin/permit_review/details/"]').click()
    admin.wait_for_url(re.compile(r"/admin/permit_review/details/\?id=\d+"))
    expect(admin.get_by_role("heading", name=expected["name"])).to_be_visible()
    button(admin, t["approve"]).click()
    expect(admin.locator(".alert").filter(has_text=t["decision_saved"])).to_be_visible()
    expect(admin.locator("h4 .badge")).to_have_text(t["approved"])
    shot("4-approved", admin)

    page.reload()
    permission = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=t["business_permission"]))
    expect(permission.locator(".badge")).to_have_text(t["approved"])
    shot("4-enterprise-sees-approval", page)

    # 5. A new declaration in the open round.
    page.get_by_role("link", name=t["new_declaration"], exact=True).click()
    page.wait_for_url("**/talent/declarations/new")
    label(page, t["name"]).fill(t["person"])
    label(page, t["id_number"]).fill(ID_NUMBER)
    label(page, t["political_status"]).select_option(label=t["party_member"])
    label(page, t["title"]).fill(t["title_value"])
    label(page, t["education"]).select_option(label=t["education_value"])
    label(page, t["degree"]).select_option(label=t["degree_value"])
    label(page, t["school"]).fill(t["school_value"])
    label(page, t["major"]).fill(t["major_value"])
    label(page, t["condition"]).select_option(label=t["condition_value"])
    label(page, t["social_insurance"]).set_input_files(files["social_insurance"])
    label(page, t["integrity"]).set_input_files(files["integrity"])
    label(page, t["evidence"]).set_input_files([files["evidence_1"], files["evidence_2"]])
    shot("5-declaration-form", page)
    button(page, t["submit"]).click()
    page.wait_for_url(re.compile(r"/talent/declarations/\d+$"))
    expect(page.get_by_role("status")).to_have_text(t["declaration_submitted"])
    expect(page.locator("h1 .badge")).to_have_text(t["pending"])
    age = str(age_on(date(1949, 12, 31), date.today()))
    details = page.locator("dl")
    expect(details).to_contain_text(ID_MASKED)
    expect(details).to_contain_text(t["female"])
    expect(details).to_contain_text(age)
    expect(details.locator("li a")).to_have_count(4)  # social insurance, statement, 2 proofs
    shot("5-declaration-submitted", page)

    page.goto("/talent/declare")
    declaration = page.get_by_role("row").filter(has_text=ID_MASKED)
    expect(declaration).to_have_count(1)
    expect(declaration).to_contain_text(t["person"])
    expect(declaration.locator(".badge")).to_have_text(t["pending"])
    shot("5-declaration-listed", page)
