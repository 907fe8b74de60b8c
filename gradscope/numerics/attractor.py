"""What the state settled on, classified from what was measured: a fixed point, a cycle
of period p (found by recurrence of the state), a quasi-periodic orbit (a marginal top
exponent, the state neither converging nor repeating), chaos (a top exponent positive
beyond its error); for a network driven by noise or data, contracting (it forgets where
it started), marginal or chaotic; diverged when the state became non-finite.

    kind, period = classify(tail, autonomous=True, top=(l1, se))

The recurrence test: a state `s_T` within `RECUR` (relative to the state's size, by
dtype) of `s_{T-p}`, and `s_{T-1}` of `s_{T-1-p}` (two steps, so that a slow drift is no
cycle), for the smallest `p` up to `MAX_PERIOD`; `p = 1` is a fixed point. The top
exponent is `lambda_1` with its standard error when the spectrum was asked for, else
the growth rate of the spectral gain (its asymptote) with the standard error of the
per-trial slopes; it is marginal within `max(2 SE, MARGINAL_BAND)` of zero.

May import: nothing of gradscope's (numpy only).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

FIXED_POINT, PERIODIC, QUASI_PERIODIC, CHAOTIC = "fixed point", "periodic", "quasi-periodic", "chaotic"
CONTRACTING, MARGINAL, CONVERGING, DIVERGED = "contracting", "marginal", "converging", "diverged"
#: The longest cycle looked for (steps).
MAX_PERIOD = 64
#: A state within this of an earlier one (relative to its size) has come back to it.
RECUR = {"float64": 1e-9, "float32": 1e-4}
#: A top exponent closer than this to zero is marginal even when its error is smaller.
MARGINAL_BAND = 1e-4


def recurrence(tail: np.ndarray, dtype: str = "float64", max_period: int = MAX_PERIOD) -> int | None:
    """The smallest period `p` with `s_T ~ s_{T-p}` and `s_{T-1} ~ s_{T-1-p}` in the
    states `tail` `(L, D)` (the last L states of one trial), or None."""
    tail = np.asarray(tail, dtype=np.float64)
    if tail.shape[0] < 3 or not np.isfinite(tail).all():
        return None
    scale = max(1.0, float(np.abs(tail[-1]).max()))
    tol = RECUR.get(dtype, 1e-4) * scale
    for p in range(1, min(max_period, tail.shape[0] - 2) + 1):
        if (np.abs(tail[-1] - tail[-1 - p]).max() <= tol and np.abs(tail[-2] - tail[-2 - p]).max() <= tol):
            return p
    return None


def sign_of(value: float | None, se: float | None, marginal: float = MARGINAL_BAND) -> int | None:
    """+1 positive beyond its error, -1 negative beyond it, 0 marginal, None unknown."""
    if value is None or not math.isfinite(value):
        return None
    band = max(2.0 * (se if se is not None and math.isfinite(se) else 0.0), marginal)
    return 0 if abs(value) <= band else (1 if value > 0 else -1)


def classify(tail: np.ndarray | None, autonomous: bool, top: tuple[float | None, float | None],
             dtype: str = "float64", finite: bool = True, marginal: float = MARGINAL_BAND) -> tuple[str | None, int | None]:
    """`(kind, period)` of one trial: `tail` `(L, D)` its last states, `autonomous`
    whether its input is constant (zeros or a constant: only then can it settle on a fixed
    point or a cycle), `top` `(lambda_1, SE)` (or the growth rate and its SE, with the
    growth-rate regime's `marginal` band)."""
    if not finite:
        return DIVERGED, None
    if autonomous and tail is not None:
        p = recurrence(tail, dtype)
        if p is not None:
            return (FIXED_POINT, None) if p == 1 else (PERIODIC, p)
    s1 = sign_of(*top, marginal=marginal)
    if s1 is None:
        return None, None
    if s1 > 0:
        return CHAOTIC, None
    if not autonomous:
        return (CONTRACTING if s1 < 0 else MARGINAL), None
    if s1 < 0:
        return CONVERGING, None  # contracting, but not settled within the window
    return QUASI_PERIODIC, None


def summarize_kinds(kinds: Sequence[tuple[str | None, int | None]]) -> dict:
    """The run's `attractor` (the kind most trials share; `mixed` when none has most),
    `attractor_period` (the period when periodic), and `attractor_trials` (counts)."""
    counts: dict[str, int] = {}
    for kind, period in kinds:
        if kind is not None:
            name = f"{kind} {period}" if kind == PERIODIC else kind
            counts[name] = counts.get(name, 0) + 1
    if not counts:
        return {"attractor": None, "attractor_period": None, "attractor_trials": None}
    best, n = max(counts.items(), key=lambda kv: kv[1])
    mixed = 2 * n <= sum(counts.values()) and len(counts) > 1
    kind = "mixed" if mixed else best.split(" ")[0] if best.startswith(PERIODIC) else best
    period = int(best.split(" ")[1]) if best.startswith(PERIODIC) and not mixed else None
    return {"attractor": kind, "attractor_period": period, "attractor_trials": dict(sorted(counts.items()))}
