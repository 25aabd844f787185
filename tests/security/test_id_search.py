"""A search by ID number: posted, never in a URL (nor so in an access log), audited masked."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from talentadmin.core.models import AuditEvent
from talentadmin.core.timeutil import utcnow
from talentadmin.declarations import workflow
from talentadmin.declarations.models import Declaration, Round
from talentadmin.extensions import db

from ..conftest import csrf_in

WANTED, OTHER = "11010519491231002X", "110105198001010016"
GRIDS = ("declaration_all", "declaration_initial")


@pytest.fixture
def people(app, make_enterprise, staff_login):
    """Two submitted declarations; a supervisor and initial reviewer logged in."""
    user_id = make_enterprise(password=None)
    with app.app_context():
        round_ = Round(name="2026年第一批", opens_at=utcnow() - timedelta(days=1),
                       closes_at=utcnow() + timedelta(days=30))
        db.session.add(round_)
        db.session.flush()
        for name, number in (("王要找", WANTED), ("李其他", OTHER)):
            declaration = Declaration(
                enterprise_user_id=user_id, round_id=round_.id, unit_name="甲公司",
                credit_code="91110105MA01R8DQ2M", name=name, submitted_at=utcnow(),
                status=workflow.PENDING_INITIAL)
            declaration.set_id_number(number)
            db.session.add(declaration)
        db.session.commit()
    staff_login("boss", "supervisor", "initial_reviewer")


def post_search(client, grid: str, term: str, query: str = ""):
    page = client.get(f"/admin/{grid}/{query}").get_data(as_text=True)
    action = re.search(r'<form method="POST" action="([^"]*/search/[^"]*)"', page).group(1)
    return client.post(action.replace("&amp;", "&"),
                       data={"csrf_token": csrf_in(page), "search": term})


def full_number_in(text: str) -> bool:
    text = unquote(text)
    return WANTED in text or WANTED.lower() in text


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("typed", [WANTED, WANTED.lower(), f"  {WANTED} "])
def test_id_search_is_posted_and_the_address_never_holds_the_number(client, people, grid,
                                                                     typed):
    response = post_search(client, grid, typed, "?page_size=50&flt0_1=pending_initial")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert not full_number_in(location) and "search=idx" in location
    assert "page_size=50" in location and "flt0_1=pending_initial" in location  # kept
    page = client.get(location).get_data(as_text=True)
    assert "王要找" in page and "李其他" not in page
    assert not full_number_in(page)  # no link on the page (pager, sort, export) holds it
    assert 'value="1101**********002X"' in page  # the box shows the masked number
    again = client.post(re.search(r'action="([^"]*/search/[^"]*)"', page).group(1)
                        .replace("&amp;", "&"),
                        data={"csrf_token": csrf_in(page), "search": "1101**********002X"})
    assert again.headers["Location"] == location  # sent back as shown: the same search


def test_other_terms_still_search_by_name(client, people):
    response = post_search(client, "declaration_all", "李其")
    assert "search=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "李其他" in page and "王要找" not in page


def test_a_number_typed_into_the_address_is_moved_off_it(client, people):
    response = client.get("/admin/declaration_all/", query_string={"search": WANTED})
    assert response.status_code == 302 and not full_number_in(response.headers["Location"])
    assert "王要找" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("token", [
    "idx:", "idx:zz", "idx:" + "0" * 64, "idx:" + "A" * 64, "idx:%", "idx:" + "f" * 5000,
    "idx:" + "0" * 63 + "\x00", "IDX:" + "0" * 64])
def test_a_bogus_token_finds_nothing_and_does_not_crash(client, people, token):
    for grid in GRIDS:
        response = client.get(f"/admin/{grid}/", query_string={"search": token})
        assert response.status_code in (200, 400)
        page = response.get_data(as_text=True)
        assert "王要找" not in page and "李其他" not in page
    response = client.get("/admin/declaration_all/municipal/csv/",
                          query_string={"search": token})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
        assert rows[1:] == []


def test_the_export_audit_stores_the_number_masked(client, app, people):
    location = post_search(client, "declaration_all", WANTED).headers["Location"]
    query = location.split("?", 1)[1]
    response = client.get(f"/admin/declaration_all/municipal/csv/?{query}")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row[3] for row in rows[1:]] == ["王要找"] and rows[1][4].strip() == WANTED  # the file
    # an old link with the number in full still exports, and is audited masked too
    client.get("/admin/declaration_all/municipal/xlsx/", query_string={"search": WANTED})
    client.get("/admin/declaration_all/municipal/csv/",
               query_string={"search": f"王 {WANTED}"})
    with app.app_context():
        events = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "declaration.export").order_by(AuditEvent.id)).scalars().all()
        everything = db.session.execute(select(AuditEvent)).scalars().all()
    assert [e.detail["search"] for e in events] == [
        "1101**********002X", "1101**********002X", "王 1101**********002X"]
    assert not any(full_number_in(json.dumps(e.detail, ensure_ascii=False))
                   for e in everything)
