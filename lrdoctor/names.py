"""File and run names as they can be shown and written: any bytes a file system allows, one PNG each.

A file name that is not valid UTF-8 reaches Python as a str holding lone surrogates (PEP 383's
``surrogateescape``: byte 0xFF becomes U+DCFF).  Such a str cannot be encoded as UTF-8 (and a lone
surrogate in JSON is refused by strict parsers), so every report, in every format, and every plot title
shows those bytes the way ``ls -b`` does: ``\\xff``.
"""
from __future__ import annotations

import hashlib
import re
from typing import Sequence

_SURROGATE = re.compile("[\ud800-\udfff]")


def shown(text: str) -> str:
    """``text`` with each undecodable byte of a file name as ``\\xNN`` (any other lone surrogate as ``\\uNNNN``).

    >>> shown("run-\\udcff\\udcfe/metrics.csv"), shown("naïve")
    ('run-\\\\xff\\\\xfe/metrics.csv', 'naïve')
    """
    return _SURROGATE.sub(_escape, text)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def slug(name: str) -> str:
    """A flat, safe file-name stem ("." -> "run", "a/b c" -> "a__b_c"); different names can share one."""
    flat = re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("/", "__").replace("\\", "__")).strip("._")
    return flat or "run"


def unique_file_names(names: Sequence[str], suffix: str = ".png") -> list[str]:
    """One file name per name, all different, even on a case-insensitive file system.

    Names whose slugs collide ("a b", "a_b", "a#b" -> "a_b") each get a short hash of the full name, so a
    run's file name does not depend on which other runs are there.

    >>> unique_file_names(["a b", "a_b", "c"])
    ['a_b-7dbde935.png', 'a_b-eb2980a5.png', 'c.png']
    """
    stems = [slug(name) for name in names]
    counts: dict[str, int] = {}
    for stem in stems:
        counts[stem.lower()] = counts.get(stem.lower(), 0) + 1
    out = []
    for name, stem in zip(names, stems):
        if counts[stem.lower()] > 1:
            digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
            stem = f"{stem}-{digest}"
        out.append(stem + suffix)
    if len({n.lower() for n in out}) != len(out):  # the same name twice: number the repeats
        seen: dict[str, int] = {}
        for i, n in enumerate(out):
            k = seen[n.lower()] = seen.get(n.lower(), 0) + 1
            if k > 1:
                out[i] = n[: -len(suffix)] + f"-{k}" + suffix
    return out
