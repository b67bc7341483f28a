"""The committed real sample runs (docs/sample_logs.md) get the verdict their names say."""
from __future__ import annotations

from pathlib import Path

import pytest

import lrdoctor

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
EXPECTED = {  # run directory -> (action, finding codes that must be there)
    "lr_too_high_lightning": ("decrease", {"DV01"}),
    "lr_too_low_keras_tb": ("increase", {"SC01"}),
    "overfit_keras_csv": ("stop-early", {"OF01"}),
    "healthy_tbx": ("keep", set()),
    "warmup_cosine_hf": ("keep", set()),
    "lr_range_test_tbx": ("set-lr", set()),
}


@pytest.fixture(scope="module")
def results():
    if not SAMPLES.is_dir():
        pytest.skip("sample_logs/ is not in this checkout")
    report = lrdoctor.diagnose(SAMPLES)
    return {r.run.split("/")[0]: r for r in report.runs}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_run_gets_its_verdict(results, name):
    action, codes = EXPECTED[name]
    result = results[name]
    assert result.recommendation.action == action, result.recommendation.reason
    assert codes <= {f.code for f in result.findings}


@pytest.mark.parametrize("name", ["healthy_tbx", "warmup_cosine_hf"])
def test_healthy_sample_runs_raise_no_warning(results, name):
    assert not [f for f in results[name].findings if f.severity >= lrdoctor.Severity.WARNING]


def test_overfit_sample_has_no_spike_at_the_steep_start(results):
    # Epoch 1 of a fall 3.0 -> 1.2 -> 0.3 is the flank of the fall, not a spike (and no add-warmup).
    assert "SP01" not in {f.code for f in results["overfit_keras_csv"].findings}
