"""The deadline day under gunicorn, on loopback, bounded in time:
``python -m bench.load --database-url postgresql://postgres@127.0.0.1:5432/DB
--redis-url redis://127.0.0.1:6379/N [--users 200] [--reviewers 5] [--seconds 300]
[--workers 2] [--worker-class gthread] [--threads 4]``.

1. Seeds the database with ``bench.seed`` (``--enterprises`` certified enterprises with an
   approved business permission, ``--declarations`` declarations, an open round; the
   database is emptied first) unless ``--no-seed``.
2. Starts ``gunicorn -c gunicorn.conf.py`` with ``--workers`` workers on a free loopback port:
   the production app (``app.py``'s ``create_app()`` from ``TALENTADMIN_*`` variables) plus
   one hello-world route, on that database and Redis (sessions and counters), the SMS console
   outbox, ``TALENTADMIN_CAPTCHA_TEST_MODE=1`` (the image code's test answer) and
   ``TALENTADMIN_TRUST_PROXY=1`` (each simulated enterprise comes from its own address, as
   behind an office's load balancer, so the per-address SMS limit is not one shared limit).
3. Runs Locust headless, in this process, for ``--seconds``: ``--users`` enterprises each log
   in by SMS code (the code read from the outbox), open their 需求申报 list and their
   declarations, save drafts and submit declarations with three attachments; ``--reviewers``
   initial and second reviewers log in, page through the queues and pass rows in bulk; one
   user calls the hello-world route throughout.
4. Reports per endpoint: requests, failures, requests/s, p50/p95/p99 ms, and
   ``vs_hello``: hello's mean time over the endpoint's mean time, both measured in this run
   on the same workers (the share of hello's throughput the endpoint reaches); checks 0
   errors and that the declarations created equal the successful submits. Exit 1 when
   either fails. The last line is the report as JSON.

Only loopback: the server is started here, on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .common import (
    BENCH_DIR,
    DATA_KEY,
    SECRET_KEY,
    STAFF_PASSWORD,
    STAFF_USER,
    dialect_of,
    emit,
)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CAPTCHA_ID = re.compile(r'name="sms-captcha_id"[^>]*value="([^"]+)"')
FORM_KEY = re.compile(r'name="form_key"[^>]*value="([^"]*)"')
ROW_ID = re.compile(r'name="rowid"[^>]*value="(\d+)"')
DETAIL = re.compile(r"/talent/declarations/(\d+)$")
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def wsgi():
    """gunicorn's app: the production app and a hello-world route beside it."""
    from talentadmin import create_app

    app = create_app()

    @app.route("/bench/hello")
    def hello():
        return "hello"

    return app


# --- data the simulated users type ------------------------------------------------------------

_people = itertools.count(1)


def new_id_number() -> str:
    """A valid resident ID number none of the seeded ones uses (born 2001–2004)."""
    n = next(_people)
    day, seq = divmod(n, 1000)
    born = time.strftime("%Y%m%d", time.gmtime(978307200 + 86400 * (day % 1400)))  # 2001-01-01
    body = f"110105{born}{seq:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]
    return body + check


def _pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 60 80]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(buffer, format="PNG")
    return buffer.getvalue()


PDF, PNG = _pdf(), _png()


class Shared:
    """What the users share within this process (set by ``main``)."""

    outbox: Path
    mobiles: list[str] = []
    submitted = 0
    submit_failed = 0


