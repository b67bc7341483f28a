"""The task and sweep definitions of the held-out benchmark suites (bench/heldout.py --suite).

* Suite ``a`` is the first held-out suite (wine, breast cancer, 5-class synthetic, Friedman #1,
  a noisy-label subset).  Its misses are now used to develop the rules.
* Suite ``b`` is kept for validation.  It shares nothing with suite a except the code: other data
  (moons, iris, an imbalanced 7-class problem, Friedman #3, overlapping blobs with wrong labels),
  other nets, other (optimizer, schedule) pairs per task, other split, init, batch-order and format
  seeds.  The labelling code and the six log formats are the same.

A group is (task, optimizer, schedule, lowest and highest half-decade exponent: LR = 10 ** (e/2)).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from heldout_training import Data, Task, _split_standardize, load_task_data


@dataclass(frozen=True)
class Suite:
    name: str
    seed: int                          # run-id / format shuffle and the writers' random choices
    seeds: tuple[int, ...]             # training seeds: initial weights and batch order
    tasks: dict[str, Task]
    groups: tuple[tuple[str, str, str, int, int], ...]
    load: Callable[[str], Data]        # task name -> its fixed split


# ------------------------------------------------------------------------------------------ suite a
SUITE_A = Suite("a", 0, (0, 1), {t.name: t for t in (
    Task("wine_tanh", "ce", (16,), "tanh", 30, 4, 16, what="wine, 13-16-3 tanh"),
    Task("cancer_deep", "ce", (64, 64, 64), "relu", 15, 10, 16,
         what="breast cancer (binary), 30-64-64-64-2 ReLU"),
    Task("synth5_mlp", "ce", (32, 32), "tanh", 20, 5, 32,
         what="make_classification 5 classes, 20-32-32-5 tanh"),
    Task("friedman_mlp", "mse", (64, 64), "relu", 25, 5, 16,
         what="make_friedman1 regression, 10-64-64-1 ReLU, MSE"),
    Task("synth_overfit", "ce", (256, 256), "relu", 100, 5, 16, "overfit",
         what="150 samples of a 4-class make_classification, 20% wrong labels, 20-256-256-4"),
)}, (
    ("wine_tanh", "sgd", "constant", -6, 3),
    ("wine_tanh", "rmsprop", "cosine", -9, 0),
    ("cancer_deep", "nesterov", "warmup_cosine", -8, 1),
    ("cancer_deep", "adamw", "step", -9, 1),
    ("cancer_deep", "sgd", "cosine", -6, 2),
    ("synth5_mlp", "adam", "constant", -9, 0),
    ("synth5_mlp", "sgd", "step", -5, 3),
    ("friedman_mlp", "rmsprop", "constant", -10, 0),
    ("friedman_mlp", "nesterov", "cosine", -8, 1),
    ("friedman_mlp", "adamw", "warmup_cosine", -9, 0),
    ("synth_overfit", "nesterov", "constant", -7, 1),
    ("synth_overfit", "adamw", "constant", -9, 0),
), load_task_data)


# ------------------------------------------------------------------------------------------ suite b
SPLIT_SEED_B = 7  # train/val split and the noisy-label draw of suite b


def load_suite_b(name: str) -> Data:
    from sklearn import datasets

    split = dict(split_seed=SPLIT_SEED_B)
    if name == "moons_relu":
        x, y = datasets.make_moons(n_samples=1000, noise=0.3, random_state=11)
        return _split_standardize(x, y, True, **split)
    if name == "iris_tanh":
        x, y = datasets.load_iris(return_X_y=True)
        return _split_standardize(x, y, True, **split)
    if name == "imb7_deep":  # imbalanced: the largest class is 9x the smallest
        x, y = datasets.make_classification(
            n_samples=2400, n_features=24, n_informative=12, n_redundant=4, n_classes=7,
            n_clusters_per_class=1, weights=[0.35, 0.2, 0.15, 0.1, 0.1, 0.06, 0.04],
            class_sep=1.2, flip_y=0.02, random_state=12)
        return _split_standardize(x, y, True, **split)
    if name == "friedman3_tanh":
        x, y = datasets.make_friedman3(n_samples=900, noise=0.1, random_state=13)
        return _split_standardize(x, y, False, **split)
    if name == "blobs_overfit":  # overlapping blobs: learnable, then the wrong labels get learnt
        x, y = datasets.make_blobs(n_samples=900, n_features=10, centers=4, cluster_std=3.5,
                                   random_state=14)
        return _split_standardize(x, y, True, n_train=200, flip_frac=0.25, n_classes=4, **split)
    raise ValueError(f"unknown suite-b task {name}")


SUITE_B = Suite("b", 1, (20, 21), {t.name: t for t in (
    Task("moons_relu", "ce", (32, 32), "relu", 25, 5, 32,
         what="make_moons (binary, noise 0.3), 2-32-32-2 ReLU"),
    Task("iris_tanh", "ce", (128,), "tanh", 40, 3, 8, what="iris (3 classes), 4-128-3 tanh"),
    Task("imb7_deep", "ce", (16, 16, 16, 16), "relu", 20, 6, 48,
         what="imbalanced 7-class make_classification, 24-16-16-16-16-7 ReLU"),
    Task("friedman3_tanh", "mse", (32, 32), "tanh", 30, 4, 24,
         what="make_friedman3 regression, 4-32-32-1 tanh, MSE"),
    Task("blobs_overfit", "ce", (512,), "relu", 80, 5, 16, "overfit",
         what="200 samples of 4 overlapping make_blobs, 25% wrong labels, 10-512-4 ReLU"),
)}, (
    ("moons_relu", "adamw", "step", -7, 2),
    ("moons_relu", "nesterov", "constant", -7, 2),
    ("iris_tanh", "sgd", "warmup_cosine", -6, 3),
    ("iris_tanh", "adam", "cosine", -8, 2),
    ("imb7_deep", "rmsprop", "step", -8, 1),
    ("imb7_deep", "nesterov", "cosine", -7, 2),
    ("imb7_deep", "adam", "warmup_cosine", -8, 1),
    ("friedman3_tanh", "sgd", "constant", -7, 1),
    ("friedman3_tanh", "adamw", "cosine", -7, 4),
    ("friedman3_tanh", "rmsprop", "warmup_cosine", -9, 1),
    ("blobs_overfit", "adam", "constant", -9, 0),
    ("blobs_overfit", "rmsprop", "constant", -10, 0),
), load_suite_b)

SUITES = {s.name: s for s in (SUITE_A, SUITE_B)}
