"""The figures of a sweep: a phase diagram (heatmap) per measure over two swept
fields, or line plots over one, with mean-field theory beside the measurement.

- Two swept numeric fields (x, y): one heatmap per measure, each cell the median over
  seeds of the runs at that (x, y); a solid line where the measured rate changes sign
  (the measured order-to-chaos line) and, for vanilla RNNs, a dashed line where mean
  field puts chi = 1 (Poole et al. 2016; Schoenholz et al. 2017).
- One swept field: the measure against it, median over seeds and their 10-90% band
  (over trials when one seed), with the mean-field prediction dashed.

Other varied fields (cell, act, ...) make slices: one heatmap each, or one line each.
`seed` is never an axis: runs that differ only in their seed are summarised.

The mean-field lines come from the `theory` lookups the caller hands in
(`numerics.theory.critical.MeanFieldTheory`); None draws none. `phase_figures` builds
every figure of a sweep report.

May import: `gradscope.figures.slices`, `gradscope.figures.along`, `gradscope.figures.style`,
`gradscope.figures.layout`, `gradscope.results`, `gradscope.config`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..config.naming import field_label
from ..results import HorizonKind, horizon_of
from .along import CRITICAL_STYLE, OPEN_SIZE, WINDOW_STYLE, plain_log_ticks
from .slices import (
    MEASURES,
    grid_edges,
    phase_grid,
    run_setting,
    seed_median,
    seed_values,
    sign_change_edges,
    sweep_layout,
)
from .style import (
    AXIS_REFERENCE,
    LEGEND_KEYS,
    THEORY_COLOR,
    THEORY_LINESTYLE,
    series_style,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..results import Result

#: Most slices drawn per measure (heatmaps, or lines on one plot).
MAX_SLICES = 8
#: Points of the mean-field chi = 1 line (values of the second axis).
THEORY_POINTS = 21
_GREY = "#d4d4d4"
_SHORT = {"growth_rate": "growth rate", "rms_growth_rate": "RMS rate", "lambda_1": r"$\lambda_1$"}
_NO_VALUE = {
    "horizon": "never below eps within T",
    "half_life": "not vanishing",
}


def _outlined(width: float) -> list[Any]:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width + 1.0, foreground="white")]


def _norm(z: np.ndarray, kind: str) -> tuple[Any, Any]:
    import matplotlib as mpl

    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    if kind == "time" and finite.size and lo > 0 and hi >= 3 * lo:
        cmap = mpl.colormaps["viridis"].with_extremes(bad=_GREY)
        return cmap, mpl.colors.LogNorm(lo, max(hi, lo * 1.01))
    cmap = mpl.colormaps["RdBu_r"].with_extremes(bad=_GREY)
    if lo < 0 < hi:
        return cmap, mpl.colors.TwoSlopeNorm(0.0, lo, hi)
    span = max(abs(lo), abs(hi), 1e-12)  # one-sided: keep zero white, at the edge
    return cmap, mpl.colors.Normalize(-span, span)


def plot_phase(results: Sequence[Result], measure: str, x: str, y: str, ax: Axes | None = None,
               legend: bool = True, theory: Any = None) -> Axes:
    """Heatmap of `measure` (median over seeds) against `x` and `y`, with the measured
    zero line of the rate (solid, on the cell edges between neighbouring cells of
    opposite sign: never interpolated, so noise near zero cannot draw a closed curve
    that no cell supports) and, for vanilla RNNs, the mean-field chi = 1 line (dashed).
    Grey cells have no value. Returns the Axes (a colour bar beside it)."""
    import matplotlib as mpl
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if ax is None:
        from .style import new_figure

        _, ax = new_figure(width=3.25, height=2.6)
    label, kind = MEASURES[measure]
    xs, ys, z = phase_grid(results, measure, x, y)
    cmap, norm = _norm(z, kind)
    mesh = ax.pcolormesh(grid_edges(xs), grid_edges(ys), np.ma.masked_invalid(z), cmap=cmap, norm=norm,
                         shading="flat", rasterized=True)
    bar = ax.figure.colorbar(mesh, ax=ax, pad=0.02, aspect=25, fraction=0.08)
    bar.set_label(label)
    if isinstance(norm, mpl.colors.LogNorm):
        bar.ax.yaxis.set_major_formatter(_plain_formatter())
        bar.ax.yaxis.set_minor_formatter(_plain_formatter(minor=True))
    handles, names = [], []
    zero_of = measure if kind == "rate" else "growth_rate"
    zc = z if zero_of == measure else phase_grid(results, zero_of, x, y)[2]
    ex, ey = sign_change_edges(xs, ys, zc)
    if ex.size:  # on the cell edges where the median changes sign: nothing interpolated
        ax.plot(ex, ey, color="black", linewidth=1.1, solid_capstyle="projecting", path_effects=_outlined(1.1))
        handles.append(Line2D([], [], color="black", linewidth=1.1))
        names.append(f"measured: {_SHORT[zero_of]} changes sign")
    # the line through every row of the map (the findings ask for the same roots), or
    # through THEORY_POINTS rows when the map has fewer
    fine_y = ys if len(ys) >= THEORY_POINTS // 2 or len(ys) < 2 else np.linspace(ys.min(), ys.max(), THEORY_POINTS)
    line = theory.critical_line(results[0].config, x, xs, y, fine_y) if theory and len(xs) > 1 else None
    if line is not None and np.isfinite(line[0]).any():
        ax.plot(*line, color="black", linewidth=1.1, linestyle=THEORY_LINESTYLE, path_effects=_outlined(1.1))
        handles.append(Line2D([], [], color="black", linewidth=1.1, linestyle=THEORY_LINESTYLE))
        names.append(r"mean field: $\chi = 1$")
    if np.isnan(z).any():
        handles.append(Patch(facecolor=_GREY, edgecolor="none"))
        names.append(_NO_VALUE.get(measure, "no value"))
    ax.set_xlim(grid_edges(xs)[[0, -1]])
    ax.set_ylim(grid_edges(ys)[[0, -1]])
    ax.set_xlabel(field_label(x))
    ax.set_ylabel(field_label(y))
    ax.grid(False)
    if legend and handles:
        ax.figure.legend(handles, names, loc="outside lower center", ncols=legend_columns(ax.figure, names))
    return ax


def legend_columns(fig: Any, names: Sequence[str]) -> int:
    """As many legend columns as fit the figure's width, from the entries' measured text."""
    import matplotlib as mpl

    renderer = fig.canvas.get_renderer()
    size = mpl.rcParams["legend.fontsize"]
    em = mpl.font_manager.FontProperties(size=size).get_size_in_points() / 72 * fig.dpi
    widths = []
    for name in names:
        text = fig.text(0, 0, name, fontsize=size)
        widths.append(text.get_window_extent(renderer).width)
        text.remove()
    per = max(widths) + em * (mpl.rcParams["legend.handlelength"] + mpl.rcParams["legend.handletextpad"]
                              + mpl.rcParams["legend.columnspacing"])
    return max(1, min(len(names), int((fig.bbox.width - 2 * em) // per)))


def _plain_formatter(minor: bool = False) -> Any:
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos: Any = None) -> str:
        if minor and v / 10 ** math.floor(math.log10(v)) not in (2.0, 5.0):
            return ""
        return f"{v:g}"

    return FuncFormatter(fmt)


def plot_profile(results: Sequence[Result], measure: str, x: str, ax: Axes | None = None,
                 legend: bool = True, theory: Any = None) -> Axes:
    """`measure` against one swept field `x`: median over seeds (markers and line) with
    the 10-90% band over seeds (over trials for `growth_rate` with one seed), and the
    mean-field prediction dashed; one colour per slice. For a gain sweep of a vanilla
    RNN the mean-field critical gain is a dotted vertical line."""
    from matplotlib.lines import Line2D

    if ax is None:
        from .style import new_figure

        _, ax = new_figure()
    label, kind = MEASURES[measure]
    slices = sweep_layout(results, [x]).slices[:MAX_SLICES]
    any_theory = any_band = False
    band_text = "10-90% over " + ("seeds" if _seeds(results) > 1 else "trials")
    positive: list[float] = []
    crit = []
    for i, (name, members) in enumerate(slices):
        color, ls = series_style(i)
        groups = seed_values(members, measure, (x,))
        xs = np.array([k[0] for k in groups], dtype=float)
        med = np.array([seed_median(v) for v in groups.values()])
        lo, hi = _band(members, measure, x, groups)
        if lo is not None:
            any_band = True
            ax.fill_between(xs, lo, hi, color=color, alpha=0.2, linewidth=0, label=band_text)
        ax.plot(xs, med, color=color, linestyle=ls, marker="o", markersize=3, label=name or "measured")
        positive += [v for v in med if v > 0]
        if kind == "time":
            _mark_censored(ax, members, measure, x, groups, med, color)
        fine = np.linspace(xs.min(), xs.max(), 61)
        predicted = None if theory is None else theory.line(members[0].config, measure, x, fine)
        if predicted is not None and kind == "time":  # it diverges at chi = 1: keep it near the data
            top = 2 * np.nanmax(med) if np.isfinite(med).any() else members[0].config.steps
            predicted = np.where(predicted <= top, predicted, np.nan)
        if predicted is not None and np.isfinite(predicted).any():
            any_theory = True
            ax.plot(fine, predicted, color=color if len(slices) > 1 else THEORY_COLOR,
                    linestyle=THEORY_LINESTYLE, linewidth=0.9, zorder=2)
        g_c = theory.critical_gain(members[0].config) if theory is not None and x == "gain" else None
        if g_c is not None and xs.min() <= g_c <= xs.max():
            crit.append((g_c, color if len(slices) > 1 else THEORY_COLOR))
    for g_c, color in crit:
        ax.axvline(g_c, color=color, linestyle=CRITICAL_STYLE, linewidth=0.9, zorder=1)
    if getattr(ax, "_gradscope_open", None):
        ax.axhline(max(r.config.steps for r in results), zorder=1, **WINDOW_STYLE)
    if kind == "rate":
        ax.axhline(0.0, color="#999999", linewidth=0.6, zorder=1, gid=AXIS_REFERENCE)
    elif positive:
        ax.set_yscale("log")
        plain_log_ticks(ax)
    ax.set_xlabel(field_label(x))
    ax.set_ylabel(label)
    if legend:
        from matplotlib.collections import PolyCollection

        pairs = [(h, t) for h, t in zip(*ax.get_legend_handles_labels()) if not isinstance(h, PolyCollection)]
        if any_theory:
            pairs.append((Line2D([], [], color=THEORY_COLOR, linestyle=THEORY_LINESTYLE, linewidth=0.9), "mean field"))
        if crit:
            pairs.append((Line2D([], [], color=THEORY_COLOR, linestyle=CRITICAL_STYLE, linewidth=0.9),
                          r"$\chi = 1$ (mean field)"))
        if any_band:
            from matplotlib.patches import Patch

            # one series: its own colour, as drawn; several: grey stands for each one's band
            one = len(slices) == 1
            pairs.append((Patch(facecolor=series_style(0)[0] if one else "#888888", alpha=0.2 if one else 0.35,
                                linewidth=0), band_text))
        pairs += _window_entries(getattr(ax, "_gradscope_open", set()), series_style(0)[0] if len(slices) == 1
                                 else "#333333")
        leg = ax.figure.legend([h for h, _ in pairs], [t for _, t in pairs], loc="outside lower center",
                               ncols=legend_columns(ax.figure, [t for _, t in pairs]))
        if len(slices) > 1:
            leg.set_gid(LEGEND_KEYS)  # slices by colour; theory, bands and marks in grey
    return ax


def _seeds(results: Sequence[Result]) -> int:
    return len({r.config.seed for r in results})


def _band(members: Sequence[Result], measure: str, x: str,
          groups: dict[tuple, np.ndarray]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The 10-90% band: over seeds when there are several, else over trials (only
    `growth_rate` has per-trial quantiles in the summary)."""
    if _seeds(members) > 1:
        q = np.array([np.nanquantile(v, (0.1, 0.9)) if np.isfinite(v).any() else (np.nan, np.nan)
                      for v in groups.values()])
        return q[:, 0], q[:, 1]
    if measure != "growth_rate":
        return None, None
    lo = seed_values(members, "growth_rate_q10", (x,))
    hi = seed_values(members, "growth_rate_q90", (x,))
    return np.array([seed_median(v) for v in lo.values()]), np.array([seed_median(v) for v in hi.values()])


