"""Seeded curve generators with known answers (in the spirit of ruptures' generators).

Each ``make_*`` returns a ``Run`` whose shape is known by construction: the rules must find
what was put in, and nothing else.  Steps are optimizer steps, logged every ``k`` steps; the
validation loss is logged once per epoch at the global step after the epoch.
"""
from __future__ import annotations

import numpy as np

from lrdoctor.model import LR, TRAIN_LOSS, VAL_LOSS, Restart, Run, Series

STEPS = 800  # optimizer steps
K = 5  # train-loss logging interval
EPOCHS = 20


def _run(name, train, val=None, lr=None, **extra) -> Run:
    run = Run(name=name, source=f"<generated:{name}>", format="generated")
    steps = np.arange(0, STEPS, K)
    run.series["train/loss"] = Series.from_lists(steps[: len(train)], train)
    run.roles[TRAIN_LOSS] = "train/loss"
    if val is not None:
        vsteps = (np.arange(len(val)) + 1) * (STEPS // EPOCHS)
        run.series["val/loss"] = Series.from_lists(vsteps, val)
        run.roles[VAL_LOSS] = "val/loss"
    if lr is not None:
        run.series["train/lr"] = Series.from_lists(steps[: len(lr)], lr)
        run.roles[LR] = "train/lr"
    for key, value in extra.items():
        setattr(run, key, value)
    return run


def _t(n):
    return np.linspace(0.0, 1.0, n)


def exp_curve(n, *, start=2.3, floor=0.1, tau=0.125, noise=0.03, seed=0):
    """start -> floor with time constant ``tau`` (fraction of the run), multiplicative noise."""
    rng = np.random.default_rng(seed)
    y = floor + (start - floor) * np.exp(-_t(n) / tau)
    return y * (1 + noise * rng.standard_normal(n))


def make_healthy(seed=0, lr=1e-2, with_lr=True) -> Run:
    """Fast exponential fall that flattens by a third of the run; val follows and flattens."""
    n = STEPS // K
    val = exp_curve(EPOCHS, start=1.6, floor=0.2, tau=0.15, noise=0.01, seed=seed + 100)
    return _run("healthy", exp_curve(n, seed=seed), val, np.full(n, lr) if with_lr else None)


def make_too_low(seed=0, lr=1e-4) -> Run:
    """A slow, smooth fall (time constant 5 runs): nearly a straight line at the end."""
    n = STEPS // K
    train = exp_curve(n, floor=0.1, tau=5.0, noise=0.002, seed=seed)
    val = exp_curve(EPOCHS, start=2.28, floor=0.1, tau=5.0, noise=0.0005, seed=seed + 100)
    return _run("too-low", train, val, np.full(n, lr))


def make_nan(seed=0, at=0.4, lr=1.0) -> Run:
    """Healthy start, then NaN from ``at`` of the run (a few more points logged, as a NaN check would)."""
    n = STEPS // K
    train = exp_curve(n, seed=seed)
    cut = int(at * n)
    train = train[: cut + 4]
    train[cut:] = np.nan
    val = exp_curve(EPOCHS, start=1.6, floor=0.2, tau=0.15, noise=0.01, seed=seed)[: int(at * EPOCHS)]
    return _run("nan", train, val, np.full(len(train), lr))


def make_blow_up(seed=0, lr=0.5) -> Run:
    """Falls for a quarter of the run, then climbs back above its start and stays there."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    t = _t(n)
    y = np.where(t < 0.25, 2.3 - 1.5 * t / 0.25, 0.8 + 2.5 * np.minimum((t - 0.25) / 0.25, 1.0))
    val = np.interp(_t(EPOCHS), t, y) * 0.9
    return _run("blow-up", y * (1 + 0.03 * rng.standard_normal(n)), val, np.full(n, lr))


def make_exploded(seed=0, lr=3.0) -> Run:
    """A short explosion to 60x the start in the first steps, then stuck at the start level."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    y = 2.3 * (1 + 0.01 * rng.standard_normal(n))
    y[2:4] = [140.0, 30.0]
    val = 2.31 * (1 + 0.005 * rng.standard_normal(EPOCHS))
    return _run("exploded", y, val, np.full(n, lr))


def make_stuck(seed=0, lr=1.0) -> Run:
    """Never leaves its starting (chance) level; noisy, no trend."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    y = 2.3 * (1 + 0.01 * rng.standard_normal(n))
    val = 2.302 + 0.01 * rng.standard_normal(EPOCHS)
    return _run("stuck", y, val, np.full(n, lr))


def make_spiky(seed=0, lr=1e-2) -> Run:
    """Healthy curve with three isolated spikes (4-8x the local level, each undoing over a quarter of the
    progress) that recover at once."""
    run = make_healthy(seed=seed, lr=lr)
    y = run.series["train/loss"].values.copy()
    for i, f in ((60, 4.0), (100, 8.0), (130, 8.0)):
        y[i] *= f
    run.series["train/loss"] = Series.from_lists(run.series["train/loss"].steps, y)
    return run


def make_overfit(seed=0, lr=1e-2) -> Run:
    """Train falls to ~0; validation is lowest at 30 % of the run and then rises 60 %."""
    n = STEPS // K
    train = exp_curve(n, start=2.3, floor=0.001, tau=0.1, noise=0.02, seed=seed)
    t = _t(EPOCHS)
    val = 0.5 + 1.8 * np.exp(-t / 0.08) + 0.6 * np.clip(t - 0.3, 0, None) / 0.7
    return _run("overfit", train, val * (1 + 0.005 * np.random.default_rng(seed).standard_normal(EPOCHS)), np.full(n, lr))


def make_decay_only(seed=0, peak=1.0) -> Run:
    """Step schedule: stuck at the start while the LR is at its peak, learns only after the decay at 50 %."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    t = _t(n)
    lr = np.where(t < 0.5, peak, np.where(t < 0.75, peak / 10, peak / 100))
    y = np.where(t < 0.5, 2.3, 0.3 + 2.0 * np.exp(-(t - 0.5) / 0.05))
    val = np.interp(_t(EPOCHS), t, y) + 0.01 * rng.standard_normal(EPOCHS)
    return _run("decay-only", y * (1 + 0.02 * rng.standard_normal(n)), val, lr)


def make_no_val(seed=0) -> Run:
    run = make_healthy(seed=seed)
    del run.series["val/loss"], run.roles[VAL_LOSS]
    return run


def make_no_lr(seed=0, hparam_lr=None) -> Run:
    run = make_healthy(seed=seed, with_lr=False)
    if hparam_lr is not None:
        run.hparams = {"lr": hparam_lr}
    return run


def make_short(seed=0) -> Run:
    return _run("short", exp_curve(5, seed=seed), None, np.full(5, 1e-3))


def make_restarted(seed=0) -> Run:
    run = make_healthy(seed=seed)
    run.restarts = [Restart(tag="train/loss", from_step=400, to_step=300, n_overwritten=20)]
    return run


def make_erratic_val(seed=0) -> Run:
    """Healthy train loss; validation alternates up and down by ~40 % of its improvement."""
    run = make_healthy(seed=seed)
    v = run.series["val/loss"]
    zig = 0.4 * (1.6 - 0.2) * np.tile([1.0, -1.0], EPOCHS // 2)[: len(v)] * (np.arange(len(v)) >= 3)
    run.series["val/loss"] = Series.from_lists(v.steps, v.values + np.abs(zig) * (zig > 0))
    return run


def make_negative(seed=0) -> Run:
    """A log-likelihood-like objective that goes below zero (a falling, healthy shape shifted down)."""
    n = STEPS // K
    return _run("negative", exp_curve(n, seed=seed) - 1.0, exp_curve(EPOCHS, seed=seed + 100) - 1.0, np.full(n, 1e-3))


def make_early_spikes(seed=0) -> Run:
    """Healthy curve with three spikes in the first 10 % of the run and a constant LR (no warmup)."""
    run = make_healthy(seed=seed)
    y = run.series["train/loss"].values.copy()
    for i, f in ((4, 3.0), (8, 4.0), (12, 3.0)):
        y[i] *= f
    run.series["train/loss"] = Series.from_lists(run.series["train/loss"].steps, y)
    return run


def _one_step_decay(name, seed, peak, before, after, *, val_scale=1.0) -> Run:
    """Step schedule: ``peak`` for the first half, a tenth of it after; the loss follows ``before(t)``
    then ``after(t)`` with 5 % minibatch noise; validation follows the loss (times ``val_scale``)."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    t = _t(n)
    lr = np.where(t < 0.5, peak, peak / 10)
    y = np.where(t < 0.5, before(t), after(t))
    val = np.interp(_t(EPOCHS), t, y) * val_scale + 0.005 * rng.standard_normal(EPOCHS)
    return _run(name, y * (1 + 0.05 * rng.standard_normal(n)), val, lr)


def make_drop_after_decay(seed=0, peak=0.5) -> Run:
    """Step schedule: learns at the peak LR but stalls at a high noisy level; the loss halves at the decay."""
    return _one_step_decay("drop-after-decay", seed, peak, lambda t: 0.8 + 1.5 * np.exp(-t / 0.05),
                           lambda t: 0.2 + 0.6 * np.exp(-(t - 0.5) / 0.01))


def make_mild_step_decay(seed=0, peak=0.1) -> Run:
    """Step schedule on a healthy run: a modest (annealing) drop of ~20 % at the decay."""
    return _one_step_decay("mild-step-decay", seed, peak, lambda t: 0.3 + 2.0 * np.exp(-t / 0.08),
                           lambda t: 0.25 + 0.05 * np.exp(-(t - 0.5) / 0.02), val_scale=1.3)


def make_warmup_healthy(seed=0, peak=1e-3) -> Run:
    """Linear warmup over 10 % of the steps, then cosine; the loss waits during warmup, then falls fast."""
    n = STEPS // K
    t = _t(n)
    lr = np.where(t < 0.1, t / 0.1, 0.5 * (1 + np.cos(np.pi * (t - 0.1) / 0.9))) * peak
    y = np.where(t < 0.1, 2.3 - 0.3 * (t / 0.1) ** 2, 0.1 + 1.9 * np.exp(-(t - 0.1) / 0.1))
    rng = np.random.default_rng(seed)
    val = np.interp(_t(EPOCHS), t, y) + 0.1 + 0.005 * rng.standard_normal(EPOCHS)
    return _run("warmup-healthy", y * (1 + 0.03 * rng.standard_normal(n)), val, lr)


def make_lm_healthy(seed=0, peak=3e-4) -> Run:
    """Language-model-like: 4.2 -> ~1.5 along a power law, warmup 5 % then linear decay."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    t = _t(n)
    lr = np.where(t < 0.05, t / 0.05, 1 - (t - 0.05) / 0.95) * peak
    y = 1.5 + 2.7 * (1 + t / 0.02) ** -0.7
    val = np.interp(_t(EPOCHS), t, y) * 1.02
    return _run("lm-healthy", y * (1 + 0.02 * rng.standard_normal(n)), val, lr)


def make_finetune(seed=0, peak=2e-5) -> Run:
    """Fine-tuning a pretrained model: starts low, gains fast, three evaluations, linear decay."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    t = _t(n)
    y = 0.25 + 0.44 * np.exp(-t / 0.15) + 0.05 * rng.standard_normal(n) * np.exp(-t)
    return _run("finetune", np.abs(y), np.array([0.35, 0.30, 0.29]), (1 - t) * peak)


def _with_val_acc(run: Run, acc) -> Run:
    from lrdoctor.model import VAL_ACC

    v = run.series["val/loss"]
    run.series["val/acc"] = Series.from_lists(v.steps, np.asarray(acc, dtype=float)[: len(v)])
    run.roles[VAL_ACC] = "val/acc"
    return run


def make_acc_pinned(seed=0) -> Run:
    """Collapsed predictions: accuracy sits at the majority-class frequency; the loss wanders near its start."""
    run = make_stuck(seed=seed)
    return _with_val_acc(run, np.full(EPOCHS, 0.102))


def make_acc_collapsed(seed=0) -> Run:
    """Accuracy learned to 0.9, then fell to 0.1 (the loss is healthy-looking by the median)."""
    run = make_healthy(seed=seed)
    acc = np.r_[np.linspace(0.5, 0.9, 10), np.full(EPOCHS - 10, 0.1)]
    return _with_val_acc(run, acc)


def make_healthy_acc(seed=0) -> Run:
    return _with_val_acc(make_healthy(seed=seed), 0.95 - 0.5 * np.exp(-np.arange(EPOCHS) / 3))


def make_too_low_acc(seed=0) -> Run:
    """A slow learner whose accuracy has hardly moved yet (+0.5 points) while its loss falls steadily."""
    return _with_val_acc(make_too_low(seed=seed), 0.100 + 0.005 * np.linspace(0, 1, EPOCHS))


def _epoch_run(name, train, val, lr) -> Run:
    """An epoch-level log as Keras writes it: one point per epoch, step = epoch index (0-based)."""
    run = Run(name=name, source=f"<generated:{name}>", format="generated")
    epochs = np.arange(len(train))
    for tag, role, values in (("epoch_loss", TRAIN_LOSS, train), ("val_loss", VAL_LOSS, val),
                              ("learning_rate", LR, lr)):
        run.series[tag] = Series.from_lists(epochs[: len(values)], values)
        run.roles[role] = tag
    return run


def short_epochs(seed) -> int:
    """8, 10 or 15 epochs by seed: short epoch-level logs (the last half holds only 4-8 points)."""
    return (8, 10, 15)[seed % 3]


def make_too_low_epochs(seed=0, lr=3e-5) -> Run:
    """Epoch-level too-low run: 8-15 epoch means falling slowly and steadily (2.73 -> ~2.45 over 10 epochs).

    Epoch means average dozens of minibatches, so they scatter little (0.2 % of the level) next to the
    fall per epoch (~1 %); validation on a fixed set scatters even less.
    """
    n = short_epochs(seed)
    rng = np.random.default_rng(seed)
    e = np.arange(n)
    train = 2.3 + 0.43 * np.exp(-e / 12.0)
    val = 2.3 + 0.47 * np.exp(-(e + 1) / 12.0)
    return _epoch_run("too-low-epochs", train * (1 + 0.002 * rng.standard_normal(n)),
                      val * (1 + 0.0005 * rng.standard_normal(n)), np.full(n, lr))


def make_healthy_epochs(seed=0, lr=3e-2) -> Run:
    """Epoch-level healthy run: the epoch means fall fast (time constant 1.5 epochs) and flatten."""
    n = short_epochs(seed)
    rng = np.random.default_rng(seed)
    e = np.arange(n)
    train = 0.05 + 1.4 * np.exp(-e / 1.5)
    val = 0.18 + 0.25 * np.exp(-(e + 1) / 1.5)
    return _epoch_run("healthy-epochs", train * (1 + 0.01 * rng.standard_normal(n)),
                      val * (1 + 0.01 * rng.standard_normal(n)), np.full(n, lr))


def make_overfit_epochs(seed=0, lr=3e-2, n=120) -> Run:
    """Keras-CSV-like overfitting run: the epoch mean falls 3.0 -> 0.3 in the first three epochs, then to
    ~1e-3 (memorised); validation is lowest at epoch 3 and climbs 50 % by the end."""
    rng = np.random.default_rng(seed)
    e = np.arange(n)
    train = (3e-4 + 3.0 * np.exp(-e / 0.9) + 0.25 * np.exp(-e / 8.0)) * np.exp(0.08 * rng.standard_normal(n))
    val = 1.0 + 2.0 * np.exp(-e / 1.0) + 0.6 * (1 - np.exp(-np.clip(e - 3, 0, None) / 40.0))
    return _epoch_run("overfit-epochs", train, val * (1 + 0.01 * rng.standard_normal(n)), np.full(n, lr))


def make_one_spike(seed=0) -> Run:
    """Healthy curve with one isolated spike (4x the local level) that recovers at once: a hard batch."""
    run = make_healthy(seed=seed)
    y = run.series["train/loss"].values.copy()
    y[60] *= 4.0
    run.series["train/loss"] = Series.from_lists(run.series["train/loss"].steps, y)
    return run


def make_keras_running_mean(seed=0, lr=1e-2, per_epoch=40, epochs=20, k=5) -> Run:
    """Keras ``batch_loss``: the running mean of the batch losses over the current epoch, logged every
    ``k`` batches at the global batch number (1-based); it resets each epoch (a sawtooth)."""
    rng = np.random.default_rng(seed)
    total = per_epoch * epochs
    batch = (0.05 + 2.25 * np.exp(-np.arange(total) / 120.0)) * np.exp(0.3 * rng.standard_normal(total))
    g = np.arange(k, total + 1, k)  # global batch numbers logged
    running = np.array([batch[(i - 1) // per_epoch * per_epoch: i].mean() for i in g])
    run = Run(name="keras-running-mean", source="<generated:keras-running-mean>", format="generated")
    run.series["train/batch_loss"] = Series.from_lists(g, running)
    val = 0.15 + 1.6 * np.exp(-(np.arange(epochs) + 1) * per_epoch / 120.0)
    run.series["validation/epoch_loss"] = Series.from_lists(np.arange(epochs), val * (1 + 0.01 * rng.standard_normal(epochs)))
    run.series["train/epoch_learning_rate"] = Series.from_lists(np.arange(epochs), np.full(epochs, lr))
    run.roles.update({TRAIN_LOSS: "train/batch_loss", VAL_LOSS: "validation/epoch_loss", LR: "train/epoch_learning_rate"})
    return run


def make_acc_pinned_recovering(seed=0) -> Run:
    """Knocked above its start early (2.35 -> 2.46 after the first evaluation), the loss stays there for
    most of the run, then falls steadily back *onto* the chance level 2.30 while the accuracy never
    leaves the majority-class frequency: a recovery, not a slow learner."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    t = _t(n)
    shape = lambda u: np.where(u < 0.05, 2.35, np.where(u < 0.55, 2.46, 2.46 - (2.46 - 2.3026) * (u - 0.55) / 0.45))
    train = shape(t) * (1 + 0.004 * rng.standard_normal(n))
    val = shape(_t(EPOCHS)) + 0.002 * rng.standard_normal(EPOCHS)
    run = _run("acc-pinned-recovering", train, val, np.full(n, 1.0))
    return _with_val_acc(run, 0.1 + 0.002 * rng.integers(0, 2, EPOCHS))


def make_imbalanced_prior(seed=0) -> Run:
    """Binary task with 90 % negatives: the model learns the class prior (ln 2 = 0.69 -> H(0.9) = 0.33)
    and settles, while its accuracy stays at the majority rate 0.90 throughout: not a dead model."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    train = (0.325 + 0.368 * np.exp(-_t(n) / 0.1)) * (1 + 0.03 * rng.standard_normal(n))
    val = 0.33 + 0.3 * np.exp(-(np.arange(EPOCHS) + 1) / 2.0) + 0.002 * rng.standard_normal(EPOCHS)
    run = _run("imbalanced-prior", train, val, np.full(n, 1e-3))
    return _with_val_acc(run, 0.9 + 0.002 * rng.integers(0, 2, EPOCHS))


def make_frozen_too_low(seed=0, lr=5e-6) -> Run:
    """A rate ~100x too small (LoRA-like fine-tuning at chance, ln 4 = 1.386): the minibatch loss is flat
    noise, the validation loss falls by only 1e-4 of its level over the run, wobbling at the float32
    evaluation noise (~4e-6 of the level)."""
    n, evals = 12, 12
    rng = np.random.default_rng(seed)
    run = _run("frozen-too-low", 1.395 * (1 + 0.002 * rng.standard_normal(STEPS // K)), None,
               np.full(STEPS // K, lr))
    val = 1.3915 - 1.2e-4 * np.arange(evals) / (evals - 1) + 6e-6 * rng.standard_normal(evals)
    run.series["val/loss"] = Series.from_lists((np.arange(evals) + 1) * (STEPS // evals), val)
    run.roles[VAL_LOSS] = "val/loss"
    return run


def make_acc_gave_back(seed=0) -> Run:
    """The accuracy reached 0.30 in the first evaluations, then fell back to the majority-class 0.10 and
    stayed (a drop of 20 points: all it had gained), while the loss sits at chance."""
    rng = np.random.default_rng(seed)
    acc = np.r_[[0.22, 0.30, 0.29], np.full(EPOCHS - 3, 0.10)] + 0.002 * rng.integers(0, 2, EPOCHS)
    return _with_val_acc(make_stuck(seed=seed), acc)


def make_acc_last_eval_bad(seed=0) -> Run:
    """Healthy accuracy (0.5 -> 0.95) whose very last evaluation alone dropped to 0.65 (one bad batch of
    weights at the end): not a collapse."""
    acc = 0.95 - 0.45 * np.exp(-np.arange(EPOCHS) / 3)
    acc[-1] = 0.65
    return _with_val_acc(make_healthy(seed=seed), acc)



def _with_train_acc(run: Run, acc, tag="train/acc") -> Run:
    """The training accuracy logged at the train loss's steps (or one per epoch on an epoch-level run)."""
    from lrdoctor.model import TRAIN_ACC

    t = run.get(TRAIN_LOSS)
    acc = np.asarray(acc, dtype=float)
    run.series[tag] = Series.from_lists(t.steps[: len(acc)], acc[: len(t)])
    run.roles[TRAIN_ACC] = tag
    return run


def make_train_acc_broke_in_epoch_0(seed=0, n=20) -> Run:
    """Keras epoch means of a run that broke inside its first epoch: that epoch learned a little (accuracy
    0.23, loss mean 4.5 = the fall plus the explosion), every later one sits at chance (accuracy ~0.10,
    loss ~2.38 = ln 10 plus a little) -- the loss *fell* from epoch 0, only the accuracy tells."""
    rng = np.random.default_rng(seed)
    train = np.r_[4.5, 2.38 + 0.02 * rng.standard_normal(n - 1)]
    val = 2.38 + 0.02 * rng.standard_normal(n)
    run = _epoch_run("train-acc-broke", train, val, np.full(n, 1.0))
    return _with_train_acc(run, np.r_[0.23, 0.095 + 0.008 * rng.standard_normal(n - 1)])


def make_train_acc_gave_back(seed=0, n=30) -> Run:
    """Epoch-level training accuracy that climbed 0.12 -> 0.29 over three epochs, then fell back to
    ~0.15 and stayed (lost ~80 % of its gain), with the granularity of 100 training examples."""
    rng = np.random.default_rng(seed)
    acc = np.r_[[0.12, 0.17, 0.29, 0.29, 0.24], 0.15 + 0.02 * rng.standard_normal(n - 5)]
    train = np.r_[[60.0, 25.0, 2.3, 1.5, 0.9], 2.14 + 0.01 * rng.standard_normal(n - 5)]
    run = _epoch_run("train-acc-gave-back", train, 2.3 + 0.01 * rng.standard_normal(n), np.full(n, 0.3))
    return _with_train_acc(run, np.round(acc, 2))


def make_train_acc_rising_minibatch(seed=0) -> Run:
    """Healthy run with a minibatch training accuracy (batch 32: steps of 1/32) rising 0.1 -> 0.95."""
    run = make_healthy(seed=seed)
    rng = np.random.default_rng(seed + 7)
    n = len(run.get(TRAIN_LOSS))
    p = 0.95 - 0.85 * np.exp(-_t(n) / 0.125)
    return _with_train_acc(run, rng.binomial(32, p) / 32)


def make_train_acc_flat_minibatch(seed=0) -> Run:
    """A stuck run whose minibatch training accuracy is binomial noise around chance (0.1, batch 32) for
    the whole run: nothing learned, so nothing to give back."""
    run = make_stuck(seed=seed)
    rng = np.random.default_rng(seed + 7)
    return _with_train_acc(run, rng.binomial(32, 0.1, len(run.get(TRAIN_LOSS))) / 32)


def make_train_acc_overfit(seed=0) -> Run:
    """Overfitting: the training accuracy keeps rising to 1 while validation turns up."""
    run = make_overfit(seed=seed)
    n = len(run.get(TRAIN_LOSS))
    rng = np.random.default_rng(seed + 7)
    return _with_train_acc(run, np.clip(1.0 - 0.9 * np.exp(-_t(n) / 0.2) + 0.01 * rng.standard_normal(n), 0, 1))


def make_fast_learner(seed=0, lr=3e-2) -> Run:
    """An easy task: the untrained loss at step 0 (ln 3 = 1.1) falls 200x within a few logged points and
    settles near 0.005; validation follows.  Step 0 is where the run began, not an explosion."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    train = (0.005 + 1.094 * np.exp(-np.arange(n) / 0.7)) * np.exp(0.3 * rng.standard_normal(n))
    train[0] = 1.0986
    val = 0.02 + 0.03 * np.exp(-np.arange(EPOCHS) / 3.0) + 0.001 * rng.standard_normal(EPOCHS)
    return _run("fast-learner", train, val, np.full(n, lr))


def make_acc_falls_while_memorising(seed=0) -> Run:
    """Overfitting (make_overfit): the validation accuracy rises to 0.84, then slides to 0.69 as the model
    memorises noisy labels -- lost more than half its gain over the first evaluation, but not dead."""
    rng = np.random.default_rng(seed)
    e = np.arange(EPOCHS)
    acc = 0.58 + 0.26 * (1 - np.exp(-e / 1.5)) - 0.15 * np.clip((e - 5) / 10, 0, 1) + 0.003 * rng.standard_normal(EPOCHS)
    return _with_val_acc(make_overfit(seed=seed), acc)


def make_overfit_fast_epochs(seed=0, n=15) -> Run:
    """An easy task logged per epoch: the first epoch mean (0.31) averages the whole fast fall, the next
    ones are already at 0.06 -> 0.01; validation is best (0.10) at epoch 2, then rises 25 % as the train
    loss keeps falling."""
    rng = np.random.default_rng(seed)
    e = np.arange(n)
    train = (0.008 + 0.3 * np.exp(-e / 0.6) + 0.05 * np.exp(-e / 4)) * (1 + 0.02 * rng.standard_normal(n))
    val = 0.10 + 0.06 * np.exp(-e / 0.8) + 0.025 * np.clip((e - 2) / (n - 3), 0, 1) + 0.0005 * rng.standard_normal(n)
    return _epoch_run("overfit-fast-epochs", train, val, np.full(n, 0.3))


def make_noisy_minibatch_slow(seed=0, n=60) -> Run:
    """A rate far too low, logged as raw minibatch losses (Lightning's ``train_loss_step``): a 6 % fall
    buried in 2.5 % scatter, while the validation loss falls smoothly to its best at the very end.  The
    smoothed train curve's lowest point is an extreme of the noise, not progress later given back."""
    rng = np.random.default_rng(seed)
    t = _t(n)
    train = (1.06 - 0.06 * t) * (1 + 0.025 * rng.standard_normal(n))
    dip = slice(n // 2, n // 2 + 6)
    train[dip] *= 0.9  # a stretch of easy batches: the smoothed minimum sits there
    val = 1.05 - 0.07 * _t(EPOCHS) + 0.0005 * rng.standard_normal(EPOCHS)
    return _run("noisy-minibatch-slow", train, val, np.full(n, 3e-5))


def make_prior_slow_learner(seed=0) -> Run:
    """A 7-class imbalanced task at a rate too low to learn features yet: the loss slides from ln 7 = 1.95
    onto the class prior's entropy (~1.73, 11 % down; the first validation value is already 1.90), never
    rising on the way, while the accuracy sits at the majority share 0.346: not a model knocked dead."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    train = (1.73 + 0.22 * np.exp(-_t(n) / 0.15)) * (1 + 0.015 * rng.standard_normal(n))
    train[0] = 1.975
    val = 1.731 + 0.17 * np.exp(-np.arange(EPOCHS) / 3.0) + 0.0005 * rng.standard_normal(EPOCHS)
    run = _run("prior-slow-learner", train, val, np.full(n, 3e-3))
    return _with_val_acc(run, np.full(EPOCHS, 0.3458))


def make_blown_logits(seed=0) -> Run:
    """A 4-class run whose weights blew up before the first logged point: the minibatch loss starts in the
    hundreds and memorising drives it down to ~0.5, while the validation loss stays at 50-200 at 70-80 %
    accuracy -- 100+ nats per misclassified example, a probability no float32 softmax can hold."""
    n = STEPS // K
    rng = np.random.default_rng(seed)
    train = (0.5 + 500 * np.exp(-_t(n) / 0.2)) * np.exp(0.5 * rng.standard_normal(n))
    val = 100 * np.exp(0.3 * rng.standard_normal(EPOCHS))
    run = _run("blown-logits", train, val, np.full(n, 1.0))
    return _with_val_acc(run, 0.75 + 0.05 * rng.standard_normal(EPOCHS))


def make_label_smoothed_easy(seed=0) -> Run:
    """Fine-tuning on an easy 10-class task with label smoothing 0.2: 99.3-99.6 % validation accuracy from
    the first evaluation, and a smoothed cross-entropy that cannot go below ~0.8 nats -- loss / error rate
    above 100 at every evaluation, yet a sane model."""
    rng = np.random.default_rng(seed)
    run = make_healthy(seed=seed)
    e = np.arange(EPOCHS)
    run.series["val/loss"] = Series.from_lists(run.series["val/loss"].steps, 0.8 + 0.1 * np.exp(-e / 2.0))
    return _with_val_acc(run, 0.9945 - 0.001 * np.exp(-e / 2.0) + 0.0005 * rng.standard_normal(EPOCHS))


def make_step0_running_average(seed=0) -> Run:
    """A common logging loop: ``log(running_loss / log_every)`` at every ``log_every``-th step, so the
    point at step 0 holds one batch divided by the interval (1/5 of the untrained loss here); the run
    itself is healthy.  The step-0 point is no reference level for an explosion."""
    run = make_healthy(seed=seed)
    train = run.series["train/loss"]
    values = train.values.copy()
    values[0] /= K
    run.series["train/loss"] = Series.from_lists(train.steps, values)
    return run


def make_class_weighted_epochs(seed=0, n=30) -> Run:
    """Class weights on an imbalanced task, logged per epoch: plain training accuracy starts at the majority
    rate (0.90), dips to 0.80 while the weighted loss teaches the rare classes, recovers to 0.84; the
    weighted loss falls smoothly all along.  Still learning, not broken."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / (n - 1)
    train = 0.35 + 0.6 * np.exp(-t / 0.3) + 0.003 * rng.standard_normal(n)
    acc = 0.90 - 0.10 * np.sin(np.pi * np.minimum(t / 0.6, 0.5)) + 0.04 * np.clip((t - 0.3) / 0.7, 0, 1)
    run = _epoch_run("class-weighted", train, 0.40 + 0.55 * np.exp(-t / 0.3), np.full(n, 1e-3))
    return _with_train_acc(run, acc + 0.002 * rng.standard_normal(n))


def make_summed_val_loss(seed=0) -> Run:
    """A healthy classifier whose validation loop adds up the per-batch mean loss of 50 batches without
    dividing (``val_loss += loss.item()``): 12-110 "nats" at 93 % accuracy, while the train loss never
    went above 2.3."""
    run = make_healthy(seed=seed)
    v = run.series["val/loss"]
    run.series["val/loss"] = Series.from_lists(v.steps, 50 * v.values)
    e = np.arange(EPOCHS)
    return _with_val_acc(run, 0.93 - 0.8 * np.exp(-e / 1.5))
