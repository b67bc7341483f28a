"""Time and peak memory of `lrdoctor diagnose` over many runs (issue 14, Scale): whole runs vs streamed,
local processes vs Dask.  Results and commands: docs/scale.md.

    python bench/scale_runs.py --workdir /tmp/lrdoctor-scale-runs --runs 1000 --modes whole local dask
    python bench/scale_runs.py --workdir /tmp/lrdoctor-scale-runs --runs 10000 --modes local

Log directories (generated into --workdir, reused when there; never inside the repository):
RUNS runs x --steps steps (default 10,000) x 1 tag (``loss``), one event file per run, written with
bench/scale.py's generator (tensorboardX's ``simple_value`` records, ~430 KB a run).

Modes, each in a fresh process (``--format json --fail-on never``):

* ``whole``  every run read into the parent (by reading workers), then diagnosed there, one core:
             what ``lrdoctor diagnose`` did before it streamed (``pipeline.diagnose_whole``);
* ``local``  ``lrdoctor diagnose DIR``: read and diagnosed run by run in local worker processes;
* ``dask``   ``lrdoctor diagnose DIR --executor dask``: the same on a Dask LocalCluster that the
             command starts (one single-threaded worker process per core);
* ``held``   what the parent keeps per run: its RSS growth over ``pipeline.diagnose_path`` (the
             report: each run's RunResult), the JSON report's size and what rendering it adds (the
             reporters build the whole document), per run.

CPU seconds are the process's and its workers' (user + system; what a shared machine's load
cannot inflate much, unlike wall time).  Memory is sampled every 0.2 s over the process tree (psutil): the parent's peak RSS, the largest
worker's, and the peak of their sum.  The JSON reports of all modes must be identical (their
sha256 is printed).  The load average (1 min) is printed with each figure: the machine may be shared.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from scale import _write_run  # noqa: E402  (bench/scale.py's event-file generator)

_WHOLE = ("import sys; from lrdoctor.config import Config; from lrdoctor.pipeline import diagnose_whole; "
          "from lrdoctor.reporters import render; "
          "sys.stdout.write(render(diagnose_whole(sys.argv[1], Config(fail_on='never')), 'json'))")


_HELD = ("import gc, json, sys, psutil; from lrdoctor.config import Config; from lrdoctor.pipeline import diagnose_path; "
         "from lrdoctor.reporters import render; import lrdoctor.rules, lrdoctor.reporters.json_report; "
         "lrdoctor.rules.all_rules(); p = psutil.Process(); r0 = p.memory_info().rss; "
         "rep = diagnose_path(sys.argv[1], Config(fail_on='never')); gc.collect(); r1 = p.memory_info().rss; "
         "text = render(rep, 'json'); r2 = p.memory_info().rss; n = len(rep.runs); "
         "print(json.dumps({'runs': n, 'report_kb_per_run': round((r1 - r0) / n / 1024, 1), "
         "'json_kb_per_run': round(len(text) / n / 1024, 1), 'render_kb_per_run': round((r2 - r1) / n / 1024, 1)}))")


def make_runs(workdir: str, runs: int, steps: int) -> str:
    root = os.path.join(workdir, f"runs_{runs}x{steps}")
    done = os.path.join(root, ".complete")
    if not os.path.exists(done):
        for i in range(runs):
            run = os.path.join(root, f"run{i:05d}")
            path = os.path.join(run, "events.out.tfevents.1700000000.bench")
            if not os.path.exists(path):
                os.makedirs(run, exist_ok=True)
                _write_run(path + ".tmp", steps, (b"loss",), i)
                os.replace(path + ".tmp", path)
        open(done, "w").close()
    return root


def _sample(pid: int, peaks: dict, stop: threading.Event) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        try:
            own = parent.memory_info().rss
            children = []
            for child in parent.children(recursive=True):
                try:
                    children.append(child.memory_info().rss)
                except psutil.Error:
                    pass
        except psutil.Error:
            return
        peaks["parent"] = max(peaks["parent"], own)
        peaks["worker"] = max([peaks["worker"], *children])
        peaks["total"] = max(peaks["total"], own + sum(children))
        peaks["workers"] = max(peaks["workers"], len(children))
        stop.wait(0.2)


def measure(args: list[str]) -> dict:
    """Wall time, peak RSS (parent, largest worker, sum) of one fresh process, and its report's sha256."""
    peaks = {"parent": 0, "worker": 0, "total": 0, "workers": 0}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+b") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err)
        stop = threading.Event()
        sampler = threading.Thread(target=_sample, args=(proc.pid, peaks, stop), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)  # the child's rusage: its waited-for workers included
        code = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
        out.seek(0), err.seek(0)
        report, stderr = out.read(), err.read()
    mb = {k: round(v / 2**20) if k != "workers" else v for k, v in peaks.items()}
    return {"seconds": round(seconds, 1), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1), "parent_mb": mb["parent"], "largest_worker_mb": mb["worker"],
            "tree_mb": mb["total"], "processes": mb["workers"], "load_1min": [round(load, 1), round(os.getloadavg()[0], 1)],
            "exit": code, "runs": _count(report), "sha256": hashlib.sha256(report).hexdigest()[:16],
            "stderr": stderr[-200:]}


def _count(report: bytes) -> int | None:
    try:
        return len(json.loads(report)["runs"])
    except (ValueError, KeyError):
        return None


def command(mode: str, logdir: str) -> list[str]:
    if mode in ("whole", "held"):
        return [sys.executable, "-c", _WHOLE if mode == "whole" else _HELD, logdir]
    extra = ["--executor", "dask"] if mode == "dask" else []
    return [sys.executable, "-m", "lrdoctor", "diagnose", logdir, "--format", "json", "--fail-on", "never",
            "--no-progress", *extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", required=True, help="where the generated logs go (outside the repository)")
    parser.add_argument("--runs", type=int, nargs="+", default=[1000])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--modes", nargs="+", choices=("whole", "local", "dask", "held"), default=["whole", "local", "dask"])
    opts = parser.parse_args()
    os.makedirs(opts.workdir, exist_ok=True)
    for runs in opts.runs:
        t0 = time.perf_counter()
        logdir = make_runs(opts.workdir, runs, opts.steps)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(logdir) for f in files)
        print(f"{runs:,} runs x {opts.steps:,} steps: {size / 1e9:.2f} GB of event files "
              f"(ready in {time.perf_counter() - t0:.0f} s); {os.cpu_count()} cores", flush=True)
        for mode in opts.modes:
            if mode == "held":
                found = subprocess.run(command(mode, logdir), capture_output=True, text=True)
                print(f"  {mode:6s}", found.stdout.strip() or found.stderr[-300:], flush=True)
                continue
            print(f"  {mode:6s}", json.dumps(measure(command(mode, logdir))), flush=True)


if __name__ == "__main__":
    main()
