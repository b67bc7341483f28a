"""Shared by the text-reader fuzz harnesses (fuzz/text_*.py): byte mutations, the oracle, the loop.

Each harness module defines a ``Family`` -- how to read one input (``read(data) -> Run-like``),
how to make a well-formed input with known values (``generate(rng) -> (bytes, expected)``) and
how to compare (``compare(result, expected) -> list of differences``) -- and calls ``main``.

Two kinds of input, both counted:

* mutated: a seed (the family's corpus or a generated file) under 1-8 random byte mutations.
  The reader must not raise (only the exceptions the family declares as answers), must return
  sane series (int64 steps strictly increasing, float64 values, one per step) and must not be slow;
* differential: a generated well-formed file in a random dialect (delimiter, line ends, BOM,
  UTF-16/32, trailing delimiters, quoting, number spelling...).  Every value must come back
  exactly, with no problem reported: a difference is a *silent value change*.

Run with atheris (coverage-guided) when it is installed and ``--atheris`` is given, else as a plain
seeded random-mutation loop: ``python fuzz/text_csv.py --runs 100000 --seed 1``.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SLOW_SECONDS = 5.0  # one input taking longer than this is reported as a hang

# Tokens that broke (or could break) a text reader: odd numbers, deep nesting, odd line ends,
# BOMs, YAML aliases, huge cells.
TOKENS = [
    b"NaN", b"nan", b"Infinity", b"-Infinity", b"inf", b"1e300", b"1e400", b"2e19", b"9223372036854775808",
    b"-9223372036854775809", b"9" * 5000, b"[" * 3000, b"{" * 3000, b"\xe2\x80\xa8", b"\xc2\x85", b"\x0c",
    b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b",", b";", b"\t", b"|", b"\r", b"\n",
    b"\r\n", b"\r\r\n", b'"', b"'", b"\x00", b"x" * 140000, b"-", b"e", b"E+", b".", b",5", b"0,5", b"1.5",
    b"&a", b"*a", b"&a [*a]", b"!!python/object:x", b"<<: *a", b": ", b"- ", b"step", b"epoch", b"loss",
    b'"step":', b'"epoch": 0.05', b'"log_history"', b"\\u0000", b"\\ud800", b"\xed\xa0\x80", b"\xc3\x28",
    b"1" * 400, b"0x10", b"1_000", b"+.5", b"-0", b"1e-400", b"  ", b"#",
]


@dataclass
class Family:
    name: str
    read: Callable[[bytes], Any]                       # the reader on one input
    generate: Callable[[random.Random], tuple[bytes, Any]]
    compare: Callable[[Any, Any], list[str]]           # differences between a read and the truth
    seeds_dir: str = ""
    answers: tuple[type, ...] = ()                     # exceptions that are answers, not crashes
    sanity: Callable[[Any], list[str]] = field(default=lambda result: runs_sane(result))


@dataclass
class Tally:
    mutated: int = 0
    differential: int = 0
    crashes: list = field(default_factory=list)        # (input, what)
    insane: list = field(default_factory=list)
    silent: list = field(default_factory=list)
    slowest: float = 0.0
    hangs: int = 0

    def summary(self, family: str, seconds: float) -> str:
        return (f"{family}: {self.mutated + self.differential} inputs ({self.mutated} mutated, "
                f"{self.differential} differential) in {seconds:.1f} s; escaped exceptions {len(self.crashes)}, "
                f"insane results {len(self.insane)}, silent value changes {len(self.silent)}, "
                f"slow (> {SLOW_SECONDS:g} s) {self.hangs}, slowest {self.slowest:.3f} s")


def runs_sane(result) -> list[str]:
    """What is wrong with a reader's Run (or list of Runs), if anything."""
    runs = result if isinstance(result, list) else [result]
    bad = []
    for run in runs:
        if run is None or not hasattr(run, "series"):
            continue
        for tag, s in run.series.items():
            if s.steps.dtype != np.int64 or s.values.dtype != np.float64 or len(s.steps) != len(s.values):
                bad.append(f"{tag}: dtypes {s.steps.dtype}/{s.values.dtype} or lengths differ")
            elif len(s.steps) > 1 and not (np.diff(s.steps) > 0).all():
                bad.append(f"{tag}: steps not strictly increasing")
        for p in run.problems:
            if not isinstance(p.message, str) or not p.path:
                bad.append(f"problem without a message or path: {p!r}"[:200])
    return bad


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def series_differences(series: dict, expected: dict[str, dict[int, float]]) -> list[str]:
    """``series``: tag -> Series; ``expected``: tag -> {step: value}.  Every expected point must be read."""
    diffs = []
    for tag, points in expected.items():
        s = series.get(tag)
        if s is None:
            diffs.append(f"tag {tag!r} missing (have {sorted(series)[:8]})")
            continue
        got = dict(zip(s.steps.tolist(), s.values.tolist()))
        if sorted(got) != sorted(points):
            diffs.append(f"{tag}: steps {sorted(got)[:6]}... != {sorted(points)[:6]}...")
            continue
        wrong = [(k, got[k], v) for k, v in points.items() if not same_float(got[k], v)]
        if wrong:
            diffs.append(f"{tag}: {len(wrong)} value(s) differ, first {wrong[0]}")
    return diffs


