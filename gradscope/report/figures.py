"""The figures of a comparison report: overlay, small multiples, horizons (and the
sweep figure of `report.sweep`).

Each `plot_*` function draws on the Axes it is given (or a new figure in the shared
`gradscope.style`), returns the Axes and never calls `show()`; `report_figures` builds
the figures of a report (the sweep figure only when one numeric field takes three or
more values). Gains are drawn from log-norms as log10 values on a
linear axis labelled in powers of ten (a gain of 1e-800 is real and below float64);
a zero gain (`-inf`) is never drawn, the point where the median underflows is marked.

May import: `gradscope.figures` and everything below it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..config import varied_fields
from ..figures.curves import eps_tex as _eps_tex
from ..figures.curves import log_spaced_indices, trial_quantiles
from ..figures.style import series_style
from ..results import unique_labels
from .sweep import _field_label, plot_sweep, sweep_field, sweep_series

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results import Result

LN10 = math.log(10.0)
FIGURES = ("overlay", "small_multiples", "horizon", "sweep")
#: More runs than this along one swept field: overlays are coloured by its value.
MAX_LEGEND = 8




def _curve(result: Result, quantity: str) -> tuple[np.ndarray, np.ndarray] | None:
    curve = result.curves.get(quantity)
    if curve is None or np.size(curve) == 0:
        return None
    curve = np.asarray(curve, dtype=np.float64)
    if curve.ndim == 1:
        curve = curve[None, :]
    lag = result.curves.get("lag")
    lag = np.arange(curve.shape[1]) if lag is None else np.asarray(lag)
    return lag, curve


def _draw_band(
    ax: Axes, result: Result, quantity: str, color: str, ls: Any, label: str | None, band: bool = True
) -> None:
    data = _curve(result, quantity)
    if data is None:
        return
    lag, curve = data
    idx = log_spaced_indices(len(lag))
    q = trial_quantiles(curve[:, idx]) / LN10
    x = lag[idx].astype(np.float64)
    finite = np.isfinite(q)
    lo, med, hi = (np.where(f, v, np.nan) for f, v in zip(finite, q))
    both = finite[0] & finite[2]
    if band:
        ax.fill_between(x, lo, hi, where=both, color=color, alpha=0.18, linewidth=0, interpolate=False)
    ax.plot(x, med, color=color, linestyle=ls, label=label)
    # mark where the median underflows to a zero gain (-inf) or stops being finite
    bad = ~finite[1]
    if bad.any() and finite[1].any():
        last = int(np.flatnonzero(finite[1])[-1])
        if last + 1 < len(x) and bad[last + 1:].all():
            marker = "v" if np.isneginf(q[1][last + 1]) else "^"
            ax.plot([x[last]], [med[last]], marker=marker, color=color, linestyle="none")


def _eps_line(ax: Axes, results: Sequence[Result]) -> None:
    eps = {r.config.eps for r in results}
    if len(eps) == 1:
        (e,) = eps
        ax.axhline(math.log10(e), color="#777777", linewidth=0.6, linestyle=(0, (1, 1.5)), zorder=1)


def _gain_axes(ax: Axes, ylabel: bool = True, xlabel: bool = True) -> None:
    from ..figures.style import log10_axis

    log10_axis(ax, "y")
    if xlabel:
        ax.set_xlabel("lag $k$ (steps)")
    if ylabel:
        ax.set_ylabel(r"spectral gain $\|P(T, T-k)\|_2$")


def plot_overlay(
    results: Sequence[Result],
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    quantity: str = "log_spectral",
) -> Axes:
    """Median (line) and 10-90% band over trials of `quantity` against lag, every
    configuration on one Axes; the dotted line is the horizon threshold `eps`."""
    if ax is None:
        from ..figures.style import new_figure

        _, ax = new_figure()
    labels = list(labels) if labels is not None else unique_labels(results)
    field = sweep_field(results) if len(results) > MAX_LEGEND else None
    if field is not None:  # many runs along one knob: colour by its value, no legend
        _overlay_by_field(ax, results, quantity, field)
    else:
        for i, (result, label) in enumerate(zip(results, labels)):
            color, ls = series_style(i)
            _draw_band(ax, result, quantity, color, ls, label)
    _eps_line(ax, results)
    _gain_axes(ax)
    if results and field is None:
        ax.legend(loc="best", ncols=1 if len(results) <= 6 else 2)
    return ax


def _overlay_by_field(ax: Axes, results: Sequence[Result], quantity: str, field: str) -> None:
    """Medians coloured by the value of `field` (a colour bar, no bands); one line
    style per combination of the other varied fields (legend when there are several)."""
    import matplotlib as mpl

    values = np.array([float(getattr(r.config, field)) for r in results])
    norm = mpl.colors.Normalize(values.min(), values.max())
    cmap = mpl.colormaps["viridis"]
    series = sweep_series(results, field)
    for s_i, (label, idx) in enumerate(series):
        ls = series_style(s_i)[1] if len(series) > 1 else "-"
        for j, i in enumerate(idx):
            _draw_band(ax, results[i], quantity, cmap(norm(values[i])), ls,
                       (label if j == 0 and len(series) > 1 else None), band=False)
    bar = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01, aspect=30)
    bar.set_label(_field_label(field))
    if len(series) > 1:
        ax.legend(loc="best")


def _grid_layout(results: Sequence[Result]) -> tuple[list[str], list[str]]:
    cells = list(dict.fromkeys(r.config.cell for r in results))
    acts = list(dict.fromkeys(r.config.act for r in results))
    return cells, acts


def _rest_labels(results: Sequence[Result]) -> list[str]:
    """Labels from the fields that vary besides cell and act (empty when none do)."""
    fields = [f for f in varied_fields([r.config for r in results]) if f not in ("cell", "act")]
    out = []
    for r in results:
        d = r.config.to_dict()
        out.append(" ".join(f"{f}={d[f]}" for f in fields))
    return out


def plot_small_multiples(
    results: Sequence[Result],
    axes: Any = None,
    quantity: str = "log_spectral",
) -> np.ndarray:
    """A grid of panels, one row per cell and one column per activation, with shared
    axes; configurations that differ in other fields share a panel, one style each.

    Returns the `(rows, cols)` array of Axes (created with `new_figure` when `axes` is
    None)."""
    cells, acts = _grid_layout(results)
    if axes is None:
        from ..figures.style import new_figure

        _, axes = new_figure(
            width=6.75, height=1.2 + 1.35 * max(1, len(cells)),
            nrows=max(1, len(cells)), ncols=max(1, len(acts)),
            sharex=True, sharey=True, squeeze=False,
        )
    axes = np.asarray(axes, dtype=object).reshape(max(1, len(cells)), max(1, len(acts)))
    rest = _rest_labels(results)
    styles = {label: i for i, label in enumerate(dict.fromkeys(rest))}
    field = sweep_field(results) if len(results) > MAX_LEGEND else None
    if field is not None and len(cells) * len(acts) == 1:  # one panel, many runs: as the overlay
        ax = axes[0, 0]
        _overlay_by_field(ax, results, quantity, field)
        _eps_line(ax, results)
        ax.set_title(f"{cells[0]}, {acts[0]}")
        _gain_axes(ax)
        return axes
    for r_i, cell in enumerate(cells):
        for c_i, act in enumerate(acts):
            ax = axes[r_i, c_i]
            members = [i for i, r in enumerate(results) if r.config.cell == cell and r.config.act == act]
            for i in members:
                color, ls = series_style(styles[rest[i]])
                _draw_band(ax, results[i], quantity, color, ls, rest[i] or None)
            if not members:
                ax.text(0.5, 0.5, "not run", transform=ax.transAxes, ha="center", va="center", color="#777777")
            _eps_line(ax, results)
            ax.set_title(f"{cell}, {act}")
            _gain_axes(ax, ylabel=c_i == 0, xlabel=r_i == len(cells) - 1)
    if any(rest):
        handles, names = [], []
        for ax in axes.flat:
            for h, n in zip(*ax.get_legend_handles_labels()):
                if n not in names:
                    handles.append(h)
                    names.append(n)
        axes.flat[0].figure.legend(handles, names, loc="outside lower center", ncols=_legend_cols(names))
    return axes


def _legend_cols(names: Sequence[str]) -> int:
    """Columns of a figure legend below the panels: fewer when the names are long."""
    longest = max((len(n) for n in names), default=1)
    return max(1, min(4, len(names), 110 // (longest + 8)))


def plot_horizon(
    results: Sequence[Result],
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
) -> Axes:
    """Horizon (first lag with median gain < eps) per configuration as a dot chart.

    A censored horizon (the gain never fell below eps within T steps) is an open marker
    at T with an arrow: the true horizon is longer. A run without a horizon (an error,
    no data) is written as `n/a`.
    """
    if ax is None:
        from ..figures.style import new_figure

        _, ax = new_figure(height=0.8 + 0.22 * max(1, len(results)))
    labels = list(labels) if labels is not None else unique_labels(results)
    n = len(results)
    ys = np.arange(n)[::-1].astype(float)
    values = []
    for result in results:
        h = result.summary.get("horizon")
        values.append(float(h) if h is not None else float(result.config.steps))
    positive = [v for v in values if v > 0]
    use_log = bool(positive) and max(positive) / max(min(positive), 1.0) > 30
    right = max(values) if values else 1.0
    for i, (result, y) in enumerate(zip(results, ys)):
        color, _ = series_style(i)
        h = result.summary.get("horizon")
        censored = bool(result.summary.get("horizon_censored"))
        if h is not None:
            ax.plot([h], [y], marker="o", color=color, linestyle="none")
        elif censored:
            t = float(result.config.steps)
            ax.plot([t], [y], marker="o", markerfacecolor="white", markeredgecolor=color, linestyle="none")
            end = t * 1.6 if use_log else t + 0.12 * right
            ax.annotate(
                "", xy=(end, y), xytext=(t, y),
                arrowprops=dict(arrowstyle="-|>", color=color, linewidth=0.8, shrinkA=3, shrinkB=0),
            )
        else:
            lag = result.summary.get("explosion_lag")
            why = f"explodes (lag {lag})" if lag is not None else ("failed" if result.status == "error" else "n/a")
            ax.text(0.01, y, f" {why}", transform=ax.get_yaxis_transform(), va="center", color="#777777")
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.7, n - 0.3)
    if use_log:
        ax.set_xscale("log")
        ax.set_xlim(min(positive) / 1.5, right * 2.2)
    else:
        ax.set_xlim(0, right * 1.25 if right > 0 else 1)
    eps = {r.config.eps for r in results}
    what = _eps_tex(next(iter(eps))) if len(eps) == 1 else r"$\epsilon$"
    ax.set_xlabel(f"horizon (steps): first lag with median gain < {what}")
    ax.grid(axis="y", visible=False)
    return ax


def report_figures(
    results: Sequence[Result],
    labels: Sequence[str] | None = None,
    width: float | str | None = None,
    style: str | None = None,
    fontsize: float | None = None,
) -> dict[str, Figure]:
    """The report figures `{"overlay", "small_multiples", "horizon"}`, plus `"sweep"`
    when one numeric field takes >= 3 values (`sweep_field`), built in `style` (default
    `paper`) at `width` inches (default 5.5, NeurIPS text width; the small multiples
    default to 6.75)."""
    from ..figures.style import new_figure, resolve_width, style_context

    labels = list(labels) if labels is not None else unique_labels(results)
    style = style or "paper"
    figs: dict[str, Figure] = {}
    with style_context(style, fontsize=fontsize):
        w = resolve_width(width) if width is not None else 5.5
        fig, ax = new_figure(width=w)
        plot_overlay(results, ax=ax, labels=labels)
        figs["overlay"] = fig

        cells, acts = _grid_layout(results)
        rows, cols = max(1, len(cells)), max(1, len(acts))
        wm = resolve_width(width) if width is not None else 6.75
        panel_height = min(wm / cols / 1.25, 2.0)
        rest = [r for r in dict.fromkeys(_rest_labels(results)) if r]
        legend = 0.1 + 0.17 * math.ceil(len(rest) / _legend_cols(rest)) if rest else 0.0
        fig, axes = new_figure(
            width=wm, height=min(40.0, 0.5 + legend + rows * panel_height),
            nrows=rows, ncols=cols, sharex=True, sharey=True, squeeze=False,
        )
        plot_small_multiples(results, axes=axes)
        figs["small_multiples"] = fig

        fig, ax = new_figure(width=w, height=min(40.0, 0.9 + 0.24 * max(1, len(results))))
        plot_horizon(results, ax=ax, labels=labels)
        figs["horizon"] = fig

        field = sweep_field(results)
        if field is not None:
            fig, axes = new_figure(width=w, height=min(40.0, w * 0.78), nrows=2, sharex=True,
                                   gridspec_kw={"height_ratios": [1.25, 1.0]})
            plot_sweep(results, field, axes=axes)
            figs["sweep"] = fig
    return figs
