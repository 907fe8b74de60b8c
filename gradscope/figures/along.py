"""The figure of a comparison report along one numeric field (`figures/sweep.*` of a
report): growth rate and horizon against the field, with the mean-field prediction and
critical gain beside the measurement, drawn from the `theory` lookups it is handed
(`numerics.theory.critical.MeanFieldTheory`; None draws none).

May import: `gradscope.figures.style`, `gradscope.figures.multipanel`, `gradscope.results`,
`gradscope.config`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..config import FIELD_KINDS, varied_fields
from ..config.naming import display_fields, field_label, labels_of
from ..results import HorizonKind, Status, horizon_of
from .style import AXIS_REFERENCE, LEGEND_KEYS, series_style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..results import Result

#: Config fields that are never a sweep's x axis (numbers, but not a physical knob).
_NOT_SWEPT = ("seed",)


def sweep_field(results: Sequence[Result]) -> str | None:
    """The numeric `Config` field swept in `results`: one that takes >= 3 values while
    the other varied fields stay fixed (the one with the most values when several do;
    `None` when none does)."""
    configs = [r.config for r in results]
    best, most = None, 2
    for name in varied_fields(configs):
        kind, _ = FIELD_KINDS[name]
        if kind is str or name in _NOT_SWEPT:
            continue
        values = {getattr(c, name) for c in configs}
        if None in values:
            continue
        # the field must take >= 3 values with every other field held fixed (a gain of
        # 0.5 and 2 for one cell and 1 for another is no sweep)
        along = max(len({getattr(results[i].config, name) for i in idx}) for _, idx in sweep_series(results, name))
        if along > most:
            best, most = name, along
    return best


def sweep_series(results: Sequence[Result], field: str) -> list[tuple[str, list[int]]]:
    """Indices of `results` grouped by the values of the other varied fields, each
    group sorted by `field`: `[(label, indices)]` (label `""` when nothing else varies)."""
    configs = [r.config for r in results]
    others = [f for f in display_fields(configs) if f != field]
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels_of(configs, others)):
        groups.setdefault(label, []).append(i)
    return [(lab, sorted(idx, key=lambda i: getattr(results[i].config, field))) for lab, idx in groups.items()]


#: Marker shapes of the series of a sweep (colour and shape both tell them apart).
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")
#: Sizes of the marks, shared by the marks and their legend entries.
MARK_SIZE, RMS_SIZE, OPEN_SIZE = 3.2, 4.6, 3.6
#: The window length T on the horizon panel (where horizons are censored or runs explode).
WINDOW_STYLE = {"color": "#999999", "linewidth": 0.6, "linestyle": (0, (8, 2, 1, 2))}
#: The mean-field critical gain's vertical line.
CRITICAL_STYLE: Any = (0, (1, 1.5))


def _dodge(n: int, span: float, i: int) -> float:
    """x offset of series i of n, so markers at the same x never hide each other."""
    return 0.0 if n <= 1 else (i - (n - 1) / 2) * 0.012 * span


def plot_sweep(
    results: Sequence[Result],
    field: str | None = None,
    axes: Any = None,
    theory_points: int = 61,
    theory: Any = None,
) -> np.ndarray:
    """Growth rate (top) and horizon (bottom) against one numeric config `field`.

    Top: median spectral rate per configuration (filled markers, error bars: the
    10-90% range of the per-trial rates), the RMS rate (open squares) and, for vanilla
    RNNs, the mean-field prediction `0.5 ln chi` over a fine grid of the field (dashed).
    Bottom: horizon on a log axis; a censored horizon is an open marker at T with an
    upward arrow; an exploding run (no horizon) a triangle above T. For a gain sweep of
    a vanilla RNN the mean-field critical gain (chi = 1) is a dotted vertical line, grey
    when every series shares it. Series (the other varied fields) differ in colour and
    marker shape, and are offset a little along x so that none hides another.

    `theory`: the mean-field lookups (`curve`, `critical_gain`); None draws no theory.

    Returns the two Axes `(rate, horizon)`.
    """
    from .style import THEORY_COLOR, THEORY_LINESTYLE

    field = field or sweep_field(results)
    if field is None:
        raise ValueError("no numeric field takes three or more values: nothing to sweep")
    if axes is None:
        from .style import new_figure

        _, axes = new_figure(width=5.5, height=4.2, nrows=2, sharex=True)
    ax_rate, ax_hor = axes
    series = sweep_series(results, field)
    xs_all = np.array([float(getattr(r.config, field)) for r in results])
    logx = bool(np.all(xs_all > 0)) and xs_all.max() / xs_all.min() >= 8 and field in ("hidden", "steps")
    fine = (np.geomspace if logx else np.linspace)(xs_all.min(), xs_all.max(), theory_points)
    span = float(np.log10(xs_all.max() / xs_all.min()) if logx else xs_all.max() - xs_all.min()) or 1.0
    steps_max = max(r.config.steps for r in results)
    seen: dict[str, Any] = {"censored": False, "exploding": False, "theory": False, "rms": False, "critical": False}
    hor_values: list[float] = []
    crit: list[tuple[float, str]] = []
    theories: list[tuple[np.ndarray, np.ndarray, str]] = []
    for s_i, (label, idx) in enumerate(series):
        color, marker = series_style(s_i)[0], MARKERS[s_i % len(MARKERS)]
        members = [results[i] for i in idx if results[i].status != Status.ERROR]
        if not members:
            continue
        x0 = np.array([float(getattr(r.config, field)) for r in members])
        d = _dodge(len(series), span, s_i)
        x = x0 * 10 ** d if logx else x0 + d
        rate = np.array([_num(r.summary.get("growth_rate")) for r in members])
        q10 = np.array([_num(r.summary.get("growth_rate_q10")) for r in members])
        q90 = np.array([_num(r.summary.get("growth_rate_q90")) for r in members])
        rms = np.array([_num(r.summary.get("rms_growth_rate")) for r in members])
        err = np.vstack([np.clip(rate - q10, 0, None), np.clip(q90 - rate, 0, None)])
        err = np.where(np.isfinite(err), err, 0.0)
        if np.isfinite(rms).any():  # under the spectral markers, a size larger: both read
            seen["rms"] = True
            ax_rate.plot(x, rms, color=color, marker="s", markersize=RMS_SIZE, markerfacecolor="white",
                         markeredgewidth=0.8, linestyle="none", zorder=3)
        ax_rate.errorbar(x, rate, yerr=err, color=color, marker=marker, markersize=MARK_SIZE, linestyle="-",
                         linewidth=0.9, elinewidth=0.6, capsize=1.5, zorder=4, label=label or None)
        predicted = None if theory is None else theory.curve(members[0].config, field, fine)
        if predicted is not None and np.isfinite(predicted).any():
            keep = (fine >= x0.min() - 1e-12) & (fine <= x0.max() + 1e-12)
            theories.append((fine[keep], predicted[keep], color))
        if field == "gain" and theory is not None:
            g_c = theory.critical_gain(members[0].config)
            if g_c is not None and x0.min() <= g_c <= x0.max():
                crit.append((g_c, color))
        _horizons(ax_hor, members, x, color, marker, steps_max, seen, hor_values)
    # mean field: one grey curve when every series predicts the same (it does not see N)
    same = all(len(t[0]) == len(theories[0][0]) and np.allclose(t[1], theories[0][1], equal_nan=True)
               for t in theories)
    for xs, ys, color in theories[:1] if same else theories:
        ax_rate.plot(xs, ys, color=THEORY_COLOR if same else color, linestyle=THEORY_LINESTYLE,
                     linewidth=0.9, zorder=2)
    seen["theory"] = bool(theories)
    ax_rate.axhline(0.0, color="#999999", linewidth=0.6, zorder=1, gid=AXIS_REFERENCE)  # the axis names 0
    seen["critical"] = _critical_lines((ax_rate, ax_hor), crit, THEORY_COLOR)
    seen["theory_colour"] = THEORY_COLOR if same else None
    ax_rate.set_ylabel("growth rate (per step)")
    ax_hor.set_ylabel("horizon (steps)")
    ax_hor.set_xlabel(field_label(field))
    if hor_values:
        ax_hor.set_yscale("log")
        lo = max(min(hor_values), 1.0)
        top = steps_max * 3.2 if (seen["censored"] or seen["exploding"]) else max(hor_values) * 1.6
        ax_hor.set_ylim(lo / 1.6, top)
        plain_log_ticks(ax_hor)
        if seen["censored"] or seen["exploding"]:
            ax_hor.axhline(steps_max, zorder=1, **WINDOW_STYLE)
    if logx:
        ax_hor.set_xscale("log")
    ax_rate._gradscope_legend = _sweep_legend(ax_rate, series, seen)  # type: ignore[attr-defined]
    return np.array([ax_rate, ax_hor], dtype=object)


def _horizons(ax: Axes, members: Sequence[Result], x: np.ndarray, color: str, marker: str,
              steps_max: int, seen: dict[str, Any], values: list[float]) -> None:
    """The horizon panel of one series: measured (filled, joined by a line), censored
    (an open circle at T, arrow up), exploding (an open triangle above T: no horizon);
    the open marks are the same for every series (its colour tells it)."""
    hx, hy = [], []
    for r, xv in zip(members, x):
        state = horizon_of(r.summary, r.config.steps)
        if state.kind == HorizonKind.MEASURED and state.lag and state.lag > 0:
            ax.plot([xv], [state.lag], marker=marker, markersize=MARK_SIZE, color=color, linestyle="none", zorder=3)
            hx.append(xv)
            hy.append(float(state.lag))
            values.append(float(state.lag))
        elif state.kind == HorizonKind.CENSORED:
            seen["censored"] = True
            t = float(r.config.steps)
            ax.plot([xv], [t], marker="o", markersize=OPEN_SIZE, markerfacecolor="white", markeredgecolor=color,
                    markeredgewidth=0.8, linestyle="none", zorder=3)
            ax.annotate("", xy=(xv, t * 1.9), xytext=(xv, t),
                        arrowprops=dict(arrowstyle="-|>", color=color, linewidth=0.7, shrinkA=2.5, shrinkB=0,
                                        mutation_scale=5))
            values.append(t)
        elif state.kind == HorizonKind.EXPLODING:
            seen["exploding"] = True
            ax.plot([xv], [steps_max * 2.2], marker="^", markersize=OPEN_SIZE, markerfacecolor="white",
                    markeredgecolor=color, markeredgewidth=0.8, linestyle="none", zorder=3)
            values.append(float(steps_max))
    if len(hx) > 1:
        ax.plot(hx, hy, color=color, linestyle="-", linewidth=0.7, alpha=0.6, zorder=2)


def _critical_lines(axes: Sequence[Axes], crit: list[tuple[float, str]], neutral: str) -> str | bool:
    """The mean-field critical gain(s) as dotted vertical lines: one grey line when
    every series shares it. Returns the legend's words for them (False: none drawn)."""
    if not crit:
        return False
    shared = max(g for g, _ in crit) - min(g for g, _ in crit) <= 1e-6 * max(1.0, abs(crit[0][0]))
    lines = [(crit[0][0], neutral)] if shared else crit
    for g_c, color in lines:
        for ax in axes:
            ax.axvline(g_c, color=color, linestyle=CRITICAL_STYLE, linewidth=0.9, zorder=1)
    if shared:
        return f"critical gain $g_c = {crit[0][0]:.2f}$ (mean field)"
    return "critical gains $g_c$ (mean field, series colours)"


