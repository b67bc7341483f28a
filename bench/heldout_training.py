"""Training for the held-out benchmark (bench/heldout.py): other tasks, nets and optimisers.

bench/sample_training.py trains one thing (a ReLU MLP on digits with SGD + momentum).  The
held-out suite needs variety the public suite does not have, so this module adds, in numpy:

* tasks: the data of suite a (wine, breast cancer, a 5-class ``make_classification`` problem,
  Friedman #1 regression, a noisy-label overfitting task); suites b, c and d are in
  heldout_suites.py;
* nets: any depth/width, ReLU or tanh, PyTorch's default ``nn.Linear`` initialisation;
* optimisers with PyTorch's update rules: plain SGD, SGD + momentum 0.9 (suites c, d), SGD +
  Nesterov momentum, Adam, AdamW and RMSprop;
* per-step schedules: constant, cosine, warmup_cosine and step (x0.1 at 50% and 75% of epochs).

``train(cfg, data, lr, seed)`` returns sample_training's ``History`` (one dict per optimizer step
and per epoch), so the writers see the same shape of record as for the sample logs.  Everything
is float32 and seeded; a run whose loss goes non-finite keeps training for 3-6 more logging
intervals (drawn from the seed) and then stops, like a NaN check.  ``run_facts`` and
``label_group`` apply the public README's labelling rules to the histories of one sweep.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from sample_training import Data, History, _batches

F32 = np.float32


# ------------------------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class Task:
    name: str
    loss: str                 # "ce" or "mse"
    hidden: tuple[int, ...]
    activation: str           # "relu" or "tanh"
    epochs: int
    log_every: int            # k: train loss and LR logged every k optimizer steps
    batch: int
    scenario: str = "sweep"   # sweep | overfit
    what: str = ""


def _split_standardize(x, y, classify: bool, test_size: float = 0.3, n_train: int | None = None,
                       flip_frac: float = 0.0, n_classes: int = 0, split_seed: int = 0) -> Data:
    """Fixed 70/30 split (stratified for classification), X standardized with train statistics;
    regression targets standardized too.  Optional train subset and wrong-label share.
    split_seed draws the split, the subset and the wrong labels (0 for suite a)."""
    from sklearn.model_selection import train_test_split

    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=test_size, random_state=split_seed,
                                              stratify=y if classify else None)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    std[std == 0] = 1.0
    x_tr, x_va = (x_tr - mean) / std, (x_va - mean) / std
    rng = np.random.default_rng(split_seed)
    if n_train is not None:
        keep = rng.choice(len(y_tr), size=n_train, replace=False)
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    if classify:
        y_tr = y_tr.copy()
        flip = rng.choice(len(y_tr), size=round(flip_frac * len(y_tr)), replace=False)
        y_tr[flip] = (y_tr[flip] + rng.integers(1, n_classes, size=len(flip))) % n_classes
        return Data(x_tr.astype(F32), y_tr.astype(int), x_va.astype(F32), y_va.astype(int))
    y_mean, y_std = y_tr.mean(), y_tr.std()
    return Data(x_tr.astype(F32), ((y_tr - y_mean) / y_std).astype(F32),
                x_va.astype(F32), ((y_va - y_mean) / y_std).astype(F32))


def load_task_data(name: str) -> Data:
    from sklearn import datasets

    if name == "wine_tanh":
        x, y = datasets.load_wine(return_X_y=True)
        return _split_standardize(x, y, True)
    if name == "cancer_deep":
        x, y = datasets.load_breast_cancer(return_X_y=True)
        return _split_standardize(x, y, True)
    if name == "synth5_mlp":
        x, y = datasets.make_classification(n_samples=1500, n_features=20, n_informative=10,
                                            n_redundant=4, n_classes=5, n_clusters_per_class=2,
                                            class_sep=1.5, flip_y=0.03, random_state=0)
        return _split_standardize(x, y, True)
    if name == "friedman_mlp":
        x, y = datasets.make_friedman1(n_samples=700, n_features=10, noise=1.0, random_state=0)
        return _split_standardize(x, y, False)
    if name == "synth_overfit":
        x, y = datasets.make_classification(n_samples=800, n_features=20, n_informative=6,
                                            n_redundant=2, n_classes=4, class_sep=2.0,
                                            random_state=1)
        return _split_standardize(x, y, True, n_train=150, flip_frac=0.2, n_classes=4)
    raise ValueError(f"unknown task {name}")


def baseline_loss(data: Data, loss: str) -> float:
    """Validation loss of the best constant predictor fitted on the training set."""
    if loss == "mse":
        return float(np.mean((data.y_val - data.y_train.mean()) ** 2))
    n_classes = int(max(data.y_train.max(), data.y_val.max())) + 1
    freq = np.bincount(data.y_train, minlength=n_classes) / len(data.y_train)
    return float(-np.mean(np.log(np.maximum(freq[data.y_val], 1e-12))))


# ------------------------------------------------------------------------------------------- model
class Net:
    """MLP with PyTorch's default Linear init (kaiming_uniform a=sqrt(5): U(+-1/sqrt(fan_in)))."""

    def __init__(self, sizes: tuple[int, ...], activation: str, loss: str, seed: int):
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for a, b in zip(sizes[:-1], sizes[1:]):
            bound = 1 / math.sqrt(a)
            self.weights.append(rng.uniform(-bound, bound, (a, b)).astype(F32))
            self.biases.append(rng.uniform(-bound, bound, b).astype(F32))
        self.activation, self.loss = activation, loss

    @property
    def params(self) -> list[np.ndarray]:
        return self.weights + self.biases

    def _act(self, z):
        return np.tanh(z) if self.activation == "tanh" else np.maximum(z, 0)

    def _act_grad(self, a):
        return 1 - a * a if self.activation == "tanh" else (a > 0)

    def _forward(self, x):
        acts = [x]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = acts[-1] @ w + b
            acts.append(self._act(z) if i < len(self.weights) - 1 else z)
        return acts

    def _loss_and_delta(self, out, y):
        """Mean loss, accuracy (NaN for regression) and dLoss/dOutput."""
        if self.loss == "mse":
            err = out[:, 0] - y
            return float(np.mean(err * err)), math.nan, (2 * err / len(y))[:, None]
        shifted = out - out.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-log_p[np.arange(len(y)), y].mean())
        delta = np.exp(log_p)
        delta[np.arange(len(y)), y] -= 1
        return loss, float((out.argmax(axis=1) == y).mean()), delta / len(y)

    def evaluate(self, x, y) -> tuple[float, float]:
        with np.errstate(all="ignore"):
            loss, acc, _ = self._loss_and_delta(self._forward(x)[-1], y)
        return loss, acc

    def gradients(self, x, y):
        """Minibatch loss, accuracy and the gradients (weights then biases)."""
        acts = self._forward(x)
        loss, acc, delta = self._loss_and_delta(acts[-1], y)
        grads_w, grads_b = [], []
        for i in reversed(range(len(self.weights))):
            grads_w.insert(0, acts[i].T @ delta)
            grads_b.insert(0, delta.sum(axis=0))
            if i:
                delta = (delta @ self.weights[i].T) * self._act_grad(acts[i])
        return loss, acc, grads_w + grads_b