def _mark_censored(ax: Axes, members: Sequence[Result], measure: str, x: str,
                   groups: dict[tuple, np.ndarray], med: np.ndarray, color: str) -> None:
    """Where the median horizon has no value, what most seeds there say: censored (an
    open circle at T, arrow up: longer than the window) or exploding (an open triangle
    above T: no horizon), as in the sweep figure."""
    if measure != "horizon":
        return
    for (xv,), m in zip(groups, med):
        if np.isfinite(m):
            continue
        here = [r for r in members if getattr(r.config, x) == xv]
        t = float(max(r.config.steps for r in here))
        kinds = [horizon_of(r.summary, r.config.steps).kind for r in here]
        exploding = kinds.count(HorizonKind.EXPLODING) * 2 > len(kinds)
        if exploding:
            ax.plot([xv], [2.2 * t], marker="^", markersize=OPEN_SIZE, markerfacecolor="white", markeredgecolor=color,
                    markeredgewidth=0.8, color=color, linestyle="none")
        else:
            ax.plot([xv], [t], marker="o", markersize=OPEN_SIZE, markerfacecolor="white", markeredgecolor=color,
                    markeredgewidth=0.8, color=color, linestyle="none")
            ax.annotate("", xy=(xv, t * 1.9), xytext=(xv, t), arrowprops=dict(
                arrowstyle="-|>", color=color, linewidth=0.7, shrinkA=2.5, shrinkB=0, mutation_scale=5))
        ax._gradscope_open = getattr(ax, "_gradscope_open", set()) | {"exploding" if exploding else "censored"}


