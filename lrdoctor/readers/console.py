"""Console (stdout) training logs -> Run: what ``print`` and Keras' progress bar leave behind.

Read only where the lines clearly form a training log; anything else is left alone (a quiet None)
or, when it looks like one but cannot be placed on a step axis, set aside with a reason.

* **Pairs.** ``key: value``, ``key=value`` (``Train Loss: 0.31``, ``loss=0.31``, ``LR: [0.001]``,
  ``Acc: 94.1%``) and, on a line with no such pair, ``key value`` (``loss 75.6049``).  A number
  followed by a unit or more digits (``5s``, ``2ms/step``, ``1:23``, ``1875/1875``) is no value.
  Keys are lower-cased with ``_`` for spaces (``Train Loss`` -> ``train_loss``).  A line that starts
  with a phase word (``TRAINING -- Loss: ...``, ``VALIDATION -- Loss: ...``) prefixes its keys.
  ``key value`` pairs for loss/accuracy/LR words are read beside ``key: value`` ones on one line
  (``step 9 | loss: 7.74 | lr 6e-04``); ``valid loss 5.53`` is ``valid_loss``.
* **Counters.** ``Epoch 3/50``, ``Epoch [1/50]``, ``epoch: 2``, ``Epoch 01``; ``Step [100/600]``,
  ``step: 12``, ``iter 500``, ``Iteration 20``, and torchvision's ``Epoch: [0]  [40/60]``.  An epoch on a line of its own (Keras' header) holds
  for the lines below it; a validation line without a counter takes the counters of the line
  before it.  With a step counter the step is the x axis (counted on across epochs when
  it restarts each epoch and its total is printed); otherwise the epoch is, and the last value of a
  key within one epoch wins (Keras' progress bar ends on the epoch's mean, with ``val_*``).
  ``N/ M batches`` is a step too (word_language_model), and there a line with only an epoch
  (``| end of epoch 1 | ... | valid loss 5.53``) is placed at the end of its epoch.  Consecutive
  lines at one step (progress-bar updates) are one point in time, never a new training.
* **Console tables** of stable-baselines3 (``| rollout/ |``, ``|    loss | 0.00369 |``) and OpenAI
  baselines (HER's ``| epoch | 3 |``): one point per table at the first of ``_TABLE_STEPS`` it holds,
  keys named ``section/key`` as in its progress.csv; a table is a log by its layout.
* **HF Trainer's printed dicts** (``{'loss': 0.6923, 'learning_rate': 1.998e-05, 'epoch': 0.01}``):
  they carry no step and an epoch rounded to 2 decimals, so the k-th train dict is step k (one
  logging interval each; the printed epoch is kept as ``Series.epochs``) and an ``eval_*`` dict takes
  the step of the train dict before it; the end-of-training summary dict (``train_runtime``) is no point.
* **Progress bars.** ``\\r`` and backspaces split a line into its updates; ``ETA`` updates are
  skipped when the epoch has a final line.
* **A training log** has at least ``MIN_POINTS`` points of a loss (or accuracy/error) key, each with
  a counter.  Loss pairs without any counter are set aside: "no epoch or step counter".
"""
from __future__ import annotations

import bisect

import os
import re
from dataclasses import dataclass, field

import numpy as np

from ..model import Problem, Run
from .merge import Chunk, merge_tags
from .trainings import csv_training_starts, label_parts, part_name

MIN_POINTS = 3
_NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf)"
_VALUE = rf"\[?\s*(?P<val>{_NUMBER})\s*\]?(?P<pct>%)?(?![\w.:/]|,\d)"  # not 5s, 1:23, 2ms/step, 39,344
_KEY = r"(?<![\w./-])(?P<key>[A-Za-z][\w./-]*(?:[ ][A-Za-z0-9][\w./-]*){0,3})"
_PAIR = re.compile(rf"{_KEY}['\"]?\s*[:=]\s*{_VALUE}")  # also a printed dict's 'loss': 0.69
_DICT_EPOCH = re.compile(r"""['"]epoch['"]\s*:\s*(?P<e>\d{1,9}(?:\.\d*)?)(?![\d.eE])""")
_SUMMARY_KEYS = ("train_runtime", "total_flos")  # HF's end-of-training summary dict: no point of the curve
_SPACE_PAIR = re.compile(rf"(?<![\w./-])(?P<key>(?:(?:train|training|valid|validation|val|eval|test)\s+)?"
                         rf"[A-Za-z][\w./-]*)\s+{_VALUE}", re.IGNORECASE)  # "valid loss 5.53": valid_loss
