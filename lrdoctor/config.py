"""Effective configuration: defaults < [tool.lrdoctor] / lrdoctor.toml < CLI flags.

The engine only sees a ``Config`` value.  This module finds and reads the file
(``find_config_file``, ``read_config_file``) and validates a plain table of settings
(``parse_settings``) into the keyword arguments of ``Config``; cli.py feeds the file's
values to click as defaults, so flags override the file without any merge code.

Every key, rule and option is checked; a mistake is a ``ConfigError`` naming the
file and key, with a "did you mean" suggestion.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import os
import reprlib
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import ConfigError
from .report import FAIL_ON_LEVELS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_MAX_CONFIG_BYTES = 4 << 20
PROJECT_FILES = ("lrdoctor.toml", "pyproject.toml")  # lrdoctor.toml wins within one directory
ROOT_MARKERS = (".git", ".hg")  # the upward search stops at the project root


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()  # codes, prefixes or names; empty = all rules
    ignore: tuple[str, ...] = ()
    fail_on: str = "error"
    # role -> list of raw tag names to use for it, tried in order (overrides tags.py's guesses)
    tag_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # rule name -> {option: value}
    rule_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    # run glob -> codes/names to ignore for matching runs ("*" = everything)
    per_run_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The LR used when the log has none (--lr).
    lr: float | None = None
    # Which runs form an LR sweep (--group-by; see sweep.py): auto, none, all, dir, hparams:..., name:...
    group_by: str = "auto"
    # Reference run(s) to compare every run with (--baseline; see context/baseline.py).
    baseline: tuple[str, ...] = ()
    # The file the settings came from (None: defaults and flags only).  Informational.
    source: str | None = None

    def __post_init__(self) -> None:
        if self.lr is not None:  # --lr and the Python API arrive here without parse_settings
            _lr(self.lr, "lr (--lr)")


# File key (after "-" -> "_") -> Config field.
FILE_KEYS = {
    "select": "select",
    "ignore": "ignore",
    "fail_on": "fail_on",
    "lr": "lr",
    "tags": "tag_roles",
    "rules": "rule_options",
    "per_run_ignores": "per_run_ignores",
    "group_by": "group_by",
}


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 3, 60, 60, 6, 6


def _show(value: Any) -> str:
    """repr() cut short: a 2,000-deep list or a 1 MB string stays one readable line."""
    return _SHORT.repr(value)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# --------------------------------------------------------------------------- finding the file


def _has_section(pyproject: Path) -> bool:
    """Does this pyproject.toml configure lrdoctor?  One that is not UTF-8 (a Latin-1 file in some
    parent directory) is ours only if it says [tool.lrdoctor]; then reading it reports the bytes."""
    try:
        return "lrdoctor" in _load_toml(pyproject, strict=False).get("tool", {})
    except ConfigError:
        return True  # a broken pyproject.toml next to the logs should be reported, not skipped


def find_config_file(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest lrdoctor.toml, or pyproject.toml with a [tool.lrdoctor] table.

    Searched from ``start`` (a log directory or file; its directory) upward, stopping after
    the project root (a directory holding .git or .hg); when nothing is found there, the same
    search runs from the current directory, so a CI job in a repository checkout finds the
    repository's settings even for logs written outside it.
    """
    starts = [Path(start)] if start is not None else []
    starts.append(Path.cwd())
    for origin in starts:
        found = _search_upward(origin)
        if found is not None:
            return found
    return None


def _search_upward(origin: Path) -> Path | None:
    directory = origin.resolve()
    if not directory.is_dir():
        directory = directory.parent
    for folder in (directory, *directory.parents):
        for name in PROJECT_FILES:
            candidate = folder / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_section(candidate)):
                return candidate
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return None
    return None


# --------------------------------------------------------------------------- reading the file


