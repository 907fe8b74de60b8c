"""Numbers as a student reads them: compact decimals and powers of ten (`-1.95`,
`0.000412`, `3.2e-07`), growth factors (`7`, `2.5`), exact fractions (`1/4`), and a
result's summary value read the same way everywhere (`get`).

May import: `gradscope.results`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any


def number_text(value: Any, digits: int = 3) -> str:
    """Compact number: `-1.95`, `0.000412`, `3.2e-07`, `12345`; `-` for None."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:.{digits}g}" if abs(v) < 1 else f"{v:.{digits}g}".rstrip(".")
    return sci(v, digits - 1)


def sci(v: float, digits: int = 1) -> str:
    """`1e-6`, `2.5e+12` style without zero-padded exponents."""
    mant, exp = f"{v:.{digits}e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def factor_text(f: float) -> str:
    """A growth or shrink factor >= 1 as a student would say it: `7`, `2.5`, `1.3`."""
    if f >= 100:
        return sci(f, 1) if f >= 1e4 else f"{f:.0f}"
    if f >= 9.5:
        return f"{f:.0f}"
    return f"{f:.2g}"


def fraction_text(x: float) -> str:
    """`1/4` for 0.25, `1` for 1.0, else three significant digits."""
    fr = Fraction(x).limit_denominator(8)
    if abs(float(fr) - x) < 1e-9:
        return str(fr)
    return f"{x:.3g}"


def get(result: Any, key: str) -> Any:
    """A result's summary value, with non-finite floats as None (`results.number`)."""
    from ..results import number

    return number(result.summary, key)
