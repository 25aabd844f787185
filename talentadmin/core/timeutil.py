"""Time in one convention: naive UTC datetimes in the database, local time on pages.

The office's zone is the setting ``TIMEZONE`` (``TALENTADMIN_TIMEZONE``, default
Asia/Shanghai), which is Flask-Babel's default zone: pages print times with Flask-Babel's
``datetimeformat`` (or ``local_formatter`` below, with ``get_timezone()``), and forms
where a time is typed convert with ``to_local`` / ``to_utc`` — both Flask-Babel's."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo

from flask_babel import to_user_timezone
from flask_babel import to_utc as _babel_to_utc


def utcnow() -> datetime:
    """Now as a naive UTC datetime (how every timestamp column stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_today() -> date:
    """Today's date in the office's zone (a server on UTC is a day behind before 08:00
    in Beijing)."""
    return to_local(utcnow()).date()


def to_local(value: datetime) -> datetime:
    """A stored (naive UTC) datetime as the office's wall-clock time, naive: what a form
    field shows."""
    return to_user_timezone(value).replace(tzinfo=None)


def to_utc(value: datetime) -> datetime:
    """A wall-clock time typed in the office's zone (naive) as naive UTC: what is stored.
    A time skipped or repeated by a daylight-saving change is read as standard time."""
    return _babel_to_utc(value)


_LAST_OF_HOUR = timedelta(minutes=59, seconds=59, microseconds=999999)


def local_formatter(zone: tzinfo, fmt: str) -> Callable[[datetime | None], str]:
    """A function: naive UTC datetime -> ``fmt`` in ``zone`` ("" for ``None``), for pages
    and files that print many. The zone's offset is looked up once per UTC hour and kept
    only when it is the same at both ends of that hour (a change of offset inside an hour
    is still converted exactly); a conversion is then a sum."""
    offsets: dict[datetime, timedelta | bool] = {}

    def local(value: datetime | None) -> str:
        if value is None:
            return ""
        hour = value.replace(minute=0, second=0, microsecond=0)
        offset = offsets.get(hour)
        if offset is None:
            start, end = (at.replace(tzinfo=UTC).astimezone(zone).utcoffset()
                          for at in (hour, hour + _LAST_OF_HOUR))
            offset = offsets[hour] = start if start == end else False
        if offset is False:
            return value.replace(tzinfo=UTC).astimezone(zone).strftime(fmt)
        return (value + offset).strftime(fmt)

    return local
