"""The report of a sweep: its phase figures and findings, written by `write_report`.

    write_sweep_report(results, "reports/phase", measures=["growth_rate", "lambda_1"])

The folder is a comparison report's (report.md, report.html, summary.csv/json,
table.tex, manifest.json) with the sweep's figures (`report.phase`) instead of the
per-run curves, and without `runs/` and `curves.csv`: the runs stay in the cache, and
a sweep of thousands of runs needs only their summaries.

May import: `gradscope.report` and everything below it.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import numpy as np

from ..results import Result
from .phase import (
    _NO_VALUE,
    MAX_SLICES,
    MEASURES,
    Layout,
    phase_grid,
    plot_phase,
    plot_profile,
    seed_values,
    sweep_layout,
)
from .phase_theory import mean_field_root
from .sweep import _field_label
from .write import write_report


def _plain_label(field: str) -> str:
    return _field_label(field).replace("$", "").replace("\\", "")


def phase_figures(measures: Sequence[str], layout: Layout | None = None) -> Callable[..., dict[str, tuple[Any, str]]]:
    """`write_report`'s `figures=` for a sweep: `{name: (Figure, caption)}` (`layout`:
    the sweep's `sweep_layout`, if already known)."""

    def build(results: Sequence[Result], labels: Any = None, width: float | str | None = None,
              style: str | None = None, fontsize: float | None = None) -> dict[str, tuple[Any, str]]:
        from ..figures.style import new_figure, resolve_width, style_context

        axes, slices = layout or sweep_layout(results)
        out: dict[str, tuple[Any, str]] = {}
        if not axes:
            return out
        seeds = len({r.config.seed for r in results})
        over = f"median over {seeds} seeds" if seeds > 1 else "one seed"
        w = resolve_width(width) if width is not None else 5.5
        with style_context(style or "paper", fontsize=fontsize):
            for measure in measures:
                label = MEASURES[measure][0].replace("$", "").replace("\\", "")
                if len(axes) == 1:
                    fig, ax = new_figure(width=w, height=0.75 * w)
                    plot_profile(results, measure, axes[0], ax=ax)
                    fit_height(fig, ax)
                    out[f"line_{measure}"] = (fig, _line_caption(label, axes[0], over, seeds, measure))
                    continue
                for i, (name, members) in enumerate(slices[:MAX_SLICES]):
                    fig, ax = new_figure(width=w, height=0.75 * w)
                    plot_phase(members, measure, axes[0], axes[1], ax=ax)
                    if name:
                        ax.set_title(name)
                    fit_height(fig, ax)
                    key = f"phase_{measure}" + (f"_{i + 1}" if len(slices) > 1 else "")
                    out[key] = (fig, _phase_caption(label, axes, over, measure, name))
        return out

    return build


def fit_height(fig: Any, ax: Any, aspect: float = 0.55, most: float = 4.0) -> None:
    """Give the plot `aspect` x the figure's width in height (at most `most` inches, and
    at least the length of its axis labels, so none reaches past the plot), whatever
    the legend and the labels around it take: the figure grows or shrinks to fit."""
    fig.canvas.draw()  # constrained layout places everything
    renderer = fig.canvas.get_renderer()
    labels = [ax.yaxis.label] + [a.yaxis.label for a in fig.axes if a is not ax]
    longest = max((t.get_window_extent(renderer).height for t in labels if t.get_text()), default=0.0)
    target = max(min(aspect * fig.get_figwidth(), most), 1.08 * longest / fig.dpi)
    now = ax.get_position().height * fig.get_figheight()
    fig.set_figheight(min(max(fig.get_figheight() + target - now, 1.0), 40.0))


def _phase_caption(label: str, axes: Sequence[str], over: str, measure: str, name: str) -> str:
    zero = measure if MEASURES[measure][1] == "rate" else "growth_rate"
    zero_label = MEASURES[zero][0].split(" (")[0].replace("$", "").replace("\\", "")
    return (
        f"{label[0].upper() + label[1:]} of each run ({over}) against {_plain_label(axes[0])} and "
        f"{_plain_label(axes[1])}" + (f", {name}" if name else "") + ". Solid line: where the measured "
        f"{zero_label} changes sign (the order-to-chaos line as measured); dashed: where mean field "
        f"puts chi = 1 (vanilla RNNs only). Grey cells: {_NO_VALUE.get(measure, 'no value (the run failed or went non-finite)')}."
    )


