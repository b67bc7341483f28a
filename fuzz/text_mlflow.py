"""Fuzz the MLflow file-store metric reader (readers/mlflow.py: one ``metrics/<name>`` file).

Differential inputs: lines ``timestamp_ms value step`` (some files in the old two-field form,
where the line number is the step), values spelt repr / %.17g / nan / inf; every value must be
read at its step, with no problem.

    python fuzz/text_mlflow.py --runs 100000 --seed 1
    python fuzz/text_mlflow.py --atheris fuzz/work/text_mlflow fuzz/corpus/text_mlflow -runs=100000
"""
from __future__ import annotations

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz.text_common import HERE, Family, main, series_differences  # noqa: E402
from fuzz.text_json import value  # noqa: E402
from lrdoctor.model import Run  # noqa: E402
from lrdoctor.readers.merge import merge_tags  # noqa: E402
from lrdoctor.readers.mlflow import parse_metric_text  # noqa: E402
from lrdoctor.readers.textfile import text_of  # noqa: E402


def read(data: bytes) -> Run:
    problems: list = []
    chunk = parse_metric_text("mlruns/0/r/metrics/loss", text_of(data), problems)
    series, restarts, notes = merge_tags({"loss": [chunk]} if chunk is not None else {})
    return Run(name="r", source="r", format="mlflow", series=series, problems=problems, restarts=restarts)


def _spell(x: float, rng: random.Random) -> str:
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return rng.choice([repr(float(x)), f"{float(x):.17g}"])


def generate(rng: random.Random) -> tuple[bytes, dict]:
    old_format = rng.random() < 0.1
    lines, points = [], {}
    step = rng.choice([0, 1, 2 ** 40])
    for i in range(rng.randint(1, 60)):
        step += rng.choice([1, 10, 100])
        x = float(value(rng))
        ts = 1_700_000_000_000 + 1000 * i
        if old_format:
            lines.append(f"{ts} {_spell(x, rng)}")
            points[i] = x
        else:
            lines.append(f"{ts} {_spell(x, rng)} {step}")
            points[step] = x
    return ("\n".join(lines) + "\n").encode(), {"loss": points}


def compare(run, expected: dict) -> list[str]:
    return series_differences(run.series, expected) + [f"problem: {p.describe()[:200]}" for p in run.problems]


FAMILY = Family("mlflow", read, generate, compare, os.path.join(HERE, "corpus", "text_mlflow"))

if __name__ == "__main__":
    sys.exit(main(FAMILY))
