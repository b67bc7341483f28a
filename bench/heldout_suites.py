"""The task and sweep definitions of the held-out benchmark suites (bench/heldout.py --suite).

* Suite ``a`` is the first held-out suite (wine, breast cancer, 5-class synthetic, Friedman #1,
  a noisy-label subset).  Its misses are now used to develop the rules.
* Suite ``b`` is kept for validation.  It shares nothing with suite a except the code: other data
  (moons, iris, an imbalanced 7-class problem, Friedman #3, overlapping blobs with wrong labels),
  other nets, other (optimizer, schedule) pairs per task, other split, init, batch-order and format
  seeds.  The labelling code and the six log formats are the same.  Its misses have since been
  used to develop the rules too.
* Suite ``c`` is the final validation: do not tune rules on its misses.  Again new data (circles,
  Gaussian quantiles, two generated regressions, a 3-class noisy-label subset), new nets, batch
  sizes 8/64/128, SGD with plain momentum 0.9 (in neither a nor b), the two (optimizer, schedule)
  pairs a and b lack (nesterov/step, adam/step), and new split, init, batch-order, data and format
  seeds.
* Suite ``d`` is the last validation, added once a, b and c had all been looked at: run it on the
  finished rules, do not tune on it.  New data (15 classes, Hastie's 10-d binary problem,
  Friedman #2, a swiss-roll coordinate, a noisy-label subset of wine), new nets (1x512 ReLU, 5x32
  tanh, a 128-8-128 bottleneck, a tapering 200-50 tanh), batch sizes 8-256, new pairings of all
  six optimisers with the four schedules, and new split, init, batch-order, data and format seeds.

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

# ------------------------------------------------------------------------------------------ suite c
SPLIT_SEED_C = 3  # train/val split and the noisy-label draw of suite c


def load_suite_c(name: str) -> Data:
    from sklearn import datasets

    split = dict(split_seed=SPLIT_SEED_C)
    if name == "circles_deep6":
        x, y = datasets.make_circles(n_samples=1500, noise=0.15, factor=0.5, random_state=41)
        return _split_standardize(x, y, True, **split)
    if name == "quantiles5_tanh":  # 5 concentric shells in 6-d: needs a curved boundary
        x, y = datasets.make_gaussian_quantiles(n_samples=2500, n_features=6, n_classes=5,
                                                random_state=42)
        return _split_standardize(x, y, True, **split)
    if name == "sparse_reg":  # y = x0 + 2 x1 - 2 x2 - 1.5 x3 + N(0, 1); 8 useless features
        x, y = datasets.make_sparse_uncorrelated(n_samples=900, n_features=12, random_state=43)
        return _split_standardize(x, y, False, **split)
    if name == "noisy_reg_tanh":  # linear signal, noise about 20% of the target's variance
        x, y = datasets.make_regression(n_samples=1000, n_features=20, n_informative=8,
                                        noise=80.0, random_state=44)
        return _split_standardize(x, y, False, **split)
    if name == "cls3_overfit":  # 120 samples, 30% wrong labels, a wide net that memorises them
        x, y = datasets.make_classification(n_samples=700, n_features=16, n_informative=6,
                                            n_redundant=2, n_classes=3, class_sep=1.8,
                                            random_state=45)
        return _split_standardize(x, y, True, n_train=120, flip_frac=0.3, n_classes=3, **split)
    raise ValueError(f"unknown suite-c task {name}")


SUITE_C = Suite("c", 2, (30, 31), {t.name: t for t in (
    Task("circles_deep6", "ce", (24,) * 6, "relu", 30, 4, 64,
         what="make_circles (binary, noise 0.15), 2-24x6-2 ReLU, six narrow layers"),
    Task("quantiles5_tanh", "ce", (256, 256), "tanh", 40, 2, 128,
         what="make_gaussian_quantiles (5 classes, 6-d), 6-256-256-5 tanh"),
    Task("sparse_reg", "mse", (40, 40, 40), "relu", 12, 10, 8,
         what="make_sparse_uncorrelated regression, 12-40-40-40-1 ReLU, MSE, batch 8"),
    Task("noisy_reg_tanh", "mse", (32, 32, 32), "tanh", 40, 2, 64,
         what="make_regression (noise 80), 20-32-32-32-1 tanh, MSE"),
    Task("cls3_overfit", "ce", (384, 384), "relu", 100, 5, 8, "overfit",
         what="120 samples of a 3-class make_classification, 30% wrong labels, 16-384-384-3"),
)}, (
    ("circles_deep6", "momentum", "step", -5, 3),
    ("circles_deep6", "adam", "step", -8, 1),
    ("circles_deep6", "rmsprop", "warmup_cosine", -9, -1),
    ("quantiles5_tanh", "nesterov", "step", -6, 2),
    ("quantiles5_tanh", "momentum", "cosine", -6, 2),
    ("quantiles5_tanh", "adamw", "constant", -9, 0),
    ("sparse_reg", "sgd", "warmup_cosine", -6, 2),
    ("sparse_reg", "momentum", "warmup_cosine", -8, 1),
    ("noisy_reg_tanh", "momentum", "constant", -8, 0),
    ("noisy_reg_tanh", "adam", "cosine", -8, 2),
    ("noisy_reg_tanh", "sgd", "step", -6, 2),
    ("cls3_overfit", "sgd", "constant", -7, 2),
    ("cls3_overfit", "adamw", "cosine", -9, 0),
), load_suite_c)

# ------------------------------------------------------------------------------------------ suite d
SPLIT_SEED_D = 9  # train/val split and the noisy-label draw of suite d


def load_suite_d(name: str) -> Data:
    from sklearn import datasets

    split = dict(split_seed=SPLIT_SEED_D)
    if name == "cls15_wide":  # many classes, informative + redundant features, a little noise
        x, y = datasets.make_classification(
            n_samples=3000, n_features=30, n_informative=14, n_redundant=8, n_classes=15,
            n_clusters_per_class=1, class_sep=1.5, flip_y=0.02, random_state=61)
        return _split_standardize(x, y, True, **split)
    if name == "hastie_tanh5":  # y = 1 iff sum(x_i^2) > 9.34: a spherical boundary in 10-d
        x, y = datasets.make_hastie_10_2(n_samples=2000, random_state=62)
        return _split_standardize(x, (y > 0).astype(int), True, **split)
    if name == "friedman2_bneck":  # impedance of an AC circuit; noise ~10% of y's variance
        x, y = datasets.make_friedman2(n_samples=800, noise=120.0, random_state=63)
        return _split_standardize(x, y, False, **split)
    if name == "swissroll_reg":  # the position along a noisy swiss roll from its 3-d point
        x, t = datasets.make_swiss_roll(n_samples=2500, noise=0.5, random_state=64)
        return _split_standardize(x, t, False, **split)
    if name == "wine_overfit":  # 100 wine samples, 25% wrong labels, a wide net memorises them
        x, y = datasets.load_wine(return_X_y=True)
        return _split_standardize(x, y, True, n_train=100, flip_frac=0.25, n_classes=3, **split)
    raise ValueError(f"unknown suite-d task {name}")


SUITE_D = Suite("d", 4, (50, 51), {t.name: t for t in (
    Task("cls15_wide", "ce", (512,), "relu", 20, 2, 128,
         what="make_classification (15 classes), 30-512-15 ReLU, one wide layer, batch 128"),
    Task("hastie_tanh5", "ce", (32,) * 5, "tanh", 25, 5, 32,
         what="make_hastie_10_2 (binary), 10-32x5-2 tanh, five layers"),
    Task("friedman2_bneck", "mse", (128, 8, 128), "relu", 30, 4, 16,
         what="make_friedman2 regression, 4-128-8-128-1 ReLU (bottleneck), MSE"),
    Task("swissroll_reg", "mse", (200, 50), "tanh", 60, 2, 256,
         what="make_swiss_roll position regression, 3-200-50-1 tanh, MSE, batch 256"),
    Task("wine_overfit", "ce", (256, 256), "relu", 100, 5, 8, "overfit",
         what="100 wine samples, 25% wrong labels, 13-256-256-3 ReLU, batch 8"),
)}, (
    ("cls15_wide", "rmsprop", "cosine", -9, 0),
    ("cls15_wide", "momentum", "step", -6, 2),
    ("cls15_wide", "adamw", "warmup_cosine", -8, 0),
    ("hastie_tanh5", "sgd", "cosine", -4, 4),
    ("hastie_tanh5", "nesterov", "step", -6, 3),
    ("hastie_tanh5", "adam", "warmup_cosine", -9, -1),
    ("friedman2_bneck", "adam", "step", -10, 0),
    ("friedman2_bneck", "rmsprop", "step", -10, -1),
    ("friedman2_bneck", "momentum", "cosine", -8, 1),
    ("swissroll_reg", "nesterov", "warmup_cosine", -7, 1),
    ("swissroll_reg", "sgd", "constant", -6, 2),
    ("wine_overfit", "momentum", "constant", -6, 2),
    ("wine_overfit", "adamw", "constant", -9, 0),
), load_suite_d)

SUITES = {s.name: s for s in (SUITE_A, SUITE_B, SUITE_C, SUITE_D)}
