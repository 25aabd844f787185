"""Fixed-window counters shared by every worker: in the database, or in Redis.

Used for SMS send limits and password lockouts. ``hit(key, window)`` counts one
event and returns the count in the current window; ``peek`` reads without
counting; ``seconds_left`` tells how long the window still runs.
"""

from __future__ import annotations

import math
from datetime import timedelta
from functools import cached_property

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .models import RateCounter
from .timeutil import utcnow


class DatabaseCounters:
    """Counters in the ``rate_counter`` table. Increments are single UPDATE statements."""

    def hit(self, key: str, window: int) -> int:
        now = utcnow()
        for _ in range(3):
            result = db.session.execute(
                update(RateCounter)
                .where(RateCounter.key == key, RateCounter.expires_at > now)
                .values(count=RateCounter.count + 1)
            )
            if result.rowcount:
                return self.peek(key)[0]
            db.session.execute(delete(RateCounter).where(RateCounter.key == key))
            try:
                with db.session.begin_nested():
                    db.session.add(
                        RateCounter(key=key, count=1, expires_at=now + timedelta(seconds=window))
                    )
                return 1
            except IntegrityError:  # another worker created it first: count again
                continue
        return self.peek(key)[0]

    def peek(self, key: str) -> tuple[int, int]:
        """``(count, seconds_left)`` of the live window, ``(0, 0)`` when none."""
        now = utcnow()
        row = db.session.execute(
            select(RateCounter.count, RateCounter.expires_at).where(
                RateCounter.key == key, RateCounter.expires_at > now
            )
        ).first()
        if row is None:
            return 0, 0
        return row.count, max(1, math.ceil((row.expires_at - now).total_seconds()))

    def reset(self, key: str) -> None:
        db.session.execute(delete(RateCounter).where(RateCounter.key == key))

    def purge_expired(self) -> int:
        result = db.session.execute(delete(RateCounter).where(RateCounter.expires_at <= utcnow()))
        return result.rowcount


class RedisCounters:
    """The same counters in Redis (``TALENTADMIN_REDIS_URL``)."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = "talentadmin:rate:"

    def hit(self, key: str, window: int) -> int:
        name = self.prefix + key
        pipe = self.redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def peek(self, key: str) -> tuple[int, int]:
        name = self.prefix + key
        pipe = self.redis.pipeline()
        pipe.get(name)
        pipe.ttl(name)
        count, ttl = pipe.execute()
        if count is None or ttl is None or ttl < 0:
            return 0, 0
        return int(count), max(1, int(ttl))

    def reset(self, key: str) -> None:
        self.redis.delete(self.prefix + key)

    def purge_expired(self) -> int:
        return 0  # Redis expires keys itself


class _Counters:
    @cached_property
    def _by_url(self) -> dict:
        return {}

    def get(self):
        url = current_app.config.get("REDIS_URL")
        if not url:
            return DatabaseCounters()
        if url not in self._by_url:
            self._by_url[url] = RedisCounters(url)
        return self._by_url[url]


_counters = _Counters()


def counters() -> DatabaseCounters | RedisCounters:
    """The counter store configured for the current app."""
    return _counters.get()
