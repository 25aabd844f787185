"""The back office's pages as a reviewer meets them: the decision at the top of a details page
with the files as thumbnails that open the file, a 403 inside ``/admin`` in the back office's
own layout (the portal keeps its page), and no inline event handler in any template (our CSP
refuses them; their behaviour lives in ``static/admin-page.js`` and ``admin-actions.js``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from talentadmin.accounts.models import EnterpriseUser
from talentadmin.extensions import db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
UNIT = "北京云帆智联科技有限公司"
CODE = "91110105MA01R8DQ2M"

# An attribute named on… inside a tag, or a javascript: URL anywhere.
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=|javascript\s*:", re.IGNORECASE)


def _upload(user_id: int, data: bytes, name: str):
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from talentadmin.core import storage

    return storage.save_upload(FileStorage(BytesIO(data), filename=name),
                               enterprise_user_id=user_id)


@pytest.fixture
def records(app, open_round):
    """A certification, a business permission and a declaration, each waiting for review, with
    their files (written straight to the database); ``{"cert", "revision", "declaration"}``."""
    from talentadmin.certification.models import Certification
    from talentadmin.core.timeutil import utcnow
    from talentadmin.core.validators import id_check_char
    from talentadmin.declarations.models import Declaration, DeclarationFile
    from talentadmin.permits.models import Permit, PermitFile, PermitRevision

    from ..conftest import pdf_bytes, png_bytes

    with app.test_request_context():
        user = EnterpriseUser(mobile="13800138000")
        db.session.add(user)
        db.session.flush()
        cert = Certification(enterprise_user_id=user.id, status="manual_review",
                             licence=_upload(user.id, png_bytes(), "licence.png"),
                             ocr_name=UNIT, ocr_credit_code=CODE, ocr_code_valid=True,
                             name=UNIT, credit_code=CODE, email="hr@example.com")
        permit = Permit(enterprise_user=user)
        revision = PermitRevision(
            permit=permit, status="pending", unit_name=UNIT, credit_code=CODE,
            qualifications=["hightech"], registered_district="chaoyang",
            tax_district="chaoyang", field="ai", contact_name="王经办",
            contact_mobile="13900001111", tax_year_1=2025, tax_amount_1=125,
            tax_year_2=2024, tax_amount_2=98, tax_year_3=2023, tax_amount_3=1,
            intro="人工智能软件研发企业。", submitted_at=utcnow())
        for slot, label, data in (("qualification:hightech", "高新技术企业证书", pdf_bytes()),
                                  ("tax:1", "2025年度纳税证明", pdf_bytes()),
                                  ("tax:2", "2024年度纳税证明", png_bytes()),
                                  ("tax:3", "2023年度纳税证明", png_bytes())):
            revision.files.append(PermitFile(slot=slot, label=label,
                                             attachment=_upload(user.id, data, "f.pdf")))
        db.session.add_all([cert, permit, revision])
        db.session.flush()
        body = "11010519800101001"
        declaration = Declaration(
            enterprise_user_id=user.id, round_id=open_round, status="pending_initial",
            unit_name=UNIT, credit_code=CODE, name="欧阳娜娜", gender="female", age=46,
            political_status="13", title="高级工程师", education="10", degree="2",
            school="清华大学", major="计算机科学与技术", condition="patent",
            submitted_at=utcnow())
        declaration.set_id_number(body + id_check_char(body))
        for slot, label, data in (("social_insurance", "社保缴纳证明", pdf_bytes()),
                                  ("integrity", "诚信声明", png_bytes()),
                                  ("evidence", "专利证书", pdf_bytes())):
            declaration.files.append(DeclarationFile(
                slot=slot, label=label, attachment=_upload(user.id, data, "f.pdf")))
        db.session.add(declaration)
        db.session.commit()
        return {"cert": cert.id, "revision": revision.id, "declaration": declaration.id}


# --- no inline handlers ----------------------------------------------------------------------

def test_no_template_has_an_inline_event_handler():
    """Jinja comments aside (they reach no browser)."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = re.sub(r"\{#.*?#\}", lambda m: "\n" * m.group(0).count("\n"),
                      path.read_text(encoding="utf-8"), flags=re.S)
        for number, line in enumerate(text.splitlines(), 1):
            if INLINE_HANDLER.search(line):
                found.append(f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}")
    assert not found, "inline event handlers (our CSP refuses them):\n" + "\n".join(found)


