#!/usr/bin/env python3
"""Score lrdoctor's sweep recommendation on the public bench.

Each bench group (runs sharing task, optimizer, schedule, seed and batch size; labels.csv's
group_id) is laid out as one directory of its runs -- symlinks to the runs' files, so nothing is
copied -- in a temporary folder; ``lrdoctor diagnose DIR --group-by dir --format json`` runs on
each (the layout states that the folder is one sweep; its runs mix six log formats, which auto
grouping would rightly keep apart), and the sweep's ``recommendation.suggested_lr`` is compared
with the group's ``lr_star``.

    python bench/sweep_eval.py [--bench ../shared/bench/public] [--json] [--keep DIR]

Reports how often the suggestion is within half a decade of lr_star and within a quarter, and
how often the sweep's best run is lr_star's run.  A group with no sweep section counts as a miss.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BENCH = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench", "public"))


def read_groups(bench: str) -> dict[str, list[dict]]:
    with open(os.path.join(bench, "labels.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        key = "|".join(row[c] for c in ("task", "optimizer", "schedule", "seed", "batch_size"))
        groups[key].append(row)
    return dict(sorted(groups.items()))


def lay_out(bench: str, rows: list[dict], dest: str) -> None:
    """dest/<run_id>/... with a symlink per file (file links: each run stays its own directory)."""
    for row in rows:
        src = os.path.join(bench, "runs", row["run_id"])
        for dirpath, _, files in os.walk(src):
            target = os.path.join(dest, row["run_id"], os.path.relpath(dirpath, src))
            os.makedirs(target, exist_ok=True)
            for name in files:
                os.symlink(os.path.join(dirpath, name), os.path.join(target, name))


def diagnose(directory: str) -> dict:
    cmd = [sys.executable, "-m", "lrdoctor", "diagnose", directory, "--group-by", "dir", "--format", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"lrdoctor failed on {directory} (exit {out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def score_group(key: str, rows: list[dict], report: dict) -> dict:
    lr_star = float(rows[0]["lr_star"])
    sweeps = report.get("sweeps") or []
    entry = {"group": key, "lr_star": lr_star, "n_runs": len(rows), "n_sweeps": len(sweeps),
             "suggested_lr": None, "best_lr": None, "error_decades": None, "confidence": None}
    if len(sweeps) == 1:
        rec, fit = sweeps[0]["recommendation"], sweeps[0]["fit"]
        entry.update(suggested_lr=rec["suggested_lr"], best_lr=fit["best_lr"], confidence=rec["confidence"],
                     sweep_runs=len(sweeps[0]["runs"]))
        if rec["suggested_lr"]:
            entry["error_decades"] = abs(math.log10(rec["suggested_lr"] / lr_star))
            entry["best_is_star"] = abs(math.log10(fit["best_lr"] / lr_star)) < 0.01
    return entry


def summarise(entries: list[dict]) -> dict:
    errors = [e["error_decades"] for e in entries]
    scored = [x for x in errors if x is not None]
    within = lambda limit: sum(1 for x in scored if x <= limit + 1e-9) / len(entries)  # noqa: E731
    return {
        "groups": len(entries),
        "with_sweep": len(scored),
        "within_0.5_decades": within(0.5),
        "within_0.25_decades": within(0.25),
        "best_run_is_lr_star": sum(1 for e in entries if e.get("best_is_star")) / len(entries),
        "median_error_decades": statistics.median(scored) if scored else None,
    }


def cross_seed(entries: list[dict]) -> dict:
    """Each group's suggestion (and its best grid LR) against lr_star of the same setup's other
    seed: a held-out check of whether interpolating between grid points helps."""
    setups: dict[tuple, dict] = defaultdict(dict)
    for e in entries:
        task, opt, sched, seed, batch = e["group"].split("|")
        setups[(task, opt, sched, batch)][seed] = e
    vertex, grid = [], []
    for seeds in setups.values():
        for a, b in ((x, y) for x in seeds for y in seeds if x != y):
            if seeds[a]["suggested_lr"]:
                star = seeds[b]["lr_star"]
                vertex.append(abs(math.log10(seeds[a]["suggested_lr"] / star)))
                grid.append(abs(math.log10(seeds[a]["best_lr"] / star)))
    stats = lambda xs: {"median": statistics.median(xs), "within_0.5": sum(x <= 0.5 + 1e-9 for x in xs) / len(xs)}  # noqa: E731
    return {"pairs": len(vertex), "suggestion": stats(vertex), "best_grid_lr": stats(grid)} if vertex else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=DEFAULT_BENCH, help="the bench folder holding labels.csv and runs/")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--keep", help="lay the groups out here (kept) instead of a temporary folder")
    args = parser.parse_args(argv)
    groups = read_groups(args.bench)
    with tempfile.TemporaryDirectory(prefix="lrdoctor-sweeps-") as tmp:
        root = args.keep or tmp
        entries = []
        for k, (key, rows) in enumerate(groups.items()):
            directory = os.path.join(root, f"g{k + 1:02d}")
            lay_out(args.bench, rows, directory)
            entries.append(score_group(key, rows, diagnose(directory)))
    summary = summarise(entries)
    summary["cross_seed"] = cross_seed(entries)
    if args.json:
        print(json.dumps({"summary": summary, "groups": entries}, indent=2))
        return 0
    fmt = lambda v: "-" if v is None else f"{v:.3g}"  # noqa: E731
    print(f"{'group':45} {'lr_star':>9} {'suggested':>9} {'best':>9} {'err':>5}  confidence")
    for e in entries:
        print(f"{e['group']:45} {fmt(e['lr_star']):>9} {fmt(e['suggested_lr']):>9} {fmt(e['best_lr']):>9} "
              f"{fmt(e['error_decades']):>5}  {e['confidence'] or 'no sweep'}")
    print()
    held_out = summary.pop("cross_seed")
    for name, value in summary.items():
        print(f"{name:24} {fmt(value) if isinstance(value, float) else value}")
    if held_out:
        print(f"\nagainst the other seed's lr_star ({held_out['pairs']} pairs):")
        for name in ("suggestion", "best_grid_lr"):
            stats = held_out[name]
            print(f"  {name:22} median {stats['median']:.3f}  within 0.5 decades {stats['within_0.5']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
