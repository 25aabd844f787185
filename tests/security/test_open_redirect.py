"""The decision form goes back only to a page of this site, whatever ``url`` it is posted."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from talentadmin.core.timeutil import utcnow
from talentadmin.declarations import workflow
from talentadmin.declarations.models import Declaration, Round
from talentadmin.extensions import db

HOSTILE = ["//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
           "javascript:alert(1)", "/\t/evil.example", " //evil.example", "http:evil.example",
           "///evil.example", "https:/\\evil.example"]


@pytest.fixture
def pending(app, make_enterprise, staff_login):
    """One declaration waiting for the initial review per case; a reviewer logged in."""
    user_id = make_enterprise(password=None)
    with app.app_context():
        round_ = Round(name="2026年第一批", opens_at=utcnow() - timedelta(days=1),
                       closes_at=utcnow() + timedelta(days=30))
        db.session.add(round_)
        db.session.flush()
        for n in range(len(HOSTILE) + 1):
            db.session.add(Declaration(
                enterprise_user_id=user_id, round_id=round_.id, unit_name="甲公司",
                credit_code="91110105MA01R8DQ2M", name=f"申报人{n}", submitted_at=utcnow(),
                status=workflow.PENDING_INITIAL))
        db.session.commit()
        ids = list(db.session.execute(select(Declaration.id).order_by(Declaration.id))
                   .scalars())
    staff_login("r1", "initial_reviewer")
    return ids


def decide(client, declaration_id: int, url: str):
    """Post the page's "pass" form (every field a browser sends) with ``url`` added."""
    page = client.get(f"/admin/declaration_initial/details/?id={declaration_id}").get_data(
        as_text=True)
    form = next(f for f in re.findall(r"<form[^>]*/decide/.*?</form>", page, re.S)
                if 'value="pass_initial"' in f)
    data = {unescape(name): unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    return client.post("/admin/declaration_initial/decide/", data={**data, "url": url})


def local(location: str) -> bool:
    """A path on this site, as a browser would read it."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip().replace("\\", "/")
    parts = urlsplit(cleaned)
    return (parts.scheme in ("", "http", "https") and parts.netloc in ("", "localhost")
            and parts.path.startswith("/") and not parts.path.startswith("//"))


@pytest.mark.parametrize("n", range(len(HOSTILE)))
def test_decision_never_redirects_off_site(app, client, pending, n):
    response = decide(client, pending[n], HOSTILE[n])
    assert response.status_code == 302
    location = response.headers["Location"]
    assert local(location) and "evil" not in urlsplit(location).netloc, location
    assert location.split("?")[0].endswith("/admin/declaration_initial/details/")
    with app.app_context():  # the decision itself was taken
        assert db.session.get(Declaration, pending[n]).status == workflow.PENDING_SECOND


def test_decision_goes_back_to_a_page_of_ours(client, pending):
    response = decide(client, pending[-1], "/admin/declaration_initial/?page_size=50")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/declaration_initial/?page_size=50"


def test_the_detail_page_links_back_only_to_our_pages(client, pending):
    """The page a refused decision goes back to carries ``url`` on: its links stay here
    (Flask-Admin's check; it lets ``http:evil.example`` through on an http page, where a
    browser reads it as a relative path)."""
    for url in HOSTILE:
        if url == "http:evil.example":
            continue
        page = client.get("/admin/declaration_initial/details/",
                          query_string={"id": pending[0], "url": url}).get_data(as_text=True)
        links = [unescape(h) for h in re.findall(r'(?:href|action)="([^"]*)"', page)]
        ours = {"javascript:void(0)"}  # the menu's own toggles
        assert links and all(local(link) or link.startswith("#") or link in ours
                             for link in links), url
