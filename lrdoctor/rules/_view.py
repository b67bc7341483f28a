"""One prepared view of a run's curves, shared by the rules (computed once per run).

Rules need the same preparation: the finite part of the train loss, its smoothed trend and noise,
the validation loss in epoch order, the logged LR at each point and the schedule's phases.  Doing it
here keeps each rule short and makes them all measure the same thing the same way.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..model import LR, TRAIN_LOSS, VAL_LOSS, Run, Series
from ..signal.noise import diff_noise, mad_noise
from ..signal.schedule import Schedule, detect_schedule, lr_at, lr_time
from ..signal.smoothing import rolling_median
from ..tags import gan_markers, loss_components, lr_hparam, objective_terms, rl_markers, set_by_override, words


@dataclass(frozen=True)
class Curve:
    """The finite prefix of one loss curve plus what every rule asks of it."""

    tag: str
    steps: np.ndarray  # steps of the finite prefix
    values: np.ndarray
    smooth: np.ndarray  # rolling median: robust to spikes
    noise: float  # robust sigma of single points around the trend
    first_bad_step: int | None  # first NaN/inf, None when all finite
    lr_log: tuple[np.ndarray, np.ndarray] | None = None  # the logged LR's (steps, values), for ``t``

    @functools.cached_property
    def t(self) -> np.ndarray:
        """Progress axis in [0, 1]: LR-time when the LR is logged, else step fraction.

        Made when a rule first asks (8 bytes a point, kept from then on), so that it does not add to
        the memory of the rules that run before."""
        y, steps = self.values, self.steps
        if self.lr_log is not None and self.lr_log[0].size >= 2 and y.size >= 2:
            t = lr_time(*self.lr_log, steps)
            if t[-1] > t[0]:
                lo, span = t[0], t[-1] - t[0]
                t -= lo  # in place: (t - t[0]) / span without two temporary copies
                t /= span
                return t
            return np.linspace(0, 1, y.size)
        return np.linspace(0.0, 1.0, y.size)

    @property
    def n(self) -> int:
        return int(self.values.size)

    def head(self, k: int = 3) -> float:
        """Level at the start: median of the first ``k`` raw points (before much learning)."""
        return float(np.median(self.values[: max(1, min(k, self.n))]))

    def tail(self, frac: float = 0.1) -> float:
        """Level at the end: median of the last ``frac`` of the points (at least 3)."""
        m = max(3, int(math.ceil(frac * self.n)))
        return float(np.median(self.values[-m:]))

    def tail_noise(self, frac: float = 0.1) -> float:
        """Noise of the median of the tail points: sigma / sqrt(m)."""
        m = max(3, int(math.ceil(frac * self.n)))
        return self.noise / math.sqrt(m)


@dataclass(frozen=True)
class View:
    train: Curve | None
    val: Curve | None
    schedule: Schedule | None
    lr_steps: np.ndarray | None
    lr_values: np.ndarray | None
    current_lr: float | None  # peak logged LR, else hparams lr
    lr_source: str  # "log", "hparams" or "none"
    # Every finite loss value is >= 0.  The rules compare levels by ratios ("20 % above the start"),
    # which only mean something for a positive loss (not for GAN or log-likelihood objectives).
    positive: bool = True
    # Tags that mark a reinforcement-learning run (tags.rl_marker).  Its loss's targets come from the
    # agent's own returns and rise as they grow, so its levels at different times are not comparable:
    # "above its start", "progress made", "still falling" mean nothing there.
    rl_tags: tuple[str, ...] = ()
    # One train-loss point per epoch (a Keras epoch mean): its first point averages the whole first
    # epoch, where a step-level log's point at step 0 is the untrained loss.
    train_is_epoch_level: bool = False
    # Generator and discriminator losses of a GAN (tags.gan_markers): each rises when the other network
    # improves, so, as for RL, levels at different times are not comparable.
    gan_tags: tuple[str, ...] = ()
    # (penalty, data-fit term) when the train loss rose only through a penalty whose weight changes (a KL
    # term annealed in: reweighted_objective): its levels at different times are not comparable either.
    reweighted: tuple[str, ...] = ()

    @property
    def levels_comparable_over_time(self) -> bool:
        return not self.rl_tags and not self.gan_tags and not self.reweighted

    def lr_at_step(self, step: float | None) -> float | None:
        if step is None or not self.has_lr_curve:
            return self.current_lr
        return float(lr_at(self.lr_steps, self.lr_values, [step])[0])

    def lr_at_steps(self, steps: np.ndarray) -> np.ndarray:
        """The logged LR at each of ``steps`` (one lookup for a whole curve); the run's LR without a curve."""
        if not self.has_lr_curve:
            return np.full(np.shape(steps), np.nan if self.current_lr is None else self.current_lr)
        steps = np.asarray(steps, dtype=float)
        at = _slice_of(steps, self.lr_steps)
        if at is not None and bool(np.all(self.lr_steps[1:] > self.lr_steps[:-1])):
            # A curve logged at the LR's own (strictly increasing) steps: the LR last logged at or before
            # each is the LR logged there, which lr_at would copy (a read-only view, 8 bytes a point less).
            return self.lr_values[at]
        return lr_at(self.lr_steps, self.lr_values, steps)

    @property
    def has_lr_curve(self) -> bool:
        return self.lr_steps is not None and self.lr_steps.size > 0


