"""A round's window is typed and shown in the office's zone and kept in UTC: a deadline of
17:30 in Beijing closes at 17:30 in Beijing (issue 9, defect 0b)."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from talentadmin import create_app
from talentadmin.core import timeutil
from talentadmin.core.models import AuditEvent, StatusChange
from talentadmin.declarations.models import Declaration, Round
from talentadmin.extensions import db

from ..conftest import csrf_in, staff_client
from .test_portal import declaration_data

BEIJING = ZoneInfo("Asia/Shanghai")


class Clock:
    """``utcnow()`` fixed, in every module that reads it."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def at(self, day: date, hhmm: str, zone=BEIJING) -> datetime:
        """Set the clock to a wall-clock time in ``zone``; return it as naive UTC."""
        local = datetime.combine(day, datetime.strptime(hhmm, "%H:%M").time(), tzinfo=zone)
        self.now = local.astimezone(UTC).replace(tzinfo=None)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    real = timeutil.utcnow

    def fixed() -> datetime:
        return clock.now if clock.now is not None else real()

    for module in list(sys.modules.values()):
        if (getattr(module, "__name__", "").startswith("talentadmin")
                and getattr(module, "utcnow", None) is real):
            monkeypatch.setattr(module, "utcnow", fixed)
    return clock


def admin_client(app, make_staff, username: str = "roundadmin"):
    """A separate browser for the administrator (the portal keeps its own session)."""
    return staff_client(app, make_staff, username, "admin")


def create_round(browser, name: str, opens: str, closes: str) -> None:
    html = browser.get("/admin/round/new/").get_data(as_text=True)
    response = browser.post("/admin/round/new/", data={
        "csrf_token": csrf_in(html), "name": name, "opens_at": opens, "closes_at": closes})
    assert response.status_code == 302, response.get_data(as_text=True)


def stored_round(app) -> Round:
    with app.app_context():
        round_ = db.session.execute(select(Round)).scalar_one()
        db.session.expunge(round_)
        return round_


def edit_form_values(browser, round_id: int) -> tuple[str, str]:
    html = browser.get(f"/admin/round/edit/?id={round_id}").get_data(as_text=True)
    return tuple(re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)
                 for name in ("opens_at", "closes_at"))


def version_of(client, declaration_id: int) -> str:
    page = client.get(f"/talent/declarations/{declaration_id}/edit").get_data(as_text=True)
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


def test_deadline_of_1730_beijing_closes_at_1730_beijing(app, client, clock, make_staff,
                                                         permitted, portal):
    day = (datetime.now(BEIJING) + timedelta(days=1)).date()  # the closing day
    clock.at(day, "08:00")
    admin = admin_client(app, make_staff)
    create_round(admin, "2026年引进人才需求申报", f"{day}T09:00", f"{day}T17:30")

    round_ = stored_round(app)  # kept in UTC: Beijing is UTC+8
    assert (round_.opens_at, round_.closes_at) == (
        datetime.combine(day, datetime.min.time()) + timedelta(hours=1),
        datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=30))
    grid = admin.get("/admin/round/").get_data(as_text=True)
    assert f"{day} 09:00" in grid and f"{day} 17:30" in grid
    assert "01:30" not in grid and f"{day} 17:00" not in grid
    assert edit_form_values(admin, round_.id) == (f"{day}T09:00", f"{day}T17:30")

    clock.at(day, "17:10")  # the round is open: two drafts (the session idles 30 minutes)
    permitted("13800138000")
    ids = []
    for name, number in (("张三", "11010519491231002X"), ("李四", "110105198001010016")):
        response = portal.post_multipart("/talent/declarations/new", {
            "name": name, "id_number": number, "save_draft": "1"})
        assert response.status_code == 302
        ids.append(int(response.headers["Location"].rstrip("/").split("/")[-2]))
    hub = client.get("/talent/declare").get_data(as_text=True)
    assert re.search(r"截止 [^<]*17:30", hub), re.findall(r"截止[^<]*", hub)
    assert "01:30" not in hub

    clock.at(day, "17:29")  # a minute before the deadline: accepted
    response = portal.post_multipart(f"/talent/declarations/{ids[0]}/edit", declaration_data(
        version=version_of(client, ids[0])))
    assert response.status_code == 302, response.get_data(as_text=True)

    clock.at(day, "17:31")  # a minute after: refused, and told why
    response = portal.post_multipart(f"/talent/declarations/{ids[1]}/edit", declaration_data(
        name="李四", id_number="110105198001010016", version=version_of(client, ids[1])))
    assert response.status_code == 400
    assert "该申报所属批次已截止" in response.get_data(as_text=True)
    response = client.get("/talent/declarations/new", follow_redirects=True)
    assert "当前没有开放的申报批次" in response.get_data(as_text=True)

    with app.app_context():
        statuses = dict(db.session.execute(select(Declaration.id, Declaration.status)).all())
    assert statuses == {ids[0]: "pending_initial", ids[1]: "draft"}


