"""Memory of the diagnosis of a long curve (issue 11, "Scale"): the block-wise and in-place versions of
the signal functions give what their plain formulas give, and the rules' view and SP01 stay within a
bounded number of bytes per point (numpy's allocations, counted by tracemalloc: machine-independent)."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from lrdoctor.model import LR, TRAIN_LOSS, Run, Series
from lrdoctor.rules import _view
from lrdoctor.rules.spikes import LossSpikes
from lrdoctor.signal import smoothing
from lrdoctor.signal.jumps import preceding_median, upward_jumps
from lrdoctor.signal.noise import MAD_TO_SIGMA, mad_noise
from lrdoctor.signal.schedule import lr_time


def _curve(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.cumsum(rng.standard_normal(n)) + 3 * rng.standard_normal(n)
    if seed % 2:
        y = np.round(rng.standard_normal(n) * 0.7)  # ties between 0.0 and -0.0
        y[rng.random(n) < 0.3] = -0.0
    if seed % 3 == 0:
        y[rng.integers(0, n, 3)] = np.nan
    return y


def _naive_window_medians(y: np.ndarray, width: int) -> np.ndarray:
    return np.array([np.median(y[i:i + width]) for i in range(y.size - width + 1)])


@pytest.fixture
def small_blocks(monkeypatch):
    # Blocks of 37 points: every curve below spans many blocks, so the joins are exercised.
    monkeypatch.setattr(smoothing, "_POINTS_AT_ONCE", 37)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("width", [3, 7, 31])
def test_window_medians_in_blocks_are_the_medians_of_each_window(small_blocks, seed, width):
    y = _curve(seed, 400)
    got = smoothing.window_medians(y, width)
    # A median of an odd number of points is one of them: compared as values (NaN where a NaN is in the window).
    np.testing.assert_array_equal(got, _naive_window_medians(y, width))


@pytest.mark.parametrize("seed", range(6))
def test_window_medians_at_picks_the_same_windows(small_blocks, seed):
    y = _curve(seed, 500)
    starts = np.unique(np.random.default_rng(seed).integers(0, 500 - 21 + 1, 60))
    for absolute in (False, True):
        ref = _naive_window_medians(np.abs(y) if absolute else y, 21)[starts]
        np.testing.assert_array_equal(smoothing.window_medians_at(y, 21, starts, absolute=absolute), ref)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    # Medians select one of the points: the same selection is the same bits (0.0 and -0.0 told apart).
    return a.shape == b.shape and bool(np.array_equal(a.view(np.int64), b.view(np.int64)))


@pytest.mark.parametrize("seed", range(6))
def test_rolling_and_preceding_medians_do_not_depend_on_the_blocks(monkeypatch, seed):
    y = _curve(seed, 2000)
    one_pass = smoothing.rolling_median(y, window=9), preceding_median(y, window=9)
    monkeypatch.setattr(smoothing, "_POINTS_AT_ONCE", 37)
    blocks = smoothing.rolling_median(y, window=9), preceding_median(y, window=9)
    assert _same_bits(one_pass[0], blocks[0]) and _same_bits(one_pass[1], blocks[1])


def test_mad_noise_is_the_mad_of_the_residuals():
    y = _curve(4, 1000)
    fit = mad_noise(y, window=9)
    res = y - smoothing.rolling_median(y, window=9)
    expected = MAD_TO_SIGMA * np.median(np.abs(res - np.median(res))) / np.sqrt(1 - 1 / 9)
    assert fit.sigma == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(fit.residuals, res, rtol=0, atol=0)


@pytest.mark.parametrize("at_knots", [True, False])
def test_lr_time_at_its_own_knots_equals_the_interpolation(at_knots):
    rng = np.random.default_rng(1)
    steps = np.cumsum(rng.integers(1, 50, 500)).astype(float)
    lr = np.exp(rng.normal(-7, 1, 500))
    at = steps.copy() if at_knots else steps + 0.5
    cum = np.concatenate([[0.0], np.cumsum(lr[:-1] * np.diff(steps))])
    np.testing.assert_allclose(lr_time(steps, lr, at), np.interp(at, steps, cum) / cum[-1], rtol=1e-14)


def _long_run(n: int) -> Run:
    rng = np.random.default_rng(0)
    steps = np.arange(n, dtype=np.int64)
    loss = 2.0 * np.exp(-steps / (n / 5)) + 0.1 + 0.01 * rng.standard_normal(n)
    loss[n // 2] += 1.5  # one spike, so SP01 goes all the way
    series = {"loss": Series(steps, loss), "lr": Series(steps.copy(), np.full(n, 1e-3))}
    return Run(name="long", source="long", format="test", series=series, roles={TRAIN_LOSS: "loss", LR: "lr"})


def test_the_view_and_sp01_of_a_long_curve_stay_within_their_memory_budget(monkeypatch):
    n = 400_000
    monkeypatch.setattr(smoothing, "_POINTS_AT_ONCE", 1 << 16)  # blocks far shorter than the curve, as on 5M points
    monkeypatch.setattr(smoothing, "_ROWS_AT_ONCE", 1 << 12)
    run = _long_run(n)
    _view.forget_views()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        view = _view.view_of(run)
        held_by_view = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        findings = list(LossSpikes().check(run, LossSpikes.Options()))
        sp01_peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
        _view.forget_views()
    assert view.train is not None and [f.evidence["largest_step"] for f in findings] == [n // 2]
    # The view keeps the float step axis and the smoothed loss (8 + 8 bytes a point; the values are
    # the Series' own, LR-time is made when asked); before issue 11's work it kept ~55 bytes a point.
    assert held_by_view < 20 * n
    # SP01's temporaries: the positive residuals (for the skew of the noise: ~4 bytes a point) and arrays
    # of a block's length (6 bytes a point here); 26 bytes a point before it went block by block, ~58 before that.
    assert sp01_peak < 10 * n


@pytest.mark.parametrize("seed", range(6))
def test_upward_jumps_do_not_depend_on_the_blocks(monkeypatch, seed):
    y = np.abs(_curve(seed, 3000))
    y = y[np.isfinite(y)]
    y[::97] += 40.0  # spikes
    trend = smoothing.rolling_median(y, window=9)
    one_pass = upward_jumps(y, trend, window=9, noise_window=37)
    monkeypatch.setattr(smoothing, "_POINTS_AT_ONCE", 37)
    blocks = upward_jumps(y, trend, window=9, noise_window=37)
    for name in ("height", "sigma", "z"):  # the same operations on the same numbers (a zero's sign aside)
        np.testing.assert_array_equal(np.abs(getattr(blocks, name)), np.abs(getattr(one_pass, name)), err_msg=name)
    assert np.count_nonzero(one_pass.z > 6) >= 20


@pytest.mark.parametrize("seed", range(8))
def test_median_of_blocks_is_np_median(monkeypatch, seed):
    from lrdoctor.signal import noise

    rng = np.random.default_rng(seed)
    monkeypatch.setattr(noise, "_BLOCK", 97)
    monkeypatch.setattr(noise, "_SAMPLE", 16 if seed % 2 else 1 << 16)  # a coarse sample misses: every value is then made
    for n in (1, 2, 96, 97, 98, 1001, 2000):
        y = _curve(seed, n) if seed % 3 else np.round(rng.standard_normal(n))  # NaN, ties, -0.0
        got = noise.median_of_blocks(lambda lo, hi: y[lo:hi] * 1.0, n)
        want = np.median(y)
        assert (np.isnan(got) and np.isnan(want)) or got == want, (n, got, want)


def test_the_cli_fixes_glibc_mmap_threshold_where_there_is_one():
    import platform
    import sys

    from lrdoctor._heap import give_large_blocks_their_own_memory

    done = give_large_blocks_their_own_memory()
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert done is True
    else:
        assert done in (True, False)  # musl's mallopt may refuse; elsewhere nothing is done
