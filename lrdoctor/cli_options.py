"""The options that make up a ``Config``, declared once and shared by the CLI's commands.

Follows black: the eager ``--config`` callback reads the file (given, or found from LOGDIR
upward; see config.find_config_file) and fills click's ``default_map``, so every flag parsed
after it overrides the file's value of the same key with no merge code.  Settings that have
no flag (per-rule options, per-run ignores) travel in ``ctx.meta``.

Use: a LOGDIR argument declared ``is_eager=True`` (so the file search can start from it),
then ``@config_options``; in the command, ``make_config(ctx, params)``.
"""
from __future__ import annotations

import click

from .report import FAIL_ON_LEVELS

_FILE_ONLY = "lrdoctor.file_settings"  # ctx.meta key: settings with no flag (rules, per-run-ignores)


def _read_config(ctx: click.Context, _param, value: str | None) -> str | None:
    """Fill ``ctx.default_map`` from the config file; the flags parsed after this override it."""
    from .config import find_config_file, parse_settings, read_config_file, section_name

    path = value or find_config_file(ctx.params.get("logdir"))
    ctx.meta[_FILE_ONLY] = {}
    if path is None:
        return None
    settings = parse_settings(read_config_file(path), f"{path} {section_name(path)}")
    defaults = {"select": settings.get("select"), "ignore": settings.get("ignore"),
                "fail_on": settings.get("fail_on"), "lr": settings.get("lr"), "group_by": settings.get("group_by")}
    if "tag_roles" in settings:
        defaults["tag"] = [f"{role}={','.join(tags)}" for role, tags in settings["tag_roles"].items()]
    ctx.default_map = {**(ctx.default_map or {}), **{k: v for k, v in defaults.items() if v is not None}}
    ctx.meta[_FILE_ONLY] = {k: settings[k] for k in ("rule_options", "per_run_ignores") if k in settings}
    return str(path)


def _rule_keys(_ctx, param, values) -> tuple[str, ...]:
    from .config import parse_rule_keys

    keys = tuple(k for value in values or () for k in value.split(",") if k.strip())
    return parse_rule_keys(keys, f"--{param.name}")


def _tags(_ctx, _param, values) -> dict[str, tuple[str, ...]]:
    from .config import parse_settings

    roles: dict[str, list[str]] = {}
    for value in values or ():
        role, sep, tags = value.partition("=")
        if not sep or not tags.strip():
            raise click.BadParameter(f"expected ROLE=TAG[,TAG...], got {value!r}")
        roles.setdefault(role.strip(), []).extend(t.strip() for t in tags.split(",") if t.strip())
    return parse_settings({"tags": roles}, "--tag")["tag_roles"] if roles else {}


def _group_by(_ctx, _param, value: str | None) -> str | None:
    from .context.groups import check_group_by

    return None if value is None else check_group_by(value)


def config_options(command=None, *, exclude: tuple[str, ...] = ()):
    """The options that make up a Config, declared once, shared by every command that diagnoses.

    ``@config_options`` gives them all; ``@config_options(exclude=("fail_on", "group_by"))`` leaves out
    those that mean nothing to a command (make_config then uses the defaults for them).
    """
    if command is None:
        return lambda cmd: config_options(cmd, exclude=exclude)
    options = [
        click.option("--config", "config_path", type=click.Path(dir_okay=False), is_eager=True,
                     callback=_read_config, expose_value=True,
                     help="Read settings from this TOML file (pyproject.toml: [tool.lrdoctor]; any other "
                          "name: top-level keys).  Default: the nearest lrdoctor.toml or pyproject.toml "
                          "with [tool.lrdoctor], from LOGDIR upward, else from the current directory."),
        click.option("--select", multiple=True, callback=_rule_keys, metavar="CODES",
                     help="Only these rules: codes, code prefixes or names, comma-separated or repeated."),
        click.option("--ignore", multiple=True, callback=_rule_keys, metavar="CODES",
                     help="Skip these rules: codes, code prefixes or names."),
        click.option("--fail-on", type=click.Choice(FAIL_ON_LEVELS), default="error", show_default=True,
                     help="Exit 1 when a finding has this severity or worse; 'never' always exits 0."),
        click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="The learning rate used, for logs that do not record it."),
        click.option("--tag", multiple=True, callback=_tags, metavar="ROLE=TAG[,TAG]",
                     help="Use these tags for a role (train_loss, val_loss, lr, train_acc, val_acc, grad_norm)."),
        click.option("--group-by", default=None, callback=_group_by, metavar="MODE",
                     help="Which runs form an LR sweep: auto (default: runs that plausibly share a setup), "
                          "none, all, dir, hparams:K1,K2 or name:REGEX."),
        click.option("--baseline", multiple=True, type=click.Path(exists=True), metavar="REF",
                     help="Compare every run with this reference run (repeat for its seeds, or give a folder): "
                          "findings BL01-BL04 when a run is worse; a reference sweep (3+ LRs) judges each run."),
    ]
    for option in reversed(options):
        probe = option(lambda: None)  # the click.Option the decorator would add, to read its name
        if probe.__click_params__[0].name not in exclude:
            command = option(command)
    return command


def make_config(ctx: click.Context, params: dict):
    """The Config for a command's parsed ``params`` (flags over file over defaults)."""
    from .config import Config

    file_only = ctx.meta.get(_FILE_ONLY, {})
    return Config(select=params.get("select", ()), ignore=params.get("ignore", ()),
                  fail_on=params.get("fail_on", "error"), lr=params.get("lr"), tag_roles=params.get("tag", {}),
                  group_by=params.get("group_by") or "auto",
                  baseline=tuple(params.get("baseline") or ()), source=params["config_path"], **file_only)
