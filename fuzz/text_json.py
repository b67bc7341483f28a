"""Fuzz the HF ``trainer_state.json`` reader (readers/files.py -> hf.read_trainer_state).

Differential inputs are trainer states (train entries with loss / learning_rate / grad_norm, eval
entries, a final summary entry) written with a random indent, ASCII or not, NaN/Infinity literals,
in UTF-8 (BOM or not) or UTF-16/32; every value must be read at its step, with no problem.

    python fuzz/text_json.py --runs 100000 --seed 1
    python fuzz/text_json.py --atheris fuzz/work/text_json fuzz/corpus/text_json -runs=100000
"""
from __future__ import annotations

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz.text_common import HERE, Family, main, series_differences  # noqa: E402
from lrdoctor.readers.csvlog import NotATrainingLog  # noqa: E402
from lrdoctor.readers.files import read_log_text  # noqa: E402
from lrdoctor.readers.textfile import text_of  # noqa: E402

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-32"]


def read(data: bytes):
    return read_log_text("trainer_state.json", text_of(data), "trainer_state.json", named=True)


def value(rng: random.Random) -> float | int:
    kind = rng.random()
    if kind < 0.03:
        return rng.choice([float("nan"), float("inf"), float("-inf")])
    if kind < 0.1:
        return rng.randint(-10 ** 6, 10 ** 6)
    if kind < 0.2:
        return rng.random() * 10.0 ** rng.randint(-300, 300)
    return rng.lognormvariate(0, 2)


def history(rng: random.Random) -> tuple[list[dict], dict[str, dict[int, float]]]:
    entries, expected = [], {}
    step = rng.choice([0, 1, 10])
    for _ in range(rng.randint(1, 40)):
        step += rng.choice([1, 5, 10, 500])
        keys = rng.sample(["loss", "learning_rate", "grad_norm"], rng.randint(1, 3))
        if rng.random() < 0.2:
            keys = rng.sample(["eval_loss", "eval_accuracy", "eval_runtime"], rng.randint(1, 3))
        entry = {"epoch": round(step / 100, 4), "step": step}
        for key in keys:
            entry[key] = value(rng)
            expected.setdefault(key, {})[step] = float(entry[key])
        entries.append(entry)
        expected.setdefault("epoch", {})[step] = entry["epoch"]
    return entries, expected


def generate(rng: random.Random) -> tuple[bytes, dict]:
    entries, expected = history(rng)
    if rng.random() < 0.5:
        entries.append({"epoch": 1.0, "step": entries[-1]["step"], "train_loss": 0.5, "train_runtime": 12.5,
                        "total_flos": 1e12})
        expected.setdefault("summary/train_loss", {})[entries[-1]["step"]] = 0.5
    state = {"best_metric": None, "epoch": 1.0, "global_step": entries[-1]["step"], "log_history": entries,
             "max_steps": 1000, "trial_params": None}
    text = json.dumps(state, indent=rng.choice([None, 2, "\t"]), ensure_ascii=rng.random() < 0.5)
    return text.encode(rng.choice(ENCODINGS)), expected


def compare(run, expected: dict) -> list[str]:
    if run is None:
        return ["no run read"]
    return series_differences(run.series, expected) + [f"problem: {p.describe()[:200]}" for p in run.problems]


FAMILY = Family("trainer_state", read, generate, compare, os.path.join(HERE, "corpus", "text_json"),
                answers=(NotATrainingLog,))  # damaged enough to sniff as a CSV that is no log

if __name__ == "__main__":
    sys.exit(main(FAMILY))
