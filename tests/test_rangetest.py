"""LR range tests: the maths on seeded simulated tests with a known answer, recognition of a
range test by its LR curve, the engine's handling, `lrdoctor findlr`, and the bench's 12 tests."""
from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path

import numpy as np
import pytest

from lrdoctor.context import rangetest
from lrdoctor.engine import diagnose_runs
from lrdoctor.model import LR, TRAIN_LOSS, Run, Series
from lrdoctor.signal.rangetest import instability_lag, lowess, suggest_lr

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "public"


def simulate(*, n=200, limit=0.1, start=1e-7, end=10.0, noise=0.02, seed=0, spikes=0, nan_tail=False):
    """A range test whose stability limit is ``limit``: the loss falls over the decade and a half
    below it and, past it, an instability grows by ``2 * 10**u - 1`` per step (``u`` decades past
    the limit) until the loss is back above its start.  Returns (lr, loss)."""
    rng = np.random.default_rng(seed)
    lr = np.logspace(math.log10(start), math.log10(end), n)
    x = np.log10(lr / limit)
    loss = 2.3 - 1.8 / (1.0 + np.exp(-(x + 0.9) / 0.2))  # falls around 0.9 decades below the limit
    growth = np.cumsum(np.log(np.clip(2.0 * 10.0 ** np.clip(x, 0, None) - 1.0, 1.0, None)))
    loss = loss + 1e-3 * 2.3 * np.expm1(growth)  # a 1e-3 perturbation, amplified
    loss = loss * (1.0 + noise * rng.standard_normal(n))
    if spikes:
        where = rng.choice(np.arange(n // 4, n // 2), spikes, replace=False)
        loss[where] *= 4.0
    if nan_tail:
        loss[loss > 10.0] = np.nan
    return lr, loss


def expected(limit=0.1):
    return limit / 10.0  # one decade below the stability limit


def err(a, b) -> float:
    return abs(math.log10(a / b))


# --------------------------------------------------------------------------- maths


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("limit", [1e-3, 0.1])
def test_suggestion_is_a_decade_below_the_stability_limit(seed, limit):
    lr, loss = simulate(limit=limit, seed=seed)
    fit = suggest_lr(lr, loss)
    assert fit.blowup_seen and fit.confidence == "high"
    assert err(fit.suggested_lr, expected(limit)) < 0.2
    assert err(fit.stability_lr, limit) < 0.2


def test_answer_does_not_depend_on_steps_per_decade():
    """The EMA of fastai/Lightning lags by a fixed number of steps, so its minimum moves with the
    test's length; smoothing in log10(LR) and the sqrt(3/s) lag correction do not."""
    answers = [suggest_lr(*simulate(n=n, seed=1)).suggested_lr for n in (100, 200, 400)]
    assert max(answers) / min(answers) < 10**0.2


def test_spikes_and_noise_do_not_move_the_suggestion_far():
    clean = suggest_lr(*simulate(noise=0.0)).suggested_lr
    noisy = suggest_lr(*simulate(noise=0.15, spikes=8, seed=3)).suggested_lr
    assert err(noisy, clean) < 0.25


def test_nan_tail_is_the_blowup():
    fit = suggest_lr(*simulate(nan_tail=True, seed=2))
    assert fit.blowup_seen
    assert err(fit.suggested_lr, expected()) < 0.25


def test_shift_and_scale_of_the_loss_do_not_matter():
    lr, loss = simulate(seed=5)
    base = suggest_lr(lr, loss).suggested_lr
    assert suggest_lr(lr, 1000.0 * loss).suggested_lr == pytest.approx(base, rel=1e-6)
    assert suggest_lr(lr, loss - 5.0).suggested_lr == pytest.approx(base, rel=1e-6)


def test_test_that_stops_before_the_blowup_gives_a_low_confidence_lower_bound():
    lr, loss = simulate(end=0.08, n=160, seed=0)  # stops below the limit
    fit = suggest_lr(lr, loss)
    assert not fit.blowup_seen and fit.confidence == "low"
    assert fit.suggested_lr is not None and fit.suggested_lr < 0.08


def test_flat_loss_gives_no_suggestion():
    rng = np.random.default_rng(0)
    lr = np.logspace(-7, 1, 150)
    fit = suggest_lr(lr, 2.3 + 0.05 * rng.standard_normal(150))
    assert fit.suggested_lr is None and fit.confidence == "low"


def test_too_few_points_gives_no_suggestion():
    fit = suggest_lr([1e-5, 1e-4, 1e-3], [1.0, 0.5, 3.0])
    assert fit.suggested_lr is None and "too few" in fit.basis


def test_lowess_follows_a_line_and_ignores_a_spike():
    x = np.linspace(0, 2, 41)
    y = 3 * x + 1
    y_spiked = y + 0.1 * np.random.default_rng(0).standard_normal(41)
    y_spiked[20] += 100.0
    fit = lowess(x, y_spiked, bandwidth=0.3)
    assert abs(fit[20] - y[20]) < 0.3
    assert abs(lowess(x, y_spiked, bandwidth=0.3, robust_iterations=0)[20] - y[20]) > 5  # what robustness buys


def test_instability_lag_shrinks_with_more_steps_per_decade():
    assert instability_lag(12.5) == pytest.approx(math.sqrt(3 / 12.5))
    assert instability_lag(50) < instability_lag(12.5)


def test_fastest_fall_lies_below_the_blowup():
    fit = suggest_lr(*simulate(seed=4))
    low, high = fit.fastest_fall
    assert low <= fit.steepest_lr <= high < fit.blowup_lr


# --------------------------------------------------------------------------- recognition


def _series(values):
    return Series.from_lists(range(len(values)), values)


@pytest.mark.parametrize(
    "values, is_test",
    [
        (np.logspace(-7, 1, 100), True),
        (np.logspace(-5, -1, 60), True),
        (np.linspace(1e-6, 1e-3, 200), False),  # linear warmup: its decades come first
        (np.full(100, 1e-3), False),
        (1e-3 * (1 + np.cos(np.linspace(0, np.pi, 100))) / 2 + 1e-6, False),  # cosine decay
        (np.logspace(-7, -6, 100), False),  # one decade only
        (np.logspace(-7, 1, 10), False),  # too short
    ],
)
def test_ramp_shape(values, is_test):
    assert rangetest.ramp_shape(_series(values)).is_range_test is is_test


def test_ramp_shape_tolerates_float32_repeats():
    values = np.repeat(np.logspace(-7, 1, 100).astype(np.float32), 1)
    values[10] = values[9]  # one repeated value
    assert rangetest.ramp_shape(_series(values)).is_range_test


def _range_test_run(seed=0, name="lr_find") -> Run:
    lr, loss = simulate(seed=seed)
    steps = np.arange(lr.shape[0])
    run = Run(name=name, source=name, format="test",
              series={"loss": Series.from_lists(steps, loss), "lr": Series.from_lists(steps, lr)},
              roles={TRAIN_LOSS: "loss", LR: "lr"})
    return run


def test_lr_loss_pairs_interpolate_the_lr_at_the_loss_steps():
    run = _range_test_run()
    lr = run.series["lr"]
    run.series["lr"] = Series.from_lists(lr.steps[::2], lr.values[::2])  # LR logged every other step
    pairs_lr, pairs_loss = rangetest.lr_loss_pairs(run)
    assert pairs_lr.shape == pairs_loss.shape
    assert np.allclose(pairs_lr[1::2][:50], lr.values[1::2][:50], rtol=1e-6)


# --------------------------------------------------------------------------- engine and CLI


def test_engine_turns_a_range_test_into_a_set_lr_recommendation():
    report = diagnose_runs([_range_test_run()])
    result = report.runs[0]
    assert [f.kind for f in result.findings] == ["lr_range_test"]
    assert result.findings[0].severity.name == "INFO"
    assert result.recommendation.action == "set-lr"
    assert err(result.recommendation.suggested_lr, expected()) < 0.2
    assert result.extras["lr_range_test"]["suggested_lr"] == result.recommendation.suggested_lr
    assert result.rules_run == ()
    json.dumps(report.to_dict(), allow_nan=False)


def test_findlr_cli_text_json_and_plot(tmp_path, monkeypatch):
    from lrdoctor.cli import main

    run = _range_test_run()
    monkeypatch.setattr("lrdoctor.readers.read_runs", lambda path, tag_roles=None, progress=None: ([run], []))
    out = tmp_path / "rt.png"
    assert main(["findlr", str(tmp_path), "--plot", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert main(["findlr", str(tmp_path), "--format", "json"]) == 0


def test_findlr_cli_json_content(tmp_path, monkeypatch, capsys):
    from lrdoctor.cli import main

    monkeypatch.setattr("lrdoctor.readers.read_runs", lambda path, tag_roles=None, progress=None: ([_range_test_run()], []))
    assert main(["findlr", str(tmp_path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    entry = doc["range_tests"][0]
    assert entry["looks_like_range_test"] is True
    assert err(entry["suggested_lr"], expected()) < 0.2


# --------------------------------------------------------------------------- the bench


def _bench_or_skip():
    if not (BENCH / "rangetests" / "labels.csv").exists():
        pytest.skip("../shared/bench is not available")


def test_bench_range_tests_beat_the_baselines():
    """All 12 bench range tests are recognised; the median error stays below the best baseline
    (min-loss LR / 10: 0.354 decades; BASELINES.md) -- a regression guard, not a tuning target."""
    _bench_or_skip()
    import lrdoctor

    with open(BENCH / "rangetests" / "labels.csv", newline="") as fh:
        labels = {row["run_id"]: float(row["lr_star"]) for row in csv.DictReader(fh)}
    runs, _ = lrdoctor.read_runs(BENCH / "rangetests" / "runs")
    errors = []
    for run in runs:
        fit = rangetest.analyse(run)
        assert fit is not None and fit.suggested_lr, run.name
        errors.append(err(fit.suggested_lr, labels[run.name.split("/")[0]]))
    assert len(errors) == 12
    assert statistics.median(errors) < 0.354


def test_no_bench_training_run_is_taken_for_a_range_test():
    _bench_or_skip()
    import lrdoctor

    runs, _ = lrdoctor.read_runs(BENCH / "runs")
    assert len(runs) == 310
    assert [r.name for r in runs if rangetest.is_range_test(r)] == []


def test_findlr_keeps_the_range_tests_of_a_folder_and_forces_a_lone_run():
    flat = _range_test_run(name="flat")
    flat.series["lr"] = Series.from_lists(flat.series["lr"].steps, np.full(len(flat.series["lr"]), 1e-3))
    entries = rangetest.findlr([flat, _range_test_run(name="lr_find")])
    assert [run.name for run, _, _ in entries] == ["lr_find"]
    (run, fit, shape), = rangetest.findlr([flat])
    assert not shape.is_range_test and fit.suggested_lr is None
    assert "no suggestion" in rangetest.findlr_text([(run, fit, shape)])


def test_warmup_from_zero_is_read_without_log_of_zero():
    run = _range_test_run()
    lr = run.series["lr"]
    values = lr.values.copy()
    values[0] = 0.0
    run.series["lr"] = Series.from_lists(lr.steps, values)
    with np.errstate(divide="raise"):
        pairs_lr, _ = rangetest.lr_loss_pairs(run)
    assert np.all(pairs_lr > 0)


def test_a_test_stopped_while_the_loss_climbs_counts_the_end_as_the_blowup():
    lr, loss = simulate(seed=0)
    clean = suggest_lr(lr, loss)
    start = float(np.median(loss[:20]))
    smooth_min = 0.5
    # stop at the first point where the raw loss has climbed 60% of the way back (a 4x-min style stop)
    stop = int(np.nonzero((np.arange(lr.shape[0]) > np.argmin(loss)) & (loss > smooth_min + 0.6 * (start - smooth_min)))[0][0])
    fit = suggest_lr(lr[: stop + 3], loss[: stop + 3])
    assert fit.blowup_seen and "stopped" in fit.basis
    assert err(fit.suggested_lr, clean.suggested_lr) < 0.25
