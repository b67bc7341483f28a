"""The training behind sample_logs/: a small numpy MLP trained for real on scikit-learn's digits.

ReLU, softmax cross-entropy, minibatch SGD with momentum 0.9 (PyTorch's update rule), float32,
seeded.  ``train(spec, data, lr)`` returns a ``History`` of every optimizer step and epoch, which
bench/make_sample_logs.py writes in each log format; nothing here knows about formats.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

LOG_EVERY = 5              # k: train loss and LR are logged every k optimizer steps
CRASH_AFTER_INTERVALS = 4  # after the loss goes non-finite, log this many intervals, then stop
SWEEP_LRS = tuple(10 ** (e / 2) for e in range(-6, 1))  # 1e-3, 3.16e-3, ..., 1.0 (half decades)
SWEEP_EPOCHS = 10


@dataclass(frozen=True)
class Spec:
    """One sample run. `lr_factor` scales the LR picked by the sweep (used when `lr` is None)."""
    name: str
    fmt: str
    what: str
    epochs: int = SWEEP_EPOCHS
    lr: float | None = None
    lr_factor: float = 1.0
    hidden: tuple[int, ...] = (64,)
    batch: int = 32
    n_train: int | None = None   # use a subset of the training split
    flip_frac: float = 0.0       # share of the (subset) training labels replaced by a wrong class
    schedule: str = "constant"   # constant | warmup_cosine | range_test
    seed: int = 1


# ----------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def load_digits_split(n_train: int | None = None, flip_frac: float = 0.0, seed: int = 0) -> Data:
    """Digits, fixed stratified 70/30 split, pixels standardized with the training statistics."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    std[std == 0] = 1.0  # border pixels that are always 0
    x_tr, x_va = (x_tr - mean) / std, (x_va - mean) / std
    rng = np.random.default_rng(seed)
    if n_train is not None:
        keep = rng.choice(len(y_tr), size=n_train, replace=False)
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    y_tr = y_tr.copy()
    flip = rng.choice(len(y_tr), size=round(flip_frac * len(y_tr)), replace=False)
    y_tr[flip] = (y_tr[flip] + rng.integers(1, 10, size=len(flip))) % 10  # always a wrong class
    f32 = np.float32
    return Data(x_tr.astype(f32), y_tr, x_va.astype(f32), y_va)


# ------------------------------------------------------------------------------------------ model
class MLP:
    """ReLU MLP with He-initialised weights, softmax cross-entropy, SGD with momentum."""

    def __init__(self, sizes: tuple[int, ...], seed: int):
        rng = np.random.default_rng(seed)
        self.weights = [rng.normal(0, math.sqrt(2 / a), (a, b)).astype(np.float32)
                        for a, b in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(b, np.float32) for b in sizes[1:]]
        self.velocity = [np.zeros_like(p) for p in self.weights + self.biases]

    def _forward(self, x):
        acts = [x]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = acts[-1] @ w + b
            acts.append(np.maximum(z, 0) if i < len(self.weights) - 1 else z)
        return acts

    @staticmethod
    def _softmax_ce(logits, y):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_p[np.arange(len(y)), y].mean()
        acc = (logits.argmax(axis=1) == y).mean()
        return float(loss), float(acc), log_p

    def evaluate(self, x, y) -> tuple[float, float]:
        with np.errstate(all="ignore"):
            loss, acc, _ = self._softmax_ce(self._forward(x)[-1], y)
        return loss, acc

    def train_step(self, x, y, lr: float, momentum: float = 0.9) -> tuple[float, float, float]:
        """One SGD step; returns the minibatch loss, accuracy and gradient norm before the step."""
        with np.errstate(all="ignore"):  # a diverging run overflows on purpose
            acts = self._forward(x)
            loss, acc, log_p = self._softmax_ce(acts[-1], y)
            delta = np.exp(log_p)
            delta[np.arange(len(y)), y] -= 1
            delta /= len(y)
            grads_w, grads_b = [], []
            for i in reversed(range(len(self.weights))):
                grads_w.insert(0, acts[i].T @ delta)
                grads_b.insert(0, delta.sum(axis=0))
                if i:
                    delta = (delta @ self.weights[i].T) * (acts[i] > 0)
            grads = grads_w + grads_b
            grad_norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            for p, v, g in zip(self.weights + self.biases, self.velocity, grads):
                v *= momentum
                v += g
                p -= np.float32(lr) * v
        return loss, acc, grad_norm