def _slice_of(a: np.ndarray, whole: np.ndarray) -> slice | None:
    """The slice of ``whole`` that ``a`` is a view of (the same memory, element for element), else None."""
    if a.ndim != 1 or whole.ndim != 1 or a.dtype != whole.dtype or a.strides != whole.strides or not a.size:
        return None
    offset, rest = divmod(a.__array_interface__["data"][0] - whole.__array_interface__["data"][0], whole.itemsize)
    if rest or whole.strides[0] != whole.itemsize or offset < 0 or offset + a.size > whole.size:
        return None
    return slice(offset, offset + a.size)


def measured(**evidence: float | int | None) -> dict[str, float | int]:
    """Evidence without the values that could not be measured (no LR logged, no progress to give back):
    a reader of the JSON finds a number under every key, or no key."""
    return {key: value for key, value in evidence.items() if value is not None}


def progress_curve(view: View, *, min_points: int, finite: bool = False) -> Curve | None:
    """``ratio_curve``, for a rule that reads progress from the loss's levels over time (its start, its
    best, its fall): None for a run whose levels are not comparable over time (reinforcement learning)."""
    if not view.levels_comparable_over_time:
        return None
    return ratio_curve(view, min_points=min_points, finite=finite)


def ratio_curve(view: View, *, min_points: int, finite: bool = False) -> Curve | None:
    """The train-loss curve when a rule may compare its levels by ratios, else None.

    That needs a logged train loss with at least ``min_points`` finite points and a loss that is
    never negative (``View.positive``); with ``finite``, also no NaN/inf tail (a rule that reads
    where the curve *ended* leaves a run that broke to DV01).
    """
    c = view.train
    if c is None or c.n < min_points or not view.positive or (finite and c.first_bad_step is not None):
        return None
    return c


def smoothing_window(n: int) -> int:
    # ~5 % of the curve, odd, 3..31 points: long enough to beat minibatch noise, short enough to keep shape.
    w = int(max(3, min(31, round(n / 20))))
    return w if w % 2 else w + 1


def _curve(tag: str, series: Series, steps_axis: np.ndarray | None, lr_s, lr_v) -> Curve | None:
    vals = series.values
    bad = np.flatnonzero(~np.isfinite(vals))
    first_bad = int(series.steps[bad[0]]) if bad.size else None
    end = int(bad[0]) if bad.size else vals.size
    steps = (steps_axis if steps_axis is not None else series.steps.astype(float))[:end]
    # A read-only view of the logged values, not a copy (8 bytes a point): no rule may change them.
    y = _read_only(np.asarray(vals[:end], dtype=float))
    lr_log = None if lr_s is None else (lr_s, lr_v)
    if y.size == 0:
        return Curve(tag, steps, y, y, 0.0, first_bad, lr_log)
    w = smoothing_window(y.size)
    if y.size >= 9:
        fit = mad_noise(y, window=w)  # its trend is the rolling median the rules smooth with: computed once
        noise, smooth = fit.sigma, fit.trend
        del fit  # its residuals: 8 bytes a point
    else:
        noise, smooth = diff_noise(y), rolling_median(y, window=w)
    return Curve(tag, steps, y, smooth, float(noise), first_bad, lr_log)