_COUNTER = r"\s*[:=#]?\s*\[?\s*(?P<n>\d{1,15})\s*(?:/\s*(?P<of>\d{1,15}))?\s*\]?(?![\w.])"
_EPOCH = re.compile(rf"\bepoch(?:s)?{_COUNTER}", re.IGNORECASE)  # "epochs" only with a total: epochs=12 is a setting
_STEP = re.compile(rf"\b(?:step|iter|iteration|it|batch|global_step)\b{_COUNTER}", re.IGNORECASE)
_BATCHES = re.compile(r"(?<![\w.])(?P<n>\d{1,15})\s*/\s*(?P<of>\d{1,15})\s+(?:batches|batch|steps|iters|iterations)\b",
                      re.IGNORECASE)  # pytorch/examples word_language_model: "| epoch 1 |  200/ 2983 batches |"
_CONFIG_LINE = re.compile(r"^\W*(?:Namespace|Config|Args|Arguments)\(")  # argparse dumps: settings, no points
_BARE_STEP = re.compile(r"\s*\[\s*(?P<n>\d{1,15})\s*/\s*(?P<of>\d{1,15})\s*\]")
_PHASE = re.compile(r"^\W*(train(?:ing)?|val(?:id(?:ation)?)?|eval(?:uation)?|test(?:ing)?)\b(?!\s*[:=/_])",
                    re.IGNORECASE)
_PHASE_PREFIX = {"tra": "train", "val": "val", "eva": "val", "tes": "test"}
_NOT_METRICS = {"eta", "time", "elapsed", "epoch", "epochs", "step", "iter", "iteration", "it", "batch"}
# Also the loss terms pytorch-CycleGAN-and-pix2pix prints without "loss" in their names (D_A, G_A, cycle_A,
# idt_A; G_GAN, G_L1, D_real, D_fake): found on blind-labelled real logs, a CycleGAN train.log was
# neither read nor reported.
_JUDGED = re.compile(r"loss|acc|err|perplexity|ppl|\b(?:[dg]|cycle|idt)_[ab]\b|\bg_(?:gan|l1)\b|\bd_(?:real|fake)\b",
                     re.IGNORECASE)
_LR = re.compile(r"(^|_)(lr|learning_rate)($|_)", re.IGNORECASE)
_SPACED_KEYS = re.compile(r"^(?:\w*loss|acc\w*|err\w*|ppl|perplexity|lr|learning_rate)$", re.IGNORECASE)
_SCAN_BYTES = 64 << 20
_ANY_VALUE = re.compile(r"\d|nan|inf", re.IGNORECASE)


@dataclass
class _Record:
    line: int
    epoch: int | None
    step: int | None
    step_of: int | None
    metrics: dict[str, float] = field(default_factory=dict)
    eta: bool = False
    fraction: float | None = None  # HF's printed dicts: the fractional epoch, their only counter
    rows: int = 0  # a console table's rows (0: one line)


def _key(raw: str, phase: str | None) -> str:
    key = re.sub(r"\s+", "_", raw.strip().lower())
    if phase and not key.startswith(phase) and not key.startswith(("val", "train", "test", "eval")):
        key = f"{phase}_{key}"
    return key


