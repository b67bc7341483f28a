"""Time and peak memory of `lrdoctor diagnose` at scale (issue 11), one case at a time.

    python bench/scale.py --workdir /tmp/lrdoctor-scale            # both cases (~2 min, ~0.6 GB of disk)
    python bench/scale.py --workdir /tmp/lrdoctor-scale --case big # one case
    python bench/scale.py --points 1000000 ...                     # a smaller big file

Cases (generated into --workdir, reused when already there; never inside the repository):

* ``big``   one run, one event file: --points scalars (default 10,000,000) as tensorboardX/torch
            ``simple_value`` records, alternating the tags ``loss`` and ``lr`` (loss falling, lr
            constant), step = point index // 2 (436 MB for 10M points).
* ``many``  1,000 runs x 10,000 steps x 1 tag (``loss``), one event file each (10M points, 440 MB).

Each measurement runs ``lrdoctor diagnose DIR --format json`` (and, separately, only the reading
step) in a fresh subprocess and reports wall time, CPU time (user + system: what the wall time would
be on an idle machine, for a single process) and that process's peak resident set size
(ru_maxrss of the child: interpreter, numpy/scipy imports and reader workers included; for the
multi-process reading of many runs, the largest single process).  The scalars' own size is
points x 16 bytes (an int64 step and a float64 value).
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from lrdoctor.readers._crc32c_np import crc_rows, mask  # noqa: E402  (the generator reuses the vector CRC)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _records(steps: np.ndarray, values: np.ndarray, tag: bytes, wall0: float) -> bytes:
    """Framed simple_value events (the bytes tensorboardX writes) for steps of one varint size."""
    size = len(_varint(int(steps[0])))
    body = b"\x0a" + bytes([len(tag) + 7]) + b"\x0a" + bytes([len(tag)]) + tag + b"\x15"
    summary = b"\x2a" + bytes([len(body) + 4])
    length = 9 + 1 + size + len(summary) + len(body) + 4
    n = len(steps)
    data = np.zeros((n, length), np.uint8)
    data[:, 0] = 0x09
    data[:, 1:9] = (wall0 + steps.astype(np.float64) * 0.01).view(np.uint8).reshape(n, 8)
    data[:, 9] = 0x10
    s = steps.astype(np.uint64)
    for k in range(size):
        data[:, 10 + k] = ((s >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8) | (0x80 if k < size - 1 else 0)
    pos = 10 + size
    fixed = np.frombuffer(summary + body, np.uint8)
    data[:, pos:pos + len(fixed)] = fixed
    data[:, pos + len(fixed):] = values.astype("<f4").view(np.uint8).reshape(n, 4)
    header = struct.pack("<Q", length)
    from lrdoctor.readers._crc32c_np import masked_crc

    out = np.zeros((n, 12 + length + 4), np.uint8)
    out[:, :8] = np.frombuffer(header, np.uint8)
    out[:, 8:12] = np.frombuffer(struct.pack("<I", masked_crc(header)), np.uint8)
    out[:, 12:12 + length] = data
    out[:, 12 + length:] = mask(crc_rows(data)).astype("<u4").view(np.uint8).reshape(n, 4)
    return out.tobytes()


def _write_run(path: str, n_steps: int, tags: tuple[bytes, ...], seed: int) -> None:
    """``n_steps`` steps with one point per tag, written in step order, tags interleaved."""
    rng = np.random.default_rng(seed)
    with open(path, "wb") as fh:
        chunk = 1 << 18
        for lo in range(0, n_steps, chunk):
            steps = np.arange(lo, min(lo + chunk, n_steps))
            # varint sizes change at 2^7, 2^14, 2^21: write each size's range as one block
            edges = [lo] + [e for e in (1 << 7, 1 << 14, 1 << 21, 1 << 28) if lo < e < steps[-1] + 1] + [steps[-1] + 1]
            for a, b in zip(edges[:-1], edges[1:]):
                part = np.arange(a, b)
                loss = 2.0 * np.exp(-part / max(n_steps / 5, 1)) + 0.1 + 0.01 * rng.standard_normal(len(part))
                blocks = [np.frombuffer(_records(part, loss, tags[0], 1.7e9), np.uint8)]
                if len(tags) > 1:
                    blocks.append(np.frombuffer(_records(part, np.full(len(part), 1e-3), tags[1], 1.7e9), np.uint8))
                rec = [b.reshape(len(part), -1) for b in blocks]
                fh.write(np.concatenate(rec, axis=1).tobytes())  # interleaved: loss, lr, loss, lr, ...


def make_big(workdir: str, points: int) -> str:
    run = os.path.join(workdir, f"big_{points}")
    path = os.path.join(run, "events.out.tfevents.1700000000.bench")
    if not os.path.exists(path):
        os.makedirs(run, exist_ok=True)
        _write_run(path + ".tmp", points // 2, (b"loss", b"lr"), 0)
        os.replace(path + ".tmp", path)
    return run


def make_many(workdir: str, runs: int = 1000, steps: int = 10_000) -> str:
    root = os.path.join(workdir, f"many_{runs}x{steps}")
    done = os.path.join(root, ".complete")
    if not os.path.exists(done):
        for i in range(runs):
            run = os.path.join(root, f"run{i:04d}")
            os.makedirs(run, exist_ok=True)
            _write_run(os.path.join(run, "events.out.tfevents.1700000000.bench"), steps, (b"loss",), i)
        open(done, "w").close()
    return root


_READ_ONLY = "import sys; from lrdoctor import read_diagnosable; runs, _ = read_diagnosable(sys.argv[1]); " \
             "print(sum(r.n_points for r in runs))"


def measure(args: list[str]) -> dict:
    """Wall time and peak RSS of one fresh child process (os.wait4: that child's own rusage, which on
    Linux also covers the worker processes it waited for, as the largest of them)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    return {"seconds": round(seconds, 2), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_mb": round(usage.ru_maxrss / 1024),
            "exit": proc.returncode, "stdout": stdout[-120:], "stderr": stderr[-300:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", required=True, help="where the generated logs go (outside the repository)")
    parser.add_argument("--case", choices=("big", "many", "all"), default="all")
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--what", choices=("read", "diagnose", "both"), default="both")
    opts = parser.parse_args()
    os.makedirs(opts.workdir, exist_ok=True)
    lrdoctor = [sys.executable, "-m", "lrdoctor"]
    cases = {"big": lambda: (make_big(opts.workdir, opts.points), opts.points),
             "many": lambda: (make_many(opts.workdir), 10_000_000)}
    for name in (("big", "many") if opts.case == "all" else (opts.case,)):
        t0 = time.perf_counter()
        logdir, points = cases[name]()
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(logdir) for f in files)
        print(f"{name}: {points:,} points, {size / 1e6:.0f} MB of event files (ready in {time.perf_counter() - t0:.1f} s); "
              f"the scalars' own size {points * 16 / 1e6:.0f} MB", flush=True)
        if opts.what in ("read", "both"):
            print("  read     ", json.dumps(measure([sys.executable, "-c", _READ_ONLY, logdir])), flush=True)
        if opts.what in ("diagnose", "both"):
            print("  diagnose ", json.dumps(measure([*lrdoctor, "diagnose", logdir, "--format", "json",
                                                     "--fail-on", "never", "--no-progress"])), flush=True)


if __name__ == "__main__":
    main()
