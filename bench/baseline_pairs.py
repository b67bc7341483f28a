#!/usr/bin/env python3
"""Count --baseline findings on pairs built from a labelled bench (docs/baseline.md).

A reference is a run labelled ok that did not diverge; it is paired with runs of the same setup
(task, optimizer, schedule, batch) and log format:

* ``seed``: the other seed at the same LR, also ok -- expected: no finding;
* ``otherlr``: the same seed at an LR labelled too high or too low -- expected: findings;
* ``diverged``: the same seed, a run labelled diverged -- expected: findings.

    python bench/baseline_pairs.py --bench ../shared/bench/public

Each pair is one ``lrdoctor diagnose RUN --baseline REF --group-by none --format json``.
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import subprocess
import sys


def pairs(rows: list[dict]) -> list[tuple[str, dict, dict]]:
    def setup(r):
        return r["task"], r["optimizer"], r["schedule"], r["batch_size"], r["format"]

    out = []
    for a in rows:
        if a["truth"] != "ok" or a["diverged"] == "1":
            continue
        for b in rows:
            if b is a or setup(a) != setup(b):
                continue
            if a["lr"] == b["lr"] and a["seed"] != b["seed"] and b["truth"] == "ok" and b["diverged"] == "0":
                out.append(("seed", a, b))
            elif a["seed"] == b["seed"] and b["diverged"] == "1":
                out.append(("diverged", a, b))
            elif a["seed"] == b["seed"] and a["lr"] != b["lr"] and b["truth"] != "ok":
                out.append(("otherlr", a, b))
    return out


def codes(bench: str, run_id: str, ref_id: str) -> list[str]:
    cmd = [sys.executable, "-m", "lrdoctor", "diagnose", os.path.join(bench, "runs", run_id), "--baseline",
           os.path.join(bench, "runs", ref_id), "--group-by", "none", "--format", "json", "--fail-on", "never"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return sorted({f["code"] for r in json.loads(out.stdout)["runs"] for f in r["findings"] if f["code"].startswith("BL")})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True, help="folder holding labels.csv and runs/")
    args = parser.parse_args(argv)
    with open(os.path.join(args.bench, "labels.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for kind, ref, run in pairs(rows):
        found = codes(args.bench, run["run_id"], ref["run_id"])
        counts[kind]["pairs"] += 1
        counts[kind]["with a finding"] += bool(found)
        counts[kind].update(found)
        if kind == "seed" and found:
            print(f"seed pair with a finding: reference {ref['run_id']}, run {run['run_id']}: {found}")
    for kind in ("seed", "otherlr", "diverged"):
        print(f"{kind:9} {dict(counts[kind])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
