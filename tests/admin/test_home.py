"""The reviewer's home (/admin/): the work waiting for the staff member's roles, each queue
with its count and a link to the grid that lists it; a role sees only its own queues."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from talentadmin.core.i18n import LANG_COOKIE
from talentadmin.extensions import db

QUEUES = {
    "pending_initial": "Awaiting the initial review",
    "pending_second": "Awaiting the second review",
    "manual_review": "Certifications awaiting review",
    "pending": "Business permissions awaiting review",
}


def waiting(page: str) -> dict[str, tuple[int, str]]:
    """``{state: (count, link)}`` of the home page's queues."""
    found = {}
    for url, state, count, label in re.findall(
            r'<a class="card[^"]*" href="([^"]+)" data-queue="([^"]+)">\s*'
            r'<div class="card-body[^"]*">\s*<div class="h3[^"]*">(\d+)</div>\s*'
            r'<div class="text-body">([^<]+)</div>', page):
        assert label == QUEUES[state]
        found[state] = (int(count), url.replace("&amp;", "&"))
    return found


def apply_for_permit(app, user_id: int) -> None:
    """A business permission application, waiting for review (made by the portal's form
    and operation, as the ``permitted`` fixture makes one)."""
    from talentadmin.accounts.models import EnterpriseUser
    from talentadmin.permits import operations
    from talentadmin.permits.forms import collect_files, permit_form

    from ..conftest import permit_form_data

    with app.test_request_context("/talent/permit/apply", method="POST",
                                  data=permit_form_data()):
        form = permit_form(meta={"csrf": False})
        assert form.validate() and collect_files(form, user_id), form.errors
        operations.submit(db.session.get(EnterpriseUser, user_id), form)
        db.session.commit()


@pytest.fixture
def work(app, permitted, open_round, declare, certified):
    """Two declarations waiting for the initial review and one for the second, a
    certification and a permit application waiting for review."""
    from talentadmin.certification.models import Certification
    from talentadmin.declarations.models import Declaration

    user_id = permitted("13800138000")
    first = declare(user_id)
    declare(user_id, id_number="110105198001010016", name="李四")
    third = declare(user_id, id_number="110105198502020028", name="王五")
    applicant = certified("13800138001", code="91110000600037341L", name="另一家公司")
    apply_for_permit(app, applicant)
    waiting_cert = certified("13800138002", code="911100007109337301", name="第三家公司")
    with app.app_context():
        db.session.get(Declaration, third).status = "pending_second"
        db.session.execute(select(Certification).where(
            Certification.enterprise_user_id == waiting_cert)).scalar_one().status = \
            "manual_review"
        db.session.commit()
    return first


def home(client) -> str:
    client.set_cookie(LANG_COOKIE, "en", domain="localhost")
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("role", "queues"), [
    ("initial_reviewer", {"pending_initial", "manual_review", "pending"}),
    ("second_reviewer", {"pending_second"}),
    ("admin", set(QUEUES)),
])
def test_each_role_sees_its_own_queues_with_their_counts(client, staff_login, work, role,
                                                         queues):
    staff_login("someone", role)
    found = waiting(home(client))
    assert set(found) == queues
    counts = {"pending_initial": 2, "pending_second": 1, "manual_review": 1, "pending": 1}
    assert {state: count for state, (count, _url) in found.items()} == {
        state: counts[state] for state in queues}


def test_a_supervisor_has_no_queue(client, staff_login, work):
    staff_login("boss", "supervisor")
    page = home(client)
    assert waiting(page) == {} and "Waiting for you" not in page


def test_empty_queues_say_zero(client, staff_login):
    staff_login("r1", "initial_reviewer")
    found = waiting(home(client))
    assert {state: count for state, (count, _url) in found.items()} == {
        "pending_initial": 0, "manual_review": 0, "pending": 0}


def test_each_link_opens_the_grid_of_that_queue(client, app, staff_login, work):
    staff_login("boss", "admin")
    found = waiting(home(client))
    for state, (count, url) in found.items():
        page = client.get(url).get_data(as_text=True)
        rows = re.findall(r'<input type="checkbox" name="rowid"', page)
        assert len(rows) == count, (state, url)
    permits = client.get(found["pending"][1]).get_data(as_text=True)
    assert "badge-success" not in permits  # the approved revision is filtered out


def test_the_counts_take_one_statement_per_kind(client, staff_login, work, sql_log):
    staff_login("boss", "admin")
    client.set_cookie(LANG_COOKIE, "en", domain="localhost")
    with sql_log() as statements:
        assert client.get("/admin/").status_code == 200
    counting = [s for s in statements if "count(" in s.lower()]
    assert len(counting) == 3, counting  # declarations, certifications, permit revisions
