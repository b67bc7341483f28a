"""Fuzz the configuration reader (lrdoctor.toml / pyproject.toml: config.load_config) and the
``hparams.yaml`` reader (readers/hparams.py) -- the two small structured text files lrdoctor reads.

Config differential: a random valid Config written by ``config_toml.to_toml`` (UTF-8, or UTF-16
with a BOM) must load back equal.  hparams differential: a random nested mapping dumped by
``yaml.safe_dump`` (anchors and aliases included) must come back flattened, with no problem.
A config input may fail only with a ConfigError (one line naming the file); hparams never raises.

    python fuzz/text_config.py --runs 100000 --seed 1            # both, alternating
    python fuzz/text_config.py --atheris fuzz/work/text_config fuzz/corpus/text_config -runs=100000
"""
from __future__ import annotations

import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz.text_common import HERE, Family, main  # noqa: E402
from lrdoctor.config import Config, load_config  # noqa: E402
from lrdoctor.config_toml import to_toml  # noqa: E402
from lrdoctor.errors import ConfigError  # noqa: E402
from lrdoctor.readers.hparams import parse_hparams_text  # noqa: E402
from lrdoctor.readers.textfile import text_of  # noqa: E402

_TMP = tempfile.mkdtemp(prefix="lrdoctor-fuzz-config-")
_CONFIG = os.path.join(_TMP, "lrdoctor.toml")
YAML_MARK = b"#hparams\n"  # inputs starting with it go to the hparams reader


def read(data: bytes):
    if data.startswith(YAML_MARK):
        problems: list = []
        flat = parse_hparams_text("hparams.yaml", text_of(data), problems)
        return {"hparams": flat, "problems": problems}
    with open(_CONFIG, "wb") as fh:
        fh.write(data)
    return {"config": load_config(_CONFIG)}


def _rules():
    from lrdoctor.rules import all_rules

    return all_rules()


def random_config(rng: random.Random) -> Config:
    import dataclasses

    from lrdoctor.model import ROLES

    rules = _rules()
    codes = [r.code for r in rules]
    options = {}
    for rule in rng.sample(rules, rng.randint(0, 3)):
        fields = dataclasses.fields(rule.Options)
        chosen = {}
        for f in rng.sample(fields, min(len(fields), rng.randint(0, 2))):
            default = f.default
            if isinstance(default, bool):
                chosen[f.name] = not default
            elif isinstance(default, int):
                chosen[f.name] = rng.randint(0, 1000)
            elif isinstance(default, float):
                chosen[f.name] = rng.choice([0.0, rng.random() * 10 ** rng.randint(-5, 5)])
        if chosen:
            options[rule.name] = chosen
    return Config(
        select=tuple(rng.sample(codes, rng.randint(0, 3))), ignore=tuple(rng.sample(codes, rng.randint(0, 2))),
        fail_on=rng.choice(["info", "warning", "error", "never"]),
        lr=rng.choice([None, rng.random() * 10 ** rng.randint(-8, 2) or 1e-3]),
        group_by=rng.choice(["auto", "none", "all", "dir", "hparams:lr,wd", "name:^run-\\d+"]),
        tag_roles={role: tuple(rng.choice(["loss", "train/loss", "a \"quoted\" tag", "ünï", "x\\y"])
                               for _ in range(rng.randint(1, 2))) for role in rng.sample(ROLES, rng.randint(0, 3))},
        per_run_ignores={rng.choice(["*", "run-*", "a b/*"]): tuple(rng.sample(codes, 1))
                         for _ in range(rng.randint(0, 2))},
        rule_options=options)


def _nested(rng: random.Random, depth: int = 0):
    if depth > 2 or rng.random() < 0.4:
        return rng.choice([rng.random(), rng.randint(-5, 10 ** 6), "adam", True, None, [1, 2.5, "x"]])
    return {f"k{rng.randint(0, 20)}": _nested(rng, depth + 1) for _ in range(rng.randint(1, 4))}


def _flatten(mapping: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = value
    return out


def generate(rng: random.Random):
    if rng.random() < 0.5:
        import yaml

        data = {"lr": rng.random(), "model": _nested(rng)}
        shared = [1, 2, 3]
        if rng.random() < 0.3:  # safe_dump writes anchors and aliases for a shared object
            data["enc"], data["dec"] = shared, shared
        text = YAML_MARK.decode() + yaml.safe_dump(data)
        return text.encode(), {"hparams": _flatten(data)}
    config = random_config(rng)
    text = to_toml(config)
    return text.encode(rng.choice(["utf-8", "utf-8", "utf-16"])), {"config": config}


def compare(result, expected) -> list[str]:
    if result is None:
        return ["rejected"]
    if "hparams" in expected:
        diffs = [f"problem: {p.describe()[:200]}" for p in result.get("problems", [])]
        if result.get("hparams") != expected["hparams"]:
            diffs.append(f"hparams differ: {result.get('hparams')!r:.200} vs {expected['hparams']!r:.200}")
        return diffs
    got, want = result["config"], expected["config"]
    fields = ("select", "ignore", "fail_on", "lr", "group_by")
    diffs = [f"{f}: {getattr(got, f)!r} != {getattr(want, f)!r}" for f in fields if getattr(got, f) != getattr(want, f)]
    if dict(got.tag_roles) != dict(want.tag_roles):
        diffs.append(f"tags: {dict(got.tag_roles)!r:.200} != {dict(want.tag_roles)!r:.200}")
    if {k: dict(v) for k, v in got.rule_options.items()} != {k: dict(v) for k, v in want.rule_options.items()}:
        diffs.append(f"rule options: {got.rule_options!r:.200} != {want.rule_options!r:.200}")
    if dict(got.per_run_ignores) != dict(want.per_run_ignores):
        diffs.append("per-run-ignores differ")
    return diffs


FAMILY = Family("config", read, generate, compare, os.path.join(HERE, "corpus", "text_config"),
                answers=(ConfigError,), sanity=lambda result: [])

if __name__ == "__main__":
    sys.exit(main(FAMILY))