def _pairs(text: str, phase: str | None) -> dict[str, float]:
    found = list(_PAIR.finditer(text))
    # "loss: 9.3 | lr 6e-4": a spaced pair that overlaps no "key: value" pair.  The pairs' spans are in
    # text order and do not overlap, so one bisect finds the only candidates (a line with 20,000 pairs
    # took a minute when every span was compared with every other; found in review).
    starts = [p.start() for p in found]
    found += [m for m in _SPACE_PAIR.finditer(text) if _SPACED_KEYS.search(m.group("key").split()[-1])
              and not _overlaps(found, starts, m.start(), m.end())]
    out = {}
    for m in found:
        key = _key(m.group("key"), phase)
        if key in _NOT_METRICS or key.endswith(("_time", "/s", "/sec")):
            continue
        out[key] = float(m.group("val"))
    return out


def _overlaps(spans: list, starts: list[int], start: int, end: int) -> bool:
    """Does [start, end) overlap one of ``spans`` (matches in text order, not overlapping each other)?"""
    i = bisect.bisect_right(starts, start) - 1
    return any(0 <= k < len(spans) and spans[k].start() < end and start < spans[k].end() for k in (i, i + 1))


def _record(number: int, piece: str, epoch: int | None) -> tuple[_Record | None, int | None]:
    """The record of one line (None when it holds no metric), and the epoch that holds after it."""
    if _CONFIG_LINE.match(piece):
        return None, epoch
    e, s = _EPOCH.search(piece), _STEP.search(piece) or _BATCHES.search(piece)
    if e is not None and e.group(0).lower().lstrip().startswith("epochs") and e.group("of") is None:
        e = None  # "epochs=12", "Epochs: 50": how many, not which
    if e is not None and s is None:  # torchvision's "Epoch: [0]  [40/60]  eta: ...": the batch follows
        s = _BARE_STEP.match(piece, e.end())
    rest = piece
    for m in (e, s):
        if m is not None:
            rest = rest.replace(m.group(0), " | ", 1)
    phase = _PHASE.match(rest)
    metrics = _pairs(rest, None if phase is None else _PHASE_PREFIX[phase.group(1)[:3].lower()])
    if not any(_JUDGED.search(k) or _LR.search(k) for k in metrics):
        metrics = {}  # "Total params: 39,344", "MSE: 14.2" after training: no line of the training log
    if not metrics:
        header = e is not None and s is None and not re.search(r"[A-Za-z0-9]", rest)
        return None, int(e.group("n")) if header else epoch  # "Epoch 3/50", not "Epoch 00008: early stopping"
    here = epoch if e is None else int(e.group("n"))  # an epoch on a metric line is that line's only
    step, step_of = (int(s.group("n")), int(s.group("of")) if s.group("of") else None) if s else (None, None)
    if any(k in metrics for k in _SUMMARY_KEYS):
        return None, epoch
    fraction = _DICT_EPOCH.search(piece) if e is None and s is None else None
    return _Record(number, here, step, step_of, metrics, eta="ETA" in piece,
                   fraction=None if fraction is None else float(fraction.group("e"))), epoch


_TABLE_ROW = re.compile(r"^\|\s*([^|\s][^|]*?)\s*\|\s*([^|]*?)\s*\|\s*$")
# The step of a table, first found: stable-baselines3, then OpenAI baselines (ppo2/a2c, DQN, HER's epoch).
_TABLE_STEPS = ("time/total_timesteps", "total_timesteps", "timesteps", "steps", "nupdates", "epoch")


class _Table:
    """stable-baselines3's and OpenAI baselines' console tables: ``| rollout/ |`` sections,
    ``|    loss | 0.00369 |`` rows, one table per update between dashed lines; the step is the first
    of ``_TABLE_STEPS`` the table has."""

    def __init__(self) -> None:
        self.section, self.values, self.first_line, self.rows = "", {}, 0, 0

    def add(self, number: int, match: re.Match) -> None:
        key, value = match.group(1), match.group(2)
        self.rows += 1
        if key.endswith("/") and not value:
            self.section = key
            return
        try:
            self.values[(self.section + key).lower()] = float(value)
            self.first_line = self.first_line or number
        except ValueError:
            pass

    def flush(self, records: list[_Record]) -> None:
        step = next((self.values.pop(k) for k in _TABLE_STEPS if k in self.values), None)
        metrics = {k: v for k, v in self.values.items() if not k.startswith("time/")}
        if step is not None and metrics and float(step).is_integer() and 0 <= step < 1e15:
            records.append(_Record(self.first_line, None, int(step), None, metrics, rows=self.rows))
        self.__init__()