def test_every_page_shows_times_in_the_office_zone(app, client, make_staff, permitted, portal,
                                                   open_round):
    """A submission at 15:50 UTC reads 23:50 on the portal's timeline, the staff grid, the
    record's page and the audit log; a filter typed in local time finds it."""
    permitted("13800138000")
    response = portal.post_multipart("/talent/declarations/new", declaration_data())
    assert response.status_code == 302
    at = datetime(2026, 6, 29, 15, 50)  # 23:50 in Beijing
    with app.app_context():
        (declaration_id,) = db.session.execute(select(Declaration.id)).scalars()
        db.session.execute(update(Declaration).values(created_at=at, submitted_at=at))
        db.session.execute(update(StatusChange).values(at=at))
        db.session.execute(update(AuditEvent).values(at=at))
        db.session.commit()

    page = client.get(f"/talent/declarations/{declaration_id}").get_data(as_text=True)
    assert "23:50" in page and "15:50" not in page
    admin = admin_client(app, make_staff)
    for url in ("/admin/declaration_all/",
                f"/admin/declaration_all/details/?id={declaration_id}", "/admin/audit_event/"):
        page = admin.get(url).get_data(as_text=True)
        assert "23:50" in page and "15:50" not in page, url
    # the audit log's time filter (its 5th: between) is typed in Beijing time
    inside = admin.get("/admin/audit_event/?flt0_4=2026-06-29+23:45:00+to+2026-06-29+23:55:00")
    outside = admin.get("/admin/audit_event/?flt0_4=2026-06-29+15:45:00+to+2026-06-29+15:55:00")
    assert "23:50" in inside.get_data(as_text=True)
    assert "23:50" not in outside.get_data(as_text=True)


@pytest.fixture
def berlin_app(app, monkeypatch):
    """The same database, served by an office in Berlin (``TALENTADMIN_TIMEZONE``)."""
    monkeypatch.setenv("TALENTADMIN_TIMEZONE", "Europe/Berlin")
    config = {key: app.config[key] for key in ("TESTING", "SECRET_KEY", "SMS_BACKEND",
                                               "SMS_ENABLED", "REDIS_URL", "CAPTCHA_TEST_MODE",
                                               "SERVER_NAME", "UPLOAD_FOLDER", "SMS_OUTBOX")}
    config.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                  INSTANCE_PATH=app.instance_path)
    return create_app(config)


@pytest.mark.real_commits  # a second app: its own connection to the database
def test_another_zone_across_a_daylight_saving_change(berlin_app, make_staff):
    """Berlin is UTC+1 on 28 March 2026 and UTC+2 from 29 March (summer time)."""
    assert berlin_app.config["BABEL_DEFAULT_TIMEZONE"] == "Europe/Berlin"
    admin = admin_client(berlin_app, make_staff)
    create_round(admin, "Berlin round", "2026-03-28T09:00", "2026-03-30T17:30")
    round_ = stored_round(berlin_app)
    assert (round_.opens_at, round_.closes_at) == (datetime(2026, 3, 28, 8, 0),
                                                   datetime(2026, 3, 30, 15, 30))
    grid = admin.get("/admin/round/").get_data(as_text=True)
    assert "2026-03-28 09:00" in grid and "2026-03-30 17:30" in grid
    assert edit_form_values(admin, round_.id) == ("2026-03-28T09:00", "2026-03-30T17:30")


def test_an_unknown_zone_is_refused_at_start(app, monkeypatch):
    monkeypatch.setenv("TALENTADMIN_TIMEZONE", "Asia/Beijing")  # not a zone name
    with pytest.raises(ValueError, match="TALENTADMIN_TIMEZONE"):
        create_app({"INSTANCE_PATH": app.instance_path, "SECRET_KEY": "x",
                    "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]})


def test_demo_round_is_open_for_the_whole_local_year(app, runner):
    """``flask seed --demo``: open from 1 January 00:00 to the next 1 January, Beijing time."""
    from talentadmin.cli import _seed_demo_round

    with app.app_context():
        name = _seed_demo_round()
        db.session.commit()
        round_ = db.session.execute(select(Round).where(Round.name == name)).scalar_one()
        year = datetime.now(BEIJING).year
        assert name.startswith(str(year))
        assert round_.opens_at == datetime(year - 1, 12, 31, 16, 0)
        assert round_.closes_at == datetime(year, 12, 31, 16, 0)
        assert round_.is_open()


def test_report_batch_is_named_in_local_time(app, clock, make_staff):
    """The batch id is printed beside the (local) report time: it reads the same clock."""
    from talentadmin.accounts.models import StaffUser
    from talentadmin.declarations import operations

    staff_id = make_staff("supervisor1", "supervisor")
    clock.at(date(2026, 6, 30), "09:30")  # 01:30 UTC
    with app.test_request_context():
        batch, count = operations.mark_reported([], db.session.get(StaffUser, staff_id))
    assert (batch, count) == ("20260630-093000", 0)