def _sweep_legend(ax: Axes, series: Sequence[tuple[str, list[int]]], seen: dict[str, Any]) -> tuple[list, list]:
    """Legend entries: the series (colour and marker) when there are several, then what
    each kind of mark means, each once: in the one series' colour when there is one,
    else in grey (read with the series' colour: a legend of keys)."""
    from matplotlib.lines import Line2D

    from .style import THEORY_COLOR, THEORY_LINESTYLE

    handles, names = [], []
    several = len(series) > 1
    if several:
        for s_i, (label, _) in enumerate(series):
            handles.append(Line2D([], [], color=series_style(s_i)[0], marker=MARKERS[s_i % len(MARKERS)],
                                  markersize=MARK_SIZE, linewidth=0.9))
            names.append(label)
    c = "#333333" if several else series_style(0)[0]
    handles.append(Line2D([], [], color=c, marker="o", markersize=MARK_SIZE, linewidth=0.9))
    names.append("measured: spectral rate (bars: 10-90% of trials), horizon")
    if seen["rms"]:
        handles.append(Line2D([], [], color=c, marker="s", markersize=RMS_SIZE, markerfacecolor="white",
                              linestyle="none"))
        names.append("RMS rate")
    if seen["theory"]:
        handles.append(Line2D([], [], color=seen.get("theory_colour") or "#333333", linestyle=THEORY_LINESTYLE,
                              linewidth=0.9))
        names.append(r"mean field $\frac{1}{2}\ln\chi$")
    if seen["critical"]:
        shared = not str(seen["critical"]).startswith("critical gains")
        handles.append(Line2D([], [], color=THEORY_COLOR if shared else "#333333", linestyle=CRITICAL_STYLE,
                              linewidth=0.9))
        names.append(str(seen["critical"]))
    if seen["censored"]:
        handles.append(Line2D([], [], color=c, marker="o", markersize=OPEN_SIZE, markerfacecolor="white",
                              linestyle="none"))
        names.append(r"horizon > $T$ (censored; arrow: longer)")
    if seen["exploding"]:
        handles.append(Line2D([], [], color=c, marker="^", markersize=OPEN_SIZE, markerfacecolor="white",
                              linestyle="none"))
        names.append("explodes: no horizon")
    if seen["censored"] or seen["exploding"]:
        handles.append(Line2D([], [], **WINDOW_STYLE))
        names.append("the window $T$")
    return handles, names


