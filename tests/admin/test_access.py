"""Who may open what in the back office: every admin URL × every role, never a 500."""

from __future__ import annotations

import pytest

from ..conftest import PASSWORD, csrf_in

ROLES = ("admin", "initial_reviewer", "second_reviewer", "supervisor")
OK, DENIED, LOGIN = 200, 403, "login"

# url -> {who: expected}; "redirect" means Flask-Admin's own redirect for a switched-off action
MATRIX = {
    "/admin/": dict.fromkeys(ROLES, OK),
    "/admin/staff_user/": {"admin": OK},
    "/admin/staff_user/new/": {"admin": OK},
    "/admin/staff_user/edit/?id={staff}": {"admin": OK},
    "/admin/staff_user/details/?id={staff}": {"admin": OK},
    "/admin/enterprise_user/": dict.fromkeys(ROLES, OK),
    "/admin/enterprise_user/details/?id={enterprise}": dict.fromkeys(ROLES, OK),
    "/admin/enterprise_user/edit/?id={enterprise}": {"admin": OK, "initial_reviewer": "redirect",
                                                     "second_reviewer": "redirect",
                                                     "supervisor": "redirect"},
    "/admin/certification_queue/": dict.fromkeys(ROLES, OK),
    "/admin/certification_all/": dict.fromkeys(ROLES, OK),
    "/admin/certification_all/new/": {"admin": "redirect", "initial_reviewer": "redirect",
                                      "second_reviewer": "redirect", "supervisor": "redirect"},
    "/admin/permit_review/": dict.fromkeys(ROLES, OK),
    "/admin/declaration_initial/": {"admin": OK, "initial_reviewer": OK, "supervisor": OK},
    "/admin/declaration_second/": {"admin": OK, "second_reviewer": OK, "supervisor": OK},
    "/admin/declaration_all/": {"admin": OK, "supervisor": OK},
    "/admin/declaration_all/municipal/csv/": {"supervisor": OK, "admin": DENIED},
    "/admin/round/": dict.fromkeys(ROLES, OK),
    "/admin/round/new/": {"admin": OK, "initial_reviewer": "redirect",
                          "second_reviewer": "redirect", "supervisor": "redirect"},
    "/admin/reference_district/": dict.fromkeys(ROLES, OK),
    "/admin/reference_condition/new/": {"admin": OK, "initial_reviewer": "redirect",
                                        "second_reviewer": "redirect", "supervisor": "redirect"},
    "/admin/reason_template/": dict.fromkeys(ROLES, OK),
    "/admin/dashboard/": {"admin": OK, "supervisor": OK},
    "/admin/page_text/": {"admin": OK},
    "/admin/page_text/edit/?id={page}": {"admin": OK},
    "/admin/audit_event/": {"admin": OK, "supervisor": OK},
    "/admin/audit_event/details/?id={event}": {"admin": OK, "supervisor": OK},
}


@pytest.fixture
def ids(app, make_enterprise, make_staff):
    from sqlalchemy import select

    from talentadmin.core.models import AuditEvent
    from talentadmin.extensions import db
    from talentadmin.pages.models import PageText

    enterprise = make_enterprise("13800138000")
    staff = make_staff("someone", "supervisor")
    with app.app_context():
        page = db.session.execute(select(PageText.id).limit(1)).scalar_one()
        event = db.session.execute(select(AuditEvent.id).limit(1)).scalar_one()
    return {"enterprise": enterprise, "staff": staff, "page": page, "event": event}


def _expected(url: str, who: str):
    rule = MATRIX[url]
    if who in ("anonymous", "enterprise"):
        return LOGIN
    return rule.get(who, DENIED)


def _check(response, expected, url, who):
    assert response.status_code < 500, (url, who)
    if expected == LOGIN:
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    elif expected == "redirect":
        assert response.status_code == 302 and "/admin/login" not in response.headers["Location"]
    else:
        assert response.status_code == expected, (url, who, response.status_code)


@pytest.mark.parametrize("who", [*ROLES, "enterprise", "anonymous"])
def test_role_matrix(client, portal, staff_login, make_enterprise, ids, who):
    if who in ROLES:
        staff_login("viewer", who)
    elif who == "enterprise":
        make_enterprise("13900139000")
        assert portal.login_password("13900139000", PASSWORD).status_code == 302
    for pattern in MATRIX:
        url = pattern.format(**ids)
        _check(client.get(url), _expected(pattern, who), url, who)


@pytest.mark.parametrize("who", ["initial_reviewer", "second_reviewer", "supervisor"])
def test_non_admin_cannot_post_to_staff_views(client, staff_login, ids, who):
    staff_login("viewer", who)
    html = client.get("/admin/").get_data(as_text=True)
    token = csrf_in(html)
    for url in ("/admin/staff_user/new/", f"/admin/staff_user/edit/?id={ids['staff']}"):
        response = client.post(url, data={"csrf_token": token, "username": "intruder",
                                          "roles": "admin", "password": "long-enough-1"})
        assert response.status_code == 403
    response = client.post(f"/admin/enterprise_user/edit/?id={ids['enterprise']}",
                           data={"csrf_token": token})
    assert response.status_code in (302, 403)


def test_unknown_ids_are_handled(client, staff_login):
    staff_login("boss", "admin")
    for url in ("/admin/staff_user/edit/?id=999999", "/admin/staff_user/details/?id=abc",
                "/admin/enterprise_user/details/?id=", "/admin/audit_event/details/?id=-1"):
        response = client.get(url)
        assert response.status_code in (302, 404), url


def test_stock_export_is_off(client, staff_login):
    staff_login("boss", "admin", )
    for view in ("staff_user", "enterprise_user", "audit_event", "page_text",
                 "certification_queue", "certification_all", "permit_review", "round",
                 "declaration_initial", "declaration_second", "declaration_all",
                 "reference_district", "reason_template"):
        assert client.get(f"/admin/{view}/export/csv/").status_code in (302, 404)


def test_admin_in_chinese_by_default_and_english_after_switch(client, staff_login):
    staff_login("boss", "admin")
    page = client.get("/admin/staff_user/").get_data(as_text=True)
    assert "工作人员账号" in page and "列表" in page  # our strings and Flask-Admin's own
    assert '<html lang="zh-Hans">' in page[:200]
    token = csrf_in(page)
    client.post("/language/en", data={"csrf_token": token, "next": "/admin/staff_user/"})
    page = client.get("/admin/staff_user/").get_data(as_text=True)
    assert "Staff accounts" in page and "List" in page and "工作人员账号" not in page
    assert '<html lang="en">' in page[:200]
    assert '<html lang="en">' in client.get("/admin/").get_data(as_text=True)[:200]
