from __future__ import annotations

import numpy as np
import pytest

from lrdoctor.signal.schedule import detect_schedule, lr_at, lr_time

STEPS = np.arange(0, 1000, 10)


def test_constant():
    s = detect_schedule(STEPS, np.full(STEPS.size, 3e-4))
    assert (s.kind, s.peak_lr, s.warmup_end_step, s.decay_steps) == ("constant", 3e-4, None, ())


def test_warmup_cosine():
    t = STEPS / STEPS[-1]
    lr = np.where(t < 0.1, t / 0.1, 0.5 * (1 + np.cos(np.pi * (t - 0.1) / 0.9))) * 1e-3
    s = detect_schedule(STEPS, lr)
    assert s.kind == "smooth-decay"
    assert s.warmup_end_step == pytest.approx(100, abs=10)
    assert s.peak_lr == pytest.approx(1e-3, rel=0.01)


def test_step_schedule_and_lr_time():
    lr = np.where(STEPS < 500, 0.1, np.where(STEPS < 750, 0.01, 0.001))
    s = detect_schedule(STEPS, lr)
    assert s.kind == "step" and s.decay_steps == (500, 750)
    # Half the steps carry ~95 % of the cumulative LR.
    assert lr_time(STEPS, lr, [500])[0] == pytest.approx(0.5 * 0.1 / (0.05 + 0.0025 + 0.00025), rel=0.02)
    assert lr_at(STEPS, lr, [499, 500, 999]).tolist() == [0.1, 0.01, 0.001]


def test_range_test_is_increasing():
    assert detect_schedule(STEPS, np.geomspace(1e-7, 10, STEPS.size)).kind == "increasing"
