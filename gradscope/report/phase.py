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

May import: `gradscope.figures`, `gradscope.report.sweep`, `gradscope.report.phase_theory`
and everything below them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np

from ..config import FIELD_KINDS, Config, varied_fields
from ..figures.style import THEORY_COLOR, THEORY_LINESTYLE, series_style
from .phase_theory import critical_line, theory_line
from .sweep import _field_label, _plain_log_ticks, critical_gain_of

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

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


def _median(values: np.ndarray) -> float:
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
        z[np.searchsorted(ys, yv), np.searchsorted(xs, xv)] = _median(vals)
    return xs, ys, z


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres: midpoints, and half a step beyond each end."""
    if len(values) == 1:
        half = 0.5 * max(abs(values[0]) * 0.1, 0.5)
        return np.array([values[0] - half, values[0] + half])
    mid = 0.5 * (values[1:] + values[:-1])
    return np.concatenate(([values[0] - (mid[0] - values[0])], mid, [values[-1] + (values[-1] - mid[-1])]))


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
               legend: bool = True) -> Axes:
    """Heatmap of `measure` (median over seeds) against `x` and `y`, with the measured
    zero line of the rate (solid) and, for vanilla RNNs, the mean-field chi = 1 line
    (dashed). Grey cells have no value. Returns the Axes (a colour bar beside it)."""
    import matplotlib as mpl
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if ax is None:
        from ..figures.style import new_figure

        _, ax = new_figure(width=3.25, height=2.6)
    label, kind = MEASURES[measure]
    xs, ys, z = phase_grid(results, measure, x, y)
    cmap, norm = _norm(z, kind)
    mesh = ax.pcolormesh(_edges(xs), _edges(ys), np.ma.masked_invalid(z), cmap=cmap, norm=norm,
                         shading="flat", rasterized=True)
    bar = ax.figure.colorbar(mesh, ax=ax, pad=0.02, aspect=25, fraction=0.08)
    bar.set_label(label)
    if isinstance(norm, mpl.colors.LogNorm):
        bar.ax.yaxis.set_major_formatter(_plain_formatter())
        bar.ax.yaxis.set_minor_formatter(_plain_formatter(minor=True))
    handles, names = [], []
    zero_of = measure if kind == "rate" else "growth_rate"
    zc = z if zero_of == measure else phase_grid(results, zero_of, x, y)[2]
    if _crosses(zc) and len(xs) > 1 and len(ys) > 1:
        ax.contour(xs, ys, np.ma.masked_invalid(zc), levels=[0.0], colors="black", linewidths=1.1,
                   linestyles="solid", path_effects=_outlined(1.1))
        handles.append(Line2D([], [], color="black", linewidth=1.1))
        names.append(f"measured: {_SHORT[zero_of]} = 0")
    # the line through every row of the map (the findings ask for the same roots), or
    # through THEORY_POINTS rows when the map has fewer
    fine_y = ys if len(ys) >= THEORY_POINTS // 2 or len(ys) < 2 else np.linspace(ys.min(), ys.max(), THEORY_POINTS)
    theory = critical_line(results[0].config, x, xs, y, fine_y) if len(xs) > 1 else None
    if theory is not None and np.isfinite(theory[0]).any():
        ax.plot(*theory, color="black", linewidth=1.1, linestyle=THEORY_LINESTYLE, path_effects=_outlined(1.1))
        handles.append(Line2D([], [], color="black", linewidth=1.1, linestyle=THEORY_LINESTYLE))
        names.append(r"mean field: $\chi = 1$")
    if np.isnan(z).any():
        handles.append(Patch(facecolor=_GREY, edgecolor="none"))
        names.append(_NO_VALUE.get(measure, "no value"))
    ax.set_xlim(_edges(xs)[[0, -1]])
    ax.set_ylim(_edges(ys)[[0, -1]])
    ax.set_xlabel(_field_label(x))
    ax.set_ylabel(_field_label(y))
    ax.grid(False)
    if legend and handles:
        ax.figure.legend(handles, names, loc="outside lower center", ncols=legend_columns(ax.figure, names))
    return ax


def _crosses(z: np.ndarray) -> bool:
    finite = z[np.isfinite(z)] if z is not None else np.array([])
    return bool(finite.size) and finite.min() < 0 < finite.max()


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
                 legend: bool = True) -> Axes:
    """`measure` against one swept field `x`: median over seeds (markers and line) with
    the 10-90% band over seeds (over trials for `growth_rate` with one seed), and the
    mean-field prediction dashed; one colour per slice. For a gain sweep of a vanilla
    RNN the mean-field critical gain is a dotted vertical line."""
    from matplotlib.lines import Line2D

    if ax is None:
        from ..figures.style import new_figure

        _, ax = new_figure()
    label, kind = MEASURES[measure]
    slices = sweep_layout(results, [x]).slices[:MAX_SLICES]
    any_theory = any_band = False
    positive: list[float] = []
    crit = []
    for i, (name, members) in enumerate(slices):
        color, ls = series_style(i)
        groups = seed_values(members, measure, (x,))
        xs = np.array([k[0] for k in groups], dtype=float)
        med = np.array([_median(v) for v in groups.values()])
        lo, hi = _band(members, measure, x, groups)
        if lo is not None:
            any_band = True
            ax.fill_between(xs, lo, hi, color=color, alpha=0.2, linewidth=0)
        ax.plot(xs, med, color=color, linestyle=ls, marker="o", markersize=3, label=name or "measured")
        positive += [v for v in med if v > 0]
        if kind == "time":
            _mark_censored(ax, members, measure, x, groups, med, color)
        fine = np.linspace(xs.min(), xs.max(), 61)
        theory = theory_line(members[0].config, measure, x, fine)
        if theory is not None and kind == "time":  # it diverges at chi = 1: keep it near the data
            top = 2 * np.nanmax(med) if np.isfinite(med).any() else members[0].config.steps
            theory = np.where(theory <= top, theory, np.nan)
        if theory is not None and np.isfinite(theory).any():
            any_theory = True
            ax.plot(fine, theory, color=color if len(slices) > 1 else THEORY_COLOR,
                    linestyle=THEORY_LINESTYLE, linewidth=0.9, zorder=2)
        g_c = critical_gain_of(members[0].config) if x == "gain" else None
        if g_c is not None and xs.min() <= g_c <= xs.max():
            crit.append((g_c, color if len(slices) > 1 else THEORY_COLOR))
    for g_c, color in crit:
        ax.axvline(g_c, color=color, linestyle=(0, (1, 1.5)), linewidth=0.9, zorder=1)
    if kind == "rate":
        ax.axhline(0.0, color="#999999", linewidth=0.6, zorder=1)
    elif positive:
        ax.set_yscale("log")
        _plain_log_ticks(ax)
    ax.set_xlabel(_field_label(x))
    ax.set_ylabel(label)
    if legend:
        handles, names = ax.get_legend_handles_labels()
        if any_theory:
            handles.append(Line2D([], [], color=THEORY_COLOR, linestyle=THEORY_LINESTYLE, linewidth=0.9))
            names.append("mean field")
        if crit:
            handles.append(Line2D([], [], color=THEORY_COLOR, linestyle=(0, (1, 1.5)), linewidth=0.9))
            names.append(r"$\chi = 1$ (mean field)")
        if any_band:
            from matplotlib.patches import Patch

            # one series: its own colour, as drawn; several: grey stands for each one's band
            one = len(slices) == 1
            handles.append(Patch(facecolor=series_style(0)[0] if one else "#888888", alpha=0.2 if one else 0.35,
                                 linewidth=0))
            names.append("10-90% over " + ("seeds" if _seeds(results) > 1 else "trials"))
        ax.figure.legend(handles, names, loc="outside lower center", ncols=legend_columns(ax.figure, names))
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
    return np.array([_median(v) for v in lo.values()]), np.array([_median(v) for v in hi.values()])


def _mark_censored(ax: Axes, members: Sequence[Result], measure: str, x: str,
                   groups: dict[tuple, np.ndarray], med: np.ndarray, color: str) -> None:
    """An open marker at T where the horizon is censored (it is longer than the window)."""
    if measure != "horizon":
        return
    steps = {xv: max(r.config.steps for r in members if getattr(r.config, x) == xv) for (xv,) in groups}
    for (xv,), m in zip(groups, med):
        if not np.isfinite(m):
            ax.plot([xv], [float(steps[xv])], marker="^", markerfacecolor="white",
                    markeredgecolor=color, linestyle="none", markersize=4)
