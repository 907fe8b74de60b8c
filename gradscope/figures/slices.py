"""How a sweep is laid out and reduced, as data (no drawing): the measures it can map,
its axes (at most two swept numeric fields) and its slices (one per combination of the
other varied fields), the values of a measure at each point over seeds, the median
grid of a phase map and where its sign changes between neighbouring cells. The phase
figures and the sweep's findings both read it.

May import: `gradscope.results`, `gradscope.config`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple, Sequence

import numpy as np

from ..config import FIELD_KINDS, Config, varied_fields
from ..config.naming import common_label

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Result

#: What `--measure` offers: summary key -> (axis label, kind). Rates are natural log
#: per step (a zero line); times are steps (a log axis).
MEASURES: dict[str, tuple[str, str]] = {
    "growth_rate": ("growth rate (per step)", "rate"),
    "rms_growth_rate": ("RMS growth rate (per step)", "rate"),
    "lambda_1": (r"top Lyapunov exponent $\lambda_1$", "rate"),
    "horizon": ("horizon (steps)", "time"),
    "half_life": ("half-life (steps)", "time"),
}
#: Fields that are never an axis.
NOT_AXES = ("seed",)
class Layout(NamedTuple):
    """How a sweep is drawn: its axes (at most two numeric fields) and its slices
    `[(label, results)]`, one per combination of the other varied fields."""

    axes: list[str]
    slices: list[tuple[str, list[Result]]]


def sweep_axes(configs: Sequence[Config], varied: Sequence[str] | None = None) -> list[str]:
    """The numeric fields swept (two or more values, never `seed`), at most two: `gain`
    first, then the field with the most values (ties in `Config` order)."""
    fields = []
    for name in varied_fields(configs) if varied is None else varied:
        kind, _ = FIELD_KINDS[name]
        values = {getattr(c, name) for c in configs}
        if kind is str or name in NOT_AXES or None in values:
            continue
        fields.append((name != "gain", -len(values), name))
    return [name for *_, name in sorted(fields, key=lambda t: t[:2])][:2]


def sweep_layout(results: Sequence[Result], axes: Sequence[str] | None = None) -> Layout:
    """The axes (`sweep_axes`, unless given) and the slices of `results`: grouped by
    the varied fields that are neither an axis nor the seed (label `""` when none)."""
    configs = [r.config for r in results]
    varied = varied_fields(configs)
    axes = sweep_axes(configs, varied) if axes is None else list(axes)
    others = [f for f in varied if f not in axes and f not in NOT_AXES]
    groups: dict[str, list[Result]] = {}
    for r in results:
        values = [(f, getattr(r.config, f)) for f in others]
        label = " ".join(f"{f}={v:g}" if isinstance(v, float) else f"{f}={v}" for f, v in values)
        groups.setdefault(label, []).append(r)
    return Layout(axes, list(groups.items()))


def _value(result: Result, measure: str) -> float:
    v = result.summary.get(measure)
    return math.nan if v is None or isinstance(v, (bool, str)) else float(v)


def seed_values(results: Sequence[Result], measure: str, fields: Sequence[str]) -> dict[tuple, np.ndarray]:
    """Values of `measure` grouped by the values of `fields` (over seeds and any other
    repeats), keys sorted."""
    groups: dict[tuple, list[float]] = {}
    for r in results:
        groups.setdefault(tuple(getattr(r.config, f) for f in fields), []).append(_value(r, measure))
    return {k: np.asarray(groups[k]) for k in sorted(groups)}


def seed_median(values: np.ndarray) -> float:
    """The median of the finite values when they are most of them, else NaN."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size and finite.size * 2 > values.size else math.nan


def phase_grid(results: Sequence[Result], measure: str, x: str, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(xs, ys, Z)`: the swept values and the median over seeds, `Z[i, j]` at
    `(xs[j], ys[i])` (NaN where most seeds have no value)."""
    groups = seed_values(results, measure, (x, y))
    xs = np.array(sorted({k[0] for k in groups}), dtype=float)
    ys = np.array(sorted({k[1] for k in groups}), dtype=float)
    z = np.full((len(ys), len(xs)), np.nan)
    for (xv, yv), vals in groups.items():
        z[np.searchsorted(ys, yv), np.searchsorted(xs, xv)] = seed_median(vals)
    return xs, ys, z


def grid_edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres: midpoints, and half a step beyond each end."""
    if len(values) == 1:
        half = 0.5 * max(abs(values[0]) * 0.1, 0.5)
        return np.array([values[0] - half, values[0] + half])
    mid = 0.5 * (values[1:] + values[:-1])
    return np.concatenate(([values[0] - (mid[0] - values[0])], mid, [values[-1] + (values[-1] - mid[-1])]))


def sign_change_edges(xs: np.ndarray, ys: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The measured zero line of a grid, on the grid: every edge between two neighbouring
    cells (side by side or one above the other) whose values have opposite signs, as
    `(x, y)` polyline pieces separated by NaN (empty: no sign change). Nothing is
    interpolated or smoothed: a cell of the other sign than all its neighbours is boxed
    on its own, as measured. `Z[i, j]` lies at `(xs[j], ys[i])`."""
    ex, ey = grid_edges(np.asarray(xs, float)), grid_edges(np.asarray(ys, float))
    s = np.sign(np.where(np.isfinite(z), z, 0.0))
    px: list[float] = []
    py: list[float] = []
    for i, j in zip(*np.nonzero(s[:, :-1] * s[:, 1:] < 0)):  # left | right: a vertical edge
        px += [ex[j + 1], ex[j + 1], np.nan]
        py += [ey[i], ey[i + 1], np.nan]
    for i, j in zip(*np.nonzero(s[:-1, :] * s[1:, :] < 0)):  # below / above: a horizontal edge
        px += [ex[j], ex[j + 1], np.nan]
        py += [ey[i + 1], ey[i + 1], np.nan]
    return np.asarray(px, dtype=float), np.asarray(py, dtype=float)


def run_setting(results: Sequence[Result]) -> str:
    """What every run of a figure shares and its axes do not name: the cell, its size N,
    the window T and the trials (`rnn tanh N=256 normal, T=200, 2 trials`)."""
    configs = [r.config for r in results]
    varied = varied_fields(configs)
    parts = [common_label(configs, varied)]
    if "steps" not in varied and configs:
        parts.append(f"T={configs[0].steps}")
    if "trials" not in varied and configs:
        parts.append(f"{configs[0].trials} trials" if configs[0].trials != 1 else "1 trial")
    return ", ".join(p for p in parts if p)
