from __future__ import annotations

import math

import numpy as np
import pytest

from lrdoctor.signal.trend import late_share, mann_kendall, runs_per_time_constant, theil_sen


def test_theil_sen_recovers_slope_despite_outliers():
    rng = np.random.default_rng(0)
    x = np.arange(200.0)
    y = 3.0 - 0.01 * x + rng.normal(0, 0.05, 200)
    y[::10] += 5.0  # 10 % gross outliers
    assert theil_sen(x, y).slope == pytest.approx(-0.01, abs=0.002)


def test_mann_kendall_flags_a_trend_and_not_noise():
    rng = np.random.default_rng(1)
    assert mann_kendall(np.linspace(1, 0, 50) + rng.normal(0, 0.05, 50)).p < 1e-6
    assert mann_kendall(rng.normal(0, 1, 50)).p > 0.01


@pytest.mark.parametrize("runs_per_tau", [0.5, 1.0, 3.0, 6.0])
def test_late_share_inverts_for_an_exponential(runs_per_tau):
    t = np.linspace(0, 1, 400)
    y = 0.2 + 2.0 * np.exp(-t * runs_per_tau)
    share = late_share(y)
    expected = (math.exp(-2 * runs_per_tau / 3) - math.exp(-runs_per_tau)) / (1 - math.exp(-runs_per_tau))
    assert share == pytest.approx(expected, abs=1e-3)
    assert runs_per_time_constant(share) == pytest.approx(runs_per_tau, rel=0.02)


def test_late_share_uses_the_given_axis():
    # The same fall, but the last third of the points hold only 1 % of the progress axis.
    y = np.linspace(3, 0, 30)
    x = np.r_[np.linspace(0, 0.99, 20), np.linspace(0.991, 1.0, 10)]
    assert late_share(y, x=x) > late_share(y)


@pytest.mark.parametrize("n", [5, 8, 12, 20, 30])
def test_mann_kendall_one_sided_p_is_calibrated_under_no_trend(n):
    # Under "no trend" the share of p_down < 0.01 must be about 1 % (at most: S is discrete).
    rng = np.random.default_rng(n)
    p = np.array([mann_kendall(rng.standard_normal(n)).p_down for _ in range(4000)])
    assert 0.003 <= np.mean(p < 0.01) <= 0.014
    assert 0.3 <= np.mean(p < 0.5) <= 0.53  # discrete S: at most half of the orders, the symmetric middle excluded


def test_mann_kendall_five_ordered_points_are_significant_only_exactly():
    # 1 of the 5! = 120 orders is strictly decreasing; the normal approximation says p = 0.028.
    mk = mann_kendall([2.56, 2.52, 2.50, 2.46, 2.43])
    assert mk.p_down == pytest.approx(1 / 120) and mk.p > 0.01
    assert mann_kendall([2.43, 2.46, 2.50, 2.52, 2.56]).p_down == pytest.approx(1.0)
    assert mann_kendall([2.56, 2.52, 2.50, 2.46]).p_down > 0.01  # four points can never be
