"""重新申请 after the round has closed: a rejected declaration may be corrected and
resubmitted within its round's correction window (calendar days after the local day of the
rejection); the portal says until when, and after the window offers no button but a
sentence why. Checked when the page is drawn and again when the form is posted.

The pages are read in English (the new sentences' Chinese is added to the catalog later)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale, format_date, format_datetime
from sqlalchemy import func, select, update

from talentadmin.core.errors import FieldError
from talentadmin.core.models import StatusChange
from talentadmin.declarations import operations
from talentadmin.declarations.forms import DeclarationForm
from talentadmin.declarations.models import Declaration, Round
from talentadmin.extensions import db

from ..conftest import PASSWORD, Portal, csrf_in, staff_client
from ..reliability.live_server import in_parallel
from .test_portal import declaration_data
from .test_round_times import BEIJING, clock  # noqa: F401  (the fixed clock fixture)
from .test_workflow import decide

MOBILE = "13800138000"
DAY = date(2030, 3, 4)  # a Monday: the round closes on Tuesday 17:30 (Beijing)


@pytest.fixture
def rejected(app, clock, permitted, portal, client):  # noqa: F811
    """A declaration rejected on ``DAY`` at 10:00 in a round that closes the next day at
    17:30 with a window of 3 calendar days (the last day: Thursday ``DAY`` + 3)."""
    clock.at(DAY, "09:00")
    with app.app_context():
        opens = datetime.combine(DAY - timedelta(days=10), datetime.min.time())
        closes = datetime.combine(DAY + timedelta(days=1), datetime.min.time()) + timedelta(
            hours=9, minutes=30)  # 17:30 in Beijing
        db.session.add(Round(name="2030年引进人才需求申报", opens_at=opens, closes_at=closes,
                             correction_days=3))
        db.session.commit()
    permitted(MOBILE)
    response = portal.post_multipart("/talent/declarations/new", declaration_data())
    assert response.status_code == 302
    with app.app_context():
        declaration_id = db.session.execute(select(Declaration.id)).scalar_one()
    clock.at(DAY, "10:00")
    assert decide(app, declaration_id, "r1", "initial_reviewer", "reject_initial", "照片不清晰")
    return declaration_id


def english(client) -> None:
    client.post("/language/en", data={"csrf_token": csrf_in(client.get("/").get_data(
        as_text=True))})


def login_at(clock, portal, client, day: date, hhmm: str) -> None:  # noqa: F811
    """Move the clock (days later: the session has idled out) and log in again."""
    clock.at(day, hhmm)
    assert portal.login_password(MOBILE, PASSWORD).status_code == 302
    english(client)


def status(app, declaration_id) -> str:
    with app.app_context():
        return db.session.get(Declaration, declaration_id).status


def version_of(client, declaration_id) -> str:
    page = client.get(f"/talent/declarations/{declaration_id}/edit").get_data(as_text=True)
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


def kept(client, declaration_id) -> dict:
    page = client.get(f"/talent/declarations/{declaration_id}/edit").get_data(as_text=True)
    return dict(re.findall(r'name="(\w+_keep)"[^>]*value="([^"]*)"', page))


def resubmission(client, declaration_id, **extra) -> dict:
    """The edit page's form as the enterprise posts it (its CSRF token and version read
    now: the page opened now), its files kept."""
    page = client.get(f"/talent/declarations/{declaration_id}/edit").get_data(as_text=True)
    return declaration_data(csrf_token=csrf_in(page), version=version_of(client, declaration_id),
                            social_insurance=None, integrity=None, evidence=None,
                            **kept(client, declaration_id), **extra)


def post(client, declaration_id, form: dict):
    """Post a form read earlier (the page may have changed since)."""
    return client.post(f"/talent/declarations/{declaration_id}/edit", data=form,
                       content_type="multipart/form-data")


def last_day_text(app) -> str:
    with app.test_request_context(), force_locale("en"):
        return format_date(DAY + timedelta(days=3))


def test_the_window_is_stamped_from_the_rejection(app, rejected):
    with app.app_context():
        d = db.session.get(Declaration, rejected)
        assert d.rejected_at == datetime.combine(DAY, datetime.min.time()) + timedelta(hours=2)
        # the end of the third calendar day after the day of the rejection, Beijing time
        assert d.resubmit_until() == datetime.combine(
            DAY + timedelta(days=3), datetime.min.time()) + timedelta(hours=16)


def test_after_the_close_within_the_window_the_button_says_until_when_and_works(
        app, rejected, clock, portal, client):  # noqa: F811
    login_at(clock, portal, client, DAY + timedelta(days=2), "12:00")  # the round is closed
    with app.app_context():
        assert not db.session.get(Declaration, rejected).round.is_open()
    page = client.get(f"/talent/declarations/{rejected}").get_data(as_text=True)
    assert f"Apply again (until {last_day_text(app)})" in page
    assert f"/talent/declarations/{rejected}/edit" in page
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert f"(until {last_day_text(app)})" in hub and f"/talent/declarations/{rejected}/edit" in hub
    assert client.get(f"/talent/declarations/{rejected}/edit").status_code == 200

    login_at(clock, portal, client, DAY + timedelta(days=3), "23:50")  # 10 minutes left
    response = portal.post_multipart(f"/talent/declarations/{rejected}/edit",
                                     resubmission(client, rejected, major="软件工程"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert status(app, rejected) == "pending_initial"


def test_after_the_window_no_button_but_a_sentence_and_the_post_is_refused(
        app, rejected, clock, portal, client):  # noqa: F811
    login_at(clock, portal, client, DAY + timedelta(days=3), "23:45")
    form = resubmission(client, rejected, major="软件工程")  # the page opened in time…
    clock.at(DAY + timedelta(days=4), "00:00")  # …and posted once the window has closed
    response = post(client, rejected, form)
    assert response.status_code == 302
    assert status(app, rejected) == "rejected"
    with app.app_context():
        assert db.session.get(Declaration, rejected).major != "软件工程"

    page = client.get(f"/talent/declarations/{rejected}").get_data(as_text=True)
    assert f"/talent/declarations/{rejected}/edit" not in page
    assert (f"The time to correct and resubmit this declaration ended ({last_day_text(app)})"
            in page)
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert "Correction time over" in hub and f"/talent/declarations/{rejected}/edit" not in hub
    assert client.get(f"/talent/declarations/{rejected}/edit").status_code == 302


def test_the_operation_itself_refuses_a_resubmission_after_the_window(app, rejected, clock):  # noqa: F811
    """Server side, whatever the page: ``operations.save`` checks the window on its clock."""
    from talentadmin.accounts.models import EnterpriseUser

    clock.at(DAY + timedelta(days=4), "08:00")
    with app.test_request_context("/", method="POST", data=declaration_data()):
        declaration = db.session.get(Declaration, rejected)
        form = DeclarationForm(meta={"csrf": False})
        form.version.data = str(declaration.version)
        with pytest.raises(FieldError) as refused:
            operations.save(db.session.get(EnterpriseUser, declaration.enterprise_user_id),
                            declaration, form)
        assert refused.value.field == "form"
        assert "请联系区委人才办" in refused.value.message  # the office's own language
        assert db.session.get(Declaration, rejected).status == "rejected"


def test_a_draft_is_not_given_the_window(app, rejected, clock, portal, client):  # noqa: F811
    """Only a rejection opens a correction window: a draft is submitted while the round is
    open, as before."""
    login_at(clock, portal, client, DAY + timedelta(days=1), "17:00")
    response = portal.post_multipart("/talent/declarations/new", declaration_data(
        name="李四", id_number="110105198001010016", submit=None, save_draft="1"))
    assert response.status_code == 302
    draft = int(response.headers["Location"].rstrip("/").split("/")[-2])
    login_at(clock, portal, client, DAY + timedelta(days=2), "09:00")
    response = portal.post_multipart(f"/talent/declarations/{draft}/edit", declaration_data(
        name="李四", id_number="110105198001010016", version=version_of(client, draft)))
    assert response.status_code == 400
    assert "closed" in response.get_data(as_text=True)
    assert status(app, draft) == "draft"


def test_a_round_without_a_window_allows_no_resubmission_after_it_closes(
        app, rejected, clock, portal, client):  # noqa: F811
    with app.app_context():
        db.session.execute(update(Round).values(correction_days=0))
        db.session.commit()
    login_at(clock, portal, client, DAY + timedelta(days=1), "17:00")  # still open
    page = client.get(f"/talent/declarations/{rejected}").get_data(as_text=True)
    with app.test_request_context(), force_locale("en"):
        closes = format_datetime(db.session.get(Declaration, rejected).round.closes_at)
    assert f"Apply again (until {closes})" in page  # until the round closes
    clock.at(DAY + timedelta(days=1), "17:30")
    page = client.get(f"/talent/declarations/{rejected}").get_data(as_text=True)
    assert f"/talent/declarations/{rejected}/edit" not in page and "ended" in page


def test_a_round_open_longer_than_the_window_keeps_its_close(app, rejected):
    later = datetime.combine(DAY + timedelta(days=30), datetime.min.time())
    with app.app_context():
        db.session.execute(update(Round).values(closes_at=later))
        db.session.commit()
        assert db.session.get(Declaration, rejected).resubmit_until() == later


def test_two_tabs_resubmit_once(app, rejected, clock, portal, client):  # noqa: F811
    """Two pages opened on the same rejected declaration inside the window, both posted:
    the first resubmits, the second changes nothing (one writer, one timeline row)."""
    login_at(clock, portal, client, DAY + timedelta(days=2), "12:00")
    first = resubmission(client, rejected, major="软件工程")
    second = resubmission(client, rejected, major="数学")
    assert post(client, rejected, first).status_code == 302
    assert post(client, rejected, second).status_code == 302
    with app.app_context():
        d = db.session.get(Declaration, rejected)
        assert (d.status, d.major) == ("pending_initial", "软件工程")
        assert db.session.execute(select(func.count()).select_from(StatusChange).where(
            StatusChange.action == "resubmit")).scalar() == 1


# --- the round's form ------------------------------------------------------------------------


def round_form(browser) -> str:
    return browser.get("/admin/round/new/").get_data(as_text=True)


@pytest.mark.parametrize("value", ["", "-1", "abc", "366", "2.5", "7 days"])
def test_the_round_form_refuses_a_bad_window(app, make_staff, value):
    admin = staff_client(app, make_staff, "roundadmin", "admin")
    english(admin)
    html = round_form(admin)
    response = admin.post("/admin/round/new/", data={
        "csrf_token": csrf_in(html), "name": "R", "opens_at": "2030-03-01T09:00",
        "closes_at": "2030-03-05T17:30", "correction_days": value})
    assert response.status_code == 200
    assert "Give a whole number of days from 0 to 365." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Round)).scalar() == 0


def test_the_round_form_sets_the_window_in_calendar_days(app, make_staff):
    admin = staff_client(app, make_staff, "roundadmin", "admin")
    english(admin)
    html = round_form(admin)
    assert "calendar days" in html and 'name="correction_days"' in html
    assert 'value="7"' in html  # the default: about five working days
    response = admin.post("/admin/round/new/", data={
        "csrf_token": csrf_in(html), "name": "R", "opens_at": "2030-03-01T09:00",
        "closes_at": "2030-03-05T17:30", "correction_days": " 5 "})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        round_ = db.session.execute(select(Round)).scalar_one()
        assert round_.correction_days == 5
    edit = admin.get(f"/admin/round/edit/?id={round_.id}").get_data(as_text=True)
    assert 'name="correction_days"' in edit and 'value="5"' in edit
    assert re.search(r">\s*5\s*<", admin.get("/admin/round/").get_data(as_text=True))


def test_a_zone_independent_last_day(app):
    """The window's last day is the office's calendar day, whatever the server's zone."""
    with app.test_request_context():
        round_ = Round(name="x", opens_at=datetime(2030, 1, 1), closes_at=datetime(2030, 1, 2),
                       correction_days=1)
        # 2030-03-04 23:30 in Beijing is 15:30 UTC: its local day is the 4th
        end = round_.correction_end(datetime(2030, 3, 4, 15, 30))
    assert end == datetime(2030, 3, 5, 16, 0)  # 2030-03-06 00:00 in Beijing
    assert BEIJING is not None


@pytest.mark.real_commits
def test_two_resubmissions_at_the_same_moment_move_it_once(
        app, rejected, clock, portal, client):  # noqa: F811
    """Two sessions of the enterprise post the same rejected declaration at the same moment,
    inside the window after the round closed: one resubmits it, the other is told it was
    already submitted (never an error); one timeline row, one audit event."""
    login_at(clock, portal, client, DAY + timedelta(days=2), "12:00")
    other = app.test_client()
    Portal(other, app, None).login_password(MOBILE, PASSWORD)
    forms = [resubmission(client, rejected, major="软件工程"),
             resubmission(other, rejected, major="数学")]
    responses = in_parallel([lambda: post(client, rejected, forms[0]),
                             lambda: post(other, rejected, forms[1])])
    assert sorted(r.status_code for r in responses) == [302, 302], [
        r.get_data(as_text=True)[:300] for r in responses]
    with app.app_context():
        d = db.session.get(Declaration, rejected)
        assert d.status == "pending_initial" and d.major in ("软件工程", "数学")
        assert db.session.execute(select(func.count()).select_from(StatusChange).where(
            StatusChange.action == "resubmit")).scalar() == 1
