"""Numbers read from a request (ids, versions, page numbers), parsed once and bounded.

Python's ``int()`` takes ``"²"``? No — ``"²".isdigit()`` is true yet ``int("²")`` fails; it
takes ``"١٢"``, ``"1_000"`` and any number of digits, and the database's INTEGER does not
(PostgreSQL: "integer out of range"; SQLite: OverflowError). Every number a request carries
goes through these instead: each raises ``ValueError`` on anything but plain ASCII digits in
range, so it also serves as werkzeug's ``type=`` (``request.args.get("id", type=record_id)``
gives ``None`` for garbage).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from werkzeug.routing import IntegerConverter

INT_MAX = 2**31 - 1  # SQL INTEGER, the type of every id and version column
PAGE_MAX = 100_000  # a grid page number; past it a page is empty anyway

_DIGITS = re.compile(r"[0-9]{1,10}")


def bounded_int(value, low: int = 0, high: int = INT_MAX) -> int:
    """``value`` (a ``str`` of ASCII digits, or an ``int``) between ``low`` and ``high``;
    else ``ValueError``."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError("not a number")
    if not low <= number <= high:
        raise ValueError("out of range")
    return number


def record_id(value) -> int:
    """A record's id (1 … 2³¹-1)."""
    return bounded_int(value, 1)


def record_ids(values: Iterable) -> list[int]:
    """The valid ids among ``values`` (a list of strings, or one comma-separated string),
    in order, without repeats; anything else is dropped."""
    if isinstance(values, str):
        values = values.split(",")
    found: dict[int, None] = {}
    for value in values or ():
        try:
            found[record_id(value)] = None
        except ValueError:
            continue
    return list(found)


def optional_id(value) -> int | None:
    """``record_id(value)``, or ``None`` for anything that is not one."""
    try:
        return record_id(value)
    except ValueError:
        return None


def page_number(value) -> int:
    """A grid page (0-based): negative, garbage or ``None`` is the first page, and huge
    numbers stop at ``PAGE_MAX`` (a page past the last is empty, not an error)."""
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"[0-9]+", value):
            return 0
        value = int(value) if len(value) <= 10 else PAGE_MAX
    if not isinstance(value, int) or isinstance(value, bool):
        return 0
    return max(0, min(value, PAGE_MAX))


class RecordIdConverter(IntegerConverter):
    """``<int:…>`` in a route: only a number the database can hold matches (others 404)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)
