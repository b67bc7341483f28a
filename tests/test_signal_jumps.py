"""signal.jumps: upward jumps against local, upper-side noise (seeded curves with known answers)."""
from __future__ import annotations

import numpy as np
import pytest

from lrdoctor.signal.jumps import local_upper_sigma, upward_jumps
from lrdoctor.signal.smoothing import rolling_median


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_right_skewed_minibatch_noise_is_not_a_spike_but_a_real_jump_is(seed):
    # Minibatch losses: level 0.5, log-normal scatter (right-skewed, heavier upper tail than a normal).
    rng = np.random.default_rng(seed)
    y = 0.5 * np.exp(0.35 * rng.standard_normal(2000))
    y[1500] = 0.5 * 8.0
    j = upward_jumps(y, rolling_median(y, window=31), window=31, noise_window=125)
    assert np.flatnonzero(j.z > 6).tolist() == [1500]


def test_the_upper_side_scale_cuts_false_spikes_of_skewed_noise():
    # Log-normal scatter measured with a symmetric sigma crosses 6 sigma far more often than with the
    # upper-side scale, which is why the latter is used.
    symmetric_hits = upper_hits = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        y = 0.5 * np.exp(0.5 * rng.standard_normal(2000))
        trend = rolling_median(y, window=31)
        symmetric = 1.4826 * np.median(np.abs(y - trend))
        symmetric_hits += int(np.sum((y - trend) / symmetric > 6))
        upper_hits += int(np.sum(upward_jumps(y, trend, window=31, noise_window=125).z > 6))
    assert symmetric_hits >= 4 * max(upper_hits, 1)


def test_noise_follows_the_level_over_orders_of_magnitude():
    # A loss falling from 3 to 3e-4 with 5 % multiplicative noise: sigma near the start is ~1000x the end's.
    rng = np.random.default_rng(0)
    level = 3.0 * np.exp(-np.arange(1000) / 110.0)
    y = level * (1 + 0.05 * rng.standard_normal(1000))
    s = local_upper_sigma(y, rolling_median(y, window=31), window=125)
    assert s[50] / s[-50] > 300
