"""The shared counters, in the database and in Redis, behave the same."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import update

from talentadmin.core.models import RateCounter
from talentadmin.core.ratelimit import DatabaseCounters, RedisCounters
from talentadmin.core.timeutil import utcnow
from talentadmin.extensions import db

REDIS_URL = os.environ.get("TALENTADMIN_TEST_REDIS_URL")


@pytest.fixture(params=["database", "redis"])
def store(request, app):
    with app.app_context():
        if request.param == "database":
            yield DatabaseCounters()
        else:
            if not REDIS_URL:
                pytest.skip("set TALENTADMIN_TEST_REDIS_URL to test the Redis counters")
            counters = RedisCounters(REDIS_URL)
            counters.prefix = f"talentadmin-test:{os.getpid()}:"
            yield counters
            for key in counters.redis.scan_iter(counters.prefix + "*"):
                counters.redis.delete(key)


def test_counts_within_a_window(store):
    assert store.peek("k") == (0, 0)
    assert [store.hit("k", 60) for _ in range(3)] == [1, 2, 3]
    count, seconds_left = store.peek("k")
    assert count == 3 and 0 < seconds_left <= 60
    store.reset("k")
    assert store.peek("k") == (0, 0)


def test_keys_are_independent(store):
    store.hit("a", 60)
    assert store.peek("b") == (0, 0)


def test_expired_window_starts_again(app):
    with app.app_context():
        store = DatabaseCounters()
        store.hit("k", 60)
        store.hit("k", 60)
        db.session.execute(update(RateCounter).where(RateCounter.key == "k")
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert store.peek("k") == (0, 0)
        assert store.hit("k", 60) == 1
        store.hit("old", 60)
        db.session.execute(update(RateCounter).where(RateCounter.key == "old")
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        assert store.purge_expired() == 1 and store.peek("k") == (1, 60)


def test_sms_limits_hold_with_redis(app, portal, outbox):
    if not REDIS_URL:
        pytest.skip("set TALENTADMIN_TEST_REDIS_URL to test the Redis counters")
    import redis

    app.config["REDIS_URL"] = REDIS_URL
    try:
        assert portal.request_code("13800138000").status_code == 200
        assert portal.request_code("13800138000").status_code == 400
    finally:
        app.config["REDIS_URL"] = None
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter("talentadmin:rate:*"):
            client.delete(key)
    assert len(outbox.messages()) == 1
