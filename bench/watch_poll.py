"""The cost of one `lrdoctor watch` poll against a full re-read (docs/watch.md).

    python bench/watch_poll.py --workdir /tmp/lrdoctor-watch            # 1M points, 1,000 appended, 5 polls

One run, one event file of --points scalars (tensorboardX-style ``simple_value`` records, the tags ``loss``
and ``lr`` alternating; bench/scale.py's generator).  The watcher reads it once, then --append points are
appended before each of --polls polls.  Each poll is timed in its parts -- reading (only the appended
bytes, the run rebuilt from the points held), diagnosing the run again -- and compared with what
`lrdoctor diagnose` does each time: a full read of the file and a diagnosis.  Times are the median of the
polls, in this process (imports excluded); bytes are what the poll read from the file.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from scale import _records  # noqa: E402  (the vectorised record writer)


def _append(path: str, first_step: int, points: int) -> None:
    """``points`` scalars (``loss`` and ``lr`` at each step) from ``first_step`` on, appended to ``path``."""
    end = first_step + points // 2
    edges = [first_step] + [e for e in (1 << 7, 1 << 14, 1 << 21, 1 << 28) if first_step < e < end] + [end]
    with open(path, "ab") as fh:
        for lo, hi in zip(edges[:-1], edges[1:]):  # _records writes steps of one varint size at a time
            steps = np.arange(lo, hi)
            loss = 0.1 + 2.0 * np.exp(-steps / 1e5) + 0.01 * np.random.default_rng(lo).standard_normal(len(steps))
            rows = [np.frombuffer(_records(steps, values, tag, 1.7e9), np.uint8).reshape(len(steps), -1)
                    for tag, values in ((b"loss", loss), (b"lr", np.full(len(steps), 1e-3)))]
            fh.write(np.concatenate(rows, axis=1).tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--append", type=int, default=1_000)
    parser.add_argument("--polls", type=int, default=5)
    args = parser.parse_args()

    from lrdoctor.config import Config
    from lrdoctor.engine import diagnose_runs
    from lrdoctor.readers import read_runs
    from lrdoctor.watch import Watcher

    run = os.path.join(args.workdir, f"watch_{args.points}")
    os.makedirs(run, exist_ok=True)
    path = os.path.join(run, "events.out.tfevents.1700000000.bench")
    if os.path.exists(path):
        os.remove(path)
    _append(path, 0, args.points)
    watcher = Watcher(args.workdir, Config(), settle=1e9)
    started = time.perf_counter()
    first = watcher.poll()
    print(f"first poll (whole file, {os.path.getsize(path):,} bytes): {time.perf_counter() - started:.2f} s, "
          f"read {first.stats.bytes_read:,} bytes")
    step, rows = args.points // 2, []
    for _ in range(args.polls):
        _append(path, step, args.append)
        step += args.append // 2
        poll = watcher.poll()
        started = time.perf_counter()
        runs, problems = read_runs(args.workdir)
        read_full = time.perf_counter() - started
        diagnose_runs(runs, Config(), problems)
        full = time.perf_counter() - started
        rows.append((poll.stats.bytes_read, poll.seconds_reading, poll.seconds_diagnosing,
                     poll.seconds_reading + poll.seconds_diagnosing, os.path.getsize(path), read_full, full))
    med = [statistics.median(col) for col in zip(*rows)]
    points = sum(r.n_points for r in runs)
    print(f"{points:,} points; {args.append:,} appended before each of {args.polls} polls (medians):")
    print(f"  watch poll : read {med[0]:>13,.0f} bytes  reading {med[1]:.3f} s  diagnosing {med[2]:.3f} s  total {med[3]:.3f} s")
    print(f"  full read  : read {med[4]:>13,.0f} bytes  reading {med[5]:.3f} s  diagnosing {med[6] - med[5]:.3f} s  "
          f"total {med[6]:.3f} s")


if __name__ == "__main__":
    main()
