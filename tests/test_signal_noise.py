from __future__ import annotations

import numpy as np
import pytest

from lrdoctor.signal.noise import diff_noise, mad_noise
from lrdoctor.signal.smoothing import debiased_ema, rolling_median
from lrdoctor.signal.spectra import autocorr, roughness
from lrdoctor.signal.changepoints import phase_halves


@pytest.mark.parametrize("sigma", [0.01, 0.1, 0.5])
def test_mad_noise_measures_the_scatter_around_a_trend(sigma):
    rng = np.random.default_rng(3)
    y = 2 * np.exp(-np.linspace(0, 3, 2000)) + rng.normal(0, sigma, 2000)
    assert mad_noise(y, window=15).sigma == pytest.approx(sigma, rel=0.15)
    assert diff_noise(y) == pytest.approx(sigma, rel=0.15)


def test_mad_noise_ignores_spikes():
    rng = np.random.default_rng(4)
    y = 1 + rng.normal(0, 0.02, 500)
    y[::25] += 3.0
    assert mad_noise(y, window=9).sigma < 0.03


def test_smoothers_keep_length_and_level():
    y = np.r_[np.ones(20), 10.0, np.ones(20)]
    assert rolling_median(y, window=5).max() == 1.0
    assert debiased_ema(y, beta=0.9)[0] == 1.0 and len(debiased_ema(y)) == len(y)


def test_autocorrelation_and_roughness():
    zigzag = np.tile([1.0, -1.0], 30)
    assert autocorr(zigzag) < -0.9
    assert roughness(zigzag).high_freq_share > 0.9
    assert roughness(np.linspace(0, 1, 60) ** 2).high_freq_share < 0.1


def test_phase_halves_take_the_settled_half_before_and_the_first_half_after():
    y = np.r_[np.full(30, 2.0), np.full(30, 1.0)] + np.random.default_rng(5).normal(0, 0.01, 60)
    before, after = phase_halves(np.arange(60), y, 30, start=0, end=60)
    assert before.size == 15 and after.size == 15
    assert np.median(before) == pytest.approx(2.0, abs=0.03) and np.median(after) == pytest.approx(1.0, abs=0.03)