@pytest.mark.parametrize("line", [
    '<button onclick="go()">', "<a href='javascript:void(0)'>", '<form ONSUBMIT="x">',
    '<select\n onchange="y">'.replace("\n", " "), '<a href="JavaScript:alert(1)">'])
def test_the_scan_finds_each_kind_of_inline_handler(line):
    assert INLINE_HANDLER.search(line)


@pytest.mark.parametrize("line", ['<button data-confirm="Sure?">', '<a href="#">',
                                  "{{ _('Only one window is shown') }}", '<div class="on">'])
def test_the_scan_leaves_ordinary_markup_alone(line):
    assert not INLINE_HANDLER.search(line)


ADMIN_PAGES = ("/admin/", "/admin/dashboard/", "/admin/certification_queue/",
               "/admin/certification_queue/details/?id={cert}", "/admin/certification_all/",
               "/admin/permit_review/", "/admin/permit_review/details/?id={revision}",
               "/admin/declaration_initial/",
               "/admin/declaration_initial/details/?id={declaration}",
               "/admin/declaration_all/", "/admin/reason_template/",
               "/admin/reason_template/new/", "/admin/round/", "/admin/round/new/",
               "/admin/staff_user/", "/admin/staff_user/new/", "/admin/enterprise_user/",
               "/admin/page_text/", "/admin/audit_event/", "/admin/legacy_import/",
               "/admin/sms_outbox/", "/admin/reference_district/")
ON_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def test_no_admin_page_carries_an_inline_handler(client, staff_login, records):
    """Flask-Admin's own templates included: the filter menu, row actions and navigation bar
    come from our shadowing templates, without onclick=."""
    staff_login("boss", "admin", "initial_reviewer", "supervisor")
    for url in ADMIN_PAGES:
        response = client.get(url.format(**records))
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert not ON_ATTRIBUTE.search(html), (url, ON_ATTRIBUTE.search(html).group(0))
        assert "admin-page.js" in html, url
        nav = html[html.index('<nav'):html.index('</nav>')]
        assert "javascript:" not in nav, url


# --- details pages: the decision first, thumbnails that open the file ----------------------

def _before(html: str, first: str, then: str) -> bool:
    return 0 <= html.index(first) < html.index(then)


def test_permit_details_decision_before_the_data_and_thumbnails_open_the_file(
        client, staff_login, records):
    staff_login("reviewer", "initial_reviewer")
    client.set_cookie("lang", "en", domain="localhost")
    rid = records["revision"]
    html = client.get(f"/admin/permit_review/details/?id={rid}").get_data(as_text=True)
    assert _before(html, 'value="approve"', "District of registration")
    assert _before(html, 'value="reject"', "Timeline")
    thumbs = re.findall(r'<a href="([^"]+)" target="_blank" rel="noopener" title="[^"]+">'
                        r'<img src="([^"]+)" class="img-thumbnail"', html)
    assert len(thumbs) == 4
    for opens, shows in thumbs:
        assert "inline=1" in opens and "preview=1" in shows
        response = client.get(opens.replace("&amp;", "&"))
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("inline")


def test_declaration_details_decision_first_and_files_as_thumbnails(client, staff_login,
                                                                    records):
    staff_login("reviewer", "initial_reviewer")
    client.set_cookie("lang", "en", domain="localhost")
    did = records["declaration"]
    html = client.get(f"/admin/declaration_initial/details/?id={did}").get_data(as_text=True)
    assert html.count('class="img-thumbnail"') == 3
    assert 'style="' not in html[html.index("review-files"):]
    decision, timeline = html.index('value="pass_initial"'), html.index("Timeline")
    assert decision < timeline


