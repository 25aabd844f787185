"""The app on a threaded werkzeug server in a process of its own, for tests that might crash
it (a crash of a C library there kills that process, and the test reports it).

``python -m tests.reliability.live_server '<config as JSON>'`` prints the port it listens on
(127.0.0.1, a free port), then serves until killed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

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


def main() -> None:
    from werkzeug.serving import make_server

    from talentadmin import create_app

    app = create_app(json.loads(sys.argv[1]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
