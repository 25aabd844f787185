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
def test_local_dates_match_a_full_conversion(tmp_path, zone_name):
    """The per-hour offset cache gives the date a full conversion gives, in zones with
    half- and quarter-hour offsets and with daylight saving (Lord Howe moves by 30 min)."""
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x",
                      "INSTANCE_PATH": str(tmp_path), "BABEL_DEFAULT_TIMEZONE": zone_name})
    with app.test_request_context():
        from flask_babel import get_timezone

        zone = get_timezone()
        local = _local_dates()
        rnd = random.Random(zone_name)
        start = datetime(2026, 1, 1)
        moments = [start + timedelta(seconds=rnd.randrange(366 * 86400)) for _ in range(20000)]
        moments += [start + timedelta(minutes=m) for m in range(0, 366 * 1440, 15)]
        for moment in moments:
            expected = moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d")
            assert local(moment) == expected, moment
        assert local(None) == ""


def test_csv_cells_are_escaped_as_safe_cell_does():
    row = ["=SUM(A1)", "+1", "-2", "@x", "\tTab", "\rCR", "plain", None, 42, "中文"]
    text = "".join(csv_chunks(["h"] * len(row), [row], per_chunk=1))
    assert text.startswith("\ufeff")
    body = text.split("\r\n", 1)[1]
    import csv
    import io

    (cells,) = list(csv.reader(io.StringIO(body)))
    assert cells == [str(safe_cell(value)) for value in row]
