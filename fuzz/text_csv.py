"""Fuzz the CSV reader (readers/files.py -> csvtable.py -> csvlog.py).

Differential inputs are wide CSV logs (a step column and metric columns) written in a random
dialect: delimiter , ; tab |, LF or CRLF, a UTF-8 BOM or UTF-16/32, a trailing delimiter on every
row, quoted cells, decimal commas in a ;-file, numbers spelt repr / %.17g / %.17e / inf /
Infinity / nan, blank (missing) cells.  Every value must be read exactly, with no problem
reported -- and pandas, told the dialect, must read the same values (``pandas_differences``).

    python fuzz/text_csv.py --runs 100000 --seed 1      # plain seeded loop
    python fuzz/text_csv.py --atheris fuzz/work/text_csv fuzz/corpus/text_csv -runs=100000
"""
from __future__ import annotations

import io
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz.text_common import HERE, Family, main, series_differences  # noqa: E402
from lrdoctor.readers.csvlog import NotATrainingLog  # noqa: E402
from lrdoctor.readers.files import read_log_text  # noqa: E402
from lrdoctor.readers.textfile import text_of  # noqa: E402

NAMES = ["loss", "val_loss", "lr", "acc", "val_acc", "grad_norm", "train/loss", "lr-Adam", "eval loss", "top-1"]
FILE_NAMES = ["log.csv", "metrics.csv", "training.log", "run.tsv"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-32", "utf-16-le"]


def read(data: bytes):
    name = FILE_NAMES[len(data) % len(FILE_NAMES)]
    return read_log_text(name, text_of(data), name, named=True)


def _value(rng: random.Random) -> float:
    kind = rng.random()
    if kind < 0.03:
        return rng.choice([float("nan"), float("inf"), float("-inf")])
    if kind < 0.1:
        return float(rng.randint(-1000, 1000))
    if kind < 0.2:
        return rng.random() * 10.0 ** rng.randint(-300, 300)
    return rng.lognormvariate(0, 2) * rng.choice([1, 1, 1, -1])


def _spell(x: float, rng: random.Random, decimal_comma: bool) -> str:
    if x != x:
        return rng.choice(["nan", "NaN"])
    if x in (float("inf"), float("-inf")):
        return ("-" if x < 0 else "") + rng.choice(["inf", "Infinity"])
    text = rng.choice([repr(x), f"{x:.17g}", f"{x:.17e}"])
    return text.replace(".", ",") if decimal_comma else text


def generate(rng: random.Random) -> tuple[bytes, dict]:
    """A well-formed CSV log and {"tag": {step: value}} for every cell that holds a value."""
    names = rng.sample(NAMES, rng.randint(1, 5))
    n = rng.randint(1, 40)
    start, stride = rng.choice([0, 1, 100, -5, 2 ** 40]), rng.choice([1, 2, 10, 1000])
    steps = [start + i * stride for i in range(n)]
    delim = rng.choice([",", ";", "\t", "|"])
    decimal_comma = delim == ";" and rng.random() < 0.3
    quote = rng.random() < 0.2
    trailing = rng.random() < 0.2
    expected: dict[str, dict[int, float]] = {name: {} for name in names}
    rows = [["step", *names]]
    for step in steps:
        row = [str(step)]
        for name in names:
            if rng.random() < 0.1:
                row.append("")
                continue
            x = _value(rng)
            expected[name][step] = x
            row.append(_spell(x, rng, decimal_comma))
        rows.append(row)
    if decimal_comma and not any(",".join(r).count(",") for r in rows[1:]):
        decimal_comma = False
    newline = rng.choice(["\n", "\r\n"])
    cells = [[f'"{c}"' if quote and c else c for c in row] for row in rows]
    text = newline.join(delim.join(row) + (delim if trailing else "") for row in cells) + newline
    expected = {k: v for k, v in expected.items() if v}
    data = text.encode(rng.choice(ENCODINGS))
    return data, {"points": expected, "delim": delim, "decimal": decimal_comma, "data": data}


def compare(run, truth: dict) -> list[str]:
    if run is None or not hasattr(run, "series"):
        return ["no run read"]
    diffs = series_differences(run.series, truth["points"])
    diffs += [f"problem reported: {p.describe()[:200]}" for p in run.problems]
    return diffs + pandas_differences(truth["data"], truth)


def pandas_differences(data: bytes, truth: dict) -> list[str]:
    """pandas, told the delimiter, encoding and decimal mark, must read the values the truth holds."""
    import pandas as pd

    from lrdoctor.readers.textfile import decode

    text, _codec = decode(data)
    frame = pd.read_csv(io.StringIO(text), sep=truth["delim"], index_col=False, quotechar='"',
                        decimal="," if truth["decimal"] else ".", keep_default_na=False,
                        na_values=["", "nan", "NaN"])
    diffs = []
    for tag, points in truth["points"].items():
        column = dict(zip(frame["step"].tolist(), pd.to_numeric(frame[tag]).tolist()))
        wrong = [s for s, v in points.items() if not (column[s] == v or (column[s] != column[s] and v != v))]
        if wrong:
            diffs.append(f"pandas reads {tag} differently at step {wrong[0]}: {column[wrong[0]]!r} vs {points[wrong[0]]!r}")
    return diffs


FAMILY = Family("csv", read, generate, compare, os.path.join(HERE, "corpus", "text_csv"), answers=(NotATrainingLog,))

if __name__ == "__main__":
    sys.exit(main(FAMILY))
