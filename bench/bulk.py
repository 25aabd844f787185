"""A bulk decision over 1,000 declarations, ours against the ORM loop, in one run:
``python -m bench.bulk [--rows 1000] [--repeats 3] [--database-url URL] [--instance DIR]``.

* ``ours``: ``operations.decide_many(ids, "pass_initial", staff)`` — conditional
  ``UPDATE … RETURNING`` per batch, then the timeline, audit and notice rows in bulk and one
  SMS per enterprise (console backend, written to the bench instance's outbox), commit.
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


def run(args) -> dict:
    from talentadmin.accounts.models import StaffUser
    from talentadmin.core import audit
    from talentadmin.core.models import AuditEvent, Notice, StatusChange
    from talentadmin.core.timeutil import utcnow
    from talentadmin.declarations import operations, workflow
    from talentadmin.declarations.models import Declaration
    from talentadmin.extensions import db

    url = database_url(args)
    app = make_app(url, args.instance)
    result: dict = {"bench": "bulk", "dialect": dialect_of(url), "rows": args.rows}
    with app.test_request_context("/admin/declaration_initial/action/",
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        staff = db.session.execute(select(StaffUser).where(
            StaffUser.username == STAFF_USER)).scalar_one()
        staff_id = staff.id
        picked = db.session.execute(
            select(Declaration.id, Declaration.version, Declaration.initial_passed_at)
            .where(Declaration.status == workflow.PENDING_INITIAL)
            .order_by(Declaration.id).limit(args.rows)).all()
        if len(picked) < args.rows:
            raise SystemExit(f"only {len(picked)} pending_initial declarations: seed more")
        ids = [row.id for row in picked]
        marks = {model: db.session.execute(select(func.coalesce(func.max(model.id), 0))).scalar()
                 for model in (AuditEvent, StatusChange, Notice)}
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
            outcome = operations.decide_many(ids, "pass_initial", fresh_staff())
            db.session.commit()
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
    for name in contenders:
        details[name]["seconds_median"] = round(statistics.median(times[name]), 3)
        details[name]["seconds_all"] = [round(t, 3) for t in times[name]]
    result.update(details)
    speedup = details["orm_loop"]["seconds_median"] / details["ours"]["seconds_median"]
    result["orm_over_ours"] = round(speedup, 2)
    result["targets"] = {"ours_le_2s": details["ours"]["seconds_median"] <= 2.0,
                         "ge_5x_faster_than_orm_loop": speedup >= 5}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_args(parser)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
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
