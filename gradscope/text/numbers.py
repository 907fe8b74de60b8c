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
        text = f"{v:.{digits}g}"
        if "e" in text:  # 156 to two digits: 160, never 1.6e+02
            text = f"{float(text):.0f}"
        return text
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


def log_text(log_value: Any, digits: int = 2) -> str:
    """A positive number given by its natural log, in `sci` style even where the number
    itself under- or overflows a float: `3.2e-5`, `1.1e-400`; `0` for `-inf`, `-` for None."""
    if log_value is None or (isinstance(log_value, float) and math.isnan(log_value)):
        return "-"
    if log_value == -math.inf:
        return "0"
    if log_value == math.inf:
        return "inf"
    exp10 = log_value / math.log(10)
    power = math.floor(exp10)
    mant = 10 ** (exp10 - power)
    if round(mant, digits - 1) >= 10:
        mant, power = mant / 10, power + 1
    text = f"{mant:.{digits - 1}f}".rstrip("0").rstrip(".")
    return f"{text}e{power}"


#: What the state settled on (`summary["attractor"]`), in words for a sentence.
ATTRACTOR_WORDS = {
    "fixed point": "the state settles on a fixed point",
    "periodic": "the state settles on a cycle",
    "quasi-periodic": ("the state neither settles nor repeats while its top direction neither grows nor "
                       "shrinks: a quasi-periodic orbit, not chaos"),
    "chaotic": "the state moves on a chaotic attractor",
    "contracting": "the state follows its input and forgets where it started",
    "marginal": "the top direction of the input-driven state neither grows nor shrinks: the edge of chaos",
    "converging": "the state contracts but has not settled on a fixed point or a cycle within the window",
    "diverged": "the state blew up",
    "mixed": "the trials settle on different kinds of orbit",
}


def attractor_text(summary: dict) -> str | None:
    """`the state settles on a cycle of period 2`, ... (None when not classified)."""
    kind = summary.get("attractor")
    if kind not in ATTRACTOR_WORDS:
        return None
    text = ATTRACTOR_WORDS[kind]
    if kind == "periodic" and summary.get("attractor_period"):
        text += f" of period {summary['attractor_period']}"
    if kind == "mixed" and summary.get("attractor_trials"):
        text += " (" + ", ".join(f"{n} {k}" for k, n in summary["attractor_trials"].items()) + ")"
    return text
