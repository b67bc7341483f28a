#!/usr/bin/env python3
"""lrdoctor's range-test suggestion next to three reference methods, on the same runs.

    python bench/rangetest_eval.py [--bench ../shared/bench/public] [--json]

Every method reads the same (lr, loss) pairs, through ``lrdoctor.read_runs``.  The references
are re-implemented from their published descriptions (BASELINES.md gives their scores):

* fastai ``valley``: debiased EMA (beta 0.98) of the loss, the first 10% and last 5 points
  dropped; the longest decreasing stretch of the smoothed curve; the point 1/3 + 1/6 of its way
  along (``sections = len / 3``, index ``start + sections + sections / 2``).
* Lightning steepest gradient: the same EMA; skip 10 points at the start and 1 at the end; the
  point where the discrete gradient (per index) of the smoothed loss is most negative.
* min-loss LR / 10: the LR at the minimum of the fastai-cut EMA curve, divided by 10.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BENCH = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench", "public"))


def ema(values, beta=0.98) -> np.ndarray:
    out, avg = np.empty(len(values)), 0.0
    for i, v in enumerate(values, 1):
        avg = beta * avg + (1 - beta) * v
        out[i - 1] = avg / (1 - beta**i)
    return out


def fastai_valley(lr, loss) -> float:
    n = len(loss)
    lrs, smooth = lr[n // 10 : -5], ema(loss)[n // 10 : -5]
    length = [1] * len(smooth)
    best_start = best_end = 0
    for i in range(1, len(smooth)):
        for j in range(i):
            if smooth[i] < smooth[j] and length[i] < length[j] + 1:
                length[i] = length[j] + 1
            if length[best_end] < length[i]:
                best_end, best_start = i, i - length[i]
    sections = (best_end - best_start) / 3
    return float(lrs[best_start + int(sections) + int(sections / 2)])


def lightning_steepest(lr, loss) -> float:
    lrs, smooth = lr[10:-1], ema(loss)[10:-1]
    keep = np.isfinite(smooth)
    lrs, smooth = lrs[keep], smooth[keep]
    return float(lrs[int(np.argmin(np.gradient(smooth)))])


def min_loss_over_10(lr, loss) -> float:
    n = len(loss)
    lrs, smooth = lr[n // 10 : -5], ema(loss)[n // 10 : -5]
    return float(lrs[int(np.nanargmin(smooth))] / 10.0)


def lrdoctor_suggestion(lr, loss) -> float | None:
    from lrdoctor.signal.rangetest import suggest_lr

    return suggest_lr(lr, loss).suggested_lr


METHODS = {"lrdoctor": lrdoctor_suggestion, "fastai valley": fastai_valley,
           "Lightning steepest": lightning_steepest, "min-loss LR / 10": min_loss_over_10}


def evaluate(bench: str) -> dict:
    import lrdoctor
    from lrdoctor.context.rangetest import lr_loss_pairs

    with open(os.path.join(bench, "rangetests", "labels.csv"), newline="") as fh:
        labels = {row["run_id"]: row for row in csv.DictReader(fh)}
    runs, _ = lrdoctor.read_runs(os.path.join(bench, "rangetests", "runs"))
    rows = []
    for run in sorted(runs, key=lambda r: r.name):
        run_id = run.name.split("/")[0]
        lr, loss = lr_loss_pairs(run)
        star = float(labels[run_id]["lr_star"])
        row = {"run": run_id, "group": labels[run_id]["group_id"], "lr_star": star}
        for name, method in METHODS.items():
            value = method(lr, loss)
            row[name] = None if not value else math.log10(value / star)
        rows.append(row)
    summary = {}
    for name in METHODS:
        errors = [abs(r[name]) for r in rows if r[name] is not None]
        summary[name] = {"median": statistics.median(errors), "within_0.5": sum(e <= 0.5 for e in errors) / len(rows),
                         "within_1": sum(e <= 1.0 for e in errors) / len(rows), "n": len(errors)}
    return {"runs": rows, "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=DEFAULT_BENCH)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = evaluate(args.bench)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    names = list(METHODS)
    print("signed error log10(suggested / lr_star), decades")
    print(f"{'run':5} {'group':22} {'lr_star':>8} " + " ".join(f"{n:>18}" for n in names))
    for r in result["runs"]:
        cells = " ".join(f"{'-' if r[n] is None else format(r[n], '+.2f'):>18}" for n in names)
        print(f"{r['run']:5} {r['group']:22} {r['lr_star']:8.3g} {cells}")
    print()
    print(f"{'method':20} {'median |err|':>12} {'within 0.5':>10} {'within 1':>9}")
    for n, s in result["summary"].items():
        print(f"{n:20} {s['median']:12.3f} {s['within_0.5']:10.3f} {s['within_1']:9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
