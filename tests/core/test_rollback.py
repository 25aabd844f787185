"""The suite's own isolation (``tests/conftest.py``): a test's commits are undone after it,
and inside it the app behaves as it does on a real database: what a commit sends leaves, a
savepoint rolled back takes its writes and its SMS with it.

These tests drive ``rolled_back`` themselves, so they are marked ``real_commits`` (the
autouse fixture then leaves the engine alone and empties the tables after them)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from talentadmin import create_app
from talentadmin.accounts.models import EnterpriseUser
from talentadmin.core.notify import queue_sms
from talentadmin.core.workflow import Conflict, unique_or_conflict
from talentadmin.extensions import db
from talentadmin.pages.defaults import DEFAULT_PAGES
from talentadmin.pages.models import PageText

from ..conftest import empty_database, rolled_back

pytestmark = pytest.mark.real_commits

MOBILE, OTHER = "13800138000", "13900139000"


def mobiles(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(
            select(EnterpriseUser.mobile).order_by(EnterpriseUser.mobile)).scalars())


def test_what_requests_commit_is_seen_then_undone(app, portal, outbox):
    with rolled_back(app):
        portal.login_sms(MOBILE)  # the first login creates the account; each request commits
        assert mobiles(app) == [MOBILE]  # another session (app context) sees it
        assert [m["to"] for m in outbox.messages()] == [MOBILE]  # sent after the commit
        assert portal.client.get("/account").status_code == 200
    # Released savepoints did not commit: the end of the block takes the account away.
    assert mobiles(app) == []


def test_a_savepoint_rolled_back_drops_its_writes_and_the_commit_sends(app, outbox):
    with rolled_back(app):
        with app.app_context():
            db.session.add(EnterpriseUser(mobile=MOBILE))
            queue_sms(MOBILE, "kept", "test")
            with pytest.raises(Conflict), unique_or_conflict():
                db.session.add(EnterpriseUser(mobile=MOBILE))  # the unique number, twice
            db.session.add(EnterpriseUser(mobile=OTHER))
            db.session.commit()
        assert mobiles(app) == [MOBILE, OTHER]
        assert [(m["to"], m["text"]) for m in outbox.messages()] == [(MOBILE, "kept")]
        with app.app_context():
            db.session.add(EnterpriseUser(mobile="13700137000"))
            queue_sms(OTHER, "never", "test")
            db.session.rollback()
            db.session.commit()
        assert len(outbox.messages()) == 1
    assert mobiles(app) == []


def test_an_sms_queued_in_a_savepoint_rolled_back_is_not_sent(app, outbox):
    with app.app_context():
        db.session.add(EnterpriseUser(mobile=MOBILE))
        with pytest.raises(Conflict), unique_or_conflict():
            db.session.add(EnterpriseUser(mobile=MOBILE))
            queue_sms(OTHER, "dropped", "test")
        db.session.commit()
    assert outbox.messages() == []


def test_another_thread_on_the_database_fails_with_the_remedy(app):
    errors: list[Exception] = []

    def query() -> None:
        with app.app_context():
            try:
                db.session.execute(select(1))
            except RuntimeError as error:
                errors.append(error)

    with rolled_back(app):
        thread = threading.Thread(target=query)
        thread.start()
        thread.join(timeout=30)
    assert [str(e) for e in errors] == [
        "another thread used the database of a rolled-back test: mark the test real_commits"]


def test_a_second_app_on_the_database_fails_with_the_remedy(app, tmp_path):
    other = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x",
                        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                        "REDIS_URL": None})
    try:
        with (rolled_back(app), other.app_context(),
              pytest.raises(RuntimeError, match="mark the test real_commits")):
            db.session.execute(select(1))
        with other.app_context():  # once the block ended, the second app connects again
            assert db.session.execute(select(1)).scalar() == 1
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_emptying_after_real_commits_leaves_only_the_default_texts(app, make_enterprise):
    make_enterprise(MOBILE)
    with app.app_context():
        db.session.execute(PageText.__table__.delete().where(
            PageText.key == DEFAULT_PAGES[0]["key"]))
        db.session.commit()
    empty_database(app)
    assert mobiles(app) == []
    with app.app_context():
        pages = db.session.execute(select(func.count()).select_from(PageText)).scalar()
    assert pages == len(DEFAULT_PAGES)
