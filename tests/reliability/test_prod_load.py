"""``bench.load`` as a test (proof 1 of the production issue): gunicorn with two workers on
PostgreSQL and Redis, enterprises logging in by SMS code and submitting declarations with
three attachments while reviewers page and decide in bulk; 0 errors and as many
declarations created as submits succeeded.

The bounded form (a few users, seconds) runs in ``make test``; the long profile (200 users,
5 reviewers, 5 minutes, as the issue asks) is marked ``slow``. Both need
``TALENTADMIN_TEST_DATABASE_URL`` (PostgreSQL: the run uses a database of its own beside it,
``<name>_load``, dropped and created again) and ``TALENTADMIN_TEST_REDIS_URL``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("TALENTADMIN_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("TALENTADMIN_TEST_REDIS_URL")


def run_load(tmp_path: Path, *args: str, timeout: int) -> tuple[int, dict, str]:
    if not DATABASE_URL.startswith("postgresql") or not REDIS_URL:
        pytest.skip("bench.load needs PostgreSQL and Redis: set TALENTADMIN_TEST_DATABASE_URL "
                    "and TALENTADMIN_TEST_REDIS_URL")
    database = DATABASE_URL.rsplit("/", 1)
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", "--database-url", f"{database[0]}/"
         f"{database[1].split('?')[0]}_load", "--redis-url", REDIS_URL,
         "--instance", str(tmp_path / "load"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr[-3000:]
    return result.returncode, json.loads(lines[-1]), result.stdout


@pytest.mark.real_commits
def test_bounded_load_has_no_error_and_every_submit_is_a_declaration(tmp_path):
    code, report, output = run_load(
        tmp_path, "--users", "6", "--reviewers", "2", "--seconds", "12", "--spawn-rate", "6",
        "--declarations", "300", timeout=240)
    assert report["checks"] == {"no_errors": True, "created_equals_submits": True}, output
    assert code == 0
    assert report["failures"] == 0 and report["errors"] == []
    assert report["submits_ok"] >= 1 and report["declarations_created"] == report["submits_ok"]
    endpoints = report["endpoints"]
    for name in ("login: submit code", "portal: list", "portal: submit (3 files)",
                 "admin: login", "hello"):
        assert endpoints[name]["requests"] >= 1, name
    for values in endpoints.values():
        assert values["p50_ms"] <= values["p95_ms"] <= values["p99_ms"]
        assert values["vs_hello"] is not None


@pytest.mark.slow
@pytest.mark.real_commits
def test_deadline_day_200_enterprises_5_reviewers_5_minutes(tmp_path):
    code, report, output = run_load(
        tmp_path, "--users", "200", "--reviewers", "5", "--seconds", "300",
        "--declarations", "20000", timeout=900)
    assert report["checks"] == {"no_errors": True, "created_equals_submits": True}, output
    assert code == 0