def _read_only(a: np.ndarray) -> np.ndarray:
    """``a`` as a view that refuses writes (it may share memory with a run's Series)."""
    a = a.view()
    a.flags.writeable = False
    return a


def on_train_axis(series: Series, train: Series | None, *, at_epoch_end: bool) -> np.ndarray:
    """x values of ``series`` on the train-step axis.

    Some writers log validation (and Keras the LR) at the epoch index, others at the global
    step.  When a curve's steps span only a small fraction of the train steps they are epoch
    indices: map epoch e to the end (validation) or start (LR) of epoch e, assuming equal epochs.
    """
    xs = series.steps.astype(float)
    if train is None or len(train) == 0 or xs.size == 0:
        return xs
    t_max = float(train.steps.max())
    if xs.max() >= 0.5 * t_max or t_max <= xs.size or xs.max() < 0:  # no epoch index is negative
        return xs
    per_epoch = t_max / (xs.max() + 1)
    return (xs + (1 if at_epoch_end else 0)) * per_epoch


def summed_loss(run: Run, role: str) -> tuple[str, Series] | None:
    """The role's loss curve: the sum of its terms when the log has only terms (``tags.loss_components``:
    YOLO's box + obj + cls) logged at the same steps, else the role's own curve.  (tag label, series)."""
    tag = run.roles.get(role)
    if tag is None or tag not in run.series:
        return None
    if set_by_override(run, role):  # the user named this curve: judge it alone
        return tag, run.series[tag]
    terms = loss_components(run.series, tag)
    parts = [run.series[t] for t in terms]
    if len(parts) < 2 or any(not np.array_equal(p.steps, parts[0].steps) for p in parts):
        return tag, run.series[tag]
    label = terms[0] + "".join("+" + t.rsplit("/", 1)[1] for t in terms[1:])
    return label, Series(parts[0].steps, np.sum([p.values for p in parts], axis=0), parts[0].wall_times, parts[0].epochs)


def build_view(run: Run) -> View:
    train_sum, val_sum, lr_s = summed_loss(run, TRAIN_LOSS), summed_loss(run, VAL_LOSS), run.get(LR)
    train_s, val_s = (None if x is None else x[1] for x in (train_sum, val_sum))
    lr_steps = lr_values = schedule = None
    current, source = None, "none"
    # The train steps as floats, made once: the train curve's axis and, when the LR is logged at the
    # same steps (the usual case), the LR's too (8 bytes a point each).
    # (Writable: numpy's C routines such as np.interp copy a read-only input; this array is the view's own.)
    train_axis = None if train_s is None else train_s.steps.astype(float)
    if lr_s is not None and np.isfinite(lr_s.values).any() and (lr_s.values > 0).any():
        lr_steps, lr_values = on_train_axis(lr_s, train_s, at_epoch_end=False), _read_only(np.asarray(lr_s.values, dtype=float))
        if train_axis is not None and np.array_equal(lr_steps, train_axis):
            lr_steps = train_axis
        schedule = detect_schedule(lr_steps, lr_values)
        current, source = schedule.peak_lr, "log"
    elif (hp := lr_hparam(run.hparams)) is not None:
        current, source = hp[1], "hparams"
    train = None if train_s is None else _curve(train_sum[0], train_s, train_axis, lr_steps, lr_values)
    val = None
    if val_s is not None:
        val = _curve(val_sum[0], val_s, on_train_axis(val_s, train_s, at_epoch_end=True), lr_steps, lr_values)
    positive = all(c is None or c.n == 0 or float(c.values.min()) >= 0 for c in (train, val))
    return View(train, val, schedule, lr_steps, lr_values, current, source, positive, rl_markers(run.series),
                train_is_epoch_level=train_s is not None and _epoch_level(run.roles[TRAIN_LOSS], train_s),
                gan_tags=gan_markers(run.series), reweighted=reweighted_objective(run))


# The total must rise by half its start, and the data-fit term account for at most a tenth of that rise:
# the rise is the penalty's (DQ10).
REWEIGHT_MIN_RISE = 0.5
REWEIGHT_FIT_SHARE = 0.1


