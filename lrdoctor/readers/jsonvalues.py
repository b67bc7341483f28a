"""Numbers out of parsed JSON (and other text logs), with every odd value caught, never raised.

A step must be a whole number that a ``numpy.int64`` holds exactly; a value may be any float
(``NaN``/``Infinity`` included: Python's json writes them).  A JSON text is parsed with its
integers bounded (Python refuses to convert more than 4300 digits) and its nesting bounded
(the decoder recurses once per bracket: too deep a text is a ValueError like any other bad text).
"""
from __future__ import annotations

import json
import math

STEP_LIMIT = 2 ** 63  # steps live in int64 arrays
_MAX_INT_DIGITS = 4000


def number(value) -> float | None:
    """``value`` as a float (ints too big for a float become +-inf), None when it is no number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def whole_step(value) -> tuple[int | None, str]:
    """(the step, "") or (None, why it is no usable step)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, "no number"
    if isinstance(value, HugeInt):
        return None, f"step of {value.digits} digits is out of range (|step| >= 2^63)"
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"step {value!r} is not finite"
    if isinstance(value, float) and value != int(value):
        return None, f"step {value!r} is not a whole number"
    if not -STEP_LIMIT <= int(value) < STEP_LIMIT:
        return None, f"step {short(value)} is out of range (|step| >= 2^63)"
    return int(value), ""


def short(value, width: int = 40) -> str:
    """repr() cut to ``width`` characters (a 5,000-digit number stays one line)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** (width + 1):
        return f"{str(value)[:12]}... ({len(str(abs(value)))} digits)"
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


class HugeInt(float):
    """An integer with more digits than Python converts (+-inf as a value); ``digits`` says how many."""

    digits: int = 0


def _parse_int(text: str) -> int | float:
    if len(text) <= _MAX_INT_DIGITS:
        return int(text)
    huge = HugeInt(text)  # +-inf
    huge.digits = len(text.lstrip("-"))
    return huge


def raw_decoder() -> json.JSONDecoder:
    """A decoder for ``raw_decode`` with the same bounded integers as ``loads``."""
    return json.JSONDecoder(parse_int=_parse_int)


def array_objects(text: str, start: int) -> list[dict]:
    """The whole objects of a JSON array whose items begin at ``start`` (just past its ``[``), decoded
    one by one until the first that is not whole: what a file cut while being written still holds
    (HF's ``log_history``, Chainer's LogReport).  Items that are not objects are passed over."""
    decoder, out, pos = raw_decoder(), [], start
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            return out
        if isinstance(item, dict):
            out.append(item)


def loads(text: str):
    """json.loads with bounded integers; raises ValueError (with a message) for any bad text,
    nesting too deep for the parser included."""
    try:
        return json.loads(text, parse_int=_parse_int)
    except RecursionError:
        raise ValueError("brackets nested deeper than the JSON parser can follow") from None


def error_message(exc: ValueError) -> str:
    """A JSONDecodeError's short message, or any other ValueError's first line."""
    msg = getattr(exc, "msg", None) or str(exc)
    return msg.splitlines()[0][:100] if msg else type(exc).__name__