def _window_entries(kinds: set[str], color: str) -> list[tuple[Any, str]]:
    """Legend entries of the marks at the window's end, and of the window T."""
    from matplotlib.lines import Line2D

    out = []
    for kind, marker, text in (("censored", "o", r"horizon > $T$ (censored; arrow: longer)"),
                               ("exploding", "^", "explodes: no horizon")):
        if kind in kinds:
            out.append((Line2D([], [], color=color, marker=marker, markersize=OPEN_SIZE, markerfacecolor="white",
                               linestyle="none"), text))
    if kinds:
        out.append((Line2D([], [], **WINDOW_STYLE), "the window $T$"))
    return out


# -- the figures of a sweep report ---------------------------------------------------
def phase_figures(measures: Sequence[str], layout: Any = None) -> Callable[..., dict[str, tuple[Any, str]]]:
    """`write_report`'s `figures=` for a sweep: `{name: (Figure, caption)}` (`layout`:
    the sweep's `sweep_layout`, if already known)."""

    def build(results: Sequence[Result], labels: Any = None, width: float | str | None = None,
              style: str | None = None, fontsize: float | None = None, theory: Any = None
              ) -> dict[str, tuple[Any, str]]:
        from .style import new_figure, resolve_width, style_context

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
                    plot_profile(results, measure, axes[0], ax=ax, theory=theory)
                    setting = run_setting(results)  # N, T and the trials: no axis names them
                    ax.set_title(setting)
                    fit_height(fig, ax)
                    out[f"line_{measure}"] = (fig, _line_caption(label, axes[0], over, seeds, measure, setting))
                    continue
                for i, (name, members) in enumerate(slices[:MAX_SLICES]):
                    fig, ax = new_figure(width=w, height=0.75 * w)
                    plot_phase(members, measure, axes[0], axes[1], ax=ax, theory=theory)
                    setting = ", ".join(t for t in (run_setting(members), name) if t)
                    ax.set_title(setting)
                    fit_height(fig, ax)
                    key = f"phase_{measure}" + (f"_{i + 1}" if len(slices) > 1 else "")
                    out[key] = (fig, _phase_caption(label, axes, over, measure, setting))
        return out

    return build


