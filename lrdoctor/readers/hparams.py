"""Hyper-parameters written beside a log: Lightning's ``hparams.yaml``."""
from __future__ import annotations

import functools
import os

from ..model import Problem


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

    Loader.add_multi_constructor("!", unknown)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", unknown)
    return Loader


def _flatten(mapping: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "/"))
        else:
            flat[name] = value
    return flat


def read_hparams_beside(directory: str, problems: list[Problem]) -> dict:
    """``hparams.yaml`` in ``directory`` flattened to {"a/b": value}; {} when absent."""
    path = os.path.join(directory, "hparams.yaml")
    if not os.path.isfile(path):
        return {}
    import yaml

    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            data = yaml.load(fh, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except OSError as exc:
        problems.append(Problem(path, f"cannot read hyper-parameters: {exc.strerror or exc}"))
        return {}
    # YAML syntax; ValueError/TypeError from building values (a date out of range, an unhashable
    # key): the log itself is still fine, so say so and go on without hyper-parameters.
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        problems.append(Problem(path, f"hyper-parameters not parsed: {type(exc).__name__}: {str(exc).splitlines()[0]}"))
        return {}
    return _flatten(data) if isinstance(data, dict) else {}
