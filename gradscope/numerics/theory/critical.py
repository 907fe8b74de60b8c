"""Mean-field theory along the axes of a sweep: the predicted rate `0.5 ln chi` at any
value of a field (cached), the critical gain (chi = 1), the chi = 1 line across a plane
of two fields, and the prediction of each sweep measure.

Every rate is `mean_field.mean_field`, a bisection on a quadrature: milliseconds each,
and up to a few tenths of a second right at chi = 1 without bias. Roots are therefore
bracketed on a few points and refined by regula falsi, and every value is cached: the
figures and the findings of a sweep ask for the same points. Each runs on one torch
thread (a quadrature is a 4,000-element dot product: more threads only add overhead).

The figures receive this as `MeanFieldTheory()`, an object of lookups, from the layer
that draws them (`runs`, `cli`): presentation computes no theory of its own.

May import: `gradscope.numerics.theory.mean_field`, `gradscope.numerics.threads`,
`gradscope.config`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Sequence

import numpy as np

from ...config import FIELD_KINDS, Config
from ..threads import torch_threads
from .mean_field import critical_gain, mean_field, mean_field_inputs


def mean_field_curve(config: Any, field: str, values: np.ndarray) -> np.ndarray | None:
    """The mean-field rate `0.5 ln chi` of `config` with `field` set to each of
    `values` (`None` when mean field does not apply)."""
    import dataclasses

    out = []
    for v in values:
        kind = type(getattr(config, field))
        try:
            c = dataclasses.replace(config, **{field: kind(round(v) if kind is int else v)})
        except (ValueError, TypeError):
            out.append(np.nan)
            continue
        inputs = mean_field_inputs(c)
        if inputs is None:
            return None
        out.append(_mean_field_rate(c.act, *inputs))
    return np.asarray(out, dtype=np.float64)


@functools.lru_cache(maxsize=4096)
def _mean_field_rate(act: str, sigma_w2: float, sigma_u2: float, sigma_b2: float) -> float:
    """`0.5 ln chi`, remembered: a report's figures redraw the same theory curve."""

    with torch_threads(1):
        return float(mean_field(act, sigma_w2, sigma_u2, sigma_b2)["rate"])


@functools.lru_cache(maxsize=64)
def _critical_gain(act: str, init: str, sigma_u2: float, sigma_b2: float) -> float | None:
    with torch_threads(1):
        return critical_gain(act, init, sigma_u2, sigma_b2)


def critical_gain_of(config: Any) -> float | None:
    """The mean-field critical gain (chi = 1) of a vanilla RNN config, or `None`."""
    inputs = mean_field_inputs(config)
    if inputs is None:
        return None
    return _critical_gain(config.act, config.init, inputs[1], inputs[2])


#: Points that bracket a mean-field root before it is refined.
SCAN_POINTS = 9
#: Summary keys whose mean-field prediction is a rate (the others are times).
RATES = ("growth_rate", "rms_growth_rate", "lambda_1")


def mean_field_rate(config: Config, field: str, value: float) -> float | None:
    """Mean-field `0.5 ln chi` of `config` with `field` set to `value` (NaN for a value
    the config refuses; None where mean field does not apply). Cached: the figures and
    the findings of a sweep ask for the same points, from runs of other seeds."""
    kind = FIELD_KINDS[field][0]
    try:
        config = dataclasses.replace(config, seed=0, **{field: kind(round(value) if kind is int else value)})
    except (ValueError, TypeError):
        return math.nan
    return _rate(config, field)


@functools.lru_cache(maxsize=65536)
def _rate(config: Config, field: str) -> float | None:
    rate = mean_field_curve(config, field, np.array([float(getattr(config, field))]))
    return None if rate is None else float(rate[0])


def critical_line(config: Config, x: str, xs: Sequence[float], y: str,
                  ys: Sequence[float]) -> tuple[np.ndarray, np.ndarray] | None:
    """The mean-field chi = 1 line over the plane of `x` and `y`: for each of `ys`, the
    first `x` in the span of `xs` where the rate changes sign (NaN where it does not).
    Returns `(x values, ys)`, or None where mean field does not apply."""
    kind = FIELD_KINDS[y][0]
    line = np.full(len(ys), np.nan)
    for i, v in enumerate(ys):
        try:
            row = dataclasses.replace(config, **{y: kind(round(v) if kind is int else v)})
        except (ValueError, TypeError):
            continue
        if mean_field_rate(row, x, float(xs[0])) is None:
            return None
        root = mean_field_root(row, x, xs)
        line[i] = np.nan if root is None else root
    return line, np.asarray(ys, dtype=float)


def mean_field_root(config: Config, field: str, values: Sequence[float], tol: float = 1e-4) -> float | None:
    """The first value of `field` in the span of `values` where the mean-field rate
    changes sign (chi = 1): bracketed on 9 points across the span, then refined by
    regula falsi (Illinois) to `tol`. None when it does not, or where mean field does
    not apply. (Each rate is a bisection on a quadrature: milliseconds.)"""
    values = np.linspace(min(values), max(values), SCAN_POINTS).tolist()
    rates = [mean_field_rate(config, field, float(v)) for v in values]
    if any(r is None for r in rates):
        return None
    for (a, fa), (b, fb) in zip(zip(values, rates), zip(values[1:], rates[1:])):
        if np.isfinite(fa) and np.isfinite(fb) and (fa < 0 <= fb or fb < 0 <= fa):
            sign = 1.0 if fa < 0 else -1.0  # search for the rising side of sign * rate
            return _illinois(lambda v: sign * mean_field_rate(config, field, v), float(a), float(b),
                             sign * fa, sign * fb, tol)
    return None


def _illinois(f: Any, a: float, b: float, fa: float, fb: float, tol: float) -> float:
    """A root of `f` in [a, b] with f(a) < 0 <= f(b): regula falsi, Illinois variant."""
    side, c = 0, 0.5 * (a + b)
    for _ in range(40):
        c = b - fb * (b - a) / (fb - fa)
        fc = f(c)
        if fc == 0 or b - a < tol:
            return c
        if fc < 0:
            step, a, fa = c - a, c, fc
            if side == -1:
                fb /= 2
            side = -1
        else:
            step, b, fb = b - c, c, fc
            if side == 1:
                fa /= 2
            side = 1
        if abs(step) < tol:
            return c
    return c


def theory_line(config: Config, measure: str, x: str, fine: np.ndarray) -> np.ndarray | None:
    """The mean-field prediction of `measure` along `x`: `0.5 ln chi` for the rates,
    `ln(eps) / rate` for the horizon and `ln 2 / |rate|` for the half-life (vanishing
    side only)."""
    rates = [mean_field_rate(config, x, float(v)) for v in fine]
    if any(r is None for r in rates):
        return None
    rate = np.asarray(rates, dtype=float)
    if measure in RATES:
        return rate
    with np.errstate(divide="ignore", invalid="ignore"):
        vanishing = np.where(rate < 0, rate, np.nan)
        if measure == "horizon":
            return np.ceil(math.log(config.eps) / vanishing)
        return math.log(2.0) / -vanishing


class MeanFieldTheory:
    """The lookups a sweep's figures and findings make, as one object to hand them."""

    curve = staticmethod(mean_field_curve)
    critical_gain = staticmethod(critical_gain_of)
    rate = staticmethod(mean_field_rate)
    root = staticmethod(mean_field_root)
    critical_line = staticmethod(critical_line)
    line = staticmethod(theory_line)
