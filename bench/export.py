"""The municipal export against Flask-Admin's stock CSV export, on the same rows:
``python -m bench.export [--scope completed|submitted] [--rows N] [--database-url URL]
[--instance DIR] [--cap-seconds S]``.

Every exporter runs in its own subprocess (``--worker NAME``) so that its peak RSS is its
own: the worker builds the app, logs in, resets VmHWM, notes VmRSS, then streams the whole
response body through the test client (``buffered=False``, chunk by chunk) and reports
rows/s and the RSS growth (VmHWM − VmRSS before). Contenders:

* ``ours_csv`` / ``ours_xlsx``: ``AllDeclarationsView.municipal_export`` streamed in the
  response (``EXPORT_STREAM_ROWS`` raised for it; full ID numbers decrypted, reference labels,
  BOM, formula escaping, ``yield_per`` streaming);
* ``stock_csv``: a stock ``ModelView`` with ``can_export=True``, ``export_types=['csv']``,
  ``export_max_rows=0``, the same filters and the same 15 columns (``id_masked`` for the ID:
  stock cannot decrypt);
  Run with ``expire_on_commit=False`` in its worker: as shipped the app's after_request
  commit expires the rows before the stock generator reads them (``stock_csv_asis``
  records that failure);
* ``stock_rel_probe``: the stock export with a relationship column (``enterprise_user``),
  first 200 rows only — does it work at all?
* ``job_csv`` / ``job_xlsx``: the export as a job (what a supervisor gets above
  ``EXPORT_STREAM_ROWS``): the request that starts it (``request_s``: until the progress page's
  redirect), then ``jobs.exports.run`` as the worker runs it, in the bench process:
  ``first_progress_s`` (the first chunk's ``written`` committed, what the progress bar shows
  first), ``seconds`` (the whole file written and renamed) and the worker's RSS growth.

Rows: ``completed`` declarations (the municipal default) or every ``submitted`` one;
``--rows N`` caps them with a ``submitted_at`` upper bound (the same filter for all).
A worker that passes ``--cap-seconds`` stops reading and reports the rate so far.
Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from urllib.parse import urlencode

from flask_admin.contrib.sqla import ModelView
from sqlalchemy import func, select

from .common import (
    add_db_args,
    database_url,
    dialect_of,
    emit,
    hwm_mb,
    login,
    make_app,
    reset_peak,
    rss_mb,
)

PLAIN = ("unit_name", "credit_code", "name", "id_masked", "gender", "age", "political_status",
         "title", "education", "degree", "school", "major", "condition", "initial_passed_at",
         "second_passed_at")
FAR = "2000-01-01 00:00:00"


class StockExportView(ModelView):
    can_export = True
    export_types = ["csv"]
    export_max_rows = 0
    column_list = ("round", "enterprise_user", "name", "status", "submitted_at")
    column_export_list = PLAIN
    column_default_sort = ("submitted_at", False)
    column_sortable_list = ("submitted_at",)

    def __init__(self, *args, **kwargs):
        from .grid import same_filters

        self.column_filters = same_filters()
        super().__init__(*args, **kwargs)


class StockRelExportView(StockExportView):
    column_export_list = ("enterprise_user", "round", *PLAIN)
    export_max_rows = 200


# --- PROTOTYPE of the proposed export change (bench only, not the shipped code) -----------


def register(admin, app) -> None:
    from talentadmin.declarations.models import Declaration
    from talentadmin.extensions import db

    admin.add_view(StockExportView(Declaration, db.session, name="Bench export",
                                   endpoint="bench_export"))
    admin.add_view(StockRelExportView(Declaration, db.session, name="Bench export rel",
                                      endpoint="bench_export_rel"))


def filters_for(scope: str, cutoff: str | None) -> dict:
    """Filter 1 = status, 7 = submitted between (the same indexes in every view)."""
    args: dict = {}
    if scope == "completed":
        args["flt1_1"] = "completed"
    if cutoff or scope == "submitted":
        args["flt2_7"] = f"{FAR} to {cutoff or '2100-01-01 00:00:00'}"
    return args


def plan(app, scope: str, rows: int | None) -> tuple[int, str | None]:
    """The number of rows to export and the ``submitted_at`` cutoff that yields them."""
    from talentadmin.declarations import workflow
    from talentadmin.declarations.models import Declaration
    from talentadmin.extensions import db

    with app.app_context():
        where = [Declaration.submitted_at.is_not(None), Declaration.status != workflow.DRAFT]
        if scope == "completed":
            where.append(Declaration.status == workflow.COMPLETED)
        available = db.session.execute(select(func.count()).select_from(Declaration)
                                       .where(*where)).scalar()
        if not rows or rows >= available:
            return available, None
        cutoff = db.session.execute(select(Declaration.submitted_at).where(*where)
                                    .order_by(Declaration.submitted_at)
                                    .offset(rows - 1).limit(1)).scalar()
        count = db.session.execute(select(func.count()).select_from(Declaration).where(
            *where, Declaration.submitted_at <= cutoff)).scalar()
        return count, cutoff.strftime("%Y-%m-%d %H:%M:%S")


def job_worker(args, app, client, query: str) -> dict:
    """Start the export as a job through the page, then run it as a worker does."""
    from sqlalchemy import event

    from talentadmin.extensions import db
    from talentadmin.jobs import exports
    from talentadmin.jobs.models import ExportJob

    kind = args.worker.removeprefix("job_")
    if kind == "xlsx":
        import openpyxl  # noqa: F401  (its import is not the export's memory)
    app.config["EXPORT_STREAM_ROWS"] = 0
    exports.run_pending = lambda: None  # a worker runs it, not the request
    started = time.perf_counter()
    response = client.get(f"/admin/declaration_all/municipal/{kind}/?{query}")
    request_s = time.perf_counter() - started
    out: dict = {"worker": args.worker, "status": response.status_code,
                 "request_s": round(request_s, 3), "redirect": response.location}
    with app.app_context():
        job_id = db.session.scalar(select(func.max(ExportJob.id)))
    commits: list[float] = []
    event.listen(db.session, "after_commit", lambda session: commits.append(time.perf_counter()))
    peak_reset = reset_peak()
    before = rss_mb()
    started = time.perf_counter()
    with app.app_context():
        exports.run(job_id)
        job = db.session.get(ExportJob, job_id)
        path = exports.path_of(job)
        out.update(job_status=job.status, rows=job.written, bytes=path.stat().st_size
                   if path else 0, error=job.error)
        path.unlink(missing_ok=True) if path else None
    elapsed = time.perf_counter() - started
    # commits: the claim, then one per chunk of CHUNK rows (the progress), then the end
    out.update(seconds=round(elapsed, 3), peak_reset=peak_reset,
               first_progress_s=round(commits[1] - started, 3) if len(commits) > 2 else None,
               progress_updates=max(0, len(commits) - 2), chunk_rows=exports.CHUNK,
               rows_per_s=round(out["rows"] / elapsed) if elapsed else None,
               rss_before_mb=before, peak_mb=hwm_mb(),
               rss_growth_mb=round(hwm_mb() - before, 1))
    return out


def worker(args) -> dict:
    url = database_url(args)
    app = make_app(url, args.instance, extra_views=register)
    client = app.test_client()
    login(client)
    query = urlencode(filters_for(args.scope, args.cutoff))
    if args.worker.startswith("job_"):
        return job_worker(args, app, client, query)
    app.config["EXPORT_STREAM_ROWS"] = 10**9  # streamed in the response, however many rows
    path = {"ours_csv": f"/admin/declaration_all/municipal/csv/?{query}",
            "ours_xlsx": f"/admin/declaration_all/municipal/xlsx/?{query}",
            "stock_csv": f"/admin/bench_export/export/csv/?{query}",
            "stock_csv_asis": f"/admin/bench_export/export/csv/?{query}",
            "stock_rel_probe": f"/admin/bench_export_rel/export/csv/?{query}"}[args.worker]
    if args.worker == "ours_xlsx":
        import openpyxl  # noqa: F401  (its import is not the export's memory)
    if args.worker == "stock_csv":
        # As shipped, the app's after_request commit expires the listed objects before the
        # stock generator reads them: DetachedInstanceError (see stock_csv_asis). Keeping
        # them loaded lets the stock export run, as it does in a plain Flask-Admin app.
        from talentadmin.extensions import db

        with app.app_context():
            db.session.remove()
            db.session.configure(expire_on_commit=False)
    peak_reset = reset_peak()
    before = rss_mb()
    started = time.perf_counter()
    out: dict = {"worker": args.worker, "path": path, "peak_reset": peak_reset}
    response = client.get(path, buffered=False)
    out["status"] = response.status_code
    first_byte_s = None
    size = lines = 0
    head = b""
    capped = False
    error = None
    try:
        for chunk in response.response:
            if isinstance(chunk, str):
                chunk = chunk.encode()
            if first_byte_s is None:
                first_byte_s = time.perf_counter() - started
                head = chunk[:64]
            size += len(chunk)
            lines += chunk.count(b"\n")
            if args.cap_seconds and time.perf_counter() - started > args.cap_seconds:
                capped = True
                break
    except Exception as exc:
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    finally:
        response.close()
    elapsed = time.perf_counter() - started
    if args.worker == "ours_xlsx":
        rows = args.expected  # a zip: count the rows it was asked for
        out["xlsx_is_zip"] = head.startswith(b"PK")
    else:
        rows = max(0, lines - 1)  # less the header line
        out["bom"] = head.startswith("\ufeff".encode())
    if response.status_code != 200 and not error:
        error = f"HTTP {response.status_code}"
    out.update(rows=rows, bytes=size, seconds=round(elapsed, 3),
               first_byte_s=round(first_byte_s or 0, 3),
               rows_per_s=round(rows / elapsed) if elapsed else None,
               rss_before_mb=before, peak_mb=hwm_mb(),
               rss_growth_mb=round(hwm_mb() - before, 1), capped=capped, error=error)
    return out


def spawn(args, name: str, cutoff: str | None, expected: int) -> dict:
    command = [sys.executable, "-m", "bench.export", "--worker", name, "--scope", args.scope,
               "--instance", args.instance, "--expected", str(expected)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    if cutoff:
        command += ["--cutoff", cutoff]
    if args.cap_seconds and name != "stock_rel_probe":
        command += ["--cap-seconds", str(args.cap_seconds)]
    done = subprocess.run(command, capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          timeout=args.timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        return {"worker": name, "failed": True, "returncode": done.returncode,
                "stderr": done.stderr[-1500:]}
    return json.loads(lines[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_args(parser)
    parser.add_argument("--scope", choices=("completed", "submitted"), default="completed")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--cap-seconds", type=float, default=0)
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--only",
                        default="ours_csv,stock_csv,ours_xlsx,stock_csv_asis,"
                                "stock_rel_probe,job_csv,job_xlsx")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cutoff", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--expected", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        emit(worker(args))
        return 0

    url = database_url(args)
    app = make_app(url, args.instance)
    rows, cutoff = plan(app, args.scope, args.rows)
    del app
    result: dict = {"bench": "export", "dialect": dialect_of(url), "scope": args.scope,
                    "rows": rows, "submitted_cutoff": cutoff}
    for name in args.only.split(","):
        result[name] = spawn(args, name, cutoff, rows)
        r = result[name]
        if r.get("failed"):
            print(f"{name:16s} FAILED rc={r['returncode']}: {r['stderr'][-300:]}")
        else:
            print(f"{name:16s} rows={r['rows']:7d} {r['seconds']:8.2f} s "
                  f"{r['rows_per_s']} rows/s  RSS +{r['rss_growth_mb']} MB"
                  + (f"  first byte {r['first_byte_s']} s" if "first_byte_s" in r else "")
                  + (f"  request {r['request_s']} s, first progress {r['first_progress_s']} s"
                     if "request_s" in r else "")
                  + (f"  error={r['error']}" if r.get("error") else "")
                  + ("  (capped)" if r.get("capped") else ""))
    ours, stock = result.get("ours_csv", {}), result.get("stock_csv", {})
    if ours.get("rows_per_s") and stock.get("rows_per_s"):
        result["csv_speed_ratio_ours_over_stock"] = round(ours["rows_per_s"]
                                                          / stock["rows_per_s"], 2)
        result["targets"] = {
            "csv_ge_2x_stock_rows_per_s": result["csv_speed_ratio_ours_over_stock"] >= 2,
            "csv_rss_growth_le_50mb": ours["rss_growth_mb"] <= 50,
            "csv_rows_match": ours["rows"] == rows,
        }
        print("targets:", result["targets"])
    for kind in ("csv", "xlsx"):
        direct, job = result.get(f"ours_{kind}", {}), result.get(f"job_{kind}", {})
        if direct.get("first_byte_s") and job.get("request_s") is not None \
                and job.get("first_progress_s") is not None:
            # what the supervisor waits for before the page shows something moving
            result[f"{kind}_first_sign_ratio_job_over_direct"] = round(
                (job["request_s"] + job["first_progress_s"]) / direct["first_byte_s"], 3)
            result[f"{kind}_total_ratio_job_over_direct"] = round(
                (job["request_s"] + job["seconds"]) / direct["seconds"], 2)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