# -------------------------------------------------------------------------------------- optimisers
class Optimizer:
    """PyTorch's update rules for SGD (plain / momentum / Nesterov), Adam, AdamW and RMSprop."""

    TORCH_NAMES = {"sgd": "SGD", "nesterov": "SGD", "momentum": "SGD", "adam": "Adam",
                   "adamw": "AdamW", "rmsprop": "RMSprop"}

    def __init__(self, kind: str, params: list[np.ndarray]):
        self.kind, self.t = kind, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, params, grads, lr: float) -> None:
        self.t += 1
        lr32 = F32(lr)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            if self.kind == "sgd":
                p -= lr32 * g
            elif self.kind == "nesterov":          # momentum 0.9, dampening 0, nesterov=True
                m *= F32(0.9)
                m += g
                p -= lr32 * (g + F32(0.9) * m)
            elif self.kind == "momentum":          # momentum 0.9, dampening 0 (suites c, d)
                m *= F32(0.9)
                m += g
                p -= lr32 * m
            elif self.kind == "rmsprop":           # alpha 0.99, eps 1e-8
                v *= F32(0.99)
                v += F32(0.01) * g * g
                p -= lr32 * g / (np.sqrt(v) + F32(1e-8))
            else:                                  # adam / adamw: betas (0.9, 0.999), eps 1e-8
                if self.kind == "adamw":           # decoupled weight decay 0.01
                    p *= F32(1 - lr * 0.01)
                m *= F32(0.9)
                m += F32(0.1) * g
                v *= F32(0.999)
                v += F32(0.001) * g * g
                m_hat = m / F32(1 - 0.9 ** self.t)
                v_hat = v / F32(1 - 0.999 ** self.t)
                p -= lr32 * m_hat / (np.sqrt(v_hat) + F32(1e-8))


