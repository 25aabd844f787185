"""Reviewer reminders: the dashboard counts, per review stage, the declarations waiting in
its queue longer than ``REVIEW_REMIND_DAYS`` days."""

from __future__ import annotations

import re
from datetime import timedelta

from talentadmin.core.timeutil import utcnow
from talentadmin.declarations.models import Round
from talentadmin.extensions import db

from ..admin.test_dashboard import _declaration, _enterprise
from ..conftest import csrf_in


def overdue(html: str) -> dict[str, str]:
    return dict(re.findall(r'<span class="overdue" data-stage="(\w+)">[^<]*: (\d+)</span>',
                           html))


def test_queues_waiting_too_long_are_counted_per_stage(app, client, staff_login, monkeypatch):
    now = utcnow()
    with app.app_context():
        current = Round(name="Round now", opens_at=now - timedelta(days=20),
                        closes_at=now + timedelta(days=20))
        db.session.add(current)
        db.session.flush()
        user = _enterprise(1, "haidian", "ai")
        _declaration(current.id, user, "doctorate", "pending_initial",
                     [("submit", now - timedelta(days=5))])
        _declaration(current.id, user, "doctorate", "pending_initial",
                     [("submit", now - timedelta(days=1))])  # not yet overdue
        for passed in (4, 6, 0):
            second = _declaration(current.id, user, "patent", "pending_second",
                                  [("submit", now - timedelta(days=9))])
            second.initial_passed_at = now - timedelta(days=passed)
        _declaration(current.id, user, "patent", "completed",
                     [("submit", now - timedelta(days=30))])  # not in a queue
        db.session.commit()
    html = client.get("/").get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_in(html)})
    staff_login("boss", "supervisor")

    page = client.get("/admin/dashboard/").get_data(as_text=True)
    assert "waiting more than 3 days for review" in page
    assert overdue(page) == {"initial": "1", "second": "2"}
    assert "Initial review: 1" in page and "Second review: 2" in page

    monkeypatch.setitem(app.config, "REVIEW_REMIND_DAYS", 6)
    assert overdue(client.get("/admin/dashboard/").get_data(as_text=True)) == {"second": "1"}
    monkeypatch.setitem(app.config, "REVIEW_REMIND_DAYS", 10)
    page = client.get("/admin/dashboard/").get_data(as_text=True)
    assert 'id="overdue-queues"' not in page
