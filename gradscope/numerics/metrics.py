"""Figures derived from the log-norm curves: rates, half-life, horizon, regime, Kaplan-Yorke.

Summaries use the median over trials of *log* norms (a mean of norms is ruled by rare
draws). Rates are least-squares slopes in natural log per step over lags
`[K/2, K_last]`, `K_last` the last lag whose median is finite, so the fit sees the
asymptotic regime and not the first steps.

May import: nothing of gradscope's (numpy only).
"""

from __future__ import annotations

import math

import numpy as np


def fit_window(median: np.ndarray) -> tuple[int, int] | None:
    """Lags `(K_last // 2, K_last)` of the fit; None when fewer than 3 finite lags."""
    finite = np.flatnonzero(np.isfinite(median))
    if finite.size == 0 or finite[-1] < 2:
        return None
    last = int(finite[-1])
    return last // 2, last


def slope(values: np.ndarray, lo: int, hi: int) -> float:
    """Least-squares slope of `values[lo:hi+1]` against the lag, over finite points."""
    lags = np.arange(lo, hi + 1, dtype=np.float64)
    y = values[lo : hi + 1]
    keep = np.isfinite(y)
    if keep.sum() < 2:
        return math.nan
    x = lags[keep] - lags[keep].mean()
    return float(np.dot(x, y[keep] - y[keep].mean()) / np.dot(x, x))