def lr_at(schedule: str, base_lr: float, step: int, total: int, steps_per_epoch: int,
          epochs: int) -> float:
    """The per-step LR of the four public schedules."""
    if schedule == "cosine":
        return 0.5 * base_lr * (1 + math.cos(math.pi * min(step, total) / total))
    if schedule == "warmup_cosine":
        warm = max(1, total // 10)
        if step < warm:
            return base_lr * (step + 1) / warm
        return 0.5 * base_lr * (1 + math.cos(math.pi * min(step - warm, total - warm)
                                             / (total - warm)))
    if schedule == "step":
        epoch = step // steps_per_epoch
        return base_lr * (0.1 ** ((epoch >= epochs // 2) + (epoch >= (3 * epochs) // 4)))
    return base_lr


# ---------------------------------------------------------------------------------------- training
def train(task: Task, data: Data, optimizer: str, schedule: str, base_lr: float,
          seed: int) -> History:
    """Train one run; after a non-finite loss it goes on for 3-6 logging intervals, then stops."""
    n_out = 1 if task.loss == "mse" else int(data.y_train.max()) + 1
    net = Net((data.x_train.shape[1], *task.hidden, n_out), task.activation, task.loss, seed)
    opt = Optimizer(optimizer, net.params)
    rng = np.random.default_rng(seed + 1000)
    crash_intervals = int(np.random.default_rng([seed, round(1e9 * base_lr)]).integers(3, 7))
    spe = math.ceil(len(data.y_train) / task.batch)
    hist = History(steps_per_epoch=spe)
    total, k = spe * task.epochs, task.log_every
    stop_at, t0, step = None, time.time(), 0
    lr_of = lambda s: lr_at(schedule, base_lr, s, total, spe, task.epochs)  # noqa: E731
    for epoch in range(task.epochs):
        losses, accs = [], []
        for idx in _batches(len(data.y_train), task.batch, rng):
            lr = lr_of(step)
            with np.errstate(all="ignore"):  # a diverging run overflows on purpose
                loss, acc, grads = net.gradients(data.x_train[idx], data.y_train[idx])
                gnorm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
                opt.step(net.params, grads, lr)
            hist.steps.append(dict(step=step, epoch=epoch, loss=loss, acc=acc, lr=lr,
                                   lr_after=lr_of(step + 1), grad_norm=gnorm, wall=time.time()))
            losses.append(loss), accs.append(acc)
            step += 1
            if stop_at is None and not math.isfinite(loss):
                stop_at = step + crash_intervals * k
            if step in (stop_at, total):
                break
        _end_epoch(hist, net, data, epoch, step, losses, accs, lr)
        if step in (stop_at, total) or not hist.epochs[-1]["complete"]:
            break
    hist.runtime = time.time() - t0
    return hist


def _end_epoch(hist, net, data, epoch, step, losses, accs, lr):
    t0 = time.perf_counter()
    val_loss, val_acc = net.evaluate(data.x_val, data.y_val)
    with np.errstate(all="ignore"):
        train_loss = float(np.mean(losses))
    hist.epochs.append(dict(epoch=epoch, step=step, train_loss=train_loss,
                            train_acc=float(np.mean(accs)), val_loss=val_loss, val_acc=val_acc,
                            lr=lr, complete=len(losses) == hist.steps_per_epoch, wall=time.time(),
                            eval_runtime=time.perf_counter() - t0))


# -------------------------------------------------------------------------------------- labelling
def run_facts(hist, baseline: float) -> dict:
    """best_val, diverged, overfit and the other per-run columns, by the public README."""
    epochs = [e for e in hist.epochs if e["complete"]]
    vals = [e["val_loss"] for e in epochs]
    finite = [v for v in vals if math.isfinite(v)]
    best_val = min(finite) if finite else math.inf
    best_epoch = vals.index(best_val) if finite else -1
    losses = np.array([s["loss"] for s in hist.steps], dtype=float)
    init, final = float(np.median(losses[:10])), float(np.median(losses[-10:]))
    nonfinite = (not np.all(np.isfinite(losses))
                 or not all(math.isfinite(e["val_loss"]) for e in hist.epochs))
    diverged = (nonfinite or final > 1.2 * init or final > 2 * baseline
                or best_val > 2 * baseline)
    return dict(best_val=best_val, best_epoch=best_epoch, diverged=diverged,
                overfit=is_overfit(epochs, nonfinite, baseline), epochs_completed=len(epochs),
                n_steps=len(hist.steps), init_train_loss=init, final_train_loss=final,
                baseline=baseline)


def is_overfit(epochs: list[dict], nonfinite: bool, baseline: float) -> bool:
    n = len(epochs)
    if nonfinite or n < 5:
        return False
    vals = [e["val_loss"] for e in epochs]
    best = min(vals)
    b = vals.index(best)
    final_val, final_train = vals[-1], epochs[-1]["train_loss"]
    return (best < baseline and b <= n - 1 - max(2, math.ceil(0.2 * n))
            and final_val > 1.10 * best and final_val - best > 0.01 * baseline
            and final_train < epochs[b]["train_loss"] and final_train < final_val)


def label_group(rows: list[dict]) -> None:
    """lr_star, tolerance and truth for the runs of one group (one task/opt/schedule/seed)."""
    rows.sort(key=lambda r: r["lr"])
    star = min(rows, key=lambda r: (r["best_val"], r["lr"]))
    best, base = star["best_val"], star["baseline"]
    tol = 0.05 * abs(best) + 0.05 * max(base - best, 0.0)
    for r in rows:
        r["ok"] = r["best_val"] - best <= tol and not (r["diverged"] and r["lr"] > star["lr"])
    ok_lrs = [r["lr"] for r in rows if r["ok"]]
    for r in rows:
        inside = ok_lrs and min(ok_lrs) < r["lr"] < max(ok_lrs) and not r["diverged"]
        r["truth"] = ("ok" if r["ok"] or inside else
                      "too_high" if r["lr"] > star["lr"] else "too_low")
        r.update(lr_star=star["lr"], group_best=best, tolerance=tol)
