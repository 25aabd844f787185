"""Benchmark licence OCR: ``python -m bench.ocr [DIR ...] [options]``.

For each image listed in ``DIR/truth.json`` (default: the clean set, the first nine hard
cases, and the tuning and held-back halves of the broader hard set) it runs our pipeline
(:func:`talentadmin.certification.ocr.read_licence`) and then RapidOCR's default pipeline
(``RapidOCR()(path)`` on the full-size file, our parser on its lines), and prints per image
and per group (``split`` in truth.json, else the folder: clean, hard, tune, heldback) the
median seconds, exact-match rates, wrong codes reported valid, the preprocessings our
pipeline needed, peak RSS and engine load times. The last line of output is one JSON object
with all the figures; times compare only as ratios within one run (the CPU may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from talentadmin.certification.licence import parse_licence
from talentadmin.certification.ocr import get_engine, read_licence

FIXTURES = Path("tests/fixtures")
DEFAULT_DIRS = [FIXTURES / d for d in ("licences", "licences_hard", "licences_tune",
                                       "licences_heldback")]
GROUP_OF_DIR = {"licences": "clean", "licences_hard": "hard"}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    scale = 1 if platform.system() == "Darwin" else 1024
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, 1)


def load_truth(directories: list[Path]) -> list[tuple[Path, dict[str, str]]]:
    """``(image, truth)`` pairs; each truth gets a ``group`` (its split, else its folder)."""
    items = []
    for directory in directories:
        truth = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
        group = GROUP_OF_DIR.get(directory.name, directory.name)
        items += [(directory / name, {**fields, "group": fields.get("split", group)})
                  for name, fields in sorted(truth.items())]
    return items


def score(result: dict[str, Any], truth: dict[str, str]) -> dict[str, Any]:
    name_ok = result["name"] == truth["name"]
    code_ok = result["credit_code"] == truth["credit_code"]
    wrong_valid = result["credit_code_valid"] and not code_ok
    return {**result, "group": truth["group"], "name_ok": name_ok, "code_ok": code_ok,
            "wrong_valid": wrong_valid}


def run_ours(items: list[tuple[Path, dict[str, str]]], options: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    engine = get_engine("rapidocr", **options)
    load = time.perf_counter() - started
    rows = []
    for path, truth in items:
        cpu = time.process_time()
        reading = read_licence(path, engine)
        rows.append(score({"file": path.name, "seconds": reading.seconds,
                           "cpu_seconds": time.process_time() - cpu, "name": reading.name,
                           "credit_code": reading.credit_code,
                           "credit_code_valid": reading.credit_code_valid,
                           "passes": list(reading.passes)}, truth))
    return {"load_seconds": load, "rows": rows, "peak_rss_mb": peak_rss_mb()}


def run_default(items: list[tuple[Path, dict[str, str]]]) -> dict[str, Any]:
    from rapidocr import RapidOCR

    started = time.perf_counter()
    engine = RapidOCR(params={"Global.log_level": "warning"})
    engine(warm_up_image())  # RapidOCR loads its models on first use: count that as load time
    load = time.perf_counter() - started
    rows = []
    for path, truth in items:
        started, cpu = time.perf_counter(), time.process_time()
        output = engine(str(path))
        lines = list(zip(output.txts or (), output.boxes if output.boxes is not None else (),
                         output.scores or (), strict=True))
        fields = parse_licence((text, box, conf) for text, box, conf in lines)
        seconds = time.perf_counter() - started
        rows.append(score({"file": path.name, "seconds": seconds,
                           "cpu_seconds": time.process_time() - cpu, "name": fields.name,
                           "credit_code": fields.credit_code,
                           "credit_code_valid": fields.credit_code_valid}, truth))
    return {"load_seconds": load, "rows": rows, "peak_rss_mb": peak_rss_mb()}


def warm_up_image() -> Any:
    import numpy as np
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (360, 64), "white")
    ImageDraw.Draw(image).text((10, 12), "91110105MA01R8DQ2M", fill="black", font_size=28)
    return np.asarray(image)[:, :, ::-1].copy()


def summary(run: dict[str, Any], group: str | None = None) -> dict[str, Any]:
    rows = [r for r in run["rows"] if group is None or r["group"] == group]
    n = len(rows) or 1
    figures = {
        "images": len(rows),
        "median_seconds": round(statistics.median(r["seconds"] for r in rows), 3),
        "mean_seconds": round(statistics.fmean(r["seconds"] for r in rows), 3),
        "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in rows), 3),
        "name_exact": round(sum(r["name_ok"] for r in rows) / n, 3),
        "code_exact": round(sum(r["code_ok"] for r in rows) / n, 3),
        "wrong_valid_codes": sum(r["wrong_valid"] for r in rows),
    }
    if rows and "passes" in rows[0]:
        figures["second_looks"] = sum(len(r["passes"]) > 1 for r in rows)
        figures["max_seconds"] = round(max(r["seconds"] for r in rows), 3)
    if group is None:
        figures.update(load_seconds=round(run["load_seconds"], 3), peak_rss_mb=run["peak_rss_mb"])
    return figures


def groups(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(r["group"] for r in rows))


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"== {title}")
    for r in rows:
        flags = ("N" if r["name_ok"] else "n") + ("C" if r["code_ok"] else "c")
        flags += "!" if r["wrong_valid"] else ""
        passes = "+".join(r.get("passes", ())[1:])
        print(f"{r['file']:<34} {r['seconds']:6.2f}s {flags:<3} {r['name']} {r['credit_code']}"
              f" valid={r['credit_code_valid']} {passes}")


def versions() -> dict[str, str]:
    found = {}
    for package in ("rapidocr", "onnxruntime", "pillow", "numpy", "opencv-python-headless"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "-"
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ocr", description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=DEFAULT_DIRS)
    parser.add_argument("--max-side", type=int, help="longest side given to the detector")
    parser.add_argument("--det-limit", type=int, help="Det.limit_side_len (limit type max)")
    parser.add_argument("--threads", type=int, help="onnxruntime intra-op threads")
    parser.add_argument("--rec-min-width", type=int, help="minimum recogniser input width")
    parser.add_argument("--text-score", type=float, help="drop lines scored below this")
    parser.add_argument("--no-cls", action="store_true", help="skip the direction classifier")
    parser.add_argument("--no-default", action="store_true", help="skip RapidOCR's default run")
    return parser.parse_args(argv)


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    options = {
        "max_side": args.max_side,
        "det_limit_side_len": args.det_limit,
        "threads": args.threads,
        "rec_min_width": args.rec_min_width,
        "text_score": args.text_score,
    }
    options = {k: v for k, v in options.items() if v is not None}
    if args.no_cls:
        options["use_cls"] = False
    return options


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    items = load_truth(args.dirs)
    options = engine_options(args)
    ours = run_ours(items, options)
    print_rows("ours " + json.dumps(options), ours["rows"])
    names = groups(ours["rows"])
    figures: dict[str, Any] = {"dirs": [str(d) for d in args.dirs], "options": options,
                               "ours": summary(ours),
                               "ours_by_group": {g: summary(ours, g) for g in names}}
    if not args.no_default:
        default = run_default(items)
        print_rows("RapidOCR default pipeline", default["rows"])
        figures["default"] = summary(default)
        figures["default_by_group"] = {g: summary(default, g) for g in names}
        figures["ratio_median_ours_over_default"] = {
            g: round(figures["ours_by_group"][g]["median_seconds"]
                     / figures["default_by_group"][g]["median_seconds"], 3) for g in names}
        figures["ratio_median_cpu_ours_over_default"] = {
            g: round(figures["ours_by_group"][g]["median_cpu_seconds"]
                     / figures["default_by_group"][g]["median_cpu_seconds"], 3) for g in names}
        figures["peak_rss_mb_both"] = default["peak_rss_mb"]
    figures["loadavg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    figures["cpus"] = os.cpu_count()
    figures["versions"] = versions()
    figures["python"] = platform.python_version()
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
