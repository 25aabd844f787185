"""Time in one convention: naive UTC datetimes in the database, local time on pages."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now as a naive UTC datetime (how every timestamp column stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)
