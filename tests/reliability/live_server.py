"""The app on a threaded werkzeug server in a process of its own, for tests that might crash
it (a crash of a C library there kills that process, and the test reports it).

``python -m tests.reliability.live_server '<config as JSON>'`` prints the port it listens on
(127.0.0.1, a free port), then serves until killed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]


def config_of(app) -> dict:
    """The settings another process needs to serve the same database, files and sessions."""
    keys = ("SECRET_KEY", "SMS_BACKEND", "SMS_ENABLED", "REDIS_URL", "UPLOAD_FOLDER",
            "CAPTCHA_TEST_MODE", "SMS_OUTBOX", "DATA_KEY", "PASSWORD_HASH_METHOD")
    return {"TESTING": True, "INSTANCE_PATH": app.instance_path,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            **{key: app.config[key] for key in keys if key in app.config}}


@contextmanager
def serving(app):
    """``with serving(app) as (base_url, process):`` a live server of ``app``'s settings."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.live_server", json.dumps(config_of(app))],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), "the live server did not start"
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.kill()
        process.wait()


def in_parallel(calls) -> list:
    """Run every call in its own thread, all released at once; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def terminate_backends(app) -> int:
    """End every other connection to the test database (the server's), as a restart would."""
    from talentadmin.extensions import db

    with app.app_context():
        killed = db.session.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'")).scalar_one()
        db.session.commit()
    return killed


def main() -> None:
    from werkzeug.serving import make_server

    from talentadmin import create_app

    app = create_app(json.loads(sys.argv[1]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
