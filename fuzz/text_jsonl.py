"""Fuzz the JSONL reader (readers/files.py -> hf.read_jsonl).

Differential inputs: one object per line with a step key (step, global_step, _step, iteration),
or none at all (numbered by line), a fractional epoch, strings holding U+2028 / U+0085 / form
feeds, LF or CRLF, a BOM or UTF-16; every value must be read at its step, with no problem.

    python fuzz/text_jsonl.py --runs 100000 --seed 1
    python fuzz/text_jsonl.py --atheris fuzz/work/text_jsonl fuzz/corpus/text_jsonl -runs=100000
"""
from __future__ import annotations

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz.text_common import HERE, Family, main, series_differences  # noqa: E402
from fuzz.text_json import value  # noqa: E402
from lrdoctor.readers.csvlog import NotATrainingLog  # noqa: E402
from lrdoctor.readers.files import read_log_text  # noqa: E402
from lrdoctor.readers.textfile import text_of  # noqa: E402

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16"]
STRINGS = ["a\u2028b", "c\u0085d", "e\x0cf", "plain", "über", "x\u2029y"]


def read(data: bytes):
    return read_log_text("log.jsonl", text_of(data), "log.jsonl", named=True)


def generate(rng: random.Random) -> tuple[bytes, dict]:
    step_key = rng.choice(["step", "global_step", "_step", "iteration", None])
    keys = rng.sample(["loss", "lr", "acc", "val/loss", "grad norm"], rng.randint(1, 4))
    expected: dict[str, dict[int, float]] = {}
    lines = []
    step = rng.choice([0, 3, 1000])
    for i in range(rng.randint(1, 40)):
        step += rng.choice([1, 2, 50])
        entry = {step_key: step} if step_key else {}
        at = step if step_key else i
        if rng.random() < 0.5:
            entry["epoch"] = i / rng.choice([3, 7, 20])
            expected.setdefault("epoch", {})[at] = entry["epoch"]
        for key in rng.sample(keys, rng.randint(1, len(keys))):
            entry[key] = value(rng)
            expected.setdefault(key, {})[at] = float(entry[key])
        if rng.random() < 0.3:
            entry["note"] = rng.choice(STRINGS)
        lines.append(json.dumps(entry, ensure_ascii=rng.random() < 0.5))
    epochs = expected.get("epoch", {})
    if not step_key and len(epochs) == len(lines) and all(e == int(e) for e in epochs.values()):
        # every line has a whole epoch and no step: the epoch is the step (a per-epoch log)
        by_epoch = {i: int(e) for i, e in epochs.items()}
        expected = {k: {by_epoch[i]: v for i, v in pts.items()} for k, pts in expected.items() if k != "epoch"}
    newline = rng.choice(["\n", "\r\n"])
    text = newline.join(lines) + newline
    return text.encode(rng.choice(ENCODINGS)), expected


def compare(run, expected: dict) -> list[str]:
    if run is None:
        return ["no run read"]
    return series_differences(run.series, expected) + [f"problem: {p.describe()[:200]}" for p in run.problems]


FAMILY = Family("jsonl", read, generate, compare, os.path.join(HERE, "corpus", "text_jsonl"),
                answers=(NotATrainingLog,))  # damaged enough to sniff as a CSV that is no log

if __name__ == "__main__":
    sys.exit(main(FAMILY))
