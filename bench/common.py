"""Shared helpers of the grid, bulk, export and serve benchmarks.

* ``bench_config()`` / ``make_app()``: the app against the bench database (SQLite file in
  ``/tmp/talentadmin-bench`` by default, or ``--database-url postgresql://…``), never the
  developer's ``instance/``; optional extra admin views (the stock ``ModelView`` the
  benchmarks compare with) are registered before the first request.
* ``login()``: logs the bench staff user in through ``/admin/login`` with its CSRF token.
* ``SqlCounter``: counts statements with a ``before_cursor_execute`` listener.
* ``rss_mb()`` / ``hwm_mb()`` / ``reset_peak()``: ``/proc/self/status`` VmRSS and VmHWM.
* ``median_ms()``: several repeats, the median (absolute times are noise on a busy
  machine: the benchmarks report ratios measured side by side).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event

BENCH_DIR = Path(os.environ.get("TALENTADMIN_BENCH_DIR", "/tmp/talentadmin-bench"))
# A fixed data key: every bench process (and gunicorn worker) reads the same ciphertexts.
DATA_KEY = base64.b64encode(b"talentadmin-bench-data-key-32by!").decode()
SECRET_KEY = "talentadmin-bench-secret-key"
STAFF_USER = "bench_staff"
STAFF_PASSWORD = "bench password 42"
STAFF_ROLES = ("admin", "supervisor", "initial_reviewer", "second_reviewer")
PAGE_SIZE = 20


def add_db_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=None,
                        help="postgresql://user@127.0.0.1:5432/db (default: SQLite in --instance)")
    parser.add_argument("--instance", default=str(BENCH_DIR),
                        help=f"bench instance folder (default {BENCH_DIR})")


def database_url(args) -> str:
    if args.database_url:
        return args.database_url
    return f"sqlite:///{Path(args.instance).resolve() / 'bench.db'}"


def dialect_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def bench_config(url: str, instance: str) -> dict:
    instance_path = Path(instance).resolve()
    if instance_path == (Path(__file__).resolve().parent.parent / "instance"):
        raise SystemExit("refusing to use the developer's instance/ folder")
    instance_path.mkdir(parents=True, exist_ok=True)
    return {
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "DATA_KEY": DATA_KEY,
        "SMS_BACKEND": "console",
        "SMS_ENABLED": True,
        "SMS_OUTBOX": str(instance_path / "sms-outbox.jsonl"),
        "REDIS_URL": None,
        "CAPTCHA_TEST_MODE": False,
        "UPLOAD_FOLDER": str(instance_path / "uploads"),
    }


def make_app(url: str, instance: str, extra_views: Callable | None = None,
             extra_routes: Callable | None = None):
    """``create_app`` on the bench database. ``extra_views(admin, app)`` adds views to the
    app's ``Admin`` (inside a request context, before any request)."""
    from talentadmin import create_app

    app = create_app(bench_config(url, instance))
    if extra_views is not None:
        (admin,) = app.extensions["admin"]
        with app.test_request_context():
            extra_views(admin, app)
    if extra_routes is not None:
        extra_routes(app)
    return app


def csrf_in(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def login(client, username: str = STAFF_USER, password: str = STAFF_PASSWORD) -> None:
    html = client.get("/admin/login").get_data(as_text=True)
    response = client.post("/admin/login", data={"csrf_token": csrf_in(html),
                                                 "username": username, "password": password})
    if response.status_code != 302:
        raise RuntimeError(f"staff login failed ({response.status_code}): is the db seeded?")


class SqlCounter:
    """Counts the statements sent through ``engine`` while active (``with`` block)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []
        self.keep = False

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.keep:
            self.statements.append(statement)

    def __enter__(self):
        self.count = 0
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on)
        return False


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_mb() -> float:
    return round(_status_kb("VmRSS") / 1024, 1)


def hwm_mb() -> float:
    """Peak RSS since the start or the last ``reset_peak()``."""
    return round(_status_kb("VmHWM") / 1024, 1)


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ``clear_refs`` 5); False when not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def median_ms(fn: Callable[[], object], repeats: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def interleaved_ms(fns: dict[str, Callable[[], object]], repeats: int = 7,
                   warmup: int = 1) -> dict[str, float]:
    """Median ms of each function, runs interleaved (a, b, c, a, b, c, …) so that
    background load hits every contender alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: round(statistics.median(values), 2) for name, values in times.items()}


def ratio(ours: float, stock: float) -> float | None:
    return round(ours / stock, 3) if stock else None


def emit(result: dict) -> None:
    """The figures, as the last line of output."""
    print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
