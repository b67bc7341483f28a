"""Finding, reading and validating the configuration (config.py), without the CLI."""
from __future__ import annotations

import tomllib

import pytest

from lrdoctor.config import (Config, coerce, config_from_mapping, find_config_file, load_config, parse_settings,
                             read_config_file)
from lrdoctor.config_toml import to_toml
from lrdoctor.errors import ConfigError


def write(path, text=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path, monkeypatch):
    """repo/ (with .git) / runs / exp1; the current directory is elsewhere."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    logdir = tmp_path / "repo" / "runs" / "exp1"
    logdir.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "repo", logdir


def test_nearest_file_upward_from_the_logdir(project):
    repo, logdir = project
    top = write(repo / "pyproject.toml", "[tool.lrdoctor]\n")
    assert find_config_file(logdir) == top
    near = write(repo / "runs" / "lrdoctor.toml")
    assert find_config_file(logdir) == near
    assert find_config_file(logdir / "events.out") == near  # a file: start at its directory


def test_pyproject_without_section_is_passed_over(project):
    repo, logdir = project
    write(repo / "runs" / "pyproject.toml", "[project]\nname = 'x'\n")
    top = write(repo / "pyproject.toml", "[tool.lrdoctor]\nfail-on = 'warning'\n")
    assert find_config_file(logdir) == top


def test_lrdoctor_toml_wins_in_the_same_directory(project):
    repo, logdir = project
    write(repo / "pyproject.toml", "[tool.lrdoctor]\n")
    own = write(repo / "lrdoctor.toml")
    assert find_config_file(logdir) == own


def test_search_stops_at_the_project_root_then_tries_cwd(project, tmp_path, monkeypatch):
    repo, logdir = project
    write(tmp_path / "lrdoctor.toml")  # above the repository root: not used for the logs...
    assert find_config_file(logdir) == tmp_path / "lrdoctor.toml"  # ...but found from the cwd (tmp_path)
    elsewhere = tmp_path / "ci"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ci = write(elsewhere / "lrdoctor.toml")
    assert find_config_file(logdir) == ci


def test_no_file_anywhere(project):
    assert find_config_file(project[1]) is None


def test_read_sections(tmp_path):
    assert read_config_file(write(tmp_path / "pyproject.toml", "[tool.lrdoctor]\nlr = 0.1\n")) == {"lr": 0.1}
    assert read_config_file(write(tmp_path / "x.toml", "lr = 0.2\n")) == {"lr": 0.2}
    assert read_config_file(write(tmp_path / "a" / "pyproject.toml", "[tool.black]\n")) == {}


def test_parse_settings_normalises(fake_rules):
    got = parse_settings({"fail-on": "WARNING", "select": "TD,TO", "per-run-ignores": {"smoke/*": ["TQ01"]},
                          "tags": {"lr": "learning_rate"}, "rules": {"TD01": {"factor": 3, "tags": ["a"]}}})
    assert got == {"fail_on": "warning", "select": ("TD", "TO"), "per_run_ignores": {"smoke/*": ("TQ01",)},
                   "tag_roles": {"lr": ("learning_rate",)},
                   "rule_options": {"test-diverged": {"factor": 3.0, "tags": ("a",)}}}
    assert isinstance(got["rule_options"]["test-diverged"]["factor"], float)


@pytest.mark.parametrize("settings, message", [
    ({"selct": ["TD"]}, "unknown key 'selct'; did you mean 'select'?"),
    ({"per_run_ignore": {}}, "did you mean 'per-run-ignores'?"),
    ({"ignore": [1]}, "expected a list of strings"),
    ({"rules": {"test-overfit": {"x": 1}}}, "unknown option 'x' (options: none)"),
    ({"rules": {"test-diverged": {"tags": "a"}}}, "expected a list"),
    ({"rules": {"test-diverged": {"min_points": True}}}, "expected int, got True"),
    ({"per-run-ignores": {"x*": ["NOPE"]}}, "'NOPE' matches no rule"),
    ({"tags": ["train_loss"]}, "expected a table"),
])
def test_parse_settings_errors(fake_rules, settings, message):
    with pytest.raises(ConfigError) as info:
        parse_settings(settings, "here")
    assert message in str(info.value) and str(info.value).startswith("here: ")


def test_coerce_optional_and_tuples():
    assert coerce(None, int | None, "k") is None and coerce(3, float | None, "k") == 3.0
    assert coerce([1, 2], tuple[float, ...], "k") == (1.0, 2.0)
    with pytest.raises(ConfigError, match="expected a finite number"):
        coerce("1", float, "k")


def test_load_config_overrides_win(tmp_path, fake_rules):
    path = write(tmp_path / "lrdoctor.toml", 'fail-on = "info"\nignore = ["TQ"]\n')
    config = load_config(path, fail_on="never")
    assert (config.fail_on, config.ignore, config.source) == ("never", ("TQ",), str(path))


def test_to_toml_round_trips(fake_rules, tmp_path):
    config = Config(select=("TD",), fail_on="warning", lr=0.003, tag_roles={"val_loss": ("eval/loss",)},
                    rule_options={"test-diverged": {"factor": 3.0, "tags": ("a b",)}},
                    per_run_ignores={"smoke/*": ("TD01",)})
    text = to_toml(config)
    tomllib.loads(text)
    again = load_config(write(tmp_path / "lrdoctor.toml", text))
    assert again == Config(**{**config.__dict__, "source": str(tmp_path / "lrdoctor.toml")})


def test_mapping_config_for_the_api(fake_rules):
    assert config_from_mapping({"fail-on": "warning"}).fail_on == "warning"
    with pytest.raises(ConfigError, match="did you mean 'fail-on'"):
        config_from_mapping({"failon": "warning"})
