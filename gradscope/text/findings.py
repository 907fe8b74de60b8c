"""The findings of a sweep, as sentences with the measured numbers: where each rate
changes sign along the gain, beside the mean-field critical gain (chi = 1) that the
`theory` lookups give (`numerics.theory.critical.MeanFieldTheory`; None: no theory).

May import: `gradscope.figures.slices`, `gradscope.config`, `gradscope.results`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..config.naming import field_label
from ..figures.slices import MEASURES, phase_grid, seed_values, sweep_layout

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Result


def gain_crossings(results: Sequence[Result], measure: str = "growth_rate",
                   layout: Any = None, theory: Any = None) -> list[dict[str, Any]]:
    """Where the median `measure` changes sign along the gain, beside the mean-field
    critical gain: one row per slice and per value of the other axis.

    Returns `[{"slice", "field", "value", "measured", "mean_field", "step"}]`
    (`measured`: the first gain where the median goes from below zero to at or above
    it, linear interpolation between neighbouring gains; None when it does not).
    """
    axes, slices = layout or sweep_layout(results)
    if not axes or axes[0] != "gain":
        return []
    other = axes[1] if len(axes) > 1 else None
    rows = []
    for name, members in slices:
        if other is None:
            groups = seed_values(members, measure, ("gain",))
            gains = np.array([k[0] for k in groups])
            med = np.array([np.nanmedian(v) if np.isfinite(v).any() else np.nan for v in groups.values()])
            lines = [(None, gains, med)]
        else:
            gains, ys, z = phase_grid(members, measure, "gain", other)
            lines = [(float(yv), gains, z[i]) for i, yv in enumerate(ys)]
        for yv, gains, med in lines:
            config = next(r.config for r in members
                          if other is None or getattr(r.config, other) == yv)
            rows.append({
                "slice": name, "field": other, "value": yv,
                "measured": _first_crossing(gains, med),
                "mean_field": None if theory is None else theory.root(config, "gain", gains),
                "step": float(np.min(np.diff(gains))) if len(gains) > 1 else None,
            })
    return rows


def _first_crossing(x: np.ndarray, y: np.ndarray) -> float | None:
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    up = np.flatnonzero((y[:-1] < 0) & (y[1:] >= 0))
    if not up.size:
        return None
    i = int(up[0])
    return float(x[i] + (x[i + 1] - x[i]) * -y[i] / (y[i + 1] - y[i]))


def sweep_findings(results: Sequence[Result], measures: Sequence[str], layout: Any = None,
                   theory: Any = None) -> list[str]:
    """Sentences with the measured numbers: where each rate changes sign along the
    gain, beside the mean-field critical gain."""
    out = []
    layout = layout or sweep_layout(results)
    for measure in [m for m in measures if MEASURES[m][1] == "rate"]:
        rows = gain_crossings(results, measure, layout, theory)
        name = MEASURES[measure][0].split(" (")[0].replace("$", "").replace("\\", "")
        both = [r for r in rows if r["measured"] is not None and r["mean_field"] is not None]
        if len(rows) > 12 and both:
            diff = np.array([r["measured"] - r["mean_field"] for r in both])
            out.append(
                f"The median {name} changes sign along the gain in {len(both)} of {len(rows)} rows; "
                f"the measured line lies {np.median(diff):+.3f} from the mean-field line chi = 1 in the "
                f"median row (from {diff.min():+.3f} to {diff.max():+.3f}; grid step {both[0]['step']:.3g})."
            )
            continue
        for r in rows:
            where = " ".join(x for x in (r["slice"], f"{field_label(r['field'], plain=True)} = {r['value']:g}" if r["field"] else "") if x)
            head = f"{where[0].upper() + where[1:]}: the" if where else "The"
            measured = (f"changes sign at g = {r['measured']:.3f}" if r["measured"] is not None
                        else "does not change sign from negative to positive in the grid")
            beside = (f"; mean field puts chi = 1 at g = {r['mean_field']:.3f}" if r["mean_field"] is not None
                      else "")
            diff = (f" (difference {r['measured'] - r['mean_field']:+.3f}; grid step {r['step']:.3g})"
                    if r["measured"] is not None and r["mean_field"] is not None and r["step"] else "")
            out.append(f"{head} median {name} {measured}{beside}{diff}.")
    return out
