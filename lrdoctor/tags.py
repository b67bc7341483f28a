"""Raw tag names -> roles (train_loss, val_loss, lr, train_acc, val_acc, grad_norm).

How a tag is read (see docs/reading.md for the full rules):

* the name is lower-cased and split into words on ``/ _ - . space`` (``val/rmse_loss`` ->
  val, rmse, loss).  The *phase* comes from any word: val/valid/validation/eval/evaluation
  (or test/dev, ranked lower) make it validation, otherwise it is train.  The *kind* comes from
  the last path component: a ``loss`` word, ``acc``/``accuracy``/``top1``, ``lr`` or
  ``learning rate``, ``grad norm``.
* within a role, candidates are ranked: a plain name (``loss``, ``train/loss``, ``val_loss``,
  ``epoch_loss``) beats a qualified one (``total_loss``, then ``nll_loss``/``value_loss``);
  then, for validation curves, the one on the same step axis as the chosen train loss
  (``epoch``-named with ``epoch``-named, others with others); then the curve with more points
  (a step-level train loss over an epoch-level one); then the shorter name, then alphabetical.
* never a role: single-value tags (``hp_metric``, ``hparam/*``, HF's end-of-training
  ``train/train_loss`` and ``summary/*``), and LR look-alikes (exploration rate, clip range,
  momentum, ``global_step/sec``).
* overrides (role -> tag names or glob patterns, from the CLI/config) win when they match.
"""
from __future__ import annotations

import fnmatch
import re
from typing import Mapping, Sequence

import numpy as np

from .model import GRAD_NORM, LR, TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_LOSS, Run, Series

_VAL_WORDS = {"val", "valid", "validation", "eval", "evaluation"}
_TEST_WORDS = {"test", "dev"}
_TRAIN_WORDS = {"train", "training"}
_GRANULARITY_WORDS = {"step", "steps", "batch", "iter", "iters", "iteration", "iterations", "vs", "epoch", "epochs"}
_NOT_LR_WORDS = {"momentum", "exploration", "clip", "sec", "decay", "beta", "betas", "scale", "ratio", "factor"}
_NEVER = re.compile(r"^(hp_metric|hparams?/.*|summary/.*|train/train_loss|train/train_runtime|.*/hp_metric)$")
_LR_HPARAM_WORDS = ("lr", "learning_rate", "learningrate")
_PHASE_OR_GRANULARITY = _VAL_WORDS | _TEST_WORDS | _TRAIN_WORDS | _GRANULARITY_WORDS


# camelCase and PascalCase names (``TrainLoss``, ``valLoss``, ``MSELoss``, ``F1Score``) are words too (found on
# blind-labelled real logs: a CSV of ``TrainLoss,ValLoss`` was set aside as holding no loss).  A single
# lower-case letter before a capital is no word of its own: ``mAP``.
_CAMEL = re.compile(r"(?<=[a-z]{2})(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2})|(?<=[0-9])(?=[A-Z][a-z])")


def words(tag: str) -> list[str]:
    """``"train/MSELoss_epoch"`` -> ``["train", "mse", "loss", "epoch"]``."""
    return [w for w in re.split(r"[/_\-.\s]+", _CAMEL.sub(" ", tag).lower()) if w]


def _phase(tag: str) -> str:
    ws = set(words(tag))
    if ws & _VAL_WORDS:
        return "val"
    if ws & _TEST_WORDS:
        return "test"
    return "train"


def _last_component(tag: str) -> str:
    """The part of the name that says what it is: the last path component, skipping a
    param-group suffix (``lr-Adam/pg1``) and falling back to the whole name when the last
    component is only a phase (``Loss/train``)."""
    parts = [p for p in tag.split("/") if p]  # the case kept: words() reads camelCase
    while len(parts) > 1 and re.fullmatch(r"pg\d+|group\d+", parts[-1].lower()):
        parts.pop()
    if parts and all(w in _PHASE_OR_GRANULARITY for w in words(parts[-1])):
        return "/".join(parts)
    return parts[-1] if parts else ""


def _core(tag: str) -> list[str]:
    """Words of the last component minus phase and granularity words."""
    return _without_phase(words(_last_component(tag)))


def _without_phase(ws: list[str]) -> list[str]:
    return [w for w in ws if w not in _PHASE_OR_GRANULARITY]


