"""Hyper-parameters written beside a log: Lightning's ``hparams.yaml``.

Bounded: at most MAX_HPARAMS_BYTES are read, and a document that would expand to more than
MAX_YAML_NODES nodes through its aliases (a "billion laughs" bomb), refers to itself, or nests
deeper than the parser can follow is reported and skipped -- the log beside it is read as usual.
"""
from __future__ import annotations

import functools
import os

from ..model import Problem
from .textfile import TextFile, read_text

MAX_HPARAMS_BYTES = 4 << 20
MAX_YAML_NODES = 100_000
_MAX_FLAT_DEPTH = 50


class YamlTooBig(ValueError):
    """The document expands (through aliases) to more than MAX_YAML_NODES nodes, or into itself."""


def _expanded_size(node, sizes: dict, on_path: set) -> int:
    """How many nodes ``node`` stands for once every alias is expanded (memoised: linear time)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in on_path:
        raise YamlTooBig("an alias refers to a node that contains it (a self-referencing value)")
    on_path.add(key)
    children = node.value if isinstance(node.value, list) else []
    total = 1
    for child in children:
        for part in child if isinstance(child, tuple) else (child,):  # mapping items are (key, value)
            total += _expanded_size(part, sizes, on_path)
            if total > MAX_YAML_NODES:
                raise YamlTooBig(f"expands to more than {MAX_YAML_NODES} values through its aliases")
    on_path.discard(key)
    sizes[key] = total
    return total


@functools.lru_cache(maxsize=None)
def _loader():
    """(Built once.) A SafeLoader that turns Python-object tags (``!!python/object:...``) into plain values
    instead of failing, so one exotic entry does not lose the whole file."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def unknown(loader, suffix, node):
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    def construct_document(self, node):
        _expanded_size(node, {}, set())  # before a single value is built
        return yaml.SafeLoader.construct_document(self, node)

    Loader.add_multi_constructor("!", unknown)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", unknown)
    Loader.construct_document = construct_document
    return Loader


def _flatten(mapping: dict, prefix: str = "", depth: int = 0) -> dict:
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < _MAX_FLAT_DEPTH:
            flat.update(_flatten(value, name + "/", depth + 1))
        else:
            flat[name] = value
    return flat


def read_hparams_beside(directory: str, problems: list[Problem]) -> dict:
    """``hparams.yaml`` in ``directory`` flattened to {"a/b": value}; {} when absent or unusable
    (then a problem says why; the log itself is still fine)."""
    path = os.path.join(directory, "hparams.yaml")
    if not os.path.lexists(path):
        return {}
    return parse_hparams_text(path, read_text(path, MAX_HPARAMS_BYTES), problems)


def parse_hparams_text(path: str, read: TextFile, problems: list[Problem]) -> dict:
    """``read_hparams_beside`` on the file's text already read."""
    if read.error:
        if not read.error.startswith("empty") and "only whitespace" not in read.error:
            problems.append(Problem(path, f"hyper-parameters not read: {read.error}"))
        return {}
    if read.cut_note:
        problems.append(Problem(path, f"hyper-parameters not read: {read.cut_note}"))
        return {}
    import yaml

    try:
        data = yaml.load(read.text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    # YAML syntax; ValueError/TypeError from building values (a date out of range, an unhashable
    # key, an alias bomb); RecursionError from brackets nested thousands deep.
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        if isinstance(exc, RecursionError):
            why = "nested deeper than the YAML parser can follow"
        else:
            why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        problems.append(Problem(path, f"hyper-parameters not parsed: {why}", line=_line_of(exc)))
        return {}
    return _flatten(data) if isinstance(data, dict) else {}


def _line_of(exc: Exception) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return None if mark is None else mark.line + 1
