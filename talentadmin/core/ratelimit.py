"""Fixed-window counters shared by every worker: in the database, or in Redis.

Used for SMS send limits and password lockouts. ``hit(key, window)`` counts one
event and returns the count in the current window, in one atomic step (one SQL
statement, or Redis ``INCR``): a caller compares the count with its limit *before*
it checks a secret or sends a message, so parallel requests cannot all pass.
``peek`` reads without counting; ``extend`` restarts the window of a live key
(a lockout that lasts from the last failure); ``undo`` gives one count back.

The limits fail closed: when Redis cannot be reached, every call raises
``LimitsUnavailable`` (the app answers 503 with a translated message), so no code is sent
and no password is checked without being counted.
"""

from __future__ import annotations

import functools
import logging
import math
import sqlite3
from datetime import timedelta
from functools import cached_property

from flask import current_app
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from ..extensions import db
from .models import RateCounter
from .timeutil import utcnow

_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite_dialect.insert}


class LimitsUnavailable(RuntimeError):
    """The counter store cannot be reached: nothing it guards may go ahead."""


def _fail_closed(method):
    """A Redis error in ``method`` becomes ``LimitsUnavailable`` (logged, without the URL)."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        import redis

        try:
            return method(self, *args, **kwargs)
        except redis.RedisError as error:
            logging.getLogger(__name__).warning(
                "rate counters: Redis unreachable (%s); limited actions refused",
                type(error).__name__)
            raise LimitsUnavailable(type(error).__name__) from None

    return guarded


class DatabaseCounters:
    """Counters in the ``rate_counter`` table, one ``INSERT … ON CONFLICT DO UPDATE …
    RETURNING`` per hit (PostgreSQL, SQLite 3.35 or later)."""

    def hit(self, key: str, window: int) -> int:
        now = utcnow()
        dialect = db.session.get_bind().dialect.name
        if dialect not in _UPSERT:
            raise RuntimeError(f"rate counters need PostgreSQL or SQLite, not {dialect}")
        if dialect == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError(
                f"rate counters need SQLite 3.35 or later (this is {sqlite3.sqlite_version})"
            )
        insert = _UPSERT[dialect](RateCounter)
        live = RateCounter.expires_at > now  # the stored row's window still runs
        statement = (
            insert.values(key=key, count=1, expires_at=now + timedelta(seconds=window))
            .on_conflict_do_update(
                index_elements=[RateCounter.key],
                set_={
                    "count": case((live, RateCounter.count + 1), else_=1),
                    "expires_at": case(
                        (live, RateCounter.expires_at), else_=insert.excluded.expires_at
                    ),
                },
            )
            .returning(RateCounter.count)
        )
        return db.session.execute(statement).scalar_one()

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

    def extend(self, key: str, window: int) -> None:
        """Let the live window of ``key`` run ``window`` seconds from now."""
        now = utcnow()
        db.session.execute(
            update(RateCounter)
            .where(RateCounter.key == key, RateCounter.expires_at > now)
            .values(expires_at=now + timedelta(seconds=window))
        )

    def undo(self, key: str) -> None:
        """Give back one count of the live window (a hit that did not happen after all)."""
        db.session.execute(
            update(RateCounter)
            .where(RateCounter.key == key, RateCounter.expires_at > utcnow(),
                   RateCounter.count > 0)
            .values(count=RateCounter.count - 1)
        )

    def reset(self, key: str) -> None:
        db.session.execute(delete(RateCounter).where(RateCounter.key == key))

    def purge_expired(self) -> int:
        result = db.session.execute(delete(RateCounter).where(RateCounter.expires_at <= utcnow()))
        return result.rowcount


class RedisCounters:
    """The same counters in Redis (``TALENTADMIN_REDIS_URL``): ``INCR`` and ``EXPIRE NX``
    in one transaction."""

    # DECR only a key that still exists: a DECR of an expired key would make a new one
    # (at -1, with no expiry).
    _UNDO = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end"

    def __init__(self, url: str) -> None:
        import redis

        # Seconds, not minutes, to learn that Redis is gone: a login waits on it.
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.prefix = "talentadmin:rate:"
        self._undo = self.redis.register_script(self._UNDO)

    @_fail_closed
    def hit(self, key: str, window: int) -> int:
        name = self.prefix + key
        pipe = self.redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window, nx=True)
        count, _ = pipe.execute()
        return int(count)

    @_fail_closed
    def peek(self, key: str) -> tuple[int, int]:
        name = self.prefix + key
        pipe = self.redis.pipeline()
        pipe.get(name)
        pipe.ttl(name)
        count, ttl = pipe.execute()
        if count is None or ttl is None or ttl < 0:
            return 0, 0
        return int(count), max(1, int(ttl))

    @_fail_closed
    def extend(self, key: str, window: int) -> None:
        self.redis.expire(self.prefix + key, window, xx=True)

    @_fail_closed
    def undo(self, key: str) -> None:
        self._undo(keys=[self.prefix + key])

    @_fail_closed
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