def _is_lr(ws: list[str]) -> bool:
    if set(ws) & _NOT_LR_WORDS:
        return False
    joined = "_".join(ws)
    # YOLO logs one rate per parameter group as x/lr0, x/lr1, x/lr2.
    return "lr" in ws or "learning_rate" in joined or "learningrate" in ws or any(re.fullmatch(r"lr\d", w) for w in ws)


def classify(tag: str) -> tuple[str, int] | None:
    """(role, rank) for a tag name, lower rank = better; None when it has no role."""
    if _NEVER.match(tag.lower()):
        return None
    last_words = words(_last_component(tag))
    core = _without_phase(last_words)
    phase = _phase(tag)
    test_penalty = 3 if phase == "test" else 0
    if _is_lr(last_words):
        return LR, (1 if re.search(r"/(pg|group)\d+$", tag.lower()) else 0)
    if ("grad" in last_words or "gradient" in last_words or "gradnorm" in last_words) and \
            ("norm" in last_words or "gradnorm" in last_words):
        return GRAD_NORM, (1 if "clip" in last_words or "clipped" in last_words else 0)
    if "loss" in core:
        rank = 0 if core == ["loss"] else 1 if core in (["total", "loss"], ["avg", "loss"], ["mean", "loss"]) else 2
        return (TRAIN_LOSS if phase == "train" else VAL_LOSS), rank + test_penalty
    if set(core) & {"acc", "accuracy", "top1"} and "top5" not in core:
        rank = 0 if core in (["acc"], ["accuracy"]) else 1 if "top1" not in core else 2
        return (TRAIN_ACC if phase == "train" else VAL_ACC), rank + test_penalty
    return None


# Reinforcement learning (docs/rules.md, "Reinforcement-learning runs").  An agent's loss (TD error,
# policy-gradient surrogate, value loss) is not a supervised loss: its targets come from the agent's
# own returns, so it rises by design as the returns grow.  A run is RL when it logs something only an
# agent interacting with an environment has: episode returns or lengths, an exploration rate, or a
# policy / value-function loss.  A reward word alone is not enough: preference training (DPO) logs
# ``rewards/chosen`` and a reward model ``reward_model_loss``, both supervised; nor is ``entropy_loss``
# (``cross_entropy_loss`` is the commonest supervised loss); a "return" only with an episode word (a
# forecasting model may log the returns it predicts).
_RL_REWARD_WORDS = {"reward", "rewards", "rew"}
_RL_RETURN_WORDS = {"return", "returns"}
_RL_EPISODE_WORDS = {"ep", "episode", "episodes"}
_RL_LENGTH_WORDS = {"len", "length"}
_RL_STAT_WORDS = {"mean", "max", "min", "avg", "average", "std", "total", "sum"}


def rl_marker(tag: str) -> bool:
    """Is ``tag`` something only a reinforcement-learning run logs?

    >>> [rl_marker(t) for t in ("rollout/ep_rew_mean", "eval/mean_reward", "train/value_loss", "vf_loss")]
    [True, True, True, True]
    >>> [rl_marker(t) for t in ("episode/Return", "episode/length", "forecast/returns", "seq/length")]
    [True, True, False, False]
    >>> [rl_marker(t) for t in ("rewards/chosen", "train/cross_entropy_loss", "val_loss", "reward_model_loss")]
    [False, False, False, False]
    """
    ws, core = set(words(tag)), set(_core(tag))
    # The episode word may be the namespace (``episode/Return``, ``episode/length``: found on blind-labelled
    # real logs, a NAF agent's return read as a supervised run's).
    episode = ws & _RL_EPISODE_WORDS
    episodic = bool(core & _RL_REWARD_WORDS) or bool(core & _RL_RETURN_WORDS and episode)
    returns = episodic and core <= _RL_REWARD_WORDS | _RL_RETURN_WORDS | _RL_EPISODE_WORDS | _RL_STAT_WORDS
    lengths = bool(episode) and bool(core & _RL_LENGTH_WORDS) \
        and core <= _RL_EPISODE_WORDS | _RL_LENGTH_WORDS | _RL_STAT_WORDS
    losses = ("policy" in ws and "loss" in ws) or "vf" in ws or sorted(core) == ["loss", "value"]
    return returns or lengths or losses or "exploration" in ws


def rl_markers(tags) -> tuple[str, ...]:
    """The tags (sorted) that mark a run as reinforcement learning; empty for a supervised run."""
    return tuple(sorted(t for t in tags if rl_marker(t)))


def _granularity(tag: str) -> str:
    ws = set(words(tag))
    return "epoch" if ws & {"epoch", "epochs"} else "step"


