"""Property tests of the text readers (hypothesis, derandomised: the same examples on every run).

Two kinds of property:
* round trip -- any well-formed log written in any dialect the reader claims to handle is read
  back value for value (NaN and +-inf included), with no problem; a CSV also as pandas reads it;
* robustness -- any text at all is read without an exception escaping, into sane series.
"""
from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lrdoctor.config import Config, load_config  # noqa: E402
from lrdoctor.config_toml import to_toml  # noqa: E402
from lrdoctor.errors import ConfigError  # noqa: E402
from lrdoctor.readers.csvlog import NotATrainingLog  # noqa: E402
from lrdoctor.readers.files import read_log_text  # noqa: E402
from lrdoctor.readers.hparams import parse_hparams_text  # noqa: E402
from lrdoctor.readers.mlflow import parse_metric_text  # noqa: E402
from lrdoctor.readers.textfile import decode, text_of  # noqa: E402

PROPERTY = settings(derandomize=True, max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

values = st.floats(allow_nan=True, allow_infinity=True, width=64)
metric_names = st.sampled_from(["loss", "val_loss", "lr", "acc", "grad_norm", "train/loss", "eval loss"])


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def sane(run) -> None:
    if run is None:
        return
    for tag, s in run.series.items():
        assert s.steps.dtype == np.int64 and s.values.dtype == np.float64 and len(s.steps) == len(s.values), tag
        assert len(s.steps) < 2 or (np.diff(s.steps) > 0).all(), tag
    for problem in run.problems:
        assert problem.path and isinstance(problem.message, str)


def spell(x: float) -> str:
    return "nan" if math.isnan(x) else repr(x)


# --------------------------------------------------------------------------- CSV


@st.composite
def csv_logs(draw):
    names = draw(st.lists(metric_names, min_size=1, max_size=4, unique=True))
    n = draw(st.integers(1, 30))
    rows = [[draw(st.one_of(st.none(), values)) for _ in names] for _ in range(n)]
    dialect = {"delim": draw(st.sampled_from([",", ";", "\t", "|"])), "newline": draw(st.sampled_from(["\n", "\r\n"])),
               "trailing": draw(st.booleans()), "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))}
    return names, rows, dialect


def write_csv(names, rows, d) -> bytes:
    lines = [d["delim"].join(["step", *names])]
    lines += [d["delim"].join([str(i)] + ["" if x is None else spell(x) for x in row]) for i, row in enumerate(rows)]
    tail = d["delim"] if d["trailing"] else ""
    return (d["newline"].join(line + tail for line in lines) + d["newline"]).encode(d["encoding"])


@PROPERTY
@given(csv_logs())
def test_csv_round_trip_and_agrees_with_pandas(log):
    pd = pytest.importorskip("pandas")
    names, rows, dialect = log
    data = write_csv(names, rows, dialect)
    run = read_log_text("log.csv", text_of(data), "log.csv", named=True)
    assert not run.problems, [p.describe() for p in run.problems]
    frame = pd.read_csv(io.StringIO(decode(data)[0]), sep=dialect["delim"], index_col=False,
                        keep_default_na=False, na_values=["", "nan"])
    for j, name in enumerate(names):
        expected = {i: row[j] for i, row in enumerate(rows) if row[j] is not None}
        got = dict(zip(run.series[name].steps.tolist(), run.series[name].values.tolist())) if expected else {}
        assert sorted(got) == sorted(expected)
        assert all(same(got[i], v) for i, v in expected.items())
        by_pandas = pd.to_numeric(frame[name]).tolist()
        assert all(same(by_pandas[i], v) for i, v in expected.items())


@PROPERTY
@given(st.text(alphabet=st.sampled_from(list("0123456789.,;\t|\"-+eE \r\nabcnaifINF\u2028\ufeff")), max_size=400),
       st.sampled_from(["log.csv", "metrics.csv", "training.log"]))
def test_any_text_named_like_a_csv_is_read_without_raising(text, name):
    try:
        run = read_log_text(name, text_of(text.encode()), name, named=True)
    except NotATrainingLog:
        return
    sane(run)


# --------------------------------------------------------------------------- JSON, JSONL

json_values = st.one_of(values, st.integers(-(2 ** 70), 2 ** 70), st.booleans(), st.none(), st.text(max_size=5))


@st.composite
def jsonl_logs(draw):
    key = draw(st.sampled_from(["step", "global_step", "_step", "iteration"]))
    steps = draw(st.lists(st.integers(-(2 ** 62), 2 ** 62), min_size=1, max_size=30, unique=True))
    entries = [{key: s, **draw(st.dictionaries(metric_names, values, min_size=1, max_size=3))} for s in steps]
    return key, entries


@PROPERTY
@given(jsonl_logs(), st.sampled_from(["\n", "\r\n"]), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_jsonl_round_trip(log, newline, encoding):
    key, entries = log
    data = (newline.join(json.dumps(e) for e in entries) + newline).encode(encoding)
    run = read_log_text("log.jsonl", text_of(data), "log.jsonl", named=True)
    assert not run.problems, [p.describe() for p in run.problems]
    last: dict = {}
    for e in entries:
        for k, v in e.items():
            if k != key:
                last.setdefault(k, {})[e[key]] = float(v)
    for tag, points in last.items():
        got = dict(zip(run.series[tag].steps.tolist(), run.series[tag].values.tolist()))
        assert sorted(got) == sorted(points) and all(same(got[s], v) for s, v in points.items())


@PROPERTY
@given(st.lists(st.dictionaries(st.sampled_from(["step", "epoch", "loss", "learning_rate", "eval_loss", "train_runtime"]),
                                json_values, max_size=5), max_size=12), st.booleans())
def test_any_trainer_state_is_read_without_raising(history, indent):
    text = json.dumps({"log_history": history}, indent=2 if indent else None)
    run = read_log_text("trainer_state.json", text_of(text.encode()), "trainer_state.json", named=True)
    sane(run)
    good = {e["step"] for e in history if type(e.get("step")) is int and abs(e["step"]) < 2 ** 63
            and any(type(v) in (int, float) and k not in ("step", "epoch") for k, v in e.items())}
    assert {int(s) for series in run.series.values() for s in series.steps} >= good - {None}
    bad = [e for e in history if not (type(e.get("step")) is int and abs(e["step"]) < 2 ** 63)
           and not (type(e.get("step")) is float and math.isfinite(e["step"]) and e["step"] == int(e["step"])
                    and abs(e["step"]) < 2 ** 63)]
    assert bool(bad) == any("log_history entry" in p.message for p in run.problems)


@PROPERTY
@given(st.text(alphabet=st.sampled_from(list('{}[]":,0123456789.-eE ntrufalsNIfiy\u2028\r\n\ufeff\\')), max_size=300))
def test_any_text_named_like_jsonl_or_trainer_state_is_read_without_raising(text):
    for name in ("log.jsonl", "trainer_state.json"):
        sane(read_log_text(name, text_of(text.encode()), name, named=True))


# --------------------------------------------------------------------------- MLflow


@PROPERTY
@given(st.lists(st.tuples(st.integers(-(2 ** 63), 2 ** 63 - 1), values), min_size=1, max_size=40,
                unique_by=lambda t: t[0]))
def test_mlflow_metric_round_trip(points):
    text = "".join(f"{1_700_000_000_000 + i} {spell(v)} {s}\n" for i, (s, v) in enumerate(points))
    problems: list = []
    chunk = parse_metric_text("metrics/loss", text_of(text.encode()), problems)
    assert not problems
    assert chunk.steps.tolist() == [s for s, _ in points]
    assert all(same(a, b) for a, (_, b) in zip(chunk.values.tolist(), points))


@PROPERTY
@given(st.text(alphabet=st.sampled_from(list("0123456789.-eE naif\t\r\n")), max_size=300))
def test_any_mlflow_metric_text_is_read_without_raising(text):
    problems: list = []
    chunk = parse_metric_text("metrics/loss", text_of(text.encode()), problems)
    assert chunk is None or len(chunk.steps) == len(chunk.values)


# --------------------------------------------------------------------------- config, hparams


@PROPERTY
@given(st.builds(Config, fail_on=st.sampled_from(["info", "warning", "error", "never"]),
                 lr=st.one_of(st.none(), st.floats(min_value=1e-12, max_value=1e3)),
                 group_by=st.sampled_from(["auto", "none", "all", "dir", "hparams:lr"]),
                 tag_roles=st.dictionaries(st.sampled_from(["train_loss", "val_loss", "lr"]),
                                           st.lists(st.text(min_size=1, max_size=8).filter(str.strip), min_size=1,
                                                    max_size=2).map(lambda xs: tuple(x.strip() for x in xs)))),
       st.sampled_from(["utf-8", "utf-16"]))
def test_config_round_trips_through_toml(tmp_path_factory, config, encoding):
    path = tmp_path_factory.mktemp("cfg") / "lrdoctor.toml"
    path.write_bytes(to_toml(config).encode(encoding))
    try:
        back = load_config(path)
    except ConfigError as exc:  # only a tag name that no TOML string can hold (a lone surrogate)
        assert "invalid TOML" in str(exc) or "UTF-8" in str(exc)
        return
    assert (back.fail_on, back.lr, back.group_by) == (config.fail_on, config.lr, config.group_by)
    assert dict(back.tag_roles) == {k: tuple(v) for k, v in config.tag_roles.items()}


@PROPERTY
@given(st.text(alphabet=st.sampled_from(list('[]{}"=.,#\n abcfilrt0123456789-+_:\\')), max_size=300))
def test_any_config_text_is_a_config_or_one_config_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "lrdoctor.toml"
    path.write_text(text)
    try:
        load_config(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)


@PROPERTY
@given(st.text(alphabet=st.sampled_from(list("&*ab:-[]{}!, \n0123456789.#'\"")), max_size=300))
def test_any_hparams_text_is_read_without_raising(text):
    problems: list = []
    flat = parse_hparams_text("hparams.yaml", text_of(text.encode()), problems)
    assert isinstance(flat, dict) and all(isinstance(k, str) for k in flat)
