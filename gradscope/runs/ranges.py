"""Values of an option that takes several: lists and ranges, as the command line and
experiment files write them.

- `x,y,z`: a list (each item may itself be a range);
- `a:b` with integers: every integer from a to b inclusive (counting down when b < a);
- `a:b:n`: n values evenly spaced from a to b inclusive (a linspace).

`parse_range` reads one text; `normalize_values` turns the value of a `Config` field
(a scalar, a list, or range text) into its list of values.

May import: `gradscope.config`.
"""

from __future__ import annotations

import math
from typing import Any

from ..config import FIELD_KINDS

#: Most configurations one grid may expand to (a typo such as `1:100000` fails early).
MAX_CONFIGS = 10_000


_NONE_WORDS = ("none", "null", "default", "auto")


def _kind_type(kind: type | str) -> type:
    if isinstance(kind, str):
        table = {"int": int, "float": float, "str": str}
        if kind not in table:
            raise ValueError(f"kind must be one of int, float, str, got {kind!r}")
        return table[kind]
    if kind not in (int, float, str):
        raise ValueError(f"kind must be int, float or str, got {kind!r}")
    return kind


def _number(text: str, kind: type, whole: str) -> int | float:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number" if text == whole else f"{whole!r}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{whole!r}: {text!r} is not a finite number")
    if kind is int:
        if value != int(value):
            raise ValueError(f"{whole!r}: {text!r} is not an integer")
        return int(value)
    return value


def _tidy(value: float) -> float:
    """Round a linspace value to 12 significant digits: 0.6, not 0.6000000000000001.

    The cache key hashes the value's repr, so `0.5:3.0:26` must give the same 0.6 as
    typing `0.6`.
    """
    return float(f"{value:.12g}")


def _parse_piece(piece: str, kind: type, whole: str) -> list[Any]:
    if kind is str:
        return [piece]
    parts = piece.split(":")
    if len(parts) == 1:
        return [_number(parts[0], kind, whole)]
    if len(parts) == 2:
        a, b = (_number(p, float, whole) for p in parts)
        if a != int(a) or b != int(b):
            raise ValueError(
                f"{whole!r}: a:b takes integers (every integer from a to b); "
                f"use a:b:n for n evenly spaced values"
            )
        a, b = int(a), int(b)
        if abs(b - a) + 1 > MAX_CONFIGS:
            raise ValueError(f"{whole!r}: {abs(b - a) + 1} values, more than the limit of {MAX_CONFIGS}")
        step = 1 if b >= a else -1  # 5:2 counts down, as `cli.parse_values` does
        return [kind(v) for v in range(a, b + step, step)]
    if len(parts) == 3:
        a, b = (_number(p, float, whole) for p in parts[:2])
        n = _number(parts[2], int, whole)
        if n < 1:
            raise ValueError(f"{whole!r}: a:b:n needs n >= 1")
        if n > MAX_CONFIGS:
            raise ValueError(f"{whole!r}: {n} values, more than the limit of {MAX_CONFIGS}")
        if n == 1:
            if a != b:
                raise ValueError(f"{whole!r}: one value cannot span {a:g} to {b:g}")
            values = [a]
        else:
            values = [a + (b - a) * i / (n - 1) for i in range(n)]
        if kind is int:
            out = []
            for v in values:
                r = round(v)
                if abs(v - r) > 1e-9 * max(1.0, abs(v)):
                    raise ValueError(
                        f"{whole!r}: a:b:n gives the non-integer value {v:g}; "
                        f"choose n so that the step (b-a)/(n-1) is whole"
                    )
                out.append(int(r))
            return out
        return [_tidy(v) for v in values]
    raise ValueError(f"{whole!r}: a range is a:b or a:b:n")


def parse_range(text: str, kind: type | str = float) -> list[Any]:
    """Parse a command-line value list.

    Arguments:
        text: `a:b:n` (inclusive linspace of n values), `a:b` (every integer from a to
            b inclusive, counting down when b < a), `x,y,z` (a list; each item may itself
            be a range), or one value. Same rules as `gradscope.cli.parse_values`.
        kind: `int`, `float` or `str` (or their names). Strings are only split on commas.

    Returns:
        The values, in the order written.

    Raises:
        ValueError naming the text and what is expected.
    """
    kind = _kind_type(kind)
    if not isinstance(text, str):
        raise ValueError(f"expected text, got {text!r}")
    pieces = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in pieces):
        raise ValueError(f"{text!r}: empty value in list")
    values: list[Any] = []
    for piece in pieces:
        values.extend(_parse_piece(piece, kind, text))
    return values


def parse_option(name: str, text: str) -> list[Any]:
    """Parse the text of option `name` (a `Config` field) into its list of values.

    Optional fields (`bias_std`, `input_size`, `dtype`) accept `none` for `None`.
    """
    kind, nullable = value_kind(name)
    if kind is bool:
        raise ValueError(f"takes true or false (a boolean: in TOML without quotes), got {text!r}")
    values: list[Any] = []
    for piece in parse_range(text, str):
        if nullable and piece.lower() in _NONE_WORDS:
            values.append(None)
        elif kind is str:
            values.append(piece)
        else:
            values.extend(parse_range(piece, kind))
    return values


def value_kind(name: str) -> tuple[type, bool]:
    if name not in FIELD_KINDS:
        raise ValueError(
            f"unknown configuration key {name!r}; allowed: {', '.join(sorted(FIELD_KINDS))}"
        )
    return FIELD_KINDS[name]


def normalize_values(name: str, values: Any) -> list[Any]:
    """The list of values of `name`: scalars become one-value lists, strings are parsed
    with the range syntax, and whole floats given for float fields stay floats (so that
    `gain = 1` and `gain = 1.0` hash to the same cache key)."""
    kind, nullable = value_kind(name)
    if isinstance(values, (list, tuple)):
        items = list(values)
    else:
        items = [values]
    if not items:
        raise ValueError(f"{name}: no values given")
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.extend(parse_option(name, item))
        elif item is None and nullable:
            out.append(None)
        elif isinstance(item, (dict, list, tuple)):
            raise ValueError(f"{name}: nested values are not allowed, got {item!r}")
        elif kind is bool and not isinstance(item, bool):
            raise ValueError(f"takes true or false (a boolean: in TOML without quotes), got {item!r}")
        elif kind is float and isinstance(item, int) and not isinstance(item, bool):
            out.append(float(item))
        else:
            out.append(item)
    return out