def _pick(role: str, candidates: list[tuple[int, str]], series: dict[str, Series], axis: str | None) -> tuple[str, str | None]:
    def key(item):
        rank, tag = item
        off_axis = 0 if axis is None or _granularity(tag) == axis else 1
        return (rank, off_axis, -len(series[tag]), len(tag), tag)

    ordered = sorted(candidates, key=key)
    chosen = ordered[0][1]
    if len(ordered) == 1:
        return chosen, None
    others = ", ".join(f"{t} ({len(series[t])} pts)" for _, t in ordered[1:])
    return chosen, f"{role}: chose {chosen} ({len(series[chosen])} pts) over {others}"


def _apply_overrides(run: Run, overrides: Mapping[str, Sequence[str]]) -> set[str]:
    done = set()
    tags = sorted(run.series)
    for role, names in overrides.items():
        names = [names] if isinstance(names, str) else list(names)
        for pattern in names:
            match = next((t for t in tags if t == pattern or fnmatch.fnmatchcase(t, pattern)), None)
            if match is not None:
                run.roles[role] = match
                run.role_notes[role] = f"{role}: {match} set by override {pattern!r}"
                done.add(role)
                break
        else:
            run.role_notes[role] = f"{role}: override {', '.join(names)} matched no tag; chosen automatically"
    return done


# A loss that adds a penalty to a data-fit term (ELBO = NLL + beta * KL) and logs both terms: words that
# name the penalty, and the data-fit term (docs/rules.md, DQ10).
_PENALTY_WORDS = {"kl", "kld", "kldiv", "kl_div"}
_FIT_WORDS = {"nll", "recon", "reconstruction", "likelihood", "loglik", "xent", "ce", "bce"}


def objective_terms(tags, loss_tag: str) -> tuple[str, str] | None:
    """(penalty tag, data-fit tag) logged beside the train loss ``loss_tag`` in its phase, or None.

    The terms of the same granularity as the loss are preferred (``train_nll_step`` for ``train_loss_step``).

    >>> objective_terms(["train_loss_step", "train_kl_step", "train_nll_step", "train_nll_epoch", "val_loss"],
    ...                 "train_loss_step")
    ('train_kl_step', 'train_nll_step')
    >>> objective_terms(["train_loss", "val_nll"], "train_loss") is None
    True
    """
    phase, grain = _phase(loss_tag), _granularity(loss_tag)

    def pick(vocab: set[str]) -> str | None:
        found = [t for t in tags if t != loss_tag and _phase(t) == phase and set(words(t)) & vocab]
        return min(found, key=lambda t: (_granularity(t) != grain, len(t), t)) if found else None

    penalty, fit = pick(_PENALTY_WORDS), pick(_FIT_WORDS)
    return (penalty, fit) if penalty and fit else None


def loss_components(tags, chosen: str) -> tuple[str, ...]:
    """The loss terms logged beside ``chosen`` when the log has only terms and no total, else ``(chosen,)``.

    YOLO writes ``val/box_loss``, ``val/obj_loss``, ``val/cls_loss`` and no ``val/loss``: the loss it trains
    on is their sum, and one term alone can stay flat while another rises (bench/real exp150e: the box
    term is flat from epoch 24, the objectness term rises 75 %).  Terms share the path prefix and the role
    of ``chosen`` and are component names (rank 2 in ``classify``); a total of that prefix (``val/loss``,
    ``val/total_loss``) is what ``assign_roles`` picks instead, and then nothing is summed.

    >>> loss_components(["val/box_loss", "val/obj_loss", "val/cls_loss", "metrics/mAP_0.5"], "val/box_loss")
    ('val/box_loss', 'val/cls_loss', 'val/obj_loss')
    >>> loss_components(["val/box_loss", "val/loss"], "val/box_loss"), loss_components(["val_loss"], "val_loss")
    (('val/box_loss',), ('val_loss',))
    """
    found = classify(chosen)
    if found is None or found[1] not in (2, 5) or "/" not in chosen:  # 5: a test-phase term
        return (chosen,)
    prefix = chosen.rsplit("/", 1)[0]
    same = [(t, c) for t in tags if "/" in t and t.rsplit("/", 1)[0] == prefix and (c := classify(t)) and c[0] == found[0]]
    if any(c[1] < found[1] for _, c in same):
        return (chosen,)
    terms = sorted(t for t, c in same if c[1] == found[1])
    return tuple(terms) if len(terms) >= 2 else (chosen,)