def term_levels(series: Series | None) -> tuple[float, float] | None:
    """(start, end): medians of the first three and of the last tenth (at least 3) of the finite values."""
    if series is None:
        return None
    y = series.values[np.isfinite(series.values)]
    if y.size < 8:
        return None
    return float(np.median(y[:3])), float(np.median(y[-max(3, int(math.ceil(0.1 * y.size))):]))


def reweighted_objective(run: Run) -> tuple[str, ...]:
    """(penalty tag, data-fit tag) when the train loss rose by ``REWEIGHT_MIN_RISE`` of its start while its
    logged data-fit term (``tags.objective_terms``: an NLL beside a KL) rose by at most ``REWEIGHT_FIT_SHARE``
    of the total's rise: the total climbs because the penalty's weight grows (KL annealing), not because
    the fit got worse.  Empty otherwise."""
    loss_tag = run.roles.get(TRAIN_LOSS)
    terms = None if loss_tag is None else objective_terms(run.series, loss_tag)
    if terms is None:
        return ()
    total, fit = term_levels(run.get(TRAIN_LOSS)), term_levels(run.series[terms[1]])
    if total is None or fit is None or total[0] <= 0 or fit[0] <= 0:
        return ()
    rise = total[1] - total[0]
    rose = total[1] > (1 + REWEIGHT_MIN_RISE) * total[0]
    if not (rose and fit[1] - fit[0] <= REWEIGHT_FIT_SHARE * rise):
        return ()
    return terms if _penalty_settled(run.series[terms[0]]) else ()


def _penalty_settled(penalty: Series) -> bool:
    """The penalty term did not itself blow up: its logged value rose by at most ``REWEIGHT_MIN_RISE`` of
    its start (the raw KL falls while its weight is annealed up), or it made at most a third of its rise
    in the last third of the run (a weighted KL levels off with its weight).  A penalty that climbs
    faster and faster to the end is an exploding term, which the divergence rules judge (found in
    review: a VAE whose KL went 2 -> 200, accelerating, was taken for annealing)."""
    levels = term_levels(penalty)
    if levels is None or levels[0] <= 0 or levels[1] <= (1 + REWEIGHT_MIN_RISE) * levels[0]:
        return True
    y = penalty.values[np.isfinite(penalty.values)]
    third = float(np.median(y[max(0, 2 * y.size // 3 - 2):2 * y.size // 3 + 3]))
    return levels[1] - third <= (levels[1] - levels[0]) / 3


def _epoch_level(tag: str, series: Series) -> bool:
    """Named for epochs (``epoch_loss``), or logged once per epoch at the epoch index (a Keras CSV row)."""
    per_epoch = series.epochs is not None and np.array_equal(series.epochs, series.steps)
    return "epoch" in words(tag) or "epochs" in words(tag) or per_epoch


def start_level(view: View) -> float:
    """Where learning started: the first train points, or the first validation value if lower.

    Epoch-level logs average the first epoch, which can include an early explosion; the first
    validation loss (after one epoch) then tells where the model stood more faithfully.
    """
    start = view.train.head()
    if usable_val(view):
        start = min(start, float(view.val.values[0]))
    return start


def usable_val(view: View) -> bool:
    """A validation curve with enough points to say where it started and where it went (>= 3)."""
    return view.val is not None and view.val.n >= 3


_cache: list = [None, None, None]  # (run, what its view was built from, view): the engine runs all rules on one run before the next


def view_of(run: Run) -> View:
    """The prepared view of ``run``, built once and reused by every rule (and advice) on that run."""
    # The run, its role curves (Series compare by identity) and its tag names (DQ06 reads them): a run
    # whose curves were replaced or added to is rebuilt.
    built_from = (*(run.get(role) for role in (TRAIN_LOSS, VAL_LOSS, LR)), *run.series)
    if _cache[0] is not run or _cache[1] != built_from:
        _cache[0], _cache[1], _cache[2] = run, built_from, build_view(run)
    return _cache[2]


def forget_views() -> None:
    """Drop the cached view (arrays as long as the run's curves): the engine calls this when a run's
    diagnosis is done, so that it does not stay in memory through the analyses across runs."""
    _cache[0] = _cache[1] = _cache[2] = None
