"""A bounded, seeded run of the event-file fuzzer (fuzz/tfevents_mutate.py): no exception escapes the
reader and it agrees with TensorBoard's own parsing on every input (fuzz/tfevents_differential.py)."""
from __future__ import annotations

import os
import sys

import pytest

FUZZ = os.path.join(os.path.dirname(__file__), "..", "fuzz")
sys.path.insert(0, FUZZ)

tfevents_mutate = pytest.importorskip("tfevents_mutate")
tfevents_differential = pytest.importorskip("tfevents_differential")


def test_seed_corpus_agrees_with_tensorboard():
    corpus = os.path.join(FUZZ, "corpus", "tfevents")
    names = sorted(os.listdir(corpus))
    assert len(names) >= 4
    for name in names:
        verdict = tfevents_differential.check(os.path.join(corpus, name))
        assert verdict.discrepancies == [] and verdict.problems == [] and verdict.points > 0, name


def test_bounded_seeded_fuzz_finds_no_discrepancy():
    counts = tfevents_mutate.run(600, seed=20261206, report_every=0)
    assert counts["inputs"] == 600
    # the mutations reach both the framing and the decoder
    assert counts["TensorBoard stopped at damage"] > 100 and counts["TensorBoard read cleanly"] > 100
    assert counts["inputs with a discrepancy"] == 0, {k: v for k, v in counts.items() if k.startswith("DISCREPANCY")}


def test_the_differential_check_can_fail(tmp_path):
    """A reader that changed one value must be caught."""
    from lrdoctor.readers import tfevents

    path = os.path.join(FUZZ, "corpus", "tfevents", "tf1_merged.tfevents")
    real = tfevents.read_tfevents

    def off_by_one(p):
        scalars, problems = real(p)
        first = next(iter(scalars.values()))
        first.values[0] += 1.0
        return scalars, problems

    tfevents.read_tfevents = off_by_one
    try:
        verdict = tfevents_differential.check(path)
    finally:
        tfevents.read_tfevents = real
    assert any(d.startswith("values:") for d in verdict.discrepancies)
