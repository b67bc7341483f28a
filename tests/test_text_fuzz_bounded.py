"""The bounded CI fuzz of the text readers: each fuzz/text_*.py harness, seeded, a fixed small number
of inputs (a quarter of them differential, with known values).  The full runs (>= 100,000 inputs per
family) and their figures are in docs/fuzzing.md."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = {"text_csv": 400, "text_json": 600, "text_jsonl": 600, "text_mlflow": 600, "text_config": 400}


def harness(module: str):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"fuzz.{module}")


@pytest.mark.parametrize("module, runs", FAMILIES.items())
def test_bounded_fuzz(module, runs):
    from fuzz.text_common import run_plain

    family = harness(module).FAMILY
    tally = run_plain(family, runs=runs, seed=20261206)
    assert tally.mutated + tally.differential == runs and tally.differential > runs // 10
    assert not tally.crashes, tally.crashes[0][1]
    assert not tally.insane, tally.insane[0][1]
    assert not tally.silent, tally.silent[0][1]
    assert tally.hangs == 0


@pytest.mark.parametrize("module", FAMILIES)
def test_the_oracle_sees_a_changed_value(module):
    """The differential check can fail: a generated file read with one value changed is caught."""
    import random

    family = harness(module).FAMILY
    rng = random.Random(7)
    for _ in range(50):
        data, expected = family.generate(rng)
        result = family.read(data)
        assert family.compare(result, expected) == []
        changed = _change_one_value(result)
        if changed:
            assert family.compare(result, expected), "a changed value went unnoticed"
            return
    pytest.fail("no generated input had a value to change")


def _change_one_value(result) -> bool:
    series = getattr(result, "series", None)
    if series:
        s = next(iter(series.values()))
        s.values[0] = 12345.678 if s.values[0] != 12345.678 else 1.0
        return True
    if isinstance(result, dict) and result.get("hparams"):
        key = next(iter(result["hparams"]))
        result["hparams"][key] = "changed"
        return True
    if isinstance(result, dict) and "config" in result:
        import dataclasses

        result["config"] = dataclasses.replace(result["config"], fail_on="never" if result["config"].fail_on != "never" else "info")
        return True
    return False


def test_mutation_finds_a_planted_crash():
    """The mutation loop reports an exception escaping the reader (with the input)."""
    from fuzz.text_common import Family, run_plain

    def fragile(data: bytes):
        if b"NaN" in data:
            raise ValueError("planted")
        return None

    family = Family("planted", fragile, lambda rng: (b"step,loss\n0,1\n", None), lambda r, e: [], answers=())
    tally = run_plain(family, runs=300, seed=1)
    assert tally.crashes and b"NaN" in tally.crashes[0][0] and "planted" in tally.crashes[0][1]