def test_certification_details_licence_bounded_and_opens(client, staff_login, records):
    staff_login("reviewer", "initial_reviewer")
    html = client.get(f"/admin/certification_queue/details/?id={records['cert']}"
                      ).get_data(as_text=True)
    assert 'licence-thumb' in html
    link = re.search(r'<a href="([^"]+inline=1[^"]*)" target="_blank"', html).group(1)
    assert client.get(link.replace("&amp;", "&")).status_code == 200


def test_a_reviewer_without_a_decision_sees_no_decision_card(client, staff_login, records):
    staff_login("second", "second_reviewer")
    html = client.get(f"/admin/permit_review/details/?id={records['revision']}"
                      ).get_data(as_text=True)
    assert 'value="approve"' not in html and "card-title" not in html
    assert html.count('class="img-thumbnail"') == 4


# --- 403: the back office's layout inside /admin, the portal's outside ----------------------

@pytest.mark.parametrize("url", ["/admin/staff_user/", "/admin/page_text/",
                                 "/admin/declaration_all/", "/admin/dashboard/"])
def test_a_page_outside_the_role_answers_in_the_back_office_layout(client, staff_login, url):
    staff_login("reviewer", "initial_reviewer")
    client.set_cookie("lang", "en", domain="localhost")
    response = client.get(url)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Access denied" in html and "Back to the back-office home page" in html
    assert re.search(r'<a class="btn btn-primary" href="/admin/?">', html)
    assert "admin-user-box" in html and 'action="/admin/logout' in html  # the staff navbar
    assert "/admin/certification_queue/" in html  # the reviewer's own menu, to go on working
    assert "Back to the home page" not in html  # not the portal's error page


def test_a_post_outside_the_role_answers_in_the_back_office_layout(client, staff_login):
    from ..conftest import csrf_in

    staff_login("reviewer", "initial_reviewer")
    token = csrf_in(client.get("/admin/").get_data(as_text=True))
    response = client.post("/admin/staff_user/new/", data={"csrf_token": token})
    assert response.status_code == 403
    assert "admin-user-box" in response.get_data(as_text=True)


def test_outside_the_back_office_a_403_keeps_the_portal_page(client, staff_login):
    """A staff member on an enterprise page (``/account``): the portal's own error page."""
    staff_login("reviewer", "initial_reviewer")
    client.set_cookie("lang", "en", domain="localhost")
    response = client.get("/account")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Access denied" in html and "Back to the home page" in html
    assert "admin-user-box" not in html


def test_an_address_that_only_starts_like_the_back_office_is_not_in_it(app):
    """``/administration`` is not ``/admin``: the portal's page (matched on the path's
    segment, not its first letters)."""
    from talentadmin.admin.forbidden import forbidden

    with app.test_request_context("/administration"):
        body, status = forbidden(None)
    assert status == 403 and "admin-user-box" not in body


def test_the_shadowed_filter_macros_are_flask_admins_without_the_handlers():
    """``templates/admin/model/layout.html`` replaces Flask-Admin's file of the same name: it
    must stay Flask-Admin's macros with only the inline handlers taken out, or an upgrade of
    Flask-Admin would change its list pages under our feet."""
    import flask_admin

    upstream = (Path(flask_admin.__file__).parent / "templates" / "bootstrap4" / "admin" /
                "model" / "layout.html").read_text(encoding="utf-8")
    expected = upstream.replace('href="javascript:void(0)"', 'href="#"').replace(
        ' onclick="return false;"', "")
    ours = (TEMPLATES / "admin" / "model" / "layout.html").read_text(encoding="utf-8")
    assert re.sub(r"^\{#.*?#\}\n", "", ours, flags=re.S) == expected