def set_by_override(run: Run, role: str) -> bool:
    """Did the user name the tag for ``role`` (``--tag`` / ``[tool.lrdoctor.tags]``)?  Then it is judged
    as given, never replaced by something derived from it (a sum of loss terms)."""
    return "set by override" in run.role_notes.get(role, "")


def assign_roles(run: Run, overrides: Mapping[str, Sequence[str]] | None = None) -> None:
    """Fill ``run.roles`` (and ``run.role_notes`` where a choice was made)."""
    done = _apply_overrides(run, overrides or {})
    by_role: dict[str, list[tuple[int, str]]] = {}
    for tag, series in run.series.items():
        found = classify(tag)
        if found and len(series):
            by_role.setdefault(found[0], []).append((found[1], tag))
    for role in (TRAIN_LOSS, VAL_LOSS, LR, TRAIN_ACC, VAL_ACC, GRAD_NORM):
        if role in done or role not in by_role:
            continue
        axis = None
        if role in (VAL_LOSS, VAL_ACC) and TRAIN_LOSS in run.roles:
            axis = _granularity(run.roles[TRAIN_LOSS])
        chosen, note = _pick(role, by_role[role], run.series, axis)
        run.roles[role] = chosen
        if note:
            run.role_notes[role] = note
    if LR not in run.roles:
        _lr_from_hparams(run)


# Exact names first, in this order, when several are present; then any other key whose last word names a
# rate (optimizer/lr, model.optim.learning_rate), alphabetically.
_LR_HPARAM_NAMES = ("lr", "learning_rate", "base_lr", "peak_lr", "max_lr", "lr0")
# Bounds of a schedule are not the rate trained at (min_lr, final_lr, warmup_lr, start_lr ...).
_LR_BOUND_WORDS = {"min", "minimum", "final", "end", "warmup", "start", "lower", "low"}


def names_lr(key: str) -> bool:
    """Is hyper-parameter ``key`` the learning rate (``lr``, ``optimizer/lr``, ``learning_rate``...)?

    >>> [names_lr(k) for k in ("lr", "optimizer.lr", "learning-rate", "min_lr", "lr_decay", "lr0")]
    [True, True, True, False, False, True]
    """
    ws = words(key)
    joined = "_".join(ws)
    if joined in _LR_HPARAM_NAMES or joined in _LR_HPARAM_WORDS:
        return True
    named = joined.endswith("learning_rate") or ws[-1:] == ["lr"]
    return named and not (set(ws) & _LR_BOUND_WORDS)


def lr_hparam(hparams: Mapping[str, object]) -> tuple[str, float] | None:
    """(key, value) of the hyper-parameter holding the run's learning rate: a positive, finite number.

    >>> lr_hparam({"min_lr": 1e-6, "optimizer/lr": "3e-4", "base_lr": 0.1})
    ('base_lr', 0.1)
    >>> lr_hparam({"min_lr": 1e-6, "optimizer/lr": "3e-4"}), lr_hparam({"lr": "auto"})
    (('optimizer/lr', 0.0003), None)
    """
    exact = [k for name in _LR_HPARAM_NAMES for k in hparams if "_".join(words(k)) == name]
    for key in (*exact, *sorted(k for k in hparams if names_lr(k) and k not in exact)):
        raw = hparams[key]
        if isinstance(raw, bool):
            continue  # a switch (use_lr: true), not a rate
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if np.isfinite(value) and value > 0:
            return key, value
    return None


def _lr_from_hparams(run: Run) -> None:
    """No LR curve: a learning-rate hyper-parameter becomes a constant curve over the train steps."""
    found = lr_hparam(run.hparams)
    if found is None:
        return
    key, value = found
    base = run.get(TRAIN_LOSS) or run.get(VAL_LOSS)
    if base is None:
        return
    tag = f"hparams/{key}"
    run.series[tag] = Series(base.steps.copy(), np.full(len(base), value), None,
                             None if base.epochs is None else base.epochs.copy())
    run.roles[LR] = tag
    run.role_notes[LR] = f"lr: no LR curve logged; constant {value:g} from hyper-parameter {key!r}"


# Generative adversarial networks (docs/rules.md, "Adversarial runs").  A generator and a discriminator
# (critic) are trained against each other: each one's loss rises when the other improves, so neither
# level shows convergence, and a Wasserstein critic's loss is signed by design.  A run is a GAN when it
# logs both a generator loss and a discriminator/critic loss (``loss_G`` + ``loss_D``, ``train_gen_loss``
# + ``train_disc_loss``, ``g_loss`` + ``d_loss``); one of them alone (a "discriminative loss") is not.
_GEN_WORDS = {"g", "gen", "generator", "errg", "lossg"}
_DISC_WORDS = {"d", "disc", "discriminator", "critic", "errd", "lossd"}