# --------------------------------------------------------------------------- mutation


def mutate(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    """1-8 random edits: bit flips, byte changes, inserted tokens or bytes, cuts, copies, splices."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(9)
        pos = rng.randint(0, len(buf))
        if op == 0 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op in (2, 3):
            buf[pos:pos] = rng.choice(TOKENS)
        elif op == 4:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 5 and buf:
            end = min(len(buf), pos + rng.randint(1, 64))
            del buf[pos:end]
        elif op == 6 and buf:
            start = rng.randrange(len(buf))
            chunk = buf[start:start + rng.randint(1, 256)]
            buf[pos:pos] = chunk * rng.randint(1, 4)
        elif op == 7:
            del buf[pos:]
        elif op == 8 and others:
            other = rng.choice(others)
            cut = rng.randint(0, len(other))
            buf = buf[:pos] + bytearray(other[cut:])
    return bytes(buf)


def load_seeds(family: Family) -> list[bytes]:
    seeds = []
    if family.seeds_dir and os.path.isdir(family.seeds_dir):
        for name in sorted(os.listdir(family.seeds_dir)):
            with open(os.path.join(family.seeds_dir, name), "rb") as fh:
                seeds.append(fh.read())
    return seeds


# --------------------------------------------------------------------------- one input


def check_one(family: Family, data: bytes, tally: Tally, expected: Any = None) -> None:
    """Read one input and record what went wrong (nothing is raised)."""
    start = time.perf_counter()
    try:
        result = family.read(data)
    except family.answers:
        result = None
    except Exception:  # noqa: BLE001 - an escaped exception is the finding
        tally.crashes.append((data, traceback.format_exc(limit=6)))
        return
    finally:
        spent = time.perf_counter() - start
        tally.slowest = max(tally.slowest, spent)
        if spent > SLOW_SECONDS:
            tally.hangs += 1
    insane = family.sanity(result)
    if insane:
        tally.insane.append((data, "; ".join(insane)))
    if expected is not None:
        diffs = family.compare(result, expected)
        if diffs:
            tally.silent.append((data, "; ".join(diffs)[:500]))


def run_plain(family: Family, runs: int, seed: int, differential_share: float = 0.25,
              seconds: float | None = None) -> Tally:
    """The plain seeded loop: ``runs`` inputs (or until ``seconds`` pass), a share of them differential."""
    rng = random.Random(seed)
    seeds = load_seeds(family)
    tally = Tally()
    deadline = None if seconds is None else time.monotonic() + seconds
    for i in range(runs):
        if deadline is not None and time.monotonic() > deadline:
            break
        if rng.random() < differential_share or not seeds:
            data, expected = family.generate(rng)
            seeds.append(data) if len(seeds) < 400 else seeds.__setitem__(rng.randrange(len(seeds)), data)
            tally.differential += 1
            check_one(family, data, tally, expected)
        else:
            tally.mutated += 1
            check_one(family, mutate(rng.choice(seeds), rng, seeds), tally)
    return tally


def save_findings(family: Family, tally: Tally, directory: str) -> list[str]:
    """Write every failing input under ``directory`` (named by hash); returns the paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for kind, items in (("crash", tally.crashes), ("insane", tally.insane), ("silent", tally.silent)):
        for data, what in items:
            digest = hashlib.sha1(data).hexdigest()[:12]
            path = os.path.join(directory, f"{family.name}-{kind}-{digest}")
            with open(path, "wb") as fh:
                fh.write(data)
            with open(path + ".txt", "w", encoding="utf-8") as fh:
                fh.write(what)
            paths.append(path)
    return paths


def run_atheris(family: Family) -> None:  # pragma: no cover - needs atheris
    import atheris

    def one_input(data: bytes) -> None:
        tally = Tally()
        check_one(family, data, tally)
        if tally.crashes or tally.insane:
            raise AssertionError((tally.crashes + tally.insane)[0][1])

    argv = [a for a in sys.argv[1:] if a != "--atheris"]
    for corpus in (a for a in argv if not a.startswith("-")):
        os.makedirs(corpus, exist_ok=True)  # libFuzzer writes new inputs into the first one
    atheris.Setup([sys.argv[0], *argv], one_input)
    atheris.instrument_all()  # coverage of lrdoctor's readers (already imported by the harness)
    atheris.Fuzz()


def main(family: Family) -> int:
    parser = argparse.ArgumentParser(description=f"Fuzz the {family.name} reader.")
    parser.add_argument("--atheris", action="store_true", help="coverage-guided (libFuzzer flags may follow)")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--save", default=os.path.join(HERE, "findings"), help="where failing inputs go")
    args, _rest = parser.parse_known_args([a for a in sys.argv[1:] if not a.startswith("-") or a.startswith("--")])
    if args.atheris:
        run_atheris(family)
        return 0
    start = time.perf_counter()
    tally = run_plain(family, args.runs, args.seed, seconds=args.seconds)
    print(tally.summary(family.name, time.perf_counter() - start), flush=True)
    failed = save_findings(family, tally, args.save)
    for path in failed[:20]:
        print("  saved", path)
    return 1 if failed or tally.hangs else 0
