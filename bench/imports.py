"""The back office's import job on a large file of the old system: ``python -m bench.imports
[--rows 100000] [--database-url URL] [--instance DIR]``.

Needs the bench database (``python -m bench.seed``): the rows name its certified units (every
row a new person of one of them, in the open round), so they would be imported. A CSV of
``--rows`` rows is written, stored as an upload, and a dry-run job is run as the worker runs
it (``jobs.imports.run``, in this process): the time to the first progress report, the whole
job, rows/s, the peak RSS growth, the size of the file and of its report. The dry run does
the import's work (each row checked and written in its savepoint) and rolls it back, so the
bench database is left as it was. Last line: JSON.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import threading
import time
from collections import Counter
from types import SimpleNamespace

from sqlalchemy import select

from .common import (
    add_db_args,
    database_url,
    dialect_of,
    emit,
    hwm_mb,
    make_app,
    reset_peak,
    rss_mb,
)
from .seed import id_number, person_name


def write_file(app, path, rows: int, seed: int = 7) -> int:
    from talentadmin.certification.models import Certification
    from talentadmin.core.creditcode import credit_code_valid
    from talentadmin.declarations.importer import HEADERS
    from talentadmin.declarations.models import Round
    from talentadmin.extensions import db

    rng = random.Random(seed)
    with app.app_context():
        units = [unit for unit in db.session.execute(
            select(Certification.name, Certification.credit_code)
            .where(Certification.status == "approved")).all()
            if credit_code_valid(unit.credit_code)]  # the seed's codes mostly fail GB 32100
        round_name = db.session.scalars(select(Round.name).order_by(Round.id.desc())).first()
    header = ["序号", *(HEADERS[key] for key in (
        "unit_name", "credit_code", "name", "id_number", "gender", "age", "political_status",
        "title", "education", "degree", "school", "major", "condition", "status", "round"))]
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for n in range(1, rows + 1):
            name, code = units[n % len(units)]
            writer.writerow([n, name, code, person_name(rng), id_number(rng), "", "", "中共党员",
                             "高级工程师", "研究生（博士）", "博士", "清华大学", "计算机科学与技术",
                             "拥有发明专利（专利条款）", "待审核", round_name])
    return len(units)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_args(parser)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    url = database_url(args)
    app = make_app(url, args.instance)

    from talentadmin.accounts.models import StaffUser
    from talentadmin.extensions import db
    from talentadmin.jobs import imports
    from talentadmin.jobs.models import ImportJob

    with app.app_context():
        folder = imports.folder()
        path = folder / "bench-import.csv"
        units = write_file(app, path, args.rows)
        size_mb = round(path.stat().st_size / 2**20, 1)
        stored = imports.store_upload(path.read_bytes(), "csv")
        path.unlink()
        staff_id = db.session.scalar(select(StaffUser.id))
        job = imports.start(staff_id, stored=stored, source="bench.csv", round_name=None,
                            dry_run=True)
        db.session().info.pop(imports.JOBS, None)  # run below, timed, as a worker runs it
        db.session.commit()
        job_id = job.id
        job_files = SimpleNamespace(id=job.id, stored=job.stored)  # no database in the watcher
    progress: list[float] = []
    watching = threading.Event()
    watching.set()

    def watch() -> None:  # what the progress page reads, every 50 ms
        with app.app_context():
            seen = 0
            while watching.is_set():
                done, _ = imports.progress_of(job_files)
                if done > seen:
                    seen = done
                    progress.append(time.perf_counter())
                time.sleep(0.05)  # the page's polling, not a wait for a result

    watcher = threading.Thread(target=watch)
    peak_reset = reset_peak()
    before = rss_mb()
    started = time.perf_counter()
    watcher.start()
    try:
        with app.app_context():
            imports.run(job_id)
    finally:
        watching.clear()
        watcher.join()
    elapsed = time.perf_counter() - started
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        report = folder / f"{job.stored}.{job.id}.report"
        reasons = Counter(r["reason"].split(":")[0] for r in imports.report_rows(job)
                          if r["reason"])
        result = {"bench": "imports", "dialect": dialect_of(url), "rows": args.rows,
                  "units": units, "file_mb": size_mb, "status": job.status, "error": job.error,
                  "would_import": job.imported, "refused": job.refused,
                  "first_progress_s": round(progress[0] - started, 2) if progress else None,
                  "progress_updates_seen": len(progress), "seconds": round(elapsed, 1),
                  "rows_per_s": round(args.rows / elapsed), "peak_reset": peak_reset,
                  "rss_before_mb": before, "rss_growth_mb": round(hwm_mb() - before, 1),
                  "report_mb": round(report.stat().st_size / 2**20, 1)
                  if report.exists() else None,
                  "refusals": dict(reasons.most_common(3))}
        (folder / job.stored).unlink(missing_ok=True)
        report.unlink(missing_ok=True)
        db.session.delete(job)
        db.session.commit()
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
