"""Licence OCR in the request against OCR as a job, under a burst of uploads, in one run:
``python -m bench.ocr_serve [--uploads 8] [--rounds 2] [--workers 2] [--threads 4]``.

The app runs under gunicorn as in production (``gunicorn.conf.py``: gthread, ``--workers``
× ``--threads``) on a SQLite file in ``/tmp/talentadmin-bench-ocr``. ``--uploads``
enterprises upload a licence photo (``tests/fixtures/licences``) at the same moment while a
probe fetches the portal home every 50 ms — another user of the site during the burst.

* ``request``: the behaviour before readings became jobs, recreated here — the upload's
  request reads the licence inside its transaction (RapidOCR, one engine per gunicorn worker,
  behind its lock) and answers with the confirm page.
* ``job``: the shipped behaviour — the upload's request stores the file and answers at once;
  a worker process beside gunicorn (one engine, one licence at a time: a Celery worker at
  concurrency 1) reads each licence as its upload's answer arrives. The user's
  wait is until the worker's reading is done (what a page polling for it would show).

Figures per mode (medians over rounds, modes interleaved): the user's wait for the reading
(``result_s``: p50 and max over the uploads), the upload request itself, and the probe's
latency during the burst (p50, p95, max). Last line: JSON.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .common import DATA_KEY, SECRET_KEY, emit

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path("/tmp/talentadmin-bench-ocr")
LICENCES = sorted((ROOT / "tests" / "fixtures" / "licences").glob("*.jpg"))
MOBILE = "1390000{:04d}"


class ReadsNothing:
    """The engine of the job mode's web process: the reading is the worker's."""

    name = "none"
    handles_rotation = True

    def readtext(self, image):
        return []


def settings(instance: Path) -> dict[str, str]:
    return {"TALENTADMIN_DATABASE_URL": f"sqlite:///{instance / 'bench.db'}",
            "TALENTADMIN_SECRET_KEY": SECRET_KEY, "TALENTADMIN_DATA_KEY": DATA_KEY,
            "TALENTADMIN_INSTANCE_PATH": str(instance),
            "TALENTADMIN_UPLOAD_FOLDER": str(instance / "uploads"),
            "TALENTADMIN_SMS_BACKEND": "console",
            "TALENTADMIN_SMS_OUTBOX": str(instance / "sms.jsonl")}


def wsgi():
    """gunicorn's app factory: the app, a bench-only sign-in route, the mode's engine."""
    from talentadmin import create_app
    from talentadmin.accounts.models import EnterpriseUser
    from talentadmin.accounts.operations import _login
    from talentadmin.certification import ocr, operations
    from talentadmin.extensions import db

    app = create_app()

    @app.route("/bench/sign-in/<int:user_id>")
    def sign_in(user_id: int):
        _login(db.session.get(EnterpriseUser, user_id), "bench")  # as a real login does
        db.session.commit()
        return "ok"

    from talentadmin.certification import workflow
    from talentadmin.certification.models import Certification
    from talentadmin.core import storage
    from talentadmin.jobs import readings

    def read_in_the_request(cert_id: int) -> None:  # the old path: in the open transaction
        cert = db.session.get(Certification, cert_id)
        operations.record_reading(cert, ocr.read_licence(storage.read_bytes(cert.licence)))
        cert.status = workflow.RECOGNISED

    if os.environ["BENCH_OCR_MODE"] == "job":
        readings.after_upload = lambda cert_id: None  # the bench's worker process reads
        operations._engine_name = lambda: ReadsNothing()
    else:
        readings.after_upload = read_in_the_request
        ocr.get_engine()  # built and warmed at start, as a worker's first reading would
    return app


def prepare(instance: Path, uploads: int) -> list[int]:
    """A fresh database with ``uploads`` enterprise accounts; their ids."""
    shutil.rmtree(instance, ignore_errors=True)
    instance.mkdir(parents=True)
    os.environ.update(settings(instance))
    from flask_migrate import upgrade

    from talentadmin import create_app
    from talentadmin.accounts.models import EnterpriseUser
    from talentadmin.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        users = [EnterpriseUser(mobile=MOBILE.format(n)) for n in range(uploads)]
        db.session.add_all(users)
        db.session.commit()
        return [u.id for u in users]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(args, instance: Path, mode: str, port: int) -> subprocess.Popen:
    env = {**os.environ, **settings(instance), "PYTHONPATH": str(ROOT), "BENCH_OCR_MODE": mode,
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(args.workers),
           "GUNICORN_THREADS": str(args.threads), "GUNICORN_ACCESS_LOG": "/dev/null"}
    log = open(instance / f"gunicorn-{mode}.log", "a")  # noqa: SIM115 - the server's
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
         "bench.ocr_serve:wsgi()"], cwd=ROOT, env=env, stdout=log, stderr=log,
        start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status \
                    == 200:
                for _ in range(args.workers * 4):  # every worker up (and warm)
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
                return server
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {instance}/gunicorn-{mode}.log")
        time.sleep(0.2)  # waiting for a server process to listen
    raise SystemExit("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def ocr_worker(inbox, outbox) -> None:
    """The job mode's worker: one warm engine, one licence at a time."""
    from talentadmin.certification.ocr import get_engine, read_licence

    get_engine()
    outbox.put("ready")
    while (item := inbox.get()) is not None:
        index, path = item
        reading = read_licence(Path(path).read_bytes())
        outbox.put((index, time.time(), bool(reading.credit_code)))


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def upload(base: str, user_id: int, licence: Path) -> tuple[float, float, int]:
    """Sign in, open the upload page, post the licence: (start, end, status); an error
    status (a 503 when the database stayed locked) ends the upload there."""
    started = time.time()
    try:
        return _upload(base, user_id, licence)
    except urllib.error.HTTPError as error:
        return started, time.time(), error.code


