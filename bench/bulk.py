"""A bulk decision over 1,000 declarations, ours against the ORM loop, in one run:
``python -m bench.bulk [--rows 1000] [--enterprises 500] [--repeats 3] [--sms http-stub]
[--gateway-ms 200] [--database-url URL] [--instance DIR]``.

* ``ours``: ``operations.decide_many(ids, "pass_initial", staff)`` — conditional
  ``UPDATE … RETURNING`` per batch, then the timeline, audit and notice rows in bulk and one
  SMS outbox row per enterprise, commit; the rows are handed to the workers after the commit
  (one task per 50 rows, on the app's configured broker — or, for an app configured without
  a task queue, the embedded broker in the bench instance; no worker runs here, so nothing is
  sent). ``--sms http-stub`` (the default) points the HTTP SMS backend at a local stub
  gateway that answers in ``--gateway-ms``: the request must not wait for it (``gateway_calls``
  during the timed pass is 0; sending 500 SMS in the request would take 500 × 200 ms = 100 s).
  ``--sms console`` keeps the console backend.
* The ``--rows`` declarations are picked over ``--enterprises`` enterprises (as evenly as
  the seeded ``pending_initial`` rows allow; the number reached is reported).
* ``orm_loop``: what the naive version does — ``session.get()`` each declaration, assign
  status and ``initial_passed_at``, ``audit.record()`` one ``AuditEvent`` per row, commit.
  (It writes fewer rows than ours: no timeline, no notices, no SMS.)

The same 1,000 ``pending_initial`` rows serve every run: after each run the rows are put
back (status, dates, version) and the rows the run added are deleted (not timed). Runs are
interleaved (ours, orm, ours, orm, …). Last line: JSON.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import bindparam, delete, func, select, update

from .common import (
    STAFF_USER,
    SqlCounter,
    add_db_args,
    database_url,
    dialect_of,
    emit,
    make_app,
)


class StubGateway:
    """A local SMS gateway answering ``{"code": 0}`` after ``delay`` seconds, counting calls."""

    def __init__(self, delay: float) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        stub = self
        self.calls = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stub.calls += 1
                time.sleep(delay)  # the gateway's own latency, the thing under test
                body = b'{"code": 0, "msg": "ok"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bench_task_queue(app, instance: str):
    """A Celery app on the embedded broker (kombu's SQLAlchemy transport on a SQLite file in
    the bench instance) for an app configured without one: the outbox rows then go to a
    broker after the commit, as in production, instead of being sent in the request."""
    from celery import Celery, Task

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = Path(instance).resolve() / "broker.db"
    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(broker_url=f"sqla+sqlite:///{broker}", task_ignore_result=True)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def pick(rows, count: int, enterprises: int) -> list:
    """``count`` rows spread over at most ``enterprises`` enterprises, round robin."""
    by_enterprise: dict[int, list] = {}
    for row in rows:
        by_enterprise.setdefault(row.enterprise_user_id, []).append(row)
    groups = sorted(by_enterprise.values(), key=len, reverse=True)[:enterprises]
    picked: list = []
    depth = 0
    while len(picked) < count and any(len(g) > depth for g in groups):
        picked.extend(g[depth] for g in groups if len(g) > depth)
        depth += 1
    return sorted(picked[:count], key=lambda r: r.id)


def run(args) -> dict:
    from talentadmin.accounts.models import StaffUser
    from talentadmin.core import audit
    from talentadmin.core.models import AuditEvent, Notice, SmsOutbox, StatusChange
    from talentadmin.core.timeutil import utcnow
    from talentadmin.declarations import operations, workflow
    from talentadmin.declarations.models import Declaration
    from talentadmin.extensions import db

    url = database_url(args)
    app = make_app(url, args.instance)
    result: dict = {"bench": "bulk", "dialect": dialect_of(url), "rows": args.rows,
                    "sms": args.sms}
    gateway = StubGateway(args.gateway_ms / 1000) if args.sms == "http-stub" else None
    if gateway is not None:
        app.config.update(SMS_BACKEND="http", SMS_HTTP_URL=gateway.url, SMS_HTTP_TIMEOUT=5)
        result["gateway_ms"] = args.gateway_ms
    celery = app.extensions.get("celery") or bench_task_queue(app, args.instance)
    result["broker"] = str(celery.conf.broker_url).split("://")[0] + "://"
    with app.test_request_context("/admin/declaration_initial/action/",
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        staff = db.session.execute(select(StaffUser).where(
            StaffUser.username == STAFF_USER)).scalar_one()
        staff_id = staff.id
        picked = pick(db.session.execute(
            select(Declaration.id, Declaration.version, Declaration.initial_passed_at,
                   Declaration.enterprise_user_id)
            .where(Declaration.status == workflow.PENDING_INITIAL)
            .order_by(Declaration.id)).all(), args.rows, args.enterprises)
        if len(picked) < args.rows:
            raise SystemExit(f"only {len(picked)} pending_initial declarations: seed more")
        ids = [row.id for row in picked]
        result["enterprises"] = len({row.enterprise_user_id for row in picked})
        marks = {model: db.session.execute(select(func.coalesce(func.max(model.id), 0))).scalar()
                 for model in (AuditEvent, StatusChange, Notice, SmsOutbox)}
        outbox = Path(app.config["SMS_OUTBOX"])
        outbox_size = outbox.stat().st_size if outbox.exists() else 0
        db.session.commit()

        def restore() -> None:
            db.session.rollback()
            db.session.expunge_all()
            db.session.execute(
                update(Declaration.__table__)
                .where(Declaration.__table__.c.id == bindparam("b_id"))
                .values(status=workflow.PENDING_INITIAL, initial_passed_at=bindparam("b_at"),
                        version=bindparam("b_version")),
                [{"b_id": r.id, "b_at": r.initial_passed_at, "b_version": r.version}
                 for r in picked])
            for model, mark in marks.items():
                db.session.execute(delete(model).where(model.id > mark))
            db.session.commit()
            db.session.expunge_all()
            if outbox.exists():
                with open(outbox, "r+b") as fh:
                    fh.truncate(outbox_size)

        def fresh_staff():
            return db.session.get(StaffUser, staff_id)

        def ours() -> int:
            calls = gateway.calls if gateway else 0
            outcome = operations.decide_many(ids, "pass_initial", fresh_staff())
            db.session.commit()
            if gateway is not None:
                result["gateway_calls_in_request"] = max(
                    result.get("gateway_calls_in_request", 0), gateway.calls - calls)
            return len(outcome.done)

        def orm_loop() -> int:
            actor = fresh_staff()
            now = utcnow()
            done = 0
            for pk in ids:
                declaration = db.session.get(Declaration, pk)
                if declaration is None or declaration.status != workflow.PENDING_INITIAL:
                    continue
                declaration.status = workflow.PENDING_SECOND
                declaration.initial_passed_at = now
                audit.record("declaration.pass_initial", actor=actor, target=declaration,
                             detail={"from": workflow.PENDING_INITIAL,
                                     "to": workflow.PENDING_SECOND})
                done += 1
            db.session.commit()
            return done

        def written() -> dict:
            return {model.__tablename__: db.session.execute(
                select(func.count()).select_from(model).where(model.id > mark)).scalar()
                for model, mark in marks.items()}

        contenders = {"ours": ours, "orm_loop": orm_loop}
        times: dict[str, list[float]] = {name: [] for name in contenders}
        details: dict[str, dict] = {}
        try:
            restore()
            for repeat in range(args.repeats):
                for name, fn in contenders.items():
                    counter = SqlCounter(db.engine)
                    with counter:
                        started = time.perf_counter()
                        done = fn()
                        elapsed = time.perf_counter() - started
                    times[name].append(elapsed)
                    if repeat == 0:
                        details[name] = {"moved": done, "statements": counter.count,
                                         "rows_written": written()}
                    if done != args.rows:
                        raise RuntimeError(f"{name} moved {done} of {args.rows}")
                    restore()
        finally:
            restore()
            if gateway is not None:
                gateway.close()
    for name in contenders:
        details[name]["seconds_median"] = round(statistics.median(times[name]), 3)
        details[name]["seconds_all"] = [round(t, 3) for t in times[name]]
    result.update(details)
    speedup = details["orm_loop"]["seconds_median"] / details["ours"]["seconds_median"]
    result["orm_over_ours"] = round(speedup, 2)
    result["targets"] = {"ours_le_2s": details["ours"]["seconds_median"] <= 2.0,
                         "ge_5x_faster_than_orm_loop": speedup >= 5}
    if gateway is not None:
        result["targets"]["no_gateway_call_in_request"] = (
            result.get("gateway_calls_in_request", 0) == 0)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_args(parser)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--enterprises", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sms", choices=("http-stub", "console"), default="http-stub")
    parser.add_argument("--gateway-ms", type=int, default=200)
    args = parser.parse_args(argv)
    result = run(args)
    for name in ("ours", "orm_loop"):
        d = result[name]
        print(f"{name:9s} {d['seconds_median']:7.3f} s  {d['statements']:5d} SQL  "
              f"wrote {d['rows_written']}")
    print(f"orm loop / ours = {result['orm_over_ours']}x; targets: {result['targets']}")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
