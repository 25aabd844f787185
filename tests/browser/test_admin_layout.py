"""The back office at 1280 × 800, in Chinese and in English, under our CSP: every admin page
kind opens with no CSP violation (clicking its placeholder links and filter menu included),
the navigation bar stays on one row, no grid cell wraps a name, number or date, every column
is visible, a details page shows its approve button in the first screen and a click on a file's
thumbnail opens the file. A 403 inside the back office keeps its layout.

Screenshots (``shot``) of every page are kept when a test fails (see ``conftest.py``)."""

from __future__ import annotations

import re

import pytest

from ..admin import test_layout
from ..conftest import PASSWORD

records = test_layout.records  # the fixture: a record of each kind waiting for review

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1280, 800
ONE_ROW_NAVBAR = 72  # px: one row of links is ~56–63 px high; two rows are ~96
ONE_LINE_BUTTON = 40  # px: "退出" / "Log out" on one line is ~31 px; split in two, ~50

CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
});
"""

# The number of lines a cell's text takes: the distinct tops of its text's line boxes.
LINES = """cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const tops = new Set([...range.getClientRects()].filter(r => r.width > 0)
                                                   .map(r => Math.round(r.top)));
  return tops.size;
}"""
UNWRAPPED = ("name", "submitted_at", "decided_at", "id_masked", "credit_code", "age", "gender",
             "contact_name", "opens_at", "closes_at", "created_at")

PAGES = {  # name -> URL; the review pages first
    "cert-queue": "/admin/certification_queue/",
    "cert-details": "/admin/certification_queue/details/?id={cert}",
    "permit-grid": "/admin/permit_review/",
    "permit-details": "/admin/permit_review/details/?id={revision}",
    "initial-grid": "/admin/declaration_initial/",
    "declaration-details": "/admin/declaration_initial/details/?id={declaration}",
    "all-declarations": "/admin/declaration_all/",
    "home": "/admin/",
    "dashboard": "/admin/dashboard/",
    "certifications": "/admin/certification_all/",
    "reason-templates": "/admin/reason_template/",
    "reason-template-new": "/admin/reason_template/new/",
    "rounds": "/admin/round/",
    "round-new": "/admin/round/new/",
    "round-edit": "/admin/round/edit/?id={round}",
    "reference-list": "/admin/reference_district/",
    "staff": "/admin/staff_user/",
    "staff-new": "/admin/staff_user/new/",
    "enterprises": "/admin/enterprise_user/",
    "page-texts": "/admin/page_text/",
    "audit-log": "/admin/audit_event/",
    "import": "/admin/legacy_import/",
    "outbox": "/admin/sms_outbox/",
}
DETAILS = ("cert-details", "permit-details", "declaration-details")


def staff_page(contexts, make_staff, username: str, lang: str, *roles: str):
    make_staff(username, *roles)
    page = contexts.new_page()
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.context.add_init_script(CSP_LISTENER)
    page.goto("/admin/login")
    page.context.add_cookies([{"name": "lang", "value": lang, "url": page.url}])
    page.goto("/admin/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(re.compile(r"/admin/?$"))
    return page


def violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def check_navbar(page, name: str) -> None:
    height = page.locator("nav.navbar").bounding_box()["height"]
    assert height < ONE_ROW_NAVBAR, f"{name}: the navigation bar takes {height} px (two rows?)"
    button = page.locator(".admin-user-box button[type=submit]").first.bounding_box()
    assert button["height"] < ONE_LINE_BUTTON, f"{name}: the log-out button wraps"


def check_grid(page, name: str) -> None:
    table = page.locator("table.model-list")
    if not table.count():
        return
    right = table.bounding_box()["x"] + table.bounding_box()["width"]
    assert right <= WIDTH, f"{name}: the grid is {right} px wide; columns fall off the screen"
    scroller = page.locator(".table-responsive")
    if scroller.count():
        assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth"), f"{name}: scrolls"
    for column in UNWRAPPED:
        for cell in page.locator(f"table.model-list td.col-{column}").all():
            lines = cell.evaluate(LINES)
            assert lines <= 1, f"{name}: {column} wraps onto {lines} lines: {cell.inner_text()}"


def click_placeholders(page, name: str) -> None:
    """Every toggle a grid has: the active tab, the filter menu and one filter, the pager's
    current page, a menu category — none runs a javascript: URL or an inline handler."""
    page.locator("ul.nav-tabs > li > a.active").click()  # "#" or Flask-Admin's javascript:
    filters = page.locator(".field-filters a.filter")
    if filters.count():
        page.locator("ul.nav-tabs li.dropdown", has=filters.first).locator(
            "a.dropdown-toggle").click()
        filters.first.click()
        assert page.locator("table.filters tr").count() >= 1, f"{name}: the filter was not added"
    for link in page.locator("ul.pagination li.active a").all():
        link.click()  # Flask-Admin's javascript: placeholders of the pager
    category = page.locator("nav .dropdown-toggle").first
    category.click()
    category.click()
    assert page.url.split("#")[0] == page.url, f"{name}: a placeholder link jumped"


@pytest.fixture
def crowd(app, records, open_round):
    """A full page of declarations beside the records: long names (a Uyghur name with its
    middle dot), long unit names, every status, a rejection stage, a duplicate."""
    from talentadmin.core.timeutil import utcnow
    from talentadmin.core.validators import id_check_char
    from talentadmin.declarations.models import Declaration
    from talentadmin.extensions import db
    from talentadmin.permits.models import PermitRevision

    names = ["阿卜杜热合曼·买买提明", "欧阳娜娜", "司马相如", "王一", "诸葛孔明明"]
    units = ["北京市朝阳区云帆智联信息技术研究院有限责任公司", "北京云帆智联科技有限公司"]
    statuses = ["pending_initial", "pending_second", "completed", "rejected", "withdrawn"]
    with app.app_context():
        user_id = db.session.get(PermitRevision, records["revision"]).permit.enterprise_user_id
        for n in range(24):  # past one page of 20: the pager shows
            body = f"110105198001{n:05d}"
            status = statuses[n % len(statuses)]
            d = Declaration(enterprise_user_id=user_id, round_id=open_round, status=status,
                            unit_name=units[n % 2], credit_code=test_layout.CODE,
                            name=names[n % len(names)], gender="male", age=30 + n,
                            education="10", degree="2", condition="patent",
                            submitted_at=utcnow(), duplicate=n % 4 == 0,
                            rejected_stage="initial" if status == "rejected" else None,
                            reason="材料不全" if status in ("rejected", "withdrawn") else None)
            d.set_id_number(body + id_check_char(body))
            db.session.add(d)
        db.session.commit()


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_every_admin_page_at_1280_with_no_csp_violation(contexts, shot, make_staff, records,
                                                         crowd, open_round, lang):
    page = staff_page(contexts, make_staff, "boss", lang, "admin", "initial_reviewer",
                      "supervisor")
    for name, url in PAGES.items():
        page.goto(url.format(round=open_round, **records))
        shot(name, page)
        assert violations(page) == [], f"{name}: {violations(page)}"
        check_navbar(page, name)
        check_grid(page, name)
        if name in DETAILS:
            approve = page.locator('form[action$="/decide/"] button[type=submit]'
                                   ).first.bounding_box()  # approve / pass
            assert approve["y"] > 0 and approve["y"] + approve["height"] <= HEIGHT, (
                f"{name}: the approve button is at {approve['y']} px, below the first screen")
        if page.locator("table.model-list").count():
            click_placeholders(page, name)
            assert violations(page) == [], f"{name} after clicks: {violations(page)}"


def test_a_thumbnail_opens_its_file(contexts, shot, make_staff, records):
    page = staff_page(contexts, make_staff, "reviewer", "zh_Hans_CN", "initial_reviewer")
    page.goto(f"/admin/permit_review/details/?id={records['revision']}")
    thumbnails = page.locator(".review-files a")
    assert thumbnails.count() == 4
    box = thumbnails.first.bounding_box()
    assert box["width"] <= 160 and box["y"] < HEIGHT  # a thumbnail, in the first screen
    with page.expect_popup() as opened:
        thumbnails.first.click()
    popup = opened.value
    popup.wait_for_load_state()
    assert "inline=1" in popup.url
    shot("file-opened", popup)
    assert violations(page) == []


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_a_page_outside_the_role_keeps_the_back_office_layout(contexts, shot, make_staff, lang):
    page = staff_page(contexts, make_staff, "reviewer", lang, "initial_reviewer")
    response = page.goto("/admin/staff_user/")
    shot("forbidden", page)
    assert response.status == 403
    check_navbar(page, "403")
    assert violations(page) == []
    assert page.locator("h1").inner_text() == ("无权访问" if lang != "en" else "Access denied")
    page.locator('a.btn-primary[href="/admin/"]').click()  # the way back
    page.wait_for_url(re.compile(r"/admin/?$"))
    assert violations(page) == []
