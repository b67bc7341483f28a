"""`lrdoctor watch --fail-on error` beside each labelled run of a synthetic bench, simulated (docs/watch.md).

    python bench/watch_partial.py ../shared/bench/public/runs ../shared/bench/public/labels.csv             # default
    python bench/watch_partial.py ../shared/bench/public/runs ../shared/bench/public/labels.csv --growth 1 --settle 0

Each run is shown to a ``lrdoctor.watch.Watcher`` cut at 1/N, 2/N, ... of its last step (one poll each,
the run growing: its files just changed), then once more as finished (idle for longer than --settle).
Prints, per bench label, how many runs would have been stopped while training (a new error-level
finding), where (the fraction of the run), by which check, and how many only once finished.
"""
from __future__ import annotations

import argparse
import collections
import csv
import dataclasses
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from lrdoctor.model import Series  # noqa: E402
from lrdoctor.readers import read_runs  # noqa: E402
from lrdoctor.readers.incremental import PollStats, Snapshot  # noqa: E402
from lrdoctor.watch import Watcher  # noqa: E402


def _cut(run, fraction: float):
    last = max(int(s.steps[-1]) for s in run.series.values() if len(s))
    series = {}
    for tag, s in run.series.items():
        keep = s.steps <= last * fraction
        if keep.any():
            series[tag] = Series(s.steps[keep], s.values[keep], None if s.wall_times is None else s.wall_times[keep],
                                 None if s.epochs is None else s.epochs[keep])
    return dataclasses.replace(run, series=series, problems=list(run.problems), notes=list(run.notes))


class _Growing:
    """A Follower stand-in: the run cut at ``fraction``, its files last changed at ``modified``."""

    def __init__(self, run):
        self.run, self.fraction, self.modified = run, 0.0, 0.0

    def poll(self) -> Snapshot:
        run = _cut(self.run, self.fraction)
        return Snapshot([run], [], {run.name}, {run.name: self.modified}, PollStats())


def simulate(run, cuts: int, growth: float, settle: float) -> tuple[float | None, str | None, bool]:
    """(fraction of the run where watch stopped, by which code; or None, and whether it stops once finished)."""
    now = [0.0]
    source = _Growing(run)
    watcher = Watcher(None, source=source, confirm_growth=growth, settle=settle, clock=lambda: now[0])
    for i in range(1, cuts + 1):
        source.fraction = source.modified = i / cuts
        now[0] = source.modified
        poll = watcher.poll()
        if poll.exit_code("error") is not None:
            return i / cuts, next(f.code for _, f in poll.new_findings if f.severity >= 3), False
    now[0] += settle + 1  # finished: its files idle
    return None, None, watcher.poll().exit_code("error") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs")
    parser.add_argument("labels")
    parser.add_argument("--cuts", type=int, default=50)
    parser.add_argument("--growth", type=float, default=1.5)
    parser.add_argument("--settle", type=float, default=300.0)
    args = parser.parse_args()
    labels = {row["run_id"]: row for row in csv.DictReader(open(args.labels, encoding="utf-8"))}
    runs, _ = read_runs(args.runs)
    stops, total, at_end, codes = collections.defaultdict(list), collections.Counter(), collections.Counter(), {}
    for run in runs:
        row = labels.get(run.name.split("/")[0])
        if row is None or not any(len(s) for s in run.series.values()):
            continue
        label = "diverged" if row["diverged"] == "1" else row["truth"]
        total[label] += 1
        fraction, code, finished = simulate(run, args.cuts, args.growth, args.settle)
        if fraction is not None:
            stops[label].append(fraction)
            codes.setdefault(label, collections.Counter())[code] += 1
        at_end[label] += finished
    for label in total:
        s = stops[label]
        median = f"{np.median(s):.2f}" if s else "-"
        print(f"{label:9s} runs {total[label]:4d}  stopped while training {len(s):4d} ({len(s) / total[label]:.0%}), "
              f"median at {median} of the run, by {dict(codes.get(label, {}))}; only once finished: {at_end[label]}")


if __name__ == "__main__":
    main()
