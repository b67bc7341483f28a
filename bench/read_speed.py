"""How fast lrdoctor reads TensorBoard event files, against EventAccumulator and tbparse.

    python bench/read_speed.py                      # the full benchmark (~30 min, mostly the others)
    python bench/read_speed.py --scale 0.1          # a quick run
    python bench/read_speed.py --tools lrdoctor     # only lrdoctor

Writes a log directory to a temporary directory (kept with --keep):

* ``simple_1m``   one run, 1,000,000 scalars over 5 tags as ``simple_value`` (torch / tensorboardX)
* ``tensor_1m``   the same as TF2 rank-0 float tensors with ``scalars`` plugin metadata
                  (``tensorboard.summary.Writer``)
* ``runs_1000``   1,000 runs x 2,000 steps x 3 tags (simple_value)
* ``mixed``       tensorboardX.SummaryWriter: 100,000 scalars with histograms and text mixed in

Large files are generated from the same protobuf messages the real writers build (checked
byte for byte against tensorboardX and tensorboard.summary.Writer at start-up), because the
writers themselves need ~250 us per scalar.  Each (tool, case) is measured in its own
subprocess: wall time of importing the tool and reading (the median of --repeat runs for
runs under --repeat-below seconds), and the process's peak RSS (ru_maxrss, including the
interpreter; for lrdoctor's multi-process read_runs the largest worker's peak too) so that
peaks do not mix.  Every tool must return the same number of scalar points.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

CASES = ("simple_1m", "tensor_1m", "runs_1000", "mixed")
TOOLS = ("lrdoctor", "ea", "tbparse")
TOOL_NAMES = {"lrdoctor": "lrdoctor", "ea": "EventAccumulator", "tbparse": "tbparse"}


# --- generating the logs -----------------------------------------------------------------

def _masked_crc(data: bytes) -> int:
    import crc32c

    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _frame(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return b"".join((header, struct.pack("<I", _masked_crc(header)), data, struct.pack("<I", _masked_crc(data))))


def _event(tag: str, value: float, step: int, wall: float, tensor: bool) -> bytes:
    if tensor:
        proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[value],
                                       tensor_shape=tensor_shape_pb2.TensorShapeProto())
        meta = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
            data_class=summary_pb2.DATA_CLASS_SCALAR)
        val = summary_pb2.Summary.Value(tag=tag, tensor=proto, metadata=meta)
    else:
        val = summary_pb2.Summary.Value(tag=tag, simple_value=value)
    return event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=[val])).SerializeToString()


def _file_version(wall: float) -> bytes:
    return event_pb2.Event(wall_time=wall, file_version="brain.Event:2").SerializeToString()


def _records(path: str) -> list[bytes]:
    data, pos, out = open(path, "rb").read(), 0, []
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append(data[pos + 12:pos + 12 + length])
        pos += length + 16
    return out


def check_generator_matches_writers(tmp: str) -> None:
    """The generated records must be byte-identical to what the real writers write."""
    from tensorboard.summary import Writer
    from tensorboardX import SummaryWriter

    points = [("train/loss", 0.5 / (i + 1), i * 7, 1.7e9 + i) for i in range(50)]
    tbx_dir, tb_dir = os.path.join(tmp, "check_tbx"), os.path.join(tmp, "check_tb")
    writer = SummaryWriter(tbx_dir)
    for tag, value, step, wall in points:
        writer.add_scalar(tag, value, step, walltime=wall)
    writer.close()
    tb_writer = Writer(tb_dir)
    for tag, value, step, wall in points:
        tb_writer.add_scalar(tag, value, step, wall_time=wall)
    tb_writer.close()
    for directory, tensor in ((tbx_dir, False), (tb_dir, True)):
        (name,) = os.listdir(directory)
        written = [r for r in _records(os.path.join(directory, name)) if b"brain.Event" not in r]
        generated = [_event(tag, value, step, wall, tensor) for tag, value, step, wall in points]
        assert written == generated, f"generator differs from the real writer ({directory})"
        shutil.rmtree(directory)


def write_run(directory: str, n_steps: int, tags: list[str], tensor: bool, seed: int) -> int:
    """One event file with len(tags) * n_steps scalars, one event per scalar (as writers do)."""
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    values = (2.0 * np.exp(-np.arange(n_steps) / (n_steps / 3 + 1))[:, None]
              + 0.05 * rng.standard_normal((n_steps, len(tags)))).astype(np.float32).tolist()
    wall0 = 1.7e9 + seed
    path = os.path.join(directory, f"events.out.tfevents.{int(wall0)}.benchhost.{seed}.0")
    with open(path, "wb") as handle:
        handle.write(_frame(_file_version(wall0)))
        chunk = []
        for step in range(n_steps):
            for j, tag in enumerate(tags):
                chunk.append(_frame(_event(tag, values[step][j], step, wall0 + step * 0.01 + j * 1e-4, tensor)))
            if len(chunk) > 20000:
                handle.write(b"".join(chunk))
                chunk = []
        handle.write(b"".join(chunk))
    return n_steps * len(tags)


def write_mixed(directory: str, n_scalars: int) -> int:
    """tensorboardX itself: 2 scalar tags, with a histogram and a text every 100 steps."""
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(7)
    writer = SummaryWriter(directory, max_queue=1000, flush_secs=600)
    steps = n_scalars // 2
    for step in range(steps):
        writer.add_scalar("train/loss", 1.0 / (step + 1), step)
        writer.add_scalar("train/lr", 0.1, step)
        if step % 100 == 0:
            writer.add_histogram("weights/layer1", rng.standard_normal(1000), step)
            writer.add_text("notes", f"step {step}: all good", step)
    writer.close()
    return steps * 2


def build(root: str, scale: float) -> dict[str, int]:
    """Write every case under ``root``; return the expected number of scalar points per case."""
    tags5 = ["train/loss", "train/lr", "train/grad_norm", "val/loss", "val/acc"]
    n_1m = max(1, int(200_000 * scale))
    expected = {
        "simple_1m": write_run(os.path.join(root, "simple_1m", "run"), n_1m, tags5, False, 1),
        "tensor_1m": write_run(os.path.join(root, "tensor_1m", "run"), n_1m, tags5, True, 2),
    }
    n_runs, templates = max(1, int(1000 * scale)), os.path.join(root, "_templates")
    per_run = 0
    for k in range(10):
        per_run = write_run(os.path.join(templates, str(k)), 2000, ["loss", "lr", "val_loss"], False, 100 + k)
    for i in range(n_runs):
        src = os.path.join(templates, str(i % 10))
        (name,) = os.listdir(src)
        dst = os.path.join(root, "runs_1000", f"run_{i:04d}")
        os.makedirs(dst)
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name.replace(".0", f".{i}", 1)))
    shutil.rmtree(templates)
    expected["runs_1000"] = n_runs * per_run
    expected["mixed"] = write_mixed(os.path.join(root, "mixed", "run"), max(2, int(100_000 * scale)))
    return expected


# --- measuring (in a child process) ------------------------------------------------------

def _event_files(path: str) -> list[str]:
    return sorted(os.path.join(d, f) for d, _, files in os.walk(path) for f in files if "tfevents" in f)


def count_lrdoctor(path: str, many: bool) -> int:
    if many:
        try:
            import lrdoctor

            runs, _ = lrdoctor.read_runs(path)
            return sum(run.n_points for run in runs)
        except NotImplementedError:  # discovery not written yet: read the files one by one
            pass
    from lrdoctor.readers.tfevents import read_tfevents

    return sum(len(raw) for f in _event_files(path) for raw in read_tfevents(f)[0].values())


def count_ea(path: str, many: bool) -> int:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    total = 0
    for directory in sorted({os.path.dirname(f) for f in _event_files(path)}):
        acc = EventAccumulator(directory, size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        total += sum(len(acc.Scalars(tag)) for tag in acc.Tags()["scalars"])
        total += sum(len(acc.Tensors(tag)) for tag in acc.Tags()["tensors"]
                     if acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars")
    return total


def count_tbparse(path: str, many: bool) -> int:
    from tbparse import SummaryReader

    reader = SummaryReader(path, pivot=False)
    total = len(reader.scalars)
    if total == 0:  # TF2 scalars are tensors to tbparse
        total = len(reader.tensors)
    return total


def measure(tool: str, case: str, path: str) -> dict:
    counter = {"lrdoctor": count_lrdoctor, "ea": count_ea, "tbparse": count_tbparse}[tool]
    start = time.perf_counter()
    n = counter(path, case == "runs_1000")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "points": n, "peak_mb": peak, "worker_peak_mb": children}


def run_child(tool: str, case: str, path: str, timeout: float) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--measure", tool, case, path]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_repeatedly(tool: str, case: str, path: str, args) -> dict:
    """The median of up to --repeat runs; a run slower than --repeat-below seconds is not
    repeated (minutes-long runs average the machine's noise out by themselves)."""
    runs = []
    for _ in range(args.repeat):
        result = run_child(tool, case, path, args.timeout)
        if "error" in result:
            return result
        runs.append(result)
        if result["seconds"] > args.repeat_below:
            break
    runs.sort(key=lambda r: r["seconds"])
    median = dict(runs[len(runs) // 2])  # of two runs, the slower
    median["all_seconds"] = [round(r["seconds"], 3) for r in runs]
    return median


# --- reporting ---------------------------------------------------------------------------

def _cell(result: dict | None) -> str:
    if result is None:
        return "skipped"
    if "error" in result:
        return result["error"]
    peak = max(result["peak_mb"], result.get("worker_peak_mb", 0))
    runs = len(result.get("all_seconds", [1]))
    note = f" (median of {runs})" if runs > 1 else ""
    return f"{result['seconds']:.2f} s{note}, {peak:.0f} MB"


def table(results: dict, expected: dict) -> str:
    head = ["case", "scalars"] + [TOOL_NAMES[t] for t in TOOLS] + ["EA / lrdoctor", "tbparse / lrdoctor"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in CASES:
        if case not in expected:
            continue
        row = results.get(case, {})
        base = row.get("lrdoctor", {}).get("seconds")
        ratios = []
        for other in ("ea", "tbparse"):
            sec = row.get(other, {}).get("seconds") if row.get(other) else None
            ratios.append(f"{sec / base:.1f}x" if sec and base else "-")
        cells = [_cell(row.get(t)) for t in TOOLS]
        lines.append(f"| {case} | {expected[case]:,} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (0.1 = quick)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma list of lrdoctor, ea, tbparse")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per (tool, case)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per (tool, case); the median is kept")
    parser.add_argument("--repeat-below", type=float, default=20.0,
                        help="only repeat measurements that took less than this many seconds")
    parser.add_argument("--skip-slow", action="store_true",
                        help="EventAccumulator and tbparse only on simple_1m and mixed")
    parser.add_argument("--workdir", help="where to write the logs (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the generated logs")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    tools = [t for t in args.tools.split(",") if t]
    cases = [c for c in args.cases.split(",") if c]
    root = args.workdir or tempfile.mkdtemp(prefix="lrdoctor-bench-")
    try:
        started = time.time()
        check_generator_matches_writers(root)
        expected = {k: v for k, v in build(root, args.scale).items() if k in cases}
        print(f"# wrote the logs in {time.time() - started:.0f} s under {root}", file=sys.stderr)
        results: dict = {}
        for case in cases:
            for tool in tools:
                if args.skip_slow and tool != "lrdoctor" and case in ("tensor_1m", "runs_1000"):
                    continue
                result = measure_repeatedly(tool, case, os.path.join(root, case), args)
                if "points" in result and result["points"] != expected[case]:
                    result = {"error": f"read {result['points']} points, expected {expected[case]}"}
                results.setdefault(case, {})[tool] = result
                load = os.getloadavg()[0]
                print(f"# {case} {tool}: {_cell(result)} (load {load:.1f})", file=sys.stderr, flush=True)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; scale {args.scale}; "
              f"load average at the end {load}; total {time.time() - started:.0f} s")
        print(table(results, expected))
        if args.json:
            with open(args.json, "w") as handle:
                json.dump({"scale": args.scale, "expected": expected, "results": results}, handle, indent=1)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