def fit_height(fig: Any, ax: Any, aspect: float = 0.55, most: float = 4.0) -> None:
    """Give the plot `aspect` x the figure's width in height (at most `most` inches, and
    at least the length of its axis labels, so none reaches past the plot), whatever
    the legend and the labels around it take: the figure grows or shrinks to fit. A
    title longer than the plot is wrapped first."""
    from .layout import title_artist, wrap_to_width

    fig.canvas.draw()  # constrained layout places everything
    renderer = fig.canvas.get_renderer()
    if wrap_to_width(title_artist(ax), ax.bbox.width, renderer, changed=True):
        fig.canvas.draw()
    labels = [ax.yaxis.label] + [a.yaxis.label for a in fig.axes if a is not ax]
    longest = max((t.get_window_extent(renderer).height for t in labels if t.get_text()), default=0.0)
    target = max(min(aspect * fig.get_figwidth(), most), 1.08 * longest / fig.dpi)
    now = ax.get_position().height * fig.get_figheight()
    fig.set_figheight(min(max(fig.get_figheight() + target - now, 1.0), 40.0))


def _phase_caption(label: str, axes: Sequence[str], over: str, measure: str, setting: str) -> str:
    zero = measure if MEASURES[measure][1] == "rate" else "growth_rate"
    zero_label = MEASURES[zero][0].split(" (")[0].replace("$", "").replace("\\", "")
    return (
        f"{label[0].upper() + label[1:]} of each run ({over}) against {field_label(axes[0], plain=True)} and "
        f"{field_label(axes[1], plain=True)}; {setting}. Solid line: the cell edges between neighbouring cells "
        f"whose median {zero_label} has opposite signs (the order-to-chaos line as measured, on the grid: not "
        "interpolated; a cell boxed on its own differs in sign from every neighbour); dashed: where mean field "
        f"puts chi = 1 (vanilla RNNs only). Grey cells: {_NO_VALUE.get(measure, 'no value (the run failed or went non-finite)')}."
    )


def _line_caption(label: str, axis: str, over: str, seeds: int, measure: str, setting: str) -> str:
    band = "the 10-90% band over seeds" if seeds > 1 else (
        "the 10-90% band over trials" if measure == "growth_rate" else "no band (one seed)")
    theory = {"rate": "0.5 ln chi", "time": "from the mean-field rate 0.5 ln chi"}[MEASURES[measure][1]]
    ends = (" Open circle at T with an arrow: no median horizon within the window (censored); open triangle "
            "above T: the gradient explodes (no horizon); dashed grey: the window T.") if measure == "horizon" else ""
    return (
        f"{label[0].upper() + label[1:]} against {field_label(axis, plain=True)}; {setting}: {over} (markers), {band}; "
        f"dashed: the mean-field prediction ({theory}; vanilla RNNs only); dotted vertical line: the "
        f"mean-field critical gain (chi = 1) in a gain sweep.{ends}"
    )
