"""Accounts under two requests at once: one change, one audit event, never a 500."""

from __future__ import annotations

import pytest

from talentadmin.accounts.models import EnterpriseUser
from talentadmin.core.models import AuditEvent
from talentadmin.extensions import db

from ..conftest import csrf_in, staff_client
from .test_concurrency import count, race

pytestmark = pytest.mark.real_commits  # two requests at once: threads, a connection each


def test_account_disabled_twice_at_once_changes_once(app, make_staff, make_enterprise):
    enterprise_id = make_enterprise("13800138000")
    url = f"/admin/enterprise_user/edit/?id={enterprise_id}"
    posts = []
    for name in ("boss1", "boss2"):
        client = staff_client(app, make_staff, name, "admin")
        token = csrf_in(client.get(url).get_data(as_text=True))
        posts.append(lambda client=client, token=token: client.post(
            url, data={"csrf_token": token}))  # "active" unticked: disable
    race(*posts)
    with app.app_context():
        assert db.session.get(EnterpriseUser, enterprise_id).active is False
    assert count(app, AuditEvent, AuditEvent.action == "enterprise.update") == 1