def median(values, axis: int | None = None):
    """`np.median`, to the last bit (NaN where any value is NaN; float32 stays float32),
    without its first call importing `numpy.ma` (~0.1 s of a bare `decay`'s 2 s): a sort
    and the middle value, or the mean of the middle pair as numpy takes it, `(lo + hi) / 2`."""
    a = np.asarray(values)
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    if axis is None:
        a, axis = a.ravel(), 0
    n = a.shape[axis]
    if n == 0:
        return np.median(a, axis=axis)  # numpy's own warning and NaN
    s = np.sort(a, axis=axis)  # NaN sorts last
    mid = np.take(s, n // 2, axis=axis)
    if n % 2 == 0:
        mid = (np.take(s, n // 2 - 1, axis=axis) + mid) / 2
    mid = np.where(np.isnan(np.take(s, n - 1, axis=axis)), np.nan, mid).astype(a.dtype)
    return mid[()] if mid.ndim == 0 else mid


def measured_median(values) -> float | None:
    """The median of the values that were measured (NaN dropped), None if there are none."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(median(values)) if values.size else None


def quantiles(values: np.ndarray, qs) -> np.ndarray:
    """`np.quantile(values, qs)` (its default, linear method) for a 1-d array of finite
    float64 values, to the last bit, without importing `numpy.ma` (as `median`)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    q = np.asarray(qs, dtype=np.float64)
    n = x.size
    virtual = (n - 1) * q  # numpy's virtual index for the linear method
    lo = np.clip(np.floor(virtual), 0, n - 1).astype(np.int64)
    hi = np.clip(lo + 1, 0, n - 1)
    t = virtual - np.floor(virtual)
    a, b = x[lo], x[hi]
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)  # numpy's `_lerp`


def median_curve(log_curves: np.ndarray) -> np.ndarray:
    """Median over trials per lag; a lag where any trial is NaN (not measured) is NaN."""
    return median(log_curves, axis=0)


def first_crossing(median: np.ndarray, level: float, below: bool) -> int | None:
    hits = np.flatnonzero(median < level if below else median > level)
    return int(hits[0]) if hits.size else None


def rate_figures(log_curves: np.ndarray) -> dict[str, float | None]:
    """Median-curve slope, per-trial slope quantiles and standard error."""
    median = median_curve(log_curves)
    window = fit_window(median)
    if window is None:
        return {"rate": None, "q10": None, "q90": None, "se": None}
    lo, hi = window
    per_trial = np.array([slope(row, lo, hi) for row in log_curves])
    per_trial = per_trial[np.isfinite(per_trial)]
    se = float(np.std(per_trial, ddof=1) / math.sqrt(per_trial.size)) if per_trial.size > 1 else 0.0
    q10, q90 = (quantiles(per_trial, [0.1, 0.9]) if per_trial.size else (math.nan, math.nan))
    return {"rate": slope(median, lo, hi), "q10": float(q10), "q90": float(q90), "se": se}


def trial_rates(log_curves: np.ndarray, blocks: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Per trial, the growth rate over the fit window of the median curve and its
    standard error from batch means: the mean slope of `blocks` consecutive blocks of
    lags (their mean is the rate) and `std / sqrt(blocks)`. NaN where not measured."""
    trials = log_curves.shape[0]
    window = fit_window(median_curve(log_curves))
    if window is None:
        return np.full(trials, np.nan), np.full(trials, np.nan)
    lo, hi = window
    edges = np.array(sorted({int(v) for v in np.linspace(lo, hi, blocks + 1).round()}))  # np.unique loads numpy.ma
    if edges.size < 3:
        return np.full(trials, np.nan), np.full(trials, np.nan)
    with np.errstate(invalid="ignore"):
        local = np.diff(log_curves[:, edges], axis=1) / np.diff(edges)  # (B, nb)
        rates = (log_curves[:, edges[-1]] - log_curves[:, edges[0]]) / (edges[-1] - edges[0])
        se = np.std(local, axis=1, ddof=1) / math.sqrt(local.shape[1])
    return rates, se


def regime(rate: float | None, se: float | None) -> str | None:
    """`vanishing`, `marginal` (|rate| < max(2 SE, 1e-3)) or `exploding`."""
    if rate is None or not math.isfinite(rate):
        return None
    if abs(rate) < max(2 * (se or 0.0), 1e-3):
        return "marginal"
    return "vanishing" if rate < 0 else "exploding"


def decay_figures(log_spectral: np.ndarray, eps: float) -> dict:
    """growth rate (+ q10/q90/SE), factor, half-life or doubling time, horizon, explosion."""
    r = rate_figures(log_spectral)
    median = median_curve(log_spectral)
    rate = r["rate"]
    kind = regime(rate, r["se"])
    if kind is None and (median == -np.inf).any():
        kind = "vanishing"  # the gradient reaches exactly zero (dead units): no rate to fit
    horizon = first_crossing(median, math.log(eps), below=True)
    explosion = first_crossing(median, -math.log(eps), below=False)
    finite = np.flatnonzero(np.isfinite(median) | (median == -np.inf))
    return {
        "growth_rate": rate,
        "growth_rate_q10": r["q10"],
        "growth_rate_q90": r["q90"],
        "growth_rate_se": r["se"],
        "factor_per_step": math.exp(rate) if rate is not None and math.isfinite(rate) else None,
        "half_life": math.log(2) / abs(rate) if kind == "vanishing" and rate and math.isfinite(rate) else None,
        "doubling_time": math.log(2) / rate if kind == "exploding" else None,
        "horizon": horizon,
        # censored: neither fell below eps nor exploded within the window; a growing
        # gain has no horizon at all (its explosion lag says when it passed 1/eps)
        "horizon_censored": horizon is None and explosion is None and kind != "exploding",
        "explosion_lag": explosion,
        "analysed_lags": int(finite[-1]) if finite.size else 0,
        "regime": kind,
    }


def kaplan_yorke(exponents: np.ndarray) -> float | None:
    """Kaplan-Yorke dimension of a descending spectrum; None if the sum never turns negative."""
    sums = np.cumsum(exponents)
    if exponents.size == 0 or exponents[0] < 0:
        return 0.0
    k = int(np.flatnonzero(sums >= 0)[-1])  # last index with a non-negative partial sum
    if k + 1 >= exponents.size:
        return None
    return float(k + 1 + sums[k] / abs(exponents[k + 1]))
