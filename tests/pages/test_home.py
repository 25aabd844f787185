"""The portal home of a government service: 通知公告 and 政策文件 (dated items the office adds,
edits, publishes and withdraws in the back office, each with its own page), the 操作指南 to
download (a PDF an admin uploads), 常见问题 and the footer's texts (page texts), and the step
bar 注册 → 认证 → 开通 → 申报 of the signed-in enterprise.

Pages are read in English where a new string is asserted (the Chinese catalog is filled
later); Chinese is asserted only for what the office typed."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from talentadmin.core.i18n import LANG_COOKIE
from talentadmin.core.models import AuditEvent
from talentadmin.extensions import db
from talentadmin.pages.models import PageText, PortalFile, PortalItem

from ..conftest import PASSWORD, csrf_in, pdf_bytes, png_bytes


def english(client) -> None:
    client.set_cookie(LANG_COOKIE, "en", domain="localhost")


def item_form(**overrides) -> dict:
    data = {"kind": "notice", "title_zh": "关于开展2026年引进人才需求申报的通知",
            "body_zh": "各有关单位：\n现将有关事项通知如下。",
            "title_en": "Notice on the 2026 talent-introduction declaration",
            "body_en": "To all units:\nThe arrangements are as follows.",
            "published_on": "2026-03-01", "published": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def create_item(client, **overrides):
    page = client.get("/admin/portal_item/new/").get_data(as_text=True)
    return client.post("/admin/portal_item/new/",
                       data={"csrf_token": csrf_in(page), **item_form(**overrides)})


def add_item(app, kind="notice", title="通知", on=date(2026, 3, 1), published=True,
             title_en=None) -> int:
    with app.app_context():
        item = PortalItem(kind=kind, title_zh=title, body_zh=f"{title}正文",
                          title_en=title_en or f"EN {title}", body_en="English text",
                          published_on=on, published=published)
        db.session.add(item)
        db.session.commit()
        return item.id


def opened_version(page: str) -> str:
    match = re.search(r'name="opened_version"[^>]*value="(\d+)"', page) or re.search(
        r'value="(\d+)"[^>]*name="opened_version"', page)
    assert match, "no version on the edit form"
    return match.group(1)


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def flashed(client) -> str:
    with client.session_transaction() as session:
        return " ".join(message for _category, message in session.get("_flashes", []))


# --- the home page ---------------------------------------------------------------------------


def test_home_shows_each_section_with_its_empty_state(client):
    english(client)
    page = client.get("/").get_data(as_text=True)
    for section in ("home-announcements", "home-policies", "home-guide", "home-faq"):
        assert f'id="{section}"' in page
    assert "Notices and announcements" in page and "Policy documents" in page
    assert page.count("Nothing published yet.") == 2  # notices and policies; the FAQ is seeded
    assert "The operation guide has not been published yet." in page
    assert "Q: Can an individual declare?" in page
    assert 'href="/announcements"' not in page.split('id="home-announcements"')[1].split(
        "</section>")[0]  # no "More" to an empty list


def test_home_lists_published_items_newest_first_and_links_their_pages(client, app):
    old = add_item(app, title="旧通知", on=date(2026, 1, 5))
    new = add_item(app, title="新通知", on=date(2026, 3, 1))
    same_day_later = add_item(app, title="同日后加", on=date(2026, 3, 1))
    add_item(app, title="草稿通知", on=date(2026, 4, 1), published=False)
    policy = add_item(app, kind="policy", title="人才引进管理办法", on=date(2025, 12, 1))
    page = client.get("/").get_data(as_text=True)
    notices = page.split('id="home-announcements"')[1].split("</section>")[0]
    assert notices.index("同日后加") < notices.index("新通知") < notices.index("旧通知")
    assert "草稿通知" not in page
    assert f'href="/announcements/{old}"' in notices and "2026-01-05" in notices
    assert f'href="/announcements/{new}"' in notices
    assert f'href="/announcements/{same_day_later}"' in notices
    policies = page.split('id="home-policies"')[1].split("</section>")[0]
    assert f'href="/policies/{policy}"' in policies and "人才引进管理办法" in policies
    assert 'href="/policies"' in policies


def test_home_shows_at_most_six_items_of_a_kind(client, app):
    for day in range(1, 9):
        add_item(app, title=f"第{day}号通知", on=date(2026, 5, day))
    page = client.get("/").get_data(as_text=True)
    notices = page.split('id="home-announcements"')[1].split("</section>")[0]
    assert notices.count("<li>") == 6 and "第8号通知" in notices and "第2号通知" not in notices


def test_item_page_in_both_languages(client, app):
    item_id = add_item(app, title="关于申报的通知", title_en="On the declaration")
    page = client.get(f"/announcements/{item_id}").get_data(as_text=True)
    assert "关于申报的通知" in page and "关于申报的通知正文" in page and "2026-03-01" in page
    english(client)
    page = client.get(f"/announcements/{item_id}").get_data(as_text=True)
    assert "On the declaration" in page and "Published on 2026-03-01" in page
    assert "关于申报的通知" not in page
    assert 'href="/announcements">Notices and announcements</a>' in page  # the breadcrumb


def test_item_text_is_escaped(client, app):
    item_id = add_item(app, title="<script>alert(1)</script>")
    page = client.get(f"/announcements/{item_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_item_pages_that_do_not_exist(client, app):
    draft = add_item(app, published=False)
    notice = add_item(app)
    for url in (f"/announcements/{draft}", f"/policies/{notice}", "/announcements/999999",
                "/announcements/99999999999999999999", "/announcements/abc",
                "/announcements/-1", "/announcements/0", "/news", "/news/1"):
        assert client.get(url).status_code == 404, url


def test_list_pages_by_twenty_and_takes_any_page_argument(client, app):
    for n in range(25):
        add_item(app, title=f"编号{n:02d}", on=date(2026, 1, 1 + n))
    first = client.get("/announcements").get_data(as_text=True)
    assert "编号24" in first and "编号05" in first and "编号04" not in first
    second = client.get("/announcements?page=2").get_data(as_text=True)
    assert "编号04" in second and "编号00" in second and "编号05" not in second
    for odd in ("abc", "-3", "0", ""):
        assert "编号24" in client.get(f"/announcements?page={odd}").get_data(as_text=True)
    for past in ("3", "999999999999999999999"):
        assert "编号00" in client.get(f"/announcements?page={past}").get_data(as_text=True)
    english(client)
    assert "Page 2 of 2" in client.get("/announcements?page=2").get_data(as_text=True)


def test_empty_list_page(client):
    english(client)
    page = client.get("/policies")
    assert page.status_code == 200 and "Nothing published yet." in page.get_data(as_text=True)


# --- the back office: notices and policies ------------------------------------------------------


def test_admin_adds_an_item_in_both_languages_audited(client, app, staff_login):
    staff_login("boss", "admin")
    response = create_item(client)
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalars(select(PortalItem)).one()
        assert (item.kind, item.published, item.published_on) == ("notice", True,
                                                                   date(2026, 3, 1))
        assert item.title_en == "Notice on the 2026 talent-introduction declaration"
        item_id = item.id
    [event] = events(app, "portal_item.create")
    assert event.target_id == item_id and event.target_type == "portal_item"
    assert "关于开展2026年引进人才需求申报的通知" in client.get("/").get_data(as_text=True)


def test_a_new_item_is_a_draft_unless_published(client, app, staff_login):
    staff_login("boss", "admin")
    assert create_item(client, published=None).status_code == 302
    assert "关于开展2026年" not in client.get("/").get_data(as_text=True)


def test_the_new_form_proposes_today(client, staff_login):
    from talentadmin.core.timeutil import local_today

    staff_login("boss", "admin")
    with client.application.app_context():
        today = local_today().isoformat()
    page = client.get("/admin/portal_item/new/").get_data(as_text=True)
    assert re.search(r'name="published_on"[^>]*value="' + today, page) or \
        re.search(r'value="' + today + r'"[^>]*name="published_on"', page)


@pytest.mark.parametrize("bad", [
    {"kind": None}, {"kind": ""}, {"kind": "news"},
    {"title_zh": ""}, {"title_zh": "   "}, {"title_en": ""}, {"body_zh": ""}, {"body_en": ""},
    {"title_zh": "长" * 201}, {"published_on": ""}, {"published_on": "2026-02-30"},
    {"published_on": "yesterday"},
])
def test_admin_item_form_refuses_bad_input_and_keeps_what_was_typed(client, app, staff_login,
                                                                     bad):
    staff_login("boss", "admin")
    english(client)
    response = create_item(client, **bad)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "has-error" in page or "is-invalid" in page or "invalid-feedback" in page
    kept = item_form(**bad)
    if "body_en" not in bad:
        assert "The arrangements are as follows." in page
    assert kept.get("title_zh", "") == "" or kept["title_zh"][:20] in page
    with app.app_context():
        assert db.session.scalars(select(PortalItem)).first() is None
    assert events(app, "portal_item.create") == []


def test_admin_item_form_needs_the_csrf_token(client, app, staff_login):
    staff_login("boss", "admin")
    response = client.post("/admin/portal_item/new/", data=item_form())
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(PortalItem)).first() is None


def test_admin_edits_an_item_audited_with_the_fields_changed(client, app, staff_login):
    item_id = add_item(app, title="原标题")
    staff_login("boss", "admin")
    url = f"/admin/portal_item/edit/?id={item_id}"
    page = client.get(url).get_data(as_text=True)
    assert "原标题" in page
    response = client.post(url, data={
        "csrf_token": csrf_in(page), "opened_version": opened_version(page), **item_form(
            title_zh="新标题", title_en="EN 原标题", body_zh="原标题正文",
            body_en="English text")})
    assert response.status_code == 302
    [event] = events(app, "portal_item.update")
    assert event.target_id == item_id
    assert set(event.detail["fields"]) == {"title_zh"}
    assert "新标题" in client.get(f"/announcements/{item_id}").get_data(as_text=True)


def test_admin_publishes_and_withdraws_several_items_at_once(client, app, staff_login):
    first = add_item(app, title="第一", published=False)
    second = add_item(app, title="第二", published=False)
    already = add_item(app, title="已发布")
    staff_login("boss", "admin")
    english(client)
    page = client.get("/admin/portal_item/").get_data(as_text=True)
    response = client.post("/admin/portal_item/action/", data={
        "csrf_token": csrf_in(page), "action": "publish",
        "rowid": [str(first), str(second), str(already), "abc", "999999"],
        "url": "/admin/portal_item/"})
    assert response.status_code == 302
    said = flashed(client)
    assert "2 items published." in said and "3 items were already so" in said
    home = client.get("/").get_data(as_text=True)
    assert "第一" in home and "第二" in home
    assert len(events(app, "portal_item.publish")) == 2
    page = client.get("/admin/portal_item/").get_data(as_text=True)
    client.post("/admin/portal_item/action/", data={
        "csrf_token": csrf_in(page), "action": "unpublish", "rowid": [str(first)],
        "url": "/admin/portal_item/"})
    assert "1 item withdrawn." in flashed(client)
    assert "第一" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/announcements/{first}").status_code == 404
    [event] = events(app, "portal_item.unpublish")
    assert event.target_id == first


def test_publish_action_needs_the_csrf_token(client, app, staff_login):
    item_id = add_item(app, published=False)
    staff_login("boss", "admin")
    response = client.post("/admin/portal_item/action/", data={
        "action": "publish", "rowid": [str(item_id)], "url": "/admin/portal_item/"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(PortalItem, item_id).published is False


def test_items_are_never_deleted(client, app, staff_login):
    item_id = add_item(app)
    staff_login("boss", "admin")
    page = client.get("/admin/portal_item/").get_data(as_text=True)
    client.post("/admin/portal_item/delete/", data={"csrf_token": csrf_in(page),
                                                    "id": str(item_id)})
    with app.app_context():
        assert db.session.get(PortalItem, item_id) is not None


@pytest.mark.parametrize("role", ["initial_reviewer", "second_reviewer", "supervisor"])
def test_only_admins_manage_the_portal(client, app, staff_login, role):
    item_id = add_item(app, published=False)
    staff_login("someone", role)
    for url in ("/admin/portal_item/", "/admin/portal_item/new/",
                f"/admin/portal_item/edit/?id={item_id}", "/admin/portal_guide/",
                "/admin/portal_guide/download"):
        assert client.get(url).status_code == 403, url
    page = client.get("/admin/").get_data(as_text=True)
    response = client.post("/admin/portal_guide/upload", data={
        "csrf_token": csrf_in(page), "file": (io.BytesIO(pdf_bytes()), "g.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 403
    response = client.post("/admin/portal_item/action/", data={
        "csrf_token": csrf_in(page), "action": "publish", "rowid": [str(item_id)]})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(PortalItem, item_id).published is False
        assert db.session.scalars(select(PortalFile)).first() is None


def test_anonymous_and_enterprises_are_sent_to_the_staff_login(client, portal, make_enterprise):
    for url in ("/admin/portal_item/", "/admin/portal_guide/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login" in response.location
    make_enterprise()
    portal.login_password("13800138000", PASSWORD)
    assert "/admin/login" in client.get("/admin/portal_guide/").location


# --- the operation guide ------------------------------------------------------------------


def upload_guide(client, content: bytes | None, name: str = "系统操作指南.pdf"):
    page = client.get("/admin/portal_guide/").get_data(as_text=True)
    data = {"csrf_token": csrf_in(page)}
    if content is not None:
        data["file"] = (io.BytesIO(content), name)
    return client.post("/admin/portal_guide/upload", data=data,
                       content_type="multipart/form-data")


def test_guide_not_uploaded_yet(client, staff_login):
    english(client)
    response = client.get("/guide")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "The operation guide has not been published yet." in page and "84296151" in page
    staff_login("boss", "admin")
    page = client.get("/admin/portal_guide/").get_data(as_text=True)
    assert 'id="guide-none"' in page
    assert client.get("/admin/portal_guide/download").status_code == 302


def test_admin_uploads_the_guide_and_the_portal_offers_it(client, app, staff_login):
    staff_login("boss", "admin")
    english(client)
    content = pdf_bytes()
    response = upload_guide(client, content)
    assert response.status_code == 302
    assert "The operation guide was uploaded" in flashed(client)
    download = client.get("/guide")
    assert download.status_code == 200 and download.data == content
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert 'filename="Operation guide.pdf"' in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    home = client.get("/").get_data(as_text=True)
    assert 'href="/guide"' in home and "Download the operation guide" in home
    assert "has not been published yet" not in home
    admin_page = client.get("/admin/portal_guide/").get_data(as_text=True)
    assert "系统操作指南.pdf" in admin_page and 'id="guide-current"' in admin_page
    [event] = events(app, "portal_file.upload")
    assert event.detail["key"] == "guide" and event.detail["previous"] is None


def test_a_new_guide_replaces_the_old(client, app, staff_login):
    staff_login("boss", "admin")
    upload_guide(client, pdf_bytes())
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (90, 120), "white").save(buffer, format="PDF")
    newer = buffer.getvalue()
    assert upload_guide(client, newer, "v2.pdf").status_code == 302
    assert client.get("/guide").data == newer
    with app.app_context():
        assert db.session.scalars(select(PortalFile)).one().attachment.original_name == "v2.pdf"
    second = events(app, "portal_file.upload")[-1]
    assert second.detail["previous"] is not None


@pytest.mark.parametrize(("content", "name", "message"), [
    (None, "", "Choose a file to upload."),
    (b"", "empty.pdf", "The file is empty"),
    (png_bytes(), "guide.pdf", "Only PDF files are accepted here"),
    (b"<html><script>alert(1)</script></html>", "guide.pdf", "Only PDF files are accepted"),
    (b"%PDF-1.4 broken", "guide.pdf", "The file is damaged"),
])
def test_guide_upload_refuses_what_is_not_a_pdf(client, app, staff_login, content, name,
                                                message):
    staff_login("boss", "admin")
    english(client)
    response = upload_guide(client, content, name)
    assert response.status_code == 302
    assert message in flashed(client)
    with app.app_context():
        assert db.session.scalars(select(PortalFile)).first() is None
    assert client.get("/guide").status_code == 404
    assert events(app, "portal_file.upload") == []


def test_guide_upload_refuses_a_file_over_ten_megabytes(client, app, staff_login):
    staff_login("boss", "admin")
    english(client)
    big = pdf_bytes() + b"\n%" + b"x" * (10 * 1024 * 1024)
    response = upload_guide(client, big)
    assert response.status_code in (302, 413)
    if response.status_code == 302:
        assert "larger than 10 MB" in flashed(client)
    with app.app_context():
        assert db.session.scalars(select(PortalFile)).first() is None


def test_guide_upload_needs_the_csrf_token(client, app, staff_login):
    staff_login("boss", "admin")
    response = client.post("/admin/portal_guide/upload",
                           data={"file": (io.BytesIO(pdf_bytes()), "g.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(PortalFile)).first() is None


# --- FAQ and the footer: page texts -----------------------------------------------------------


def edit_text(client, key: str, **fields):
    with client.application.app_context():
        row = db.session.scalars(select(PageText).where(PageText.key == key)).one()
        data = {name: getattr(row, name) for name in ("title_zh", "body_zh", "title_en",
                                                       "body_en")}
        row_id = row.id
    data.update(fields)
    url = f"/admin/page_text/edit/?id={row_id}"
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_in(page), **data})


def test_faq_is_an_edited_text(client, app, staff_login):
    staff_login("boss", "admin")
    assert edit_text(client, "faq", body_zh="问：如何登录？\n答：用手机号。").status_code == 302
    page = client.get("/faq").get_data(as_text=True)
    assert "问：如何登录？" in page
    assert "问：如何登录？" in client.get("/").get_data(as_text=True)
    english(client)
    assert "Q: Can an individual declare?" in client.get("/faq").get_data(as_text=True)
    [event] = events(app, "page_text.update")
    assert event.detail == {"key": "faq", "fields": ["body_zh"]}


def test_footer_shows_the_sponsor_and_leaves_empty_record_numbers_out(client):
    page = client.get("/").get_data(as_text=True)
    assert 'id="footer-sponsor"' in page and "主办单位：中共北京市朝阳区委人才工作领导小组办公室" in page
    for key in ("site_code", "icp_record", "police_record"):
        assert f'id="footer-{key}"' not in page


def test_footer_record_numbers_once_the_office_fills_them(client, staff_login):
    staff_login("boss", "admin")
    assert edit_text(client, "site_code", body_zh="1101050001").status_code == 302
    assert edit_text(client, "icp_record", body_zh="京ICP备12345678号").status_code == 302
    assert edit_text(client, "police_record",
                     body_zh="京公网安备 11010502012345号").status_code == 302
    page = client.get("/support").get_data(as_text=True)  # every portal page
    assert "网站标识码：1101050001" in page
    assert re.search(r'<a href="https://beian.miit.gov.cn/"[^>]*>京ICP备12345678号</a>', page)
    assert "code=11010502012345" in page and "京公网安备 11010502012345号</a>" in page
    english(client)  # an English text left empty shows the Chinese one (same number)
    page = client.get("/").get_data(as_text=True)
    assert "Website identification code: 1101050001" in page and "京ICP备12345678号" in page
    assert edit_text(client, "icp_record", body_zh="", body_en="").status_code == 302
    assert 'id="footer-icp_record"' not in client.get("/").get_data(as_text=True)


def test_other_texts_stay_required(client, app, staff_login):
    staff_login("boss", "admin")
    english(client)
    for key in ("policy_basis", "faq"):
        response = edit_text(client, key, body_zh="  ")
        assert response.status_code == 200, key
        assert "This field is required." in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalars(select(PageText).where(PageText.key == "policy_basis")).one()
        assert row.body_zh.startswith("依据北京市")
    response = edit_text(client, "sponsor", title_zh="")
    assert response.status_code == 200  # a label is always needed


def test_footer_texts_are_escaped(client, staff_login):
    staff_login("boss", "admin")
    edit_text(client, "police_record", body_zh='"><script>alert(1)</script>')
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in page


# --- the step bar ------------------------------------------------------------------------------


def steps(page: str) -> dict[str, str]:
    return {key: state
            for state, key in re.findall(r'class="step step-(\w+)" id="step-(\w+)"', page)}


def test_no_step_bar_for_visitors_and_staff(client, staff_login):
    assert "step-bar" not in client.get("/").get_data(as_text=True)
    staff_login("boss", "admin")
    assert "step-bar" not in client.get("/").get_data(as_text=True)


def test_a_new_account_is_at_certification(client, portal, make_enterprise):
    make_enterprise()
    portal.login_password("13800138000", PASSWORD)
    english(client)
    page = client.get("/").get_data(as_text=True)
    assert steps(page) == {"register": "done", "certify": "current", "open": "todo",
                           "declare": "todo"}
    assert 'aria-current="step"' in page and "Certify" in page
    assert 'href="/certification/"' in page


def test_a_certification_waiting_for_staff_shows_its_state(client, app, portal,
                                                           make_enterprise):
    from werkzeug.datastructures import FileStorage

    from talentadmin.certification.models import Certification
    from talentadmin.certification.workflow import LABELS
    from talentadmin.core import storage

    user_id = make_enterprise()
    with app.test_request_context():
        licence = storage.save_upload(FileStorage(io.BytesIO(png_bytes()), filename="l.png"),
                                      enterprise_user_id=user_id)
        db.session.add(Certification(enterprise_user_id=user_id, licence=licence,
                                     status="manual_review", name="某公司",
                                     credit_code="91110105MA01R8DQ2M", email="a@b.cn"))
        db.session.commit()
    portal.login_password("13800138000", PASSWORD)
    page = client.get("/account").get_data(as_text=True)
    assert steps(page)["certify"] == "current"
    with app.test_request_context():
        assert str(LABELS["manual_review"]) in page


def test_a_certified_unit_is_at_opening_the_business(client, portal, certified):
    certified()
    portal.login_password("13800138000", PASSWORD)
    page = client.get("/talent/declare").get_data(as_text=True)
    assert steps(page) == {"register": "done", "certify": "done", "open": "current",
                           "declare": "todo"}


def test_a_unit_with_the_permission_is_at_declaring(client, permitted):
    permitted()
    page = client.get("/").get_data(as_text=True)
    assert steps(page) == {"register": "done", "certify": "done", "open": "done",
                           "declare": "current"}


def test_step_bar_costs_no_query_on_pages_for_visitors(client, sql_log):
    with sql_log() as statements:
        client.get("/support")
    assert statements and not any("certification" in s or "permit" in s for s in statements)


def test_a_permission_waiting_for_review_shows_its_state(client, app, portal, certified):
    from talentadmin.accounts.models import EnterpriseUser
    from talentadmin.permits import operations
    from talentadmin.permits.forms import collect_files, permit_form
    from talentadmin.permits.workflow import LABELS

    from ..conftest import permit_form_data

    user_id = certified()
    portal.login_password("13800138000", PASSWORD)
    with app.test_request_context("/talent/permit/apply", method="POST",
                                  data=permit_form_data()):
        form = permit_form(meta={"csrf": False})
        assert form.validate() and collect_files(form, user_id), form.errors
        operations.submit(db.session.get(EnterpriseUser, user_id), form)
        db.session.commit()
        pending = str(LABELS["pending"])
    page = client.get("/").get_data(as_text=True)
    assert steps(page)["open"] == "current"
    note = page.split('id="step-open"')[1].split("</li>")[0]
    assert f'<span class="step-note">{pending}</span>' in note


def test_every_filter_of_the_items_grid_alone_and_together(client, app, staff_login):
    add_item(app, title="已发布通知", on=date(2026, 3, 1))
    add_item(app, title="草稿通知", on=date(2026, 3, 2), published=False)
    add_item(app, kind="policy", title="已发布政策", on=date(2025, 1, 1))
    staff_login("boss", "admin")
    grid = "/admin/portal_item/"  # filters: 0 section, 1-2 published, 3-9 date

    def shown(query: str) -> set[str]:
        response = client.get(grid + "?" + query)
        assert response.status_code == 200, query
        html = response.get_data(as_text=True)
        return {title for title in ("已发布通知", "草稿通知", "已发布政策") if title in html}

    assert shown("") == {"已发布通知", "草稿通知", "已发布政策"}
    assert shown("search=政策") == {"已发布政策"}
    assert shown("flt0_0=policy") == {"已发布政策"}
    assert shown("flt0_0=notice") == {"已发布通知", "草稿通知"}
    assert shown("flt0_0=news") == set()  # no such section
    assert shown("flt0_1=1") == {"已发布通知", "已发布政策"}
    assert shown("flt0_1=0") == {"草稿通知"}
    assert shown("flt0_0=notice&flt1_1=1") == {"已发布通知"}
    assert shown("flt0_0=notice&flt1_1=1&search=政策") == set()
    assert shown("flt0_2=1") == {"草稿通知"}
    assert shown("flt0_3=2026-03-02") == {"草稿通知"}
    assert shown("flt0_4=2026-03-02") == {"已发布通知", "已发布政策"}
    assert shown("flt0_5=2026-01-01") == {"已发布通知", "草稿通知"}
    assert shown("flt0_6=2026-01-01") == {"已发布政策"}
    assert shown("flt0_7=2026-03-01+to+2026-03-31") == {"已发布通知", "草稿通知"}
    assert shown("flt0_8=2026-03-01+to+2026-03-31") == {"已发布政策"}
    assert shown("flt0_9=1") == set()
    assert shown("flt0_0=policy&flt1_6=2026-01-01&flt2_1=1") == {"已发布政策"}
    for odd in ("flt0_1=maybe", "flt0_3=yesterday", "flt0_3=2026-99-99", "sort=99",
                "page=-1", "page=999999999999"):
        assert client.get(grid + "?" + odd).status_code == 200, odd


def test_of_two_admins_editing_one_item_the_second_is_told(client, app, staff_login, make_staff):
    from ..conftest import staff_client

    item_id = add_item(app, title="原标题")
    staff_login("boss", "admin")
    other = staff_client(app, make_staff, "deputy", "admin")
    url = f"/admin/portal_item/edit/?id={item_id}"
    mine, theirs = client.get(url).get_data(as_text=True), other.get(url).get_data(as_text=True)
    base = item_form(title_en="EN 原标题", body_zh="原标题正文", body_en="English text")
    response = other.post(url, data={"csrf_token": csrf_in(theirs),
                                     "opened_version": opened_version(theirs),
                                     **{**base, "title_zh": "同事的标题"}})
    assert response.status_code == 302
    english(client)
    response = client.post(url, data={"csrf_token": csrf_in(mine),
                                      "opened_version": opened_version(mine),
                                      **{**base, "title_zh": "我的标题"}})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This item was changed elsewhere since you opened it." in page
    assert "我的标题" in page  # kept as typed
    with app.app_context():
        assert db.session.get(PortalItem, item_id).title_zh == "同事的标题"
    assert len(events(app, "portal_item.update")) == 1


def test_an_edit_posted_without_its_version_or_after_a_publish_is_refused(client, app,
                                                                          staff_login):
    item_id = add_item(app, title="原标题", published=False)
    staff_login("boss", "admin")
    url = f"/admin/portal_item/edit/?id={item_id}"
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_in(page), **item_form(title_zh="新标题", published=None)}
    for version in (None, "", "abc", "99"):
        posted = dict(data) if version is None else {**data, "opened_version": version}
        assert client.post(url, data=posted).status_code == 200, version
    grid = client.get("/admin/portal_item/").get_data(as_text=True)
    client.post("/admin/portal_item/action/", data={
        "csrf_token": csrf_in(grid), "action": "publish", "rowid": [str(item_id)],
        "url": "/admin/portal_item/"})
    # the form opened before the publish would have withdrawn it again: refused
    assert client.post(url, data={**data, "opened_version": opened_version(page)}
                       ).status_code == 200
    with app.app_context():
        item = db.session.get(PortalItem, item_id)
        assert (item.title_zh, item.published) == ("原标题", True)


def test_the_demo_publishes_a_notice_and_a_policy_once(runner, app, client):
    for _ in range(2):
        result = runner.invoke(args=["seed", "--demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        items = db.session.scalars(select(PortalItem).order_by(PortalItem.kind)).all()
        assert [(item.kind, item.published) for item in items] == [("notice", True),
                                                                   ("policy", True)]
        round_name = items[0].title_zh.removeprefix("关于开展").removesuffix("工作的通知")
        assert round_name.endswith("年引进人才需求申报") and "{" not in items[0].body_en
    page = client.get("/").get_data(as_text=True)
    assert "人才引进需求申报单位信息填报注意事项" in page and round_name in page


def test_home_shows_the_first_two_questions_of_the_faq_as_typed_in_a_browser(client,
                                                                            staff_login):
    staff_login("boss", "admin")
    body = "问：甲？\r\n答：一。\r\n\r\n问：乙？\r\n答：二。\r\n\r\n问：丙？\r\n答：三。"
    assert edit_text(client, "faq", body_zh=body).status_code == 302
    home = client.get("/").get_data(as_text=True).split('id="home-faq"')[1].split("</section>")[0]
    assert "问：甲？" in home and "问：乙？" in home and "问：丙？" not in home
    assert "问：丙？" in client.get("/faq").get_data(as_text=True)


def test_admin_reads_an_item_in_full(client, app, staff_login):
    item_id = add_item(app, kind="policy", title="管理办法", published=False)
    staff_login("boss", "admin")
    english(client)
    page = client.get(f"/admin/portal_item/details/?id={item_id}").get_data(as_text=True)
    assert "管理办法正文" in page and "English text" in page and "Policy documents" in page
    grid = client.get("/admin/portal_item/").get_data(as_text=True)
    assert "Policy documents" in grid and "管理办法" in grid
    for odd in ("abc", "", "-1", "99999999999999999999"):
        response = client.get(f"/admin/portal_item/details/?id={odd}")
        assert response.status_code in (302, 404), odd


def test_the_page_texts_grid_names_each_text(client, staff_login):
    staff_login("boss", "admin")
    english(client)
    page = client.get("/admin/page_text/").get_data(as_text=True)
    for name in ("Frequently asked questions", "Sponsor", "Website identification code",
                 "ICP record number", "Public security record number", "Policy basis"):
        assert f">{name}<" in page.replace("\n", "").replace("  ", ""), name