# --------------------------------------------------------------------------------------- training
@dataclass
class History:
    steps: list[dict] = field(default_factory=list)   # one dict per optimizer step
    epochs: list[dict] = field(default_factory=list)  # one per epoch, the last maybe partial
    steps_per_epoch: int = 0
    runtime: float = 0.0


RANGE_END_LR, RANGE_STEPS = 10.0, 200  # the range test grows the LR exponentially up to 10


def lr_at(spec: Spec, base_lr: float, step: int, total: int) -> float:
    if spec.schedule == "warmup_cosine":
        warm = max(1, total // 10)
        if step < warm:
            return base_lr * (step + 1) / warm
        return 0.5 * base_lr * (1 + math.cos(math.pi * (step - warm) / (total - warm)))
    if spec.schedule == "range_test":
        return base_lr * (RANGE_END_LR / base_lr) ** (step / (total - 1))
    return base_lr


def _batches(n: int, batch: int, rng):
    order = rng.permutation(n)
    return [order[i:i + batch] for i in range(0, n, batch)]


def train(spec: Spec, data: Data, base_lr: float) -> History:
    """Train one run; after a non-finite loss it goes on briefly, then stops like a NaN check."""
    model = MLP((64, *spec.hidden, 10), seed=spec.seed)
    rng = np.random.default_rng(spec.seed + 1000)
    hist = History(steps_per_epoch=math.ceil(len(data.y_train) / spec.batch))
    total = RANGE_STEPS if spec.schedule == "range_test" else hist.steps_per_epoch * spec.epochs
    stop_at, t0, step = None, time.time(), 0
    for epoch in range(spec.epochs):
        losses, accs = [], []
        for idx in _batches(len(data.y_train), spec.batch, rng):
            lr = lr_at(spec, base_lr, step, total)
            loss, acc, gnorm = model.train_step(data.x_train[idx], data.y_train[idx], lr)
            hist.steps.append(dict(step=step, epoch=epoch, loss=loss, acc=acc, lr=lr,
                                   lr_after=lr_at(spec, base_lr, step + 1, total),
                                   grad_norm=gnorm, wall=time.time()))
            losses.append(loss), accs.append(acc)
            step += 1
            if stop_at is None and not math.isfinite(loss):
                stop_at = step + CRASH_AFTER_INTERVALS * LOG_EVERY
            if step in (stop_at, total) or _range_test_done(spec, hist):
                break
        _end_epoch(hist, model, data, epoch, step, losses, accs, lr)
        if step in (stop_at, total) or not hist.epochs[-1]["complete"]:
            break
    hist.runtime = time.time() - t0
    return hist


def _end_epoch(hist, model, data, epoch, step, losses, accs, lr):
    t0 = time.perf_counter()
    val_loss, val_acc = model.evaluate(data.x_val, data.y_val)
    hist.epochs.append(dict(epoch=epoch, step=step, train_loss=float(np.mean(losses)),
                            train_acc=float(np.mean(accs)), val_loss=val_loss, val_acc=val_acc,
                            lr=lr, complete=len(losses) == hist.steps_per_epoch, wall=time.time(),
                            eval_runtime=time.perf_counter() - t0))


def _range_test_done(spec: Spec, hist: History, beta: float = 0.98) -> bool:
    """lr_find's stop rule: debiased EMA of the loss above 4x its minimum, or a non-finite loss."""
    if spec.schedule != "range_test":
        return False
    avg, best = 0.0, math.inf
    for i, s in enumerate(hist.steps, start=1):
        if not math.isfinite(s["loss"]):
            return True
        avg = beta * avg + (1 - beta) * s["loss"]
        smooth = avg / (1 - beta ** i)
        best = min(best, smooth)
    return smooth > 4 * best


def sweep(data: Data) -> dict[float, float]:
    """Best validation loss per LR of the half-decade grid (same init and batch order for all)."""
    spec = Spec("sweep", "none", "sweep")
    best = {}
    for lr in SWEEP_LRS:
        vals = [e["val_loss"] for e in train(spec, data, lr).epochs]
        finite = [v for v in vals if math.isfinite(v)]
        best[lr] = min(finite) if finite else math.inf
    return best