def _line_caption(label: str, axis: str, over: str, seeds: int, measure: str) -> str:
    band = "the 10-90% band over seeds" if seeds > 1 else (
        "the 10-90% band over trials" if measure == "growth_rate" else "no band (one seed)")
    theory = {"rate": "0.5 ln chi", "time": "from the mean-field rate 0.5 ln chi"}[MEASURES[measure][1]]
    return (
        f"{label[0].upper() + label[1:]} against {_plain_label(axis)}: {over} (markers), {band}; dashed: "
        f"the mean-field prediction ({theory}; vanilla RNNs only); dotted vertical line: the "
        "mean-field critical gain (chi = 1) in a gain sweep."
    )


def gain_crossings(results: Sequence[Result], measure: str = "growth_rate",
                   layout: Layout | None = None) -> list[dict[str, Any]]:
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
                "mean_field": mean_field_root(config, "gain", gains),
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


def sweep_findings(results: Sequence[Result], measures: Sequence[str], layout: Layout | None = None) -> list[str]:
    """Sentences with the measured numbers: where each rate changes sign along the
    gain, beside the mean-field critical gain."""
    out = []
    layout = layout or sweep_layout(results)
    for measure in [m for m in measures if MEASURES[m][1] == "rate"]:
        rows = gain_crossings(results, measure, layout)
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
            where = " ".join(x for x in (r["slice"], f"{_plain_label(r['field'])} = {r['value']:g}" if r["field"] else "") if x)
            head = f"{where[0].upper() + where[1:]}: the" if where else "The"
            measured = (f"changes sign at g = {r['measured']:.3f}" if r["measured"] is not None
                        else "does not change sign from negative to positive in the grid")
            theory = (f"; mean field puts chi = 1 at g = {r['mean_field']:.3f}" if r["mean_field"] is not None
                      else "")
            diff = (f" (difference {r['measured'] - r['mean_field']:+.3f}; grid step {r['step']:.3g})"
                    if r["measured"] is not None and r["mean_field"] is not None and r["step"] else "")
            out.append(f"{head} median {name} {measured}{theory}{diff}.")
    return out


def write_sweep_report(
    results: Sequence[Result],
    out_dir: str | os.PathLike,
    measures: Sequence[str] = ("growth_rate",),
    name: str = "sweep",
    title: str | None = None,
    command: str | Sequence[str] | None = None,
    notes: Sequence[str] = (),
    findings: Sequence[str] | None = None,
    **figure_options: Any,
) -> dict[str, Any]:
    """Write the report of a sweep into `out_dir` (see the module docstring).

    `findings` default to `sweep_findings` (where each rate changes sign along the gain,
    beside mean field); `figure_options` are `write_report`'s `width`, `style`,
    `fontsize`, `formats`. Returns the manifest.
    """
    bad = [m for m in measures if m not in MEASURES]
    if bad or not measures:
        raise ValueError(f"measure {', '.join(bad) or '(none)'} is not one of: {', '.join(MEASURES)}")
    results = list(results)
    notes = list(notes)
    layout = sweep_layout(results)
    if not layout.axes:
        notes.append("no numeric field takes two or more values (the seed aside): nothing to draw a phase "
                      "diagram or a line over; the summary table has every run")
    elif len(layout.slices) > MAX_SLICES:
        notes.append(f"only the first {MAX_SLICES} slices are drawn; summary.csv has every run")
    if findings is None:
        findings = sweep_findings(results, measures, layout)
    nan_measures = [m for m in measures if all(r.summary.get(m) is None for r in results)]
    for m in nan_measures:
        notes.append(f"no run has a value of {m}" + (" (it needs --exponents >= 1)" if m == "lambda_1" else ""))
    return write_report(results, out_dir, name=name, title=title, command=command, notes=notes,
                        findings=list(findings),
                        figures=phase_figures(measures, layout), runs=False, **figure_options)