def _records(text: str) -> list[_Record]:
    records: list[_Record] = []
    epoch = None
    table = _Table()
    for number, line in enumerate(text.split("\n"), 1):
        row = _TABLE_ROW.match(line)
        if row is not None:
            table.add(number, row)
            continue
        table.flush(records)
        if not _ANY_VALUE.search(line):
            continue  # prose: neither a number nor a counter (most lines of a README, quickly)
        line = re.sub(r"[^\x08]\x08", "", line).replace("\x08", "")
        for piece in line.split("\r"):
            record, epoch = _record(number, piece, epoch)
            if record is not None:
                records.append(record)
    table.flush(records)
    return records


def _number_printed_dicts(records: list[_Record]) -> None:
    """HF Trainer's printed dicts carry no step, and an epoch rounded to 2 decimals that repeats:
    the k-th train dict is step k (one logging interval each); an evaluation dict (``eval_*`` keys
    only, with or without an epoch) takes the step of the train dict before it."""
    count, epoch = 0, 0.0
    for r in records:
        evaluation = all(k.startswith(("eval_", "eval/")) for k in r.metrics)
        if not evaluation:
            count += 1
        epoch = r.fraction if r.fraction is not None else epoch
        r.step, r.epoch, r.fraction = count, None, epoch


_VAL_KEY = re.compile(r"^(?:val|valid|validation|eval)(?:_|/|$)")


def _attach_validation_lines(records: list[_Record]) -> None:
    """A validation line printed without a counter (``Validation loss: 0.42`` below ``Epoch 3, train
    loss: 0.51``; build-nanogpt's ``validation loss: 3.41`` between two ``step N |`` lines) belongs to
    the training line before it and takes its epoch and step.  Only validation keys: a test score
    printed after training is no point of the curve."""
    last = None
    for r in records:
        if r.epoch is not None or r.step is not None:
            last = r
        elif last is not None and all(_VAL_KEY.match(k) for k in r.metrics):
            r.epoch, r.step, r.step_of = last.epoch, last.step, last.step_of


