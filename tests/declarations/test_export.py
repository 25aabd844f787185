"""The municipal export's pieces: dates in the office's zone, cells safe for Excel."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from talentadmin import create_app
from talentadmin.core.export import csv_chunks, safe_cell
from talentadmin.declarations.export import _local_dates


@pytest.mark.parametrize("zone_name", ["Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu",
                                       "America/New_York", "Australia/Lord_Howe"])
def test_local_times_match_a_full_conversion(tmp_path, zone_name):
    """The per-hour offset cache gives what a full conversion gives, in zones with half- and
    quarter-hour offsets and with daylight saving (Lord Howe moves by 30 minutes); the
    export's dates use it in the office's zone."""
    from zoneinfo import ZoneInfo

    from talentadmin.core.timeutil import local_formatter

    zone = ZoneInfo(zone_name)
    local = local_formatter(zone, "%Y-%m-%d %H:%M")
    rnd = random.Random(zone_name)
    start = datetime(2026, 1, 1)
    moments = [start + timedelta(seconds=rnd.randrange(366 * 86400)) for _ in range(20000)]
    moments += [start + timedelta(minutes=m) for m in range(0, 366 * 1440, 15)]
    for moment in moments:
        expected = moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        assert local(moment) == expected, moment
    assert local(None) == ""
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x",
                      "INSTANCE_PATH": str(tmp_path), "BABEL_DEFAULT_TIMEZONE": zone_name})
    with app.test_request_context():
        assert _local_dates()(moments[0]) == expected_date(moments[0], zone)


def expected_date(moment, zone) -> str:
    return moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d")


def test_csv_cells_are_escaped_as_safe_cell_does():
    row = ["=SUM(A1)", "+1", "-2", "@x", "\tTab", "\rCR", "plain", None, 42, "中文"]
    text = "".join(csv_chunks(["h"] * len(row), [row], per_chunk=1))
    assert text.startswith("\ufeff")
    body = text.split("\r\n", 1)[1]
    import csv
    import io

    (cells,) = list(csv.reader(io.StringIO(body)))
    assert cells == [str(safe_cell(value)) for value in row]
