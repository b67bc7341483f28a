#!/usr/bin/env python3
"""Score sweep-aware verdicts: a labelled bench laid out one directory per sweep.

labels.csv's ``group_id`` (task|optimizer|schedule|seed|batch) names a sweep; the harness lays
each one out as ``ROOT/<setup>/<seed>/<run_id>/`` (symlinks to the run's files, nothing copied)
and scores lrdoctor's JSON with the bench's own ``score.py``:

* **in-sample**: ``lrdoctor diagnose ROOT --group-by dir`` (each seed folder is one sweep; its
  runs mix six log formats, which auto grouping would rightly keep apart);
* **across seeds**: every seed folder diagnosed with ``--baseline`` the other seed's folder of the
  same setup, so each run is judged by a sweep it is not part of.  The suggested LR is scored
  against the run's own lr_star (the optimum of the sweep the run *is* part of, which lrdoctor
  never saw) -- ``score.py``'s "within 0.5 decades".

    python bench/sweep_verdicts.py --bench ../shared/bench/public --root "$TMPDIR/sweeps" [--mode in|across|both]

Nothing here is read by lrdoctor: it is a scoring harness.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict


def read_rows(bench: str) -> list[dict]:
    with open(os.path.join(bench, "labels.csv"), newline="") as f:
        return list(csv.DictReader(f))


def lay_out(bench: str, rows: list[dict], root: str) -> dict[str, dict[str, str]]:
    """{setup: {seed: folder}}; each run's files symlinked under its sweep's folder."""
    folders: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        setup = "_".join(row[c] for c in ("task", "optimizer", "schedule")) + f"_bs{row['batch_size']}"
        seed = f"seed{row['seed']}"
        folder = os.path.join(root, setup, seed)
        folders[setup][seed] = folder
        src = os.path.join(bench, "runs", row["run_id"])
        for dirpath, _, files in os.walk(src):
            target = os.path.join(folder, row["run_id"], os.path.relpath(dirpath, src))
            os.makedirs(target, exist_ok=True)
            for name in files:
                link = os.path.join(target, name)
                if not os.path.lexists(link):
                    os.symlink(os.path.join(dirpath, name), link)
    return dict(folders)


def diagnose(target: str, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "lrdoctor", "diagnose", target, "--format", "json", "--fail-on", "never", *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"lrdoctor failed on {target} (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout)


def across_seeds(folders: dict[str, dict[str, str]]) -> dict:
    """Every seed folder judged against the other seed's sweep; the runs of all reports pooled."""
    runs = []
    for seeds in folders.values():
        for seed, folder in sorted(seeds.items()):
            for other, reference in sorted(seeds.items()):
                if other != seed:
                    runs += diagnose(folder, "--group-by", "none", "--baseline", reference)["runs"]
    return {"version": 1, "runs": runs}


def score(bench: str, pred: dict, path: str, scorer: str) -> str:
    with open(path, "w") as f:
        json.dump(pred, f)
    out = subprocess.run([sys.executable, scorer, "--labels", os.path.join(bench, "labels.csv"), "--pred", path],
                         capture_output=True, text=True, check=True)
    return out.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True, help="folder holding labels.csv and runs/")
    parser.add_argument("--root", required=True, help="where to lay the sweeps out (created)")
    parser.add_argument("--scorer", help="score.py to use (default: the one in --bench)")
    parser.add_argument("--mode", choices=("in", "across", "both"), default="both")
    args = parser.parse_args(argv)
    scorer = args.scorer or os.path.join(args.bench, "score.py")
    folders = lay_out(args.bench, read_rows(args.bench), args.root)
    if args.mode in ("in", "both"):
        pred = diagnose(args.root, "--group-by", "dir")
        print("== in-sample: one directory per sweep, --group-by dir ==")
        print(score(args.bench, pred, args.root.rstrip("/") + ".pred_in_sample.json", scorer))
    if args.mode in ("across", "both"):
        print("== across seeds: each seed judged with --baseline the other seed's sweep ==")
        print(score(args.bench, across_seeds(folders), args.root.rstrip("/") + ".pred_across_seeds.json", scorer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