def _adversarial_side(tag: str) -> str | None:
    ws = set(words(tag))
    if not (ws & {"loss", "err", "errg", "errd", "lossg", "lossd"}):
        return None
    if ws & _GEN_WORDS and not ws & _DISC_WORDS:
        return "generator"
    if ws & _DISC_WORDS and not ws & _GEN_WORDS:
        return "discriminator"
    return None


def gan_markers(tags) -> tuple[str, ...]:
    """The generator- and discriminator-loss tags (sorted) of a GAN; empty unless both sides are logged.

    >>> gan_markers(["train_gen_loss", "train_disc_loss", "epoch"])
    ('train_disc_loss', 'train_gen_loss')
    >>> gan_markers(["Loss_D", "Loss_G"]), gan_markers(["disc_loss"]), gan_markers(["val_loss", "d_model"])
    (('Loss_D', 'Loss_G'), (), ())
    """
    sides = {t: _adversarial_side(t) for t in tags}
    if {"generator", "discriminator"} <= set(sides.values()):
        return tuple(sorted(t for t, side in sides.items() if side))
    return ()


# Task metrics and which way is better (docs/rules.md, OF01).  A validation loss can rise while the
# task metric still improves (the model grows over-confident on the examples it gets wrong); the metric
# is what the user trains for, so it decides whether to stop.  Regression errors (MAE, RMSE) and
# perplexity are left out: they move with the loss itself and add no second opinion.
_HIGHER_BETTER = {"acc", "accuracy", "top1", "top5", "f1", "map", "map50", "bleu", "sacrebleu", "rouge", "rouge1",
                  "rouge2", "rougel", "rougelsum", "auc", "auroc", "roc", "precision", "recall", "iou", "miou",
                  "dice", "em", "exact", "mcc", "matthews", "pearson", "spearman", "psnr", "ssim", "meteor", "chrf",
                  "kappa", "r2"}
_LOWER_BETTER = {"wer", "cer", "ter", "error", "err", "fid"}


def metric_direction(tag: str) -> str | None:
    """"higher" or "lower" (which way is better) for a task-metric tag, None for anything else.

    >>> [metric_direction(t) for t in ("eval/wer", "val_acc", "eval_rouge1", "metrics/mAP50(B)", "val_loss", "lr")]
    ['lower', 'higher', 'higher', 'higher', None, None]
    """
    core = set(_core(re.sub(r"[()]", "_", tag)))
    if not core or "loss" in core or _is_lr(list(core)):
        return None
    if core & _LOWER_BETTER:
        return "lower"
    if core & _HIGHER_BETTER:
        return "higher"
    return None


def validation_metrics(tags) -> list[tuple[str, str]]:
    """(tag, direction) of the logged validation-phase task metrics, accuracy first, then by name."""
    # YOLO logs its validation metrics as ``metrics/mAP_0.5``, ``metrics/mAP50(B)`` with no phase word: a
    # ``metrics/`` group is computed on the validation set there.
    found = [(t, d) for t in tags if (_phase(t) in ("val", "test") or t.lower().startswith("metrics/"))
             and (d := metric_direction(t))]
    return sorted(found, key=lambda td: (0 if metric_direction(td[0]) == "higher" and
                                         set(_core(td[0])) & {"acc", "accuracy"} else 1, _phase(td[0]) == "test", td[0]))


def return_tag(tags) -> str | None:
    """The episode-return curve of a reinforcement-learning run: a reward/return marker (not a length or a
    loss), preferring a mean over other statistics, then an ``eval`` one, then the shorter name.

    >>> return_tag(["episode_reward_max", "episode_reward_mean", "episode_len_mean", "vf_loss"])
    'episode_reward_mean'
    >>> return_tag(["rollout/ep_rew_mean", "rollout/ep_len_mean"]), return_tag(["train/loss"])
    ('rollout/ep_rew_mean', None)
    """
    found = [t for t in tags if rl_marker(t) and set(_core(t)) & (_RL_REWARD_WORDS | _RL_RETURN_WORDS)
             and "loss" not in words(t)]
    if not found:
        return None
    return min(found, key=lambda t: ("mean" not in _core(t) and "avg" not in _core(t),
                                     set(_core(t)) & {"max", "min", "std", "sum", "total"} != set(), len(t), t))
