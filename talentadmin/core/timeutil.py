"""Time in one convention: naive UTC datetimes in the database, local time on pages."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo


def utcnow() -> datetime:
    """Now as a naive UTC datetime (how every timestamp column stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)


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
