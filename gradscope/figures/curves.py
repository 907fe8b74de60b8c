"""Curves as figures need them: thinned indices for long curves, quantiles over trials
of log-norms (with `+-inf` kept), and eps as mathtext.

May import: nothing of gradscope's (numpy only).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

LN10 = math.log(10.0)


QUANTILES = (0.1, 0.5, 0.9)


_BIG = 1e300  # stands in for +-inf inside quantiles, mapped back afterwards


def log_spaced_indices(n: int, max_points: int = 500) -> np.ndarray:
    """At most `max_points` sorted, distinct indices into a length-`n` array, log-spaced.

    Always holds 0 and `n - 1`; every index when `n <= max_points`. Used to thin curves
    of up to 1e5 lags for figures and CSV files.
    """
    n, max_points = int(n), int(max_points)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, got {max_points}")
    if n <= max_points:
        return np.arange(n, dtype=np.int64)

    def build(num: int) -> np.ndarray:
        body = np.unique(np.rint(np.geomspace(1, n - 1, num)).astype(np.int64))
        return np.concatenate(([0], body))

    lo, hi = max_points - 1, 16 * max_points  # build(lo) has <= max_points entries
    best = build(lo)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        cand = build(mid)
        if len(cand) <= max_points:
            lo, best = mid, cand
        else:
            hi = mid - 1
    return best


def drawing_indices(n: int, max_points: int = 500) -> np.ndarray:
    """Indices for drawing on a linear lag axis: log-spaced (early lags) plus evenly spaced."""
    if n <= max_points:
        return np.arange(max(int(n), 0), dtype=np.int64)
    half = max(max_points // 2, 2)
    even = np.rint(np.linspace(0, n - 1, half)).astype(np.int64)
    return np.union1d(log_spaced_indices(n, half), even)


def trial_quantiles(
    logs: np.ndarray, qs: Sequence[float] = QUANTILES, columns: np.ndarray | None = None
) -> np.ndarray:
    """Quantiles over trials (axis 0) of log values, `+-inf` kept, NaN (undefined) ignored.

    Returns `(len(qs), columns)`; a column whose values are all NaN gives NaN.
    """
    a = np.asarray(logs, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if columns is not None:
        a = a[:, columns]
    a = np.clip(a, -_BIG, _BIG)  # NaN stays NaN
    q = _quantiles(a, list(qs), "linear")
    # interpolating between a zero gain (-inf) and a finite one is meaningless in log
    # space: take the nearer order statistic there
    touched = np.abs(q) >= _BIG / 1e50
    if touched.any():
        q = np.where(touched, _quantiles(a, list(qs), "nearest"), q)
    q = np.where(q <= -_BIG / 1e50, -np.inf, q)
    return np.where(q >= _BIG / 1e50, np.inf, q)


def _quantiles(a: np.ndarray, qs: list[float], method: str) -> np.ndarray:
    """`np.nanquantile(a, qs, axis=0)`, with the columns free of NaN (nearly all of
    them) in one vectorised `np.quantile` call: nanquantile loops over columns."""
    q = np.full((len(qs), a.shape[1]), np.nan)
    nan = np.isnan(a)
    clean = ~nan.any(axis=0)
    if clean.any():
        q[:, clean] = np.quantile(a[:, clean], qs, axis=0, method=method)
    partly = ~clean & ~nan.all(axis=0)
    if partly.any():
        q[:, partly] = np.nanquantile(a[:, partly], qs, axis=0, method=method)
    return q


def eps_tex(eps: float) -> str:
    e = math.floor(math.log10(eps))
    m = eps / 10**e
    return f"$10^{{{e}}}$" if abs(m - 1) < 1e-9 else rf"${m:.3g}\times10^{{{e}}}$"
