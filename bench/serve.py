"""The grids under gunicorn (2 sync workers) on loopback, in one run:
``python -m bench.serve [--seconds 8] [--connections 4] [--rounds 2] [--database-url URL]
[--instance DIR]``.

Starts ``gunicorn -w 2 -b 127.0.0.1:<free port> 'bench.serve:wsgi()'`` (the app on the bench
database, with the stock grid of ``bench.grid`` and a hello route), logs in
once for the session cookie, then puts a bounded load (``wrk`` when installed: fixed
duration and connections; else a fixed number of requests over threads with http.client)
on: a hello-world route, the stock grid page 1 and our grid page 1 —
interleaved rounds, median requests/s, ratios. The server's process group is stopped at
the end, errors included. Last line: JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
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
from importlib import metadata
from pathlib import Path
from urllib.parse import urlencode

from .common import (
    STAFF_PASSWORD,
    STAFF_USER,
    add_db_args,
    database_url,
    dialect_of,
    emit,
    make_app,
)

ROOT = Path(__file__).resolve().parent.parent
COOKIE = "talentadmin_session"


def wsgi():
    """gunicorn's app factory: the bench app from TALENTADMIN_BENCH_URL / _INSTANCE."""
    from .grid import hello_route, register

    return make_app(os.environ["TALENTADMIN_BENCH_URL"], os.environ["TALENTADMIN_BENCH_INSTANCE"],
                    extra_views=register, extra_routes=hello_route)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, proc, deadline_s: float = 90) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/hello")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)  # readiness poll of the server we started, not a test sleep
    raise RuntimeError("gunicorn did not answer in time")


def _cookie(headers) -> str | None:
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith(COOKIE + "="):
            return value.split(";", 1)[0]
    return None


def login(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/admin/login")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = _cookie(response.getheaders())
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    body = urlencode({"csrf_token": token, "username": STAFF_USER, "password": STAFF_PASSWORD})
    conn.request("POST", "/admin/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"login failed: {response.status}")
    return _cookie(response.getheaders()) or cookie


def load_wrk(port: int, path: str, cookie: str, seconds: float, connections: int) -> dict:
    command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d",
               f"{max(1, int(seconds))}s", "--timeout", "30s", "-H", f"Cookie: {cookie}",
               f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "requests": total, "non_2xx": int(bad.group(1)) if bad else 0}


def load_threads(port: int, path: str, cookie: str, seconds: float, connections: int,
                 max_requests: int = 5000) -> dict:
    """Fallback: each thread sends requests until the time cap or the request budget."""
    count = [0, 0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            with lock:
                if count[0] >= max_requests:
                    return
                count[0] += 1
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                with lock:
                    count[1] += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {"rps": round(count[0] / elapsed, 1), "requests": count[0], "non_2xx": count[1]}


def targets_paths(url: str, instance: str) -> dict[str, str]:
    from talentadmin.declarations.models import Round
    from talentadmin.extensions import db

    from .grid import hello_route, register, urls

    app = make_app(url, instance, extra_views=register, extra_routes=hello_route)
    with app.app_context():
        current_round = db.session.execute(db.select(db.func.max(Round.id))).scalar()
    page1 = urls(app, round_id=current_round, deep_page=0)["page1"]
    return {"hello": "/bench/hello", "stock": page1["stock"], "ours_all": page1["ours_all"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_args(parser)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-wrk", action="store_true")
    args = parser.parse_args(argv)
    url = database_url(args)
    paths = targets_paths(url, args.instance)
    port = free_port()
    env = {**os.environ, "TALENTADMIN_BENCH_URL": url,
           "TALENTADMIN_BENCH_INSTANCE": str(Path(args.instance).resolve()),
           "PYTHONPATH": str(ROOT)}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--chdir",
               str(ROOT), "--log-level", "warning", "bench.serve:wsgi()"]
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    result: dict = {"bench": "serve", "dialect": dialect_of(url),
                    "gunicorn": metadata.version("gunicorn"), "workers": args.workers,
                    "load": ("wrk" if use_wrk else "threads") + f" c={args.connections} "
                            f"{args.seconds}s x {args.rounds} rounds", "paths": paths}
    log = open(Path(args.instance) / "gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    result["server_pid"] = proc.pid
    try:
        wait_ready(port, proc)
        cookie = login(port)
        load = load_wrk if use_wrk else load_threads
        runs: dict[str, list[dict]] = {name: [] for name in paths}
        for path in paths.values():  # warm-up: each worker renders each page
            load(port, path, cookie, 2, args.connections)
        for _ in range(args.rounds):
            for name, path in paths.items():
                runs[name].append(load(port, path, cookie, args.seconds, args.connections))
        for name, items in runs.items():
            result[name] = {"rps_median": round(statistics.median(i["rps"] for i in items), 1),
                            "rps_all": [i["rps"] for i in items],
                            "requests": sum(i["requests"] for i in items),
                            "non_2xx": sum(i["non_2xx"] for i in items)}
        stock = result["stock"]["rps_median"]
        for name in paths:
            result[name]["over_stock"] = round(result[name]["rps_median"] / stock, 2)
        result["targets"] = {"ours_ge_4x_stock_rps": result["ours_all"]["over_stock"] >= 4}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
    for name in paths:
        r = result[name]
        print(f"{name:9s} {r['rps_median']:8.1f} req/s  x{r['over_stock']} of stock  "
              f"(non-2xx {r['non_2xx']})")
    print("targets:", result["targets"])
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
