"""``lrdoctor config``: the effective configuration as an lrdoctor.toml that round-trips through
config.read_config_file, with the enabled rules and every rule's options (defaults as comments)."""
from __future__ import annotations

import dataclasses
from typing import Any

from .config import Config


def to_toml(config: Config, rules: list | None = None) -> str:
    """The effective configuration as an lrdoctor.toml (round-trips through read_config_file).

    With ``rules`` (the catalogue), also which rules are enabled and every rule's options:
    the ones set by the configuration as values, the defaults as comments.
    """
    lines = [f"# source: {config.source or 'defaults and command-line flags'}"]
    if rules is not None:
        from .engine import selected_rules

        enabled = [r.code for r in selected_rules(config)]
        lines.append(f"# rules enabled ({len(enabled)} of {len(rules)}): {', '.join(enabled) or 'none'}")
    lines.append(f"select = {_toml_value(list(config.select))}")
    lines.append(f"ignore = {_toml_value(list(config.ignore))}")
    lines.append(f"fail-on = {_toml_value(config.fail_on)}")
    lines.append("# lr = (not set: the LR comes from the logs)" if config.lr is None else f"lr = {config.lr!r}")
    lines.append(f"group-by = {_toml_value(config.group_by)}")
    lines += ["", "[tags]"]
    lines += [f"{role} = {_toml_value(list(tags))}" for role, tags in sorted(config.tag_roles.items())]
    lines += ["", "[per-run-ignores]"]
    lines += [f"{_toml_key(g)} = {_toml_value(list(k))}" for g, k in sorted(config.per_run_ignores.items())]
    for name, options in _rule_tables(config, rules):
        lines += ["", f"[rules.{_toml_key(name)}]", *options]
    return "\n".join(lines) + "\n"


def _rule_tables(config: Config, rules: list | None) -> list[tuple[str, list[str]]]:
    """(rule name, option lines): set options as values; with the catalogue, defaults as comments."""
    names = sorted(config.rule_options) if rules is None else [r.name for r in rules]
    by_name = {r.name: r for r in rules or ()}
    tables = []
    for name in names:
        overrides = config.rule_options.get(name, {})
        lines = [f"{k} = {_toml_value(v)}" for k, v in sorted(overrides.items())]
        if name in by_name:
            defaults = by_name[name].Options()
            lines += [f"# {f.name} = {_toml_value(getattr(defaults, f.name))}  (default)"
                      for f in dataclasses.fields(defaults) if f.name not in overrides]
        if lines:
            tables.append((name, lines))
    return tables


def _toml_key(key: str) -> str:
    bare = key.replace("-", "").replace("_", "").isalnum()
    return key if bare else _toml_value(key)


def _toml_value(value: Any) -> str:
    if value is None:
        return '""  # none'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return _toml_value(str(value))