def _steps(records: list[_Record]) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(x per record, epoch per record or None, what the x axis is)."""
    epochs = np.array([r.fraction if r.fraction is not None else np.nan if r.epoch is None else r.epoch
                       for r in records], dtype=np.float64)  # fraction: HF's printed epoch
    has_epoch = np.isfinite(epochs).any()
    if all(r.step is not None for r in records):
        steps = np.array([r.step for r in records], dtype=np.int64)
        if has_epoch and np.isfinite(epochs).all() and _restarts_each_epoch(steps, epochs):
            first = int(epochs.min())
            return (epochs.astype(np.int64) - first) * _epoch_length(records, steps, epochs) + steps, epochs, "step"
        return steps, (epochs if has_epoch else None), "step"
    stepped = np.array([r.step is not None for r in records])
    if np.isfinite(epochs).all() and stepped.sum() >= MIN_POINTS:
        return _steps_with_epoch_lines(records, epochs, stepped), epochs, "step"
    if np.isfinite(epochs).all():
        return epochs.astype(np.int64), epochs, "epoch"
    return np.zeros(0, dtype=np.int64), None, "none"


def _steps_with_epoch_lines(records: list[_Record], epochs: np.ndarray, stepped: np.ndarray) -> np.ndarray:
    """Steps where batch lines carry a step and epoch lines only an epoch (word_language_model's
    ``| end of epoch 1 | ... | valid loss 5.53``): an epoch line is placed at the end of its epoch
    when the step restarts each epoch, else at the step of the batch line before it."""
    at = np.flatnonzero(stepped)
    inner, _, _ = _steps([records[i] for i in at])
    steps = np.zeros(len(records), dtype=np.int64)
    steps[at] = inner
    local = np.array([records[i].step for i in at], dtype=np.int64)
    per_epoch = None
    if _restarts_each_epoch(local, epochs[at]):
        per_epoch = _epoch_length([records[i] for i in at], local, epochs[at])
    first, last = int(epochs[at].min()), 0
    for i, r in enumerate(records):
        if stepped[i]:
            last = steps[i]
        else:
            steps[i] = (int(epochs[i]) - first + 1) * per_epoch if per_epoch else last
    return steps


def _restarts_each_epoch(steps: np.ndarray, epochs: np.ndarray) -> bool:
    """The step counter goes back exactly where the epoch goes up ("Epoch [2/5], Step [100/600]")."""
    back = np.diff(steps) < 0
    return bool(back.any()) and bool(np.all(np.diff(epochs)[back] > 0))


def _epoch_length(records: list[_Record], steps: np.ndarray, epochs: np.ndarray) -> int:
    """Steps per epoch: the printed total (``Step [k/600]``), else the largest step seen plus one interval."""
    totals = {r.step_of for r in records}
    if len(totals) == 1 and None not in totals:
        return int(totals.pop())
    same_epoch = np.diff(epochs) == 0
    gaps = np.diff(steps)[same_epoch & (np.diff(steps) > 0)]
    return int(steps.max()) + (int(np.median(gaps)) if len(gaps) else 1)


def _drop_eta_updates(records: list[_Record]) -> list[_Record]:
    """Keras: the ETA updates of an epoch whose final line was printed are not points."""
    final = {(r.epoch, r.step) for r in records if not r.eta}
    return [r for r in records if not r.eta or (r.epoch, r.step) not in final]


def read_console_text(path: str, text: str, name: str) -> list[Run] | Problem | None:
    """Runs (one per training written into the file, trainings.py), a Problem (looks like a
    training log but cannot be placed on a step axis) or None (no training log)."""
    if not _JUDGED.search(text[:_SCAN_BYTES]) and "|" not in text[:_SCAN_BYTES]:
        return None
    records = _drop_eta_updates(_records(text[:_SCAN_BYTES]))
    judged = [k for k in {k for r in records for k in r.metrics} if _JUDGED.search(k)] or \
        sorted({k for r in records if r.rows for k in r.metrics})  # a table's keys: its format says it is a log
    if not judged or max(sum(k in r.metrics for r in records) for k in judged) < MIN_POINTS:
        return None
    if sum(r.fraction is not None for r in records) >= MIN_POINTS:
        _number_printed_dicts(records)
    else:
        for r in records:
            r.fraction = None  # a stray 'epoch': x among other lines is no counter
    _attach_validation_lines(records)
    counted = [r for r in records if r.epoch is not None or r.step is not None]
    if len(counted) < MIN_POINTS:
        return Problem(path, f"console log with {first_of(judged)} values but no epoch or step counter on their lines; "
                             f"not read (which point is which step cannot be told)")
    steps, epochs, axis = _steps(counted)
    if axis == "none":
        return Problem(path, "console log whose metric lines carry an epoch on some lines and a step on others; "
                             "not read (no single step axis)", line=counted[0].line)
    keys = sorted({k for r in counted for k in r.metrics})
    present = np.array([[k in r.metrics for k in keys] for r in counted], dtype=bool)
    starts = _training_starts(steps, present)
    bounds = [0, *(i for i, _ in starts), len(counted)]
    parts = [_run(path, part_name(name, k), counted[a:b], steps[a:b], None if epochs is None else epochs[a:b], axis)
             for k, (a, b) in enumerate(zip(bounds, bounds[1:]))]
    if len(records) > len(counted):
        parts[0].notes.append(f"{len(records) - len(counted)} line(s) with metrics but no epoch/step counter skipped")
    return label_parts(parts, name, path, ["", *(f"line {counted[i].line}: {why}" for i, why in starts)],
                       "block of lines")


def _training_starts(steps: np.ndarray, present: np.ndarray) -> list[tuple[int, str]]:
    """trainings.csv_training_starts over blocks of consecutive lines at one step: a progress bar's
    updates (``Epoch 0:  50%|... loss=0.35``, ``Epoch 0: 100%|... loss=0.35``) and an epoch's train
    and validation lines are one point in time, not a training that starts again."""
    first = np.flatnonzero(np.r_[True, steps[1:] != steps[:-1]])
    held = np.logical_or.reduceat(present, first, axis=0) if len(first) else present
    return [(int(first[i]), why) for i, why in csv_training_starts(steps[first], held)]


def _run(path: str, name: str, records: list[_Record], steps: np.ndarray, epochs: np.ndarray | None,
         axis: str) -> Run:
    chunks: dict[str, list[Chunk]] = {}
    for key in sorted({k for r in records for k in r.metrics}):
        rows = [i for i, r in enumerate(records) if key in r.metrics]
        chunks[key] = [Chunk.from_lists(steps[rows], [records[i].metrics[key] for i in rows], None,
                                        None if epochs is None else epochs[rows])]
    series, restarts, notes = merge_tags(chunks)
    notes.append(f"read as a console log: {len(records)} metric line(s) from line {records[0].line} to "
                 f"{records[-1].line}, on the {axis} axis")
    return Run(name=name, source=os.path.abspath(path), format="console", series=series,
               restarts=restarts, notes=notes)


def first_of(keys: list[str]) -> str:
    return ", ".join(sorted(keys)[:3])


MIN_SNIFFED_LINES = 5
MIN_SNIFFED_SHARE = 0.3
MANY_SNIFFED_LINES = 20
MIN_MANY_SHARE = 0.15


def clearly_training_log(text: str) -> bool:
    """For a file whose name does not say it is a log (``*.md``, no extension): do its lines clearly
    form a training log?  At least ``MIN_SNIFFED_LINES`` lines (or console tables) with an epoch or
    step counter and a loss-like value, making up ``MIN_SNIFFED_SHARE`` of all its non-blank lines
    -- a README quoting a few lines of output is no log.  A job's output may hold much else: a long
    preamble before training starts, warnings and NCCL chatter between the lines (found in review:
    a SLURM ``.err`` with three lines of chatter to one of training).  So ``MANY_SNIFFED_LINES`` such
    lines, counting up, are enough when they make up ``MIN_MANY_SHARE`` of the lines from the first
    of them on."""
    nonblank = [line for line in text.split("\n") if line.strip()]
    maybe = sum(1 for line in nonblank if "|" in line or _JUDGED.search(line))  # bound on the lines below, fast
    if maybe < MIN_SNIFFED_LINES or maybe < min(MIN_SNIFFED_SHARE, MIN_MANY_SHARE) * len(nonblank):
        if maybe < MANY_SNIFFED_LINES:
            return False
    lines: dict[int, int] = {}
    counters: list[float] = []
    for r in _records(text):
        if (r.epoch is not None or r.step is not None) and (r.rows or any(_JUDGED.search(k) for k in r.metrics)):
            lines[r.line] = max(1, r.rows)
            counters.append(r.step if r.step is not None else r.epoch)
    if len(lines) < MIN_SNIFFED_LINES or not _counting_up(counters):
        return False
    counted = sum(lines.values())
    if counted >= MIN_SNIFFED_SHARE * len(nonblank):
        return True
    from_first = sum(1 for line in text.split("\n")[min(lines) - 1:] if line.strip())
    return len(lines) >= MANY_SNIFFED_LINES and counted >= MIN_MANY_SHARE * from_first


def _counting_up(counters: list[float]) -> bool:
    """A training log's counter rarely goes back and takes many values; a diary or a results table that
    quotes 'epoch 10 loss: 0.9' lines jumps around or repeats a few values (found in review: an
    experiment diary became an ERROR run, a README's results table a run)."""
    downs = sum(b < a for a, b in zip(counters, counters[1:]))
    return downs <= MAX_COUNTER_DOWN_SHARE * (len(counters) - 1) and len(set(counters)) >= MIN_SNIFFED_LINES


# Share of consecutive counted lines whose counter goes back, at most, for a file sniffed by its content
# (a train line and a validation line share an epoch; a progress bar restarts its batch count each epoch).
MAX_COUNTER_DOWN_SHARE = 0.25