def sweep_figure(results: Sequence[Result], width: float | None = None, style: str = "paper",
                 fontsize: float | None = None, theory: Any = None) -> Any:
    """The sweep figure (`plot_sweep`) at `width` inches (default 5.5), its legend under
    the panels; None when no numeric field takes three or more values."""
    from .multipanel import finish, grouped_legend
    from .style import new_figure, resolve_width, style_context

    field = sweep_field(results)
    if field is None:
        return None
    with style_context(style, fontsize=fontsize):
        w = resolve_width(width or 5.5)
        fig, axes = new_figure(width=w, height=min(40.0, max(2.6, w * 0.7)), nrows=2, sharex=True,
                               gridspec_kw={"height_ratios": [1.25, 1.0]})
        plot_sweep(results, field, axes=axes, theory=theory)
        handles, names = axes[0]._gradscope_legend
        n = len(sweep_series(results, field))
        n = n if n > 1 else 0  # the series on rows of their own, then the marks
        legend = grouped_legend(fig, [list(zip(handles[:n], names[:n])), list(zip(handles[n:], names[n:]))])
        if n and legend is not None:
            legend.set_gid(LEGEND_KEYS)  # series by colour, marks in grey
        finish(fig, list(axes))
    return fig


def plain_log_ticks(ax: Axes) -> None:
    """Log y axis ticks at 1, 2, 5 x 10^k written as plain numbers (20, 50, 100)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.get_ylim()
    decades = math.log10(hi / max(lo, 1e-300))
    room = ax.yaxis.get_tick_space()  # ticks the axis has room for at its font size
    subs = (1.0, 2.0, 5.0) if decades < 3 and 3 * decades <= room else (1.0,)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _num(value: Any) -> float:
    if value is None or isinstance(value, (bool, str)):
        return math.nan
    return float(value)