def _upload(base: str, user_id: int, licence: Path) -> tuple[float, float, int]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/bench/sign-in/{user_id}", timeout=60).read()
    page = opener.open(f"{base}/certification/upload", timeout=60).read().decode()
    token = CSRF.search(page).group(1)
    boundary = "benchboundary7d1"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"licence\"; "
            f"filename=\"{licence.name}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() \
        + licence.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(  # noqa: S310 - the bench's own server
        f"{base}/certification/upload", data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    started = time.time()
    with opener.open(request, timeout=300) as response:
        response.read()
        status = response.status if "/confirm" in response.url else -response.status
    return started, time.time(), status  # a negative status: not taken to the confirm page


def burst(base: str, users: list[int], mode: str, worker) -> dict:
    inbox, outbox = worker if worker else (None, None)
    answers: dict[int, tuple[float, float, int]] = {}
    probes: list[float] = []
    probe_errors: list[int] = []
    running = threading.Event()
    running.set()
    gate = threading.Barrier(len(users) + 1)

    def one(index: int, user_id: int) -> None:
        licence = LICENCES[index % len(LICENCES)]
        gate.wait()
        answers[index] = upload(base, user_id, licence)
        if inbox is not None and answers[index][2] == 200:
            inbox.put((index, str(licence)))

    def probe() -> None:
        while running.is_set():
            started = time.perf_counter()
            try:
                urllib.request.urlopen(f"{base}/", timeout=300).read()  # noqa: S310
            except urllib.error.HTTPError:
                probe_errors.append(1)
            probes.append(time.perf_counter() - started)
            time.sleep(0.05)  # the probe's own pace, not a wait for a result

    threads = [threading.Thread(target=one, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    prober = threading.Thread(target=probe)
    prober.start()
    gate.wait()
    for thread in threads:
        thread.join()
    done: dict[int, float] = {}
    if outbox is not None:
        while len(done) < sum(1 for a in answers.values() if a[2] == 200):
            index, at, _ = outbox.get(timeout=600)
            done[index] = at
    running.clear()
    prober.join()
    read = [i for i in answers if answers[i][2] == 200]  # uploads that reached the reading
    waits = [(done[i] if i in done else answers[i][1]) - answers[i][0] for i in read] or [0]
    requests = [end - start for start, end, _ in answers.values()]
    probes.sort()
    return {"mode": mode, "statuses": sorted({s for _, _, s in answers.values()}),
            "uploads_failed": len(answers) - len(read), "probe_errors": len(probe_errors),
            "result_p50_s": round(statistics.median(waits), 2), "result_max_s": round(max(waits), 2),
            "request_p50_s": round(statistics.median(requests), 2),
            "request_max_s": round(max(requests), 2),
            "probe_n": len(probes), "probe_p50_ms": round(1000 * statistics.median(probes)),
            "probe_p95_ms": round(1000 * probes[int(0.95 * (len(probes) - 1))]),
            "probe_max_ms": round(1000 * probes[-1])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    users = prepare(INSTANCE, args.uploads * args.rounds * 2)
    context = multiprocessing.get_context("spawn")
    inbox, outbox = context.Queue(), context.Queue()
    worker = context.Process(target=ocr_worker, args=(inbox, outbox))
    worker.start()
    assert outbox.get(timeout=300) == "ready"
    runs: dict[str, list[dict]] = {"request": [], "job": []}
    try:
        for round_no in range(args.rounds):
            for mode in ("request", "job"):
                port = free_port()
                server = start_server(args, INSTANCE, mode, port)
                try:
                    first = (round_no * 2 + (mode == "job")) * args.uploads
                    run = burst(f"http://127.0.0.1:{port}", users[first:first + args.uploads],
                                mode, (inbox, outbox) if mode == "job" else None)
                finally:
                    stop_server(server)
                runs[mode].append(run)
                print(json.dumps(run))
    finally:
        inbox.put(None)
        worker.join(timeout=60)
    result: dict = {"bench": "ocr_serve", "uploads": args.uploads, "rounds": args.rounds,
                    "workers": args.workers, "threads": args.threads,
                    "cores": len(os.sched_getaffinity(0))}
    for mode, rows in runs.items():
        result[mode] = {key: statistics.median(r[key] for r in rows)
                        for key in rows[0] if key.endswith(("_s", "_ms"))}
        result[mode]["uploads_failed"] = sum(r["uploads_failed"] for r in rows)
        result[mode]["probe_errors"] = sum(r["probe_errors"] for r in rows)
        result[mode]["statuses"] = sorted({s for r in rows for s in r["statuses"]})
    for key in ("result_p50_s", "result_max_s", "probe_p50_ms", "probe_p95_ms",
                "probe_max_ms"):
        request, job = result["request"][key], result["job"][key]
        result[f"{key}_ratio_job_over_request"] = round(job / request, 2) if request else None
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