def _token(html: str) -> str:
    match = TOKEN.search(html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def read_code(mobile: str, deadline_s: float = 10) -> str:
    """The last code the console backend wrote for ``mobile`` (the workers append lines)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if Shared.outbox.exists():
            for line in reversed(Shared.outbox.read_text("utf-8").splitlines()):
                message = json.loads(line)
                if message.get("to") == mobile and message.get("code"):
                    return message["code"]
        time.sleep(0.05)  # poll the file the server writes, with a deadline (gevent-patched)
    raise RuntimeError(f"no SMS code for {mobile}")


def user_classes() -> list:
    """The simulated users. Locust is imported here, in the load generator only: it patches
    the standard library for gevent on import, which must never happen in a gunicorn worker
    (``wsgi()`` above is imported there)."""
    from locust import HttpUser, between, task

    class Enterprise(HttpUser):
        """An operator: SMS login, the list, own declarations, drafts and submissions."""

        weight = 1  # the counts are fixed_count, set by main
        wait_time = between(1, 3)

        def on_start(self) -> None:
            self.mobile = Shared.mobiles.pop()
            octets = int(self.mobile[-6:])
            self.client.headers["X-Forwarded-For"] = f"127.{octets >> 16 & 255}.{octets >> 8 & 255}.{octets & 255}"
            self.mine: list[int] = []
            html = self.client.get("/login", name="login: page").text
            captcha_id = CAPTCHA_ID.search(html).group(1)
            with self.client.post("/login", name="login: send code", allow_redirects=False,
                                  catch_response=True, data={
                                      "csrf_token": _token(html), "sms-mobile": self.mobile,
                                      "sms-captcha_id": captcha_id, "sms-captcha": "PASSED",
                                      "sms-send_code": "1"}) as response:
                if response.status_code != 200:
                    response.failure(f"send code: {response.status_code}")
                    return
            code = read_code(self.mobile)
            with self.client.post("/login", name="login: submit code", allow_redirects=False,
                                  catch_response=True, data={
                                      "csrf_token": _token(response.text), "sms-mobile": self.mobile,
                                      "sms-sms_code": code, "sms-submit": "1"}) as response:
                if response.status_code != 302:
                    response.failure(f"login: {response.status_code}")

        @task(5)
        def hub(self) -> None:
            html = self.client.get("/talent/declare", name="portal: list").text
            if not self.mine:
                self.mine = [int(i) for i in re.findall(r"/talent/declarations/(\d+)\"", html)][:20]

        @task(3)
        def detail(self) -> None:
            if self.mine:
                declaration = self.mine[len(self.mine) // 2]
                self.client.get(f"/talent/declarations/{declaration}", name="portal: detail")

        @task(1)
        def draft(self) -> None:
            html = self.client.get("/talent/declarations/new", name="portal: new form").text
            form_key = FORM_KEY.search(html)
            self.client.post("/talent/declarations/new", name="portal: save draft",
                             allow_redirects=False, data={
                                 "csrf_token": _token(html), "form_key": form_key.group(1),
                                 "name": "草稿人", "save_draft": "1"})

        @task(2)
        def submit(self) -> None:
            html = self.client.get("/talent/declarations/new", name="portal: new form").text
            form_key = FORM_KEY.search(html)
            data = {
                "csrf_token": _token(html), "form_key": form_key.group(1) if form_key else "",
                "name": "张三", "id_number": new_id_number(), "gender": "", "age": "",
                "political_status": "13", "title": "无", "education": "10", "degree": "2",
                "school": "清华大学", "major": "计算机科学与技术", "condition": "patent",
                "submit": "1"}
            files = [("social_insurance", ("社保.pdf", PDF, "application/pdf")),
                     ("integrity", ("诚信声明.png", PNG, "image/png")),
                     ("evidence", ("专利1.pdf", PDF, "application/pdf"))]
            with self.client.post("/talent/declarations/new", name="portal: submit (3 files)",
                                  data=data, files=files, allow_redirects=False,
                                  catch_response=True) as response:
                target = response.headers.get("Location", "")
                match = DETAIL.search(target)
                if response.status_code == 302 and match:
                    Shared.submitted += 1
                    self.mine.append(int(match.group(1)))
                else:
                    Shared.submit_failed += 1
                    response.failure(f"submit: {response.status_code} {target[:80]}")


    class Reviewer(HttpUser):
        """Initial or second reviewer: pages through a queue, passes the rows of a page."""

        weight = 1
        wait_time = between(2, 5)
        queues = itertools.cycle([("declaration_initial", "pass_initial"),
                                  ("declaration_second", "pass_second")])

        def on_start(self) -> None:
            self.view, self.action = next(Reviewer.queues)
            html = self.client.get("/admin/login", name="admin: login page").text
            with self.client.post("/admin/login", name="admin: login", allow_redirects=False,
                                  catch_response=True, data={
                                      "csrf_token": _token(html), "username": STAFF_USER,
                                      "password": STAFF_PASSWORD}) as response:
                if response.status_code != 302:
                    response.failure(f"staff login: {response.status_code}")
            self.page = 0

        @task(4)
        def grid(self) -> None:
            self.page = (self.page + 1) % 5
            self.client.get(f"/admin/{self.view}/?page={self.page}",
                            name=f"admin: {self.view} page")

        @task(1)
        def decide(self) -> None:
            html = self.client.get(f"/admin/{self.view}/", name=f"admin: {self.view} page").text
            ids = ROW_ID.findall(html)[:20]
            if not ids:
                return
            with self.client.post(f"/admin/{self.view}/action/", name=f"admin: bulk {self.action}",
                                  allow_redirects=False, catch_response=True, data={
                                      "csrf_token": _token(html), "action": self.action,
                                      "rowid": ids, "url": f"/admin/{self.view}/"}) as response:
                if response.status_code != 302:
                    response.failure(f"bulk: {response.status_code}")


    class Hello(HttpUser):
        """The hello-world route, measured in the same run as everything else."""

        weight = 1
        fixed_count = 1
        wait_time = between(0.2, 0.4)

        @task
        def hello(self) -> None:
            self.client.get("/bench/hello", name="hello")

    return [Enterprise, Reviewer, Hello]


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(args, instance: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT),
            "TALENTADMIN_DATABASE_URL": args.database_url,
            "TALENTADMIN_REDIS_URL": args.redis_url or "",
            "TALENTADMIN_SECRET_KEY": SECRET_KEY, "TALENTADMIN_DATA_KEY": DATA_KEY,
            "TALENTADMIN_UPLOAD_FOLDER": str(instance / "uploads"),
            "TALENTADMIN_SMS_OUTBOX": str(instance / "sms-outbox.jsonl"),
            "TALENTADMIN_SMS_BACKEND": "console", "TALENTADMIN_CAPTCHA_TEST_MODE": "1",
            "TALENTADMIN_TRUST_PROXY": "1",
            "GUNICORN_WORKERS": str(args.workers), "GUNICORN_THREADS": str(args.threads),
            "GUNICORN_WORKER_CLASS": args.worker_class}


def start_server(args, instance: Path, port: int):
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log = open(instance / "gunicorn.log", "w")  # noqa: SIM115 - closed in stop_server
    process = subprocess.Popen(
        [gunicorn, "-c", str(ROOT / "gunicorn.conf.py"), "-b", f"127.0.0.1:{port}",
         "bench.load:wsgi()"],
        cwd=ROOT, env=server_env(args, instance), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    process.log = log  # type: ignore[attr-defined]
    return process


def wait_ready(port: int, process, deadline_s: float = 120) -> None:
    import urllib.request

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(
                f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            if response.status == 200:
                return
        time.sleep(0.25)  # readiness poll of the server started here, with a deadline
    raise RuntimeError("gunicorn did not become healthy in time")


def stop_server(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=40)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    process.log.close()


# --- the run ------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    """Drop and create the run's database (PostgreSQL), so that ``bench.seed`` starts empty."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database or ""
    if not re.fullmatch(r"[a-z0-9_]+", name) or name == "talentadmin":
        raise SystemExit(f"refusing to recreate the database {name!r}: give the run its own")
    command = ["psql", "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
               "-U", parsed.username or "postgres", "-d", "postgres", "-qAtc"]
    env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run([*command, sql], check=True, env=env, capture_output=True, timeout=120)


def seed(args, instance: Path) -> None:
    recreate_database(args.database_url)
    subprocess.run(
        [sys.executable, "-m", "bench.seed", "--declarations", str(args.declarations),
         "--enterprises", str(args.enterprises), "--database-url", args.database_url,
         "--instance", str(instance)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, timeout=600)


def submitted_since(url: str, after_id: int) -> int:
    """Declarations created after ``after_id`` and sent to review (not drafts)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        count = connection.execute(text(
            "SELECT count(*) FROM declaration WHERE id > :after AND status <> 'draft'"),
            {"after": after_id}).scalar_one()
    engine.dispose()
    return int(count)


def last_declaration_id(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        last = connection.execute(text("SELECT coalesce(max(id), 0) FROM declaration")).scalar()
    engine.dispose()
    return int(last)


def report(stats, seconds: float) -> dict:
    hello = stats.entries.get(("hello", "GET"))
    hello_mean = hello.avg_response_time if hello and hello.num_requests else None
    endpoints = {}
    for (name, method), entry in sorted(stats.entries.items()):
        if not entry.num_requests:
            continue
        endpoints[name] = {
            "method": method, "requests": entry.num_requests, "failures": entry.num_failures,
            "rps": round(entry.num_requests / seconds, 2),
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "mean_ms": round(entry.avg_response_time, 1),
            "vs_hello": (round(hello_mean / entry.avg_response_time, 3)
                         if hello_mean and entry.avg_response_time else None),
        }
    return endpoints


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="postgresql://postgres@127.0.0.1:5432/DB: the run's own database, "
                             "dropped, created and seeded (unless --no-seed)")
    parser.add_argument("--redis-url", default=None, help="redis://127.0.0.1:6379/N")
    parser.add_argument("--instance", default=str(BENCH_DIR / "load"))
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--reviewers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--enterprises", type=int, default=None,
                        help="seeded enterprises (default: --users)")
    parser.add_argument("--declarations", type=int, default=2000)
    parser.add_argument("--no-seed", action="store_true")
    args = parser.parse_args(argv)
    args.enterprises = max(args.enterprises or args.users, args.users)
    instance = Path(args.instance).resolve()
    if instance == ROOT / "instance":
        raise SystemExit("refusing to use the developer's instance/ folder")
    instance.mkdir(parents=True, exist_ok=True)
    outbox = instance / "sms-outbox.jsonl"
    outbox.unlink(missing_ok=True)
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()  # the run's own Redis database
    if not args.no_seed:
        seed(args, instance)
    before = last_declaration_id(args.database_url)

    Shared.outbox = outbox
    Shared.mobiles = [f"139{i:08d}" for i in range(args.users, 0, -1)]
    port = free_port()
    process = start_server(args, instance, port)
    result: dict = {"bench": "load", "dialect": dialect_of(args.database_url),
                    "redis": bool(args.redis_url), "users": args.users,
                    "reviewers": args.reviewers, "seconds": args.seconds,
                    "workers": args.workers, "worker_class": args.worker_class,
                    "threads": args.threads if args.worker_class == "gthread" else 1,
                    "cores": os.cpu_count()}
    try:
        wait_ready(port, process)
        import gevent
        from locust import events  # patches the standard library for gevent
        from locust.env import Environment

        enterprise, reviewer, hello = user_classes()
        enterprise.fixed_count, reviewer.fixed_count = args.users, args.reviewers
        # At the end each user finishes the task it is in (a submit in flight is answered
        # and counted) before it stops: up to a minute.
        env = Environment(user_classes=[enterprise, reviewer, hello],
                          host=f"http://127.0.0.1:{port}", events=events, stop_timeout=60)
        runner = env.create_local_runner()
        total = args.users + args.reviewers + 1
        started = time.monotonic()
        runner.start(total, spawn_rate=args.spawn_rate)
        gevent.sleep(args.seconds)
        runner.stop()  # waits for the users' current tasks (stop_timeout)
        elapsed = time.monotonic() - started
        runner.quit()
        endpoints = report(env.stats, elapsed)
        errors = [{"endpoint": e.name, "error": str(e.error)[:200], "count": e.occurrences}
                  for e in env.stats.errors.values()]
    finally:
        stop_server(process)
    created = submitted_since(args.database_url, before)
    failures = sum(e["failures"] for e in endpoints.values())
    result.update({
        "elapsed_s": round(elapsed, 1), "requests": sum(e["requests"] for e in endpoints.values()),
        "failures": failures, "errors": errors, "submits_ok": Shared.submitted,
        "declarations_created": created, "endpoints": endpoints,
    })
    result["checks"] = {"no_errors": failures == 0 and not errors,
                        "created_equals_submits": created == Shared.submitted}
    for name, e in endpoints.items():
        print(f"{name:42s} {e['requests']:6d} req {e['failures']:3d} fail {e['rps']:7.2f}/s "
              f"p50 {e['p50_ms']:6.0f} p95 {e['p95_ms']:6.0f} p99 {e['p99_ms']:6.0f} ms "
              f"x{e['vs_hello']} of hello", flush=True)
    emit(result)
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
