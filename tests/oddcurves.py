"""Odd but valid curves for property tests: every rule must judge them without crashing.

Each shape is a function (rng, n) -> (steps, values); ``odd_run`` puts one shape on each role.
"""
from __future__ import annotations

import numpy as np

from lrdoctor.model import GRAD_NORM, LR, TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_LOSS, Run, Series


def _decay(rng, n, scale=1.0, floor=0.1):
    t = np.arange(n)
    return scale * (np.exp(-t / max(n / 4, 1)) + floor) * (1 + 0.05 * rng.standard_normal(n))


SHAPES = {
    "constant": lambda rng, n: np.full(n, 0.5),
    "zeros": lambda rng, n: np.zeros(n),
    "all_nan": lambda rng, n: np.full(n, np.nan),
    "all_inf": lambda rng, n: np.full(n, np.inf),
    "neg_inf": lambda rng, n: np.full(n, -np.inf),
    "some_nan": lambda rng, n: np.where(rng.random(n) < 0.3, np.nan, _decay(rng, n)),
    "huge": lambda rng, n: _decay(rng, n, 1e300),
    "max_float": lambda rng, n: np.full(n, np.finfo(float).max),
    "tiny": lambda rng, n: _decay(rng, n, 1e-300),
    "subnormal": lambda rng, n: np.full(n, 5e-324),
    "negative": lambda rng, n: -_decay(rng, n),
    "crosses_zero": lambda rng, n: _decay(rng, n) - 0.6,
    "decay": lambda rng, n: _decay(rng, n),
    "rising": lambda rng, n: _decay(rng, n)[::-1].copy(),
    "explodes": lambda rng, n: np.r_[np.exp(np.linspace(0, 700, n - n // 4)), np.full(n // 4, np.inf)],
    "to_zero_then_up": lambda rng, n: np.r_[np.linspace(1, 0, n // 2), np.linspace(0, 1, n - n // 2)],
    "alternating": lambda rng, n: np.where(np.arange(n) % 2 == 0, 1e-8, 1e8),
    "noise": lambda rng, n: rng.standard_normal(n),
}
ACC_SHAPES = {
    "percent": lambda rng, n: np.linspace(10, 99, n),
    "fraction": lambda rng, n: np.linspace(0.1, 0.99, n),
    "over_100": lambda rng, n: np.linspace(0, 300, n),
}
LR_SHAPES = {
    "zero": lambda rng, n: np.zeros(n),
    "negative": lambda rng, n: np.full(n, -0.01),
    "range_test": lambda rng, n: np.logspace(-7, 1, n),
    "warmup_step": lambda rng, n: np.r_[np.linspace(1e-4, 0.1, n // 4), np.full(n - n // 4, 0.1)] * np.where(np.arange(n) > n * 0.7, 0.1, 1),
    "huge": lambda rng, n: np.full(n, 1e300),
}
STEP_KINDS = {
    "range": lambda rng, n: np.arange(n),
    "negative": lambda rng, n: np.arange(n) - n,
    "minus_one": lambda rng, n: np.arange(n) - 1,
    "sparse": lambda rng, n: np.cumsum(rng.integers(1, 10_000, n)),
    "huge": lambda rng, n: np.arange(n) + 2**62,
    "int64_min": lambda rng, n: np.iinfo(np.int64).min + np.arange(n),
}
LENGTHS = (0, 1, 2, 3, 5, 40, 300)


def _series(rng, shapes: dict, n_max_choice=LENGTHS) -> Series:
    n = int(rng.choice(n_max_choice))
    values = shapes[rng.choice(sorted(shapes))](rng, n) if n else np.array([])
    steps = STEP_KINDS[rng.choice(sorted(STEP_KINDS))](rng, n) if n else np.array([], dtype=np.int64)
    return Series.from_lists(np.asarray(steps, dtype=np.int64), values)


def odd_run(seed: int) -> Run:
    """A run whose roles each get a random odd shape, length and step kind (some roles absent)."""
    rng = np.random.default_rng(seed)
    run = Run(name=f"odd{seed}", source=f"odd{seed}", format="test")
    for role, shapes, p in ((TRAIN_LOSS, SHAPES, 1.0), (VAL_LOSS, SHAPES, 0.6), (LR, {**SHAPES, **LR_SHAPES}, 0.6),
                            (TRAIN_ACC, {**SHAPES, **ACC_SHAPES}, 0.3), (VAL_ACC, {**SHAPES, **ACC_SHAPES}, 0.3),
                            (GRAD_NORM, SHAPES, 0.2)):
        if rng.random() < p:
            run.series[role], run.roles[role] = _series(rng, shapes), role
    return run


def shaped_run(shape: str, *, n: int = 60, steps: str = "range", lr: str | None = "constant") -> Run:
    """Every role on one shape (the systematic half of the property test)."""
    rng = np.random.default_rng(0)
    run = Run(name=f"{shape}-{steps}-{lr}", source=shape, format="test")
    xs = np.asarray(STEP_KINDS[steps](rng, n), dtype=np.int64)
    for role in (TRAIN_LOSS, VAL_LOSS):
        run.series[role], run.roles[role] = Series.from_lists(xs, SHAPES[shape](rng, n)), role
    if lr is not None:
        values = {**SHAPES, **LR_SHAPES}[lr](rng, n)
        run.series[LR], run.roles[LR] = Series.from_lists(xs, values), LR
    return run
