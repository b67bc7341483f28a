"""Issue 11, text formats: every reproducer keeps the good points, reports the bad ones naming the
file and where, never raises, never hangs -- unit calls and end to end through ``lrdoctor diagnose``."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from lrdoctor.config import Config, load_config
from lrdoctor.errors import ConfigError
from lrdoctor.readers import read_runs
from lrdoctor.readers.hparams import read_hparams_beside

REGRESSIONS = Path(__file__).parent / "fuzz_regressions"


def only_run(path):
    runs, problems = read_runs(path)
    assert len(runs) == 1, (runs, problems)
    return runs[0]


def healthy_rows(n=50):
    return [(i, 2 * 0.9 ** i) for i in range(n)]


# --------------------------------------------------------------------------- CSV


def test_trailing_comma_on_every_row_reads_like_pandas(tmp_path):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "a.csv"
    path.write_text("step,loss,lr\n" + "".join(f"{i},{v!r},0.01,\n" for i, v in healthy_rows()))
    run = only_run(path)
    frame = pd.read_csv(path, index_col=False)
    assert np.array_equal(run.series["loss"].values, frame["loss"].to_numpy())
    assert np.array_equal(run.series["loss"].steps, np.arange(50)) and set(run.series) == {"loss", "lr"}
    assert not run.problems


def test_extra_fields_with_data_are_reported_not_shifted(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("step,loss\n0,1.0\n1,0.5,99\n2,0.25\n")
    run = only_run(path)
    assert list(run.series["loss"].values) == [1.0, 0.5, 0.25]
    (problem,) = run.problems
    assert problem.line == 3 and "more fields than the header" in problem.message


def test_decimal_comma_semicolon_csv(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("step;loss;lr\n" + "".join(f"{i};{v:.6f};0,01\n".replace(".", ",") for i, v in healthy_rows(10)))
    run = only_run(path)
    assert run.series["loss"].values[1] == pytest.approx(1.8) and run.series["lr"].values[0] == 0.01
    assert any("decimal commas" in n for n in run.notes) and not run.problems


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig", "utf-16-be"])
def test_csv_in_unicode_encodings(tmp_path, encoding):
    path = tmp_path / "u.csv"
    path.write_text("step,loss\n" + "".join(f"{i},{v!r}\n" for i, v in healthy_rows(20)), encoding=encoding)
    run = only_run(path)
    assert run.series["loss"].values[3] == 2 * 0.9 ** 3 and not run.problems


def test_cut_mid_number_is_reported_and_not_read(tmp_path):
    path = tmp_path / "m.csv"
    text = "step,loss\n" + "".join(f"{i},{v:.6f}\n" for i, v in healthy_rows(50))
    path.write_text(text[:-4])  # "49,0.0114" -> "49,0.01"
    run = only_run(path)
    assert len(run.series["loss"]) == 49
    (problem,) = run.problems
    assert problem.line == 51 and "no line end" in problem.message


def test_last_line_without_line_end_that_looks_complete_is_read(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("step,loss\n0,0.17382508516311646\n1,0.17382508516311647")
    run = only_run(path)
    assert list(run.series["loss"].values) == [0.17382508516311646, 0.17382508516311647] and not run.problems
    assert any("no line end" in n for n in run.notes)


def test_steps_beyond_2_53_are_numbered_by_row_with_a_note(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("step,loss\n" + "".join(f"{2 ** 63 + i * 1000},{v!r}\n" for i, v in healthy_rows(20)))
    run = only_run(path)
    assert list(run.series["loss"].steps) == list(range(20))
    assert any("2^53" in n for n in run.notes)


def test_huge_cell_keeps_the_other_rows(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("step,loss,note\n" + "".join(f"{i},{v!r},{'x' * 140_000 if i == 5 else 'y'}\n"
                                                  for i, v in healthy_rows(40)))
    run = only_run(path)
    assert len(run.series["loss"]) == 40


def test_a_million_columns_are_bounded(tmp_path):
    path = tmp_path / "wide.csv"
    n = 200_000  # enough to cross the bound, quick to write
    path.write_text("step," + ",".join(f"loss{i}" for i in range(n)) + "\n0," + ",".join("1.5" for _ in range(n)) + "\n")
    run = only_run(path)
    assert len(run.series) == 9_999
    assert any(f"{n + 1} columns" in p.message for p in run.problems)


# --------------------------------------------------------------------------- JSON, JSONL


BAD_STEPS = {"nan": "NaN", "inf": "Infinity", "big": "1e300", "int64": "2e19", "digits": "9" * 5000, "frac": "2.5"}


@pytest.mark.parametrize("bad", BAD_STEPS.values(), ids=BAD_STEPS.keys())
def test_one_bad_step_in_trainer_state_loses_only_that_entry(tmp_path, bad):
    path = tmp_path / "trainer_state.json"
    path.write_text('{"log_history":[{"step":' + bad + ',"loss":1},{"step":2,"loss":0.5},{"step":3,"loss":0.25}]}')
    run = only_run(path)
    assert list(run.series["loss"].steps) == [2, 3] and list(run.series["loss"].values) == [0.5, 0.25]
    (problem,) = run.problems
    assert "log_history entry 0" in problem.message and len(problem.message) < 200


@pytest.mark.parametrize("bad", BAD_STEPS.values(), ids=BAD_STEPS.keys())
def test_one_bad_step_in_jsonl_loses_only_that_line(tmp_path, bad):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step":2,"loss":0.5}\n{"step":' + bad + ',"loss":1}\n{"step":3,"loss":0.25}\n')
    run = only_run(path)
    assert list(run.series["loss"].steps) == [2, 3]
    (problem,) = run.problems
    assert problem.line == 2 and "line 2" in problem.message


def test_jsonl_fractional_epoch_without_step_keeps_every_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"epoch": i / 20, "loss": 2 * 0.98 ** i}) + "\n" for i in range(100)))
    run = only_run(path)
    assert len(run.series["loss"]) == 100 and run.series["loss"].epochs[40] == 2.0
    assert any("numbered by line" in n for n in run.notes)


def test_jsonl_nan_epoch_without_step_is_numbered_by_line_not_lost(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"epoch": NaN, "loss": 1}\n{"epoch": 0.5, "loss": 0.5}\n{"epoch": 1.0, "loss": 0.25}\n')
    run = only_run(path)
    assert list(run.series["loss"].steps) == [0, 1, 2] and not run.problems


def test_jsonl_whole_epochs_are_the_step(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"epoch": float(i), "loss": 1 / (i + 1)}) + "\n" for i in range(5)))
    assert list(only_run(path).series["loss"].steps) == [0, 1, 2, 3, 4]


def test_jsonl_bom_and_line_separator_inside_strings(tmp_path):
    path = tmp_path / "log.jsonl"
    lines = [json.dumps({"step": i, "loss": 1 / (i + 1), "note": "a\u2028b\u0085c"}, ensure_ascii=False) for i in range(10)]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    run = only_run(path)
    assert len(run.series["loss"]) == 10 and not run.problems


def test_jsonl_deep_nesting_is_one_bad_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"a":' + "[" * 100_000 + "]" * 100_000 + "}\n"
                    + "".join(f'{{"step":{i},"loss":{1 / i}}}\n' for i in range(2, 40)))
    run = only_run(path)
    assert len(run.series["loss"]) == 38
    (problem,) = run.problems
    assert problem.line == 1 and "nested" in problem.message


def test_trainer_state_in_utf16(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"log_history": [{"step": i, "loss": 1 / i} for i in range(1, 20)]}), encoding="utf-16")
    assert len(only_run(path).series["loss"]) == 19


@pytest.mark.parametrize("name", sorted(p.name for p in REGRESSIONS.glob("*")) if REGRESSIONS.is_dir() else [])
def test_fuzz_regressions_read_without_raising(tmp_path, name):
    """Every input a fuzzer once crashed on: read through the CLI's own path without an internal error
    (a config: a ConfigError, never another exception)."""
    suffix = os.path.splitext(name)[1]
    if suffix == ".toml":
        (tmp_path / "lrdoctor.toml").write_bytes((REGRESSIONS / name).read_bytes())
        with pytest.raises(ConfigError):  # one line naming the file, not a ValueError
            load_config(tmp_path / "lrdoctor.toml")
        return
    target = tmp_path / ({".jsonl": "log.jsonl", ".json": "trainer_state.json"}.get(suffix, "log.csv"))
    target.write_bytes((REGRESSIONS / name).read_bytes())
    runs, problems = read_runs(target)
    messages = [p.message for r in runs for p in r.problems] + [p.message for p in problems]
    assert not any("internal error" in m for m in messages), messages


# --------------------------------------------------------------------------- MLflow


def mlflow_run(root: Path, metric_lines: str) -> Path:
    run = root / "mlruns" / "0" / "abc"
    (run / "metrics").mkdir(parents=True)
    (run / "params").mkdir()
    (run / "meta.yaml").write_text("name: x\n")
    (run / "metrics" / "loss").write_text(metric_lines)
    return run


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "1e300", "2e19", "99999999999999999999999"])
def test_mlflow_bad_step_loses_only_that_line(tmp_path, bad):
    mlflow_run(tmp_path, f"1000 1 {bad}\n" + "".join(f"{1000 + i} {1 / i} {i}\n" for i in range(2, 40)))
    run = only_run(tmp_path)
    assert len(run.series["loss"]) == 38
    (problem,) = run.problems
    assert problem.line == 1 and problem.path.endswith("loss")


def test_mlflow_cut_last_line_is_reported(tmp_path):
    mlflow_run(tmp_path, "1000 1.5 0\n1001 1.25 1\n1002 1.0 1")  # the step of line 3 may be 10, 11...
    run = only_run(tmp_path)
    assert list(run.series["loss"].values) == [1.5, 1.25] and run.problems[0].line == 3


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_mlflow_fifo_and_device_are_not_read(tmp_path):
    run_dir = mlflow_run(tmp_path, "1000 1.5 0\n1001 1.25 1\n")
    os.mkfifo(run_dir / "params" / "lr")
    os.symlink("/dev/zero", run_dir / "metrics" / "acc")
    run = only_run(tmp_path)
    assert len(run.series["loss"]) == 2
    assert sorted(p.message.split(":")[1].strip() for p in run.problems) == ["a character device, not a regular file",
                                                                             "a named pipe (FIFO), not a regular file"]


# --------------------------------------------------------------------------- hparams.yaml


BOMB = "a: &a {x0: 1, x1: 2, x2: 3, x3: 4, x4: 5, x5: 6, x6: 7, x7: 8, x8: 9}\n" + "".join(
    f"{n}: &{n} {{" + ",".join(f"k{j}: *{p}" for j in range(9)) + "}\n" for p, n in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("yaml_text, why", [
    (BOMB, "expands to more than"),
    ("a: &a {b: *a}\nlr: 0.01\n", "self-referencing"),
    ("a: &a [*a]\n", "self-referencing"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
    ("a: [1, 2\n", "not parsed"),
])
def test_bad_hparams_yaml_keeps_the_metrics_beside_it(tmp_path, yaml_text, why):
    version = tmp_path / "version_0"
    version.mkdir()
    (version / "metrics.csv").write_text("step,epoch,train_loss\n" + "".join(f"{i},{i // 10},{v!r}\n" for i, v in healthy_rows(40)))
    (version / "hparams.yaml").write_text(yaml_text)
    run = only_run(tmp_path)
    assert len(run.series["train_loss"]) == 40 and run.hparams == {}
    (problem,) = run.problems
    assert why in problem.message and problem.path.endswith("hparams.yaml")


def test_hparams_with_ordinary_aliases_still_read(tmp_path):
    (tmp_path / "hparams.yaml").write_text("lr: 0.01\nlayers: &l [64, 64]\nenc: *l\nopt: {name: adam}\n")
    problems = []
    assert read_hparams_beside(str(tmp_path), problems) == {"lr": 0.01, "layers": [64, 64], "enc": [64, 64],
                                                           "opt/name": "adam"}
    assert not problems


# --------------------------------------------------------------------------- files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_and_dev_zero_named_like_logs_are_reported_not_read(tmp_path, run_cli):
    os.mkfifo(tmp_path / "metrics.csv")
    os.symlink("/dev/zero", tmp_path / "training.log")
    (tmp_path / "good.csv").write_text("step,loss\n" + "".join(f"{i},{v!r}\n" for i, v in healthy_rows()))
    out, err = run_cli(["diagnose", tmp_path, "--format", "json", "--fail-on", "never", "--no-progress"], 0)
    report = json.loads(out)
    assert [r["run"] for r in report["runs"]] == ["good.csv"]
    assert "named pipe (FIFO)" in err and "character device" in err and "Traceback" not in err


# --------------------------------------------------------------------------- config


def test_latin1_pyproject_without_our_section_is_skipped(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.other]\n# caf\xe9\n")
    monkeypatch.chdir(tmp_path)
    assert load_config(start=tmp_path).source is None


def test_latin1_pyproject_with_our_section_names_the_byte(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.lrdoctor]\nfail-on = "warning"\n# caf\xe9\n')
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 0xe9 at offset 41\)"):
        load_config(tmp_path / "pyproject.toml")


def test_utf16_config_file(tmp_path):
    (tmp_path / "cfg.toml").write_text('fail-on = "warning"\nlr = 0.003\n', encoding="utf-16")
    config = load_config(tmp_path / "cfg.toml")
    assert config.fail_on == "warning" and config.lr == 0.003


@pytest.mark.parametrize("text, message", [
    ("[tags]\ntrain_loss = " + "[" * 2000 + "]" * 2000 + "\n", "nested too deeply"),
    ("[tags]\ntrain_loss = " + "[" * 50 + "]" * 50 + "\n", "expected a list of strings"),
    ("lr = inf\n", "expected a positive number, got inf"),
    ("lr = nan\n", "expected a positive number, got nan"),
    ("lr = " + "9" * 400 + "\n", "expected a positive number"),
    ("[rules.loss-spikes]\nmin_z = nan\n", "expected a finite number"),
    ("[rules.loss-spikes]\nmin_z = -3.0\n", "expected a number >= 0"),
    ("[rules.loss-spikes]\nmin_points = 99999999999999999999\n", "expected int"),
])
def test_bad_config_values_are_one_line_errors(tmp_path, text, message):
    (tmp_path / "lrdoctor.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "lrdoctor.toml")
    assert message in str(info.value) and "\n" not in str(info.value) and len(str(info.value)) < 400


@pytest.mark.parametrize("lr", [math.nan, math.inf, -1.0, 0.0])
def test_config_rejects_a_non_finite_lr_from_flags_too(lr):
    with pytest.raises(ConfigError, match="expected a positive number"):
        Config(lr=lr)


@pytest.mark.parametrize("flag", ["nan", "inf"])
def test_cli_lr_nan_exits_2_with_one_line(tmp_path, run_cli, flag):
    (tmp_path / "a.csv").write_text("step,loss\n" + "".join(f"{i},{v!r}\n" for i, v in healthy_rows()))
    out, err = run_cli(["diagnose", tmp_path, "--lr", flag, "--no-progress"], 2)
    assert "expected a positive number" in err and "Traceback" not in err