def _config_text(path: Path, strict: bool = True) -> str:
    """The file's text: UTF-8, or UTF-16/32 with a BOM (a Windows editor's "Unicode").  ``strict``:
    other bytes are a ConfigError naming the offset; else they become U+FFFD."""
    from .readers.textfile import decode, read_bytes

    data, error, longer = read_bytes(os.fspath(path), _MAX_CONFIG_BYTES)
    if error:
        raise ConfigError(f"{path}: {error}")
    if longer:
        raise ConfigError(f"{path}: larger than {_MAX_CONFIG_BYTES >> 20} MiB; not a configuration file")
    text, codec = decode(data)
    if strict and codec == "utf-8":
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                              f"TOML files must be UTF-8") from None
    return text


def _load_toml(path: Path, strict: bool = True) -> dict:
    text = _config_text(path, strict)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits (Python's conversion limit)
        raise ConfigError(f"{path}: invalid TOML: {str(exc).split(';')[0][:120]}") from None


def read_config_file(path: str | os.PathLike) -> dict:
    """The raw settings table: [tool.lrdoctor] of a pyproject.toml, else the top level."""
    path = Path(path)
    data = _load_toml(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("lrdoctor", {})
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [tool.lrdoctor] must be a table")
    return data


def section_name(path: str | os.PathLike) -> str:
    return "[tool.lrdoctor]" if Path(path).name == "pyproject.toml" else "top level"


# --------------------------------------------------------------------------- validating values


def parse_settings(table: Mapping[str, Any], where: str = "configuration") -> dict:
    """Validate a settings table (file keys, kebab or snake case) into ``Config`` keyword args."""
    out: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in FILE_KEYS:
            kebab = [k.replace("_", "-") for k in FILE_KEYS]
            raise ConfigError(f"{where}: unknown key {raw_key!r}{_suggest(raw_key.replace('_', '-'), kebab)}")
        field_name = FILE_KEYS[key]
        out[field_name] = _PARSERS[field_name](value, f"{where}: {raw_key}")
    return out


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {_show(value)}")
    return tuple(v.strip() for v in value if v.strip())


def parse_rule_keys(value: Any, where: str) -> tuple[str, ...]:
    """Codes, code prefixes, names or aliases; each must match at least one rule."""
    keys = _str_list(value, where)
    for key in keys:
        check_rule_key(key, where)
    return keys


def check_rule_key(key: str, where: str) -> None:
    from .rules import all_rules, rule_matches

    from .context import CODES, code_matches

    rules = all_rules()
    if any(rule_matches(rule, key) for rule in rules) or any(code_matches(code, key) for code in CODES):
        return
    choices = [r.code for r in rules] + [r.name for r in rules]
    raise ConfigError(f"{where}: {key!r} matches no rule{_suggest(key, choices)}")


def _fail_on(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.lower() not in FAIL_ON_LEVELS:
        raise ConfigError(f"{where}: expected one of {', '.join(FAIL_ON_LEVELS)}, got {_show(value)}")
    return value.lower()


def _lr(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not _finite(value) or not value > 0:
        raise ConfigError(f"{where}: expected a positive number, got {_show(value)}")
    return float(value)


def _tag_roles(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    from .model import ROLES

    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table of role = [tag names]")
    roles = {}
    for role, tags in value.items():
        if role not in ROLES:
            raise ConfigError(f"{where}: unknown role {role!r}{_suggest(role, ROLES)} (roles: {', '.join(ROLES)})")
        roles[role] = _str_list([tags] if isinstance(tags, str) else tags, f"{where}.{role}")
    return roles


def _per_run_ignores(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table of \"run glob\" = [codes or names]")
    return {str(glob): parse_rule_keys(keys, f"{where}.{glob!r}") for glob, keys in value.items()}


def _rule_options(value: Any, where: str) -> dict[str, dict[str, object]]:
    from .rules import all_rules, find_rule

    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table of rule-name = {{option = value}}")
    out: dict[str, dict[str, object]] = {}
    for key, options in value.items():
        rule = find_rule(key)
        if rule is None:
            names = [r.name for r in all_rules()]
            raise ConfigError(f"{where}: unknown rule {key!r}{_suggest(key, names)}")
        if not isinstance(options, Mapping):
            raise ConfigError(f"{where}.{key}: expected a table of option = value")
        values = rule_option_values(rule, options, f"{where}.{key}")
        if values:  # an empty table changes nothing
            out[rule.name] = {**out.get(rule.name, {}), **values}
    return out


def rule_option_values(rule, options: Mapping[str, Any], where: str) -> dict[str, object]:
    """Check option names and types against the rule's ``Options`` dataclass."""
    fields = {f.name: f for f in dataclasses.fields(rule.Options)}
    hints = typing.get_type_hints(rule.Options, vars(sys.modules[rule.__module__]))
    out = {}
    for raw_name, value in options.items():
        name = raw_name.replace("-", "_")
        if name not in fields:
            known = ", ".join(fields) or "none"
            raise ConfigError(f"{where}: unknown option {raw_name!r}{_suggest(name, fields)} (options: {known})")
        out[name] = coerce(value, hints.get(name, Any), f"{where}.{raw_name}")
        _check_sign(out[name], fields[name], f"{where}.{raw_name}")
    return out


def _finite(value: Any) -> bool:
    """A number a float holds, and not NaN or infinite (a 400-digit integer is none)."""
    if not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check_sign(value: Any, option: dataclasses.Field, where: str) -> None:
    """A number may be negative only where the rule's default is (a threshold on a slope, say):
    a negative count, window or ratio is a mistake that would silently switch a check off."""
    default = option.default
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0 \
            and not (isinstance(default, (int, float)) and default < 0):
        raise ConfigError(f"{where}: expected a number >= 0 (the default is {_show(default)}), got {_show(value)}")


def coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` converted to the annotation ``hint`` (int, float, bool, str, tuple, X | None)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if args and type(None) in args and origin is not tuple:  # Optional / X | None
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return coerce(value, inner[0] if len(inner) == 1 else Any, where)
    if origin in (tuple, list) or hint in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {_show(value)}")
        item = args[0] if args else Any
        return tuple(coerce(v, item, where) for v in value)
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2 ** 63
    elif hint is float:
        ok = not isinstance(value, bool) and _finite(value)
        value = float(value) if ok else value
    elif hint is str:
        ok = isinstance(value, str)
    else:
        return value
    if not ok:
        kind = "a finite number" if hint is float else hint.__name__
        raise ConfigError(f"{where}: expected {kind}, got {_show(value)}")
    return value


def _group_by(value: Any, where: str) -> str:
    from .context.groups import check_group_by

    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {_show(value)}")
    return check_group_by(value, where)


_PARSERS = {
    "select": parse_rule_keys,
    "ignore": parse_rule_keys,
    "fail_on": _fail_on,
    "lr": _lr,
    "tag_roles": _tag_roles,
    "rule_options": _rule_options,
    "per_run_ignores": _per_run_ignores,
    "group_by": _group_by,
}


# --------------------------------------------------------------------------- one-call loading


def load_config(path: str | os.PathLike | None = None, *, start: str | os.PathLike | None = None,
                **overrides: Any) -> Config:
    """A validated Config from ``path`` (or the file found from ``start``), then ``overrides``.

    ``overrides`` are Config field names (flags); they win over the file.  Used by the Python API.
    """
    path = Path(path) if path is not None else find_config_file(start)
    values: dict[str, Any] = {}
    if path is not None:
        values = parse_settings(read_config_file(path), f"{path} {section_name(path)}")
        values["source"] = str(path)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Config(**values)


def config_from_mapping(settings: Mapping[str, Any]) -> Config:
    """A Config from a dict of file keys, e.g. ``{"fail-on": "warning", "ignore": ["DQ"]}``."""
    return Config(**parse_settings(settings, "config"))
