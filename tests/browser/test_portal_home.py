"""The portal home in a real browser, in Chinese (the default) and in English: 通知公告 and
政策文件 side by side with their dates, a notice opened on its own page, the 操作指南
downloaded as the PDF an admin uploaded, 常见问题, the footer's 主办单位 and 备案 numbers, and,
once an enterprise has signed in, the step bar 注册 → 认证 → 开通 → 申报 on one row with the
current step marked.

New strings are asserted in English only (the Chinese catalog is filled later); in Chinese
the office's own texts and the page's structure are checked."""

from __future__ import annotations

import io
from datetime import date

import pytest
from werkzeug.datastructures import FileStorage

from talentadmin.extensions import db
from talentadmin.pages import operations
from talentadmin.pages.models import PageText, PortalItem

from ..conftest import PASSWORD, pdf_bytes

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

NOTICE = {"zh_Hans_CN": "关于开展2026年度引进人才需求申报工作的通知",
          "en": "Notice on the 2026 talent-introduction declaration"}
POLICY = {"zh_Hans_CN": "朝阳区引进人才管理办法", "en": "Chaoyang talent-introduction measures"}


def publish(app) -> bytes:
    guide = pdf_bytes()
    with app.test_request_context():
        db.session.add_all([
            PortalItem(kind="notice", title_zh=NOTICE["zh_Hans_CN"], title_en=NOTICE["en"],
                       body_zh="各有关单位：\n申报时间为3月1日至3月31日。",
                       body_en="To all units:\nDeclarations are open from 1 to 31 March.",
                       published_on=date(2026, 3, 1), published=True),
            PortalItem(kind="policy", title_zh=POLICY["zh_Hans_CN"], title_en=POLICY["en"],
                       body_zh="第一条 为做好人才引进工作……", body_en="Article 1 …",
                       published_on=date(2025, 12, 20), published=True),
        ])
        operations.replace_file(FileStorage(io.BytesIO(guide), filename="操作指南.pdf"))
        icp = db.session.query(PageText).filter_by(key="icp_record").one()
        icp.body_zh = "京ICP备12345678号"
        db.session.commit()
    return guide


def choose_language(page, language: str) -> None:
    if language == "en":
        page.locator(".language-switch").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute(
        "lang", "en" if language == "en" else "zh-Hans")


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_portal_home(language, app, page, shot, make_enterprise, tmp_path):
    guide = publish(app)
    make_enterprise("13800138000")
    page.goto("/")
    choose_language(page, language)
    shot("home")

    notices, policies = page.locator("#home-announcements"), page.locator("#home-policies")
    expect(notices.get_by_role("link", name=NOTICE[language])).to_be_visible()
    expect(notices).to_contain_text("2026-03-01")
    expect(policies.get_by_role("link", name=POLICY[language])).to_be_visible()
    # the two lists side by side at 1280 px, each a box of its own
    a, b = notices.bounding_box(), policies.bounding_box()
    assert abs(a["y"] - b["y"]) < 2 and a["x"] + a["width"] <= b["x"]
    expect(page.locator("#home-faq")).to_contain_text(
        "问：个人可以申报吗？" if language != "en" else "Q: Can an individual declare?")
    footer = page.locator(".site-footer")
    expect(footer.get_by_role("link", name="京ICP备12345678号")).to_have_attribute(
        "href", "https://beian.miit.gov.cn/")
    expect(footer).to_contain_text("中共北京市朝阳区委人才工作领导小组办公室"
                                   if language != "en" else "Talent Work Office")
    expect(page.locator("#footer-police_record")).to_have_count(0)  # left empty: not shown
    expect(page.locator(".step-bar")).to_have_count(0)  # nobody signed in
    if language == "en":
        expect(page.locator("#home-guide")).to_contain_text("Download the operation guide")

    with page.expect_download() as download_info:
        page.locator("#home-guide a[href='/guide']").click()
    saved = tmp_path / "guide.pdf"
    download_info.value.save_as(saved)
    assert saved.read_bytes() == guide

    notices.get_by_role("link", name=NOTICE[language]).click()
    expect(page.locator("h1")).to_have_text(NOTICE[language])
    expect(page.locator(".portal-article")).to_contain_text(
        "申报时间为3月1日至3月31日。" if language != "en" else "open from 1 to 31 March")
    if language == "en":
        expect(page.locator(".portal-article")).to_contain_text("Published on 2026-03-01")
    shot("notice")

    # an enterprise signs in: the step bar shows where it stands, on one row
    page.goto("/login?mode=password")
    page.locator("#pw-mobile").fill("13800138000")
    page.locator("#pw-password").fill(PASSWORD)
    page.locator("#pw-submit").click()
    page.goto("/")
    bar = page.locator(".step-bar")
    expect(bar).to_be_visible()
    expect(bar.locator(".step")).to_have_count(4)
    expect(bar.locator("#step-register")).to_have_class("step step-done")
    expect(bar.locator("#step-certify")).to_have_attribute("aria-current", "step")
    expect(bar.locator(".step-todo")).to_have_count(2)
    tops = {round(bar.locator(".step").nth(i).bounding_box()["y"]) for i in range(4)}
    assert len(tops) == 1, tops
    if language == "en":
        expect(bar).to_contain_text("Register")
        expect(bar.locator("#step-certify")).to_contain_text("Certify")
    bar.locator("#step-certify a").click()
    assert "/certification/" in page.url  # 我的认证 (its upload page, none yet)
    shot("steps")


CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
});
"""


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_admin_writes_a_notice_and_uploads_the_guide(language, contexts, shot, make_staff,
                                                     tmp_path):
    """An admin adds a notice in the back office (under its CSP), saves it unpublished,
    publishes it from the grid, uploads the guide; the portal shows both."""
    make_staff("editor", "admin")
    admin = contexts.new_page()
    admin.context.add_init_script(CSP_LISTENER)
    admin.goto("/admin/login")
    admin.context.add_cookies([{"name": "lang", "value": "en" if language == "en" else
                                "zh_Hans_CN", "url": admin.url}])
    admin.goto("/admin/login")
    admin.locator("input[name=username]").fill("editor")
    admin.locator("input[name=password]").fill(PASSWORD)
    admin.locator("input[name=password]").press("Enter")
    admin.wait_for_url("**/admin/")

    admin.goto("/admin/portal_item/new/")
    admin.locator("input[name=published_on]").fill("2026-04-02")  # its picker opens
    admin.locator("input[name=title_zh]").click()  # and closes
    admin.locator("select[name=kind]").select_option("notice")
    admin.locator("input[name=title_zh]").fill("关于受理材料补正的通知")
    admin.locator("textarea[name=body_zh]").fill("请于三个工作日内补正。")
    admin.locator("input[name=title_en]").fill("On correcting submitted materials")
    admin.locator("textarea[name=body_en]").fill("Please correct within three working days.")
    shot("new-notice", admin)
    admin.locator("input[type=submit]").first.click()
    expect(admin.locator("table.model-list")).to_contain_text("关于受理材料补正的通知")

    portal = contexts.new_page()
    portal.goto("/")
    expect(portal.locator("#home-announcements")).not_to_contain_text("关于受理材料补正的通知")

    admin.locator("table.model-list input[name=rowid]").first.check()
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.locator("a[data-toggle=dropdown]").filter(
        has_text="With selected" if language == "en" else "批量操作").first.click()
    admin.locator("a[data-model-action=publish]").click()
    expect(admin.locator(".alert-success")).to_be_visible()
    portal.goto("/")
    if language == "en":
        portal.locator(".language-switch").get_by_role("button", name="English").click()
        expect(portal.locator("#home-announcements")).to_contain_text(
            "On correcting submitted materials")
    else:
        expect(portal.locator("#home-announcements")).to_contain_text("关于受理材料补正的通知")

    pdf = tmp_path / "指南.pdf"
    pdf.write_bytes(pdf_bytes())
    admin.goto("/admin/portal_guide/")
    expect(admin.locator("#guide-none")).to_be_visible()
    admin.locator("#guide-file").set_input_files(str(pdf))
    admin.locator("#guide-upload button[type=submit]").click()
    expect(admin.locator("#guide-current")).to_contain_text("指南.pdf")
    shot("guide", admin)
    portal.reload()
    expect(portal.locator("#home-guide a[href='/guide']")).to_be_visible()
    assert admin.evaluate("window.__csp") == []


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_portal_home_on_a_phone(language, app, page, shot, make_enterprise):
    """At 375 px the boxes stack, the dated lists keep their dates in view and nothing of the
    home or of the step bar runs off the screen sideways."""
    publish(app)
    make_enterprise("13800138000")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/")
    choose_language(page, language)
    boxes = [page.locator(f"#home-{name}").bounding_box()
             for name in ("announcements", "policies", "guide", "faq")]
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= 375 for box in boxes), boxes
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"] < boxes[3]["y"]  # one column
    date_box = page.locator("#home-announcements time").first.bounding_box()
    assert date_box["x"] + date_box["width"] <= 375
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width  # the header too
    shot("phone-home")
    page.goto("/login?mode=password")
    page.locator("#pw-mobile").fill("13800138000")
    page.locator("#pw-password").fill(PASSWORD)
    page.locator("#pw-submit").click()
    page.goto("/")
    steps = [page.locator(".step-bar .step").nth(i).bounding_box() for i in range(4)]
    assert all(step["x"] >= 0 and step["x"] + step["width"] <= 375 for step in steps), steps
    assert len({round(step["y"]) for step in steps}) == 1, steps  # one row
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    shot("phone-steps")
