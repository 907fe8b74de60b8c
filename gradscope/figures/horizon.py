"""The horizon figure of a report: per configuration, how many steps back the median
gain stays above eps, with every trial's horizon beside it.

Three outcomes look different and are named in the legend: a measured horizon (a dot,
the trials as small dots on a line spanning them), a censored one (an open marker at
the window's end with an arrow: longer than the window), and an exploding run (a
triangle at its explosion lag: the gain passed 1/eps there, so no horizon applies).

Every row is named by every varied field (a default value too: `N=64` beside `N=32`).
Rows differ in colour by what groups them: the cell (in its colour of every report),
or, along a swept field, the values of the other varied fields (`N=32`, `N=64`); the
legend then holds the colours and, in grey, the marks. Trained checkpoints have no
initial gain: their title names none.

May import: `gradscope.figures` and everything below it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..config.naming import common_label, display_fields, short_names, value_text
from ..results import HorizonKind, Status, horizon_of, trial_horizons
from .along import sweep_field, sweep_series
from .curves import eps_tex
from .encoding import encode
from .style import LEGEND_KEYS, SERIES_COLORS

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results import Result

#: Legend text of each kind of marker.
MARKER_TEXT = {
    HorizonKind.MEASURED: "median horizon",
    "trials": "each trial's horizon",
    HorizonKind.CENSORED: r"censored: not below $\varepsilon$ within the window (arrow: longer)",
    HorizonKind.EXPLODING: r"explodes: gain > 1/$\varepsilon$ at this lag (no horizon)",
}


def row_labels(results: Sequence[Result]) -> tuple[list[str], str]:
    """`(labels, common)`: each configuration named by the value of every varied field
    (`lstm tanh`, `N=64 g=0.5`: a default value too, or two groups would read alike),
    and what they all share (`rnn N=128 normal`) for the title."""
    configs = [r.config for r in results]
    fields = display_fields(configs)
    if not fields:
        return [r.config.label() for r in results], ""
    return short_names(configs, keep=fields), _common(configs, fields)


def _common(configs: Sequence[Any], fields: Sequence[str]) -> str:
    """What every configuration shares; trained checkpoints have no initialisation, so
    neither an init nor a gain is named for them."""
    text = common_label(configs, fields)
    if configs and all(c.checkpoint is not None for c in configs):
        c = configs[0]
        drop = {value_text("gain", c.gain), value_text("init", c.init)}
        text = " ".join(w for w in text.split(" ") if w not in drop)
    return text


def row_groups(results: Sequence[Result]) -> tuple[dict[int, Any], dict[str, Any]]:
    """`(colour of each row, {group label: colour})`: by the cell when cells differ
    (its colour in every report), else, along a swept field, by the values of the other
    varied fields; one colour (and no groups) when nothing groups the rows."""
    swept = sweep_field(results) if results else None
    series = sweep_series(results, swept) if swept else []
    if len(series) > 1 and {f for f in display_fields([r.config for r in results]) if f != swept} != {"cell"}:
        colours, groups = {}, {}
        for j, (label, idx) in enumerate(series):
            groups[label] = SERIES_COLORS[j % len(SERIES_COLORS)]
            colours.update({i: groups[label] for i in idx})
        return colours, groups
    if len({r.config.cell for r in results}) > 1:
        enc = encode(results, ["cell"])
        return enc.colors, {text: c for text, (c, _) in enc.color_values.items()}
    return {i: SERIES_COLORS[0] for i in range(len(results))}, {}


def _trial_points(result: Result, window: float) -> np.ndarray:
    t = trial_horizons(result.curves, result.config.eps)
    if t is None:
        return np.zeros(0)
    return np.where(np.isfinite(t), t, window)


def plot_horizon(results: Sequence[Result], ax: Axes | None = None, labels: Sequence[str] | None = None) -> Axes:
    """Horizon per configuration as a dot chart (see the module docstring); returns the
    Axes. `labels` default to what tells the configurations apart."""
    if ax is None:
        from .style import new_figure

        _, ax = new_figure(height=0.8 + 0.22 * max(1, len(results)))
    names, common = row_labels(results)
    labels = list(labels) if labels is not None else names
    colors, groups = row_groups(results)
    n = len(results)
    ys = np.arange(n)[::-1].astype(float)
    kinds: set[str] = set()
    values: list[float] = []
    for i, (r, y) in enumerate(zip(results, ys)):
        state = horizon_of(r.summary, r.config.steps)
        window = float(state.lag if state.kind == HorizonKind.CENSORED and state.lag else r.config.steps)
        color = colors[i]
        if state.kind in (HorizonKind.MEASURED, HorizonKind.CENSORED):
            trials = _trial_points(r, window)
            if trials.size:
                kinds.add("trials")
                ax.plot([trials.min(), trials.max()], [y, y], color=color, linestyle="-", linewidth=0.8,
                        alpha=0.6, zorder=2)
                ax.plot(trials, np.full(trials.shape, y), marker="o", markersize=2.2, color=color, alpha=0.55,
                        linestyle="none", zorder=3)
                values += trials.tolist()
        if state.kind == HorizonKind.MEASURED:
            kinds.add(HorizonKind.MEASURED)
            ax.plot([state.lag], [y], marker="o", markersize=5, color=color, linestyle="none", zorder=4)
            values.append(float(state.lag))
        elif state.kind == HorizonKind.CENSORED:
            kinds.add(HorizonKind.CENSORED)
            ax.plot([window], [y], marker="o", markersize=5, markerfacecolor="white", markeredgecolor=color,
                    linestyle="none", zorder=4)
            ax.annotate("", xy=(window, y), xycoords=_nudge(ax, 11), xytext=(window, y), textcoords=_nudge(ax, 4),
                        arrowprops=dict(arrowstyle="-|>", color=color, linewidth=0.7, shrinkA=0, shrinkB=0,
                                        mutation_scale=6))
            values.append(window)
        elif state.kind == HorizonKind.EXPLODING and state.lag is not None:
            kinds.add(HorizonKind.EXPLODING)
            ax.plot([state.lag], [y], marker="^", markersize=5.5, color=color, markeredgecolor="black",
                    markeredgewidth=0.4, linestyle="none", zorder=4)
            values.append(float(state.lag))
        else:
            why = "grows: no horizon" if state.kind == HorizonKind.EXPLODING else ("failed" if r.status == Status.ERROR else "n/a")
            ax.text(0.01, y, why, transform=ax.get_yaxis_transform(), va="center", fontsize="small", color="#555555")
    _axes(ax, results, ys, labels, values)
    if common:
        ax.set_title(common)
    ax._gradscope_kinds = kinds  # type: ignore[attr-defined]  (for the figure's legend)
    ax._gradscope_groups = (groups, next(iter(colors.values()), SERIES_COLORS[0]))  # type: ignore[attr-defined]
    return ax


def _nudge(ax: Axes, points: float) -> Any:
    """Data coordinates offset `points` to the right (the arrow beside a censored
    marker: it says "longer than the window")."""
    from matplotlib.transforms import ScaledTranslation

    return ax.transData + ScaledTranslation(points / 72.0, 0, ax.figure.dpi_scale_trans)


def _axes(ax: Axes, results: Sequence[Result], ys: np.ndarray, labels: Sequence[str], values: list[float]) -> None:
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.7, len(results) - 0.3)
    positive = [v for v in values if v > 0]
    if positive and max(positive) / max(min(positive), 1.0) > 30:
        ax.set_xscale("log")
        ax.set_xlim(max(min(positive), 1.0) / 1.6, max(positive) * 2.0)
    else:
        right = max(positive) if positive else 1.0
        ax.set_xlim(0, right * 1.15)
    eps = {r.config.eps for r in results}
    what = eps_tex(next(iter(eps))) if len(eps) == 1 else r"$\varepsilon$"
    ax.set_xlabel(f"lag (steps): first lag with median gain < {what}")
    ax.grid(axis="y", visible=False)


def _legend(ax: Axes) -> tuple[list[Any], list[str], bool]:
    """`(handles, labels, keys)`: the marks drawn, each once, in the rows' colour; with
    several colours, one swatch per group and the marks in grey (`keys`)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    groups, only = getattr(ax, "_gradscope_groups", ({}, SERIES_COLORS[0]))
    c = "0.3" if groups else only
    marks = {
        HorizonKind.MEASURED: Line2D([], [], marker="o", markersize=5, color=c, linestyle="none"),
        "trials": Line2D([], [], marker="o", markersize=2.2, color=c, alpha=0.55, linestyle="-", linewidth=0.8),
        HorizonKind.CENSORED: Line2D([], [], marker="o", markersize=5, markerfacecolor="white", markeredgecolor=c,
                                     color=c, linestyle="none"),
        HorizonKind.EXPLODING: Line2D([], [], marker="^", markersize=5.5, color=c, markeredgecolor="black",
                                      markeredgewidth=0.4, linestyle="none"),
    }
    kinds = getattr(ax, "_gradscope_kinds", set())
    keys = [k for k in (HorizonKind.MEASURED, "trials", HorizonKind.CENSORED, HorizonKind.EXPLODING) if k in kinds]
    handles = [Patch(facecolor=colour, edgecolor="none") for colour in groups.values()]  # colour swatches
    return handles + [marks[k] for k in keys], list(groups) + [MARKER_TEXT[k] for k in keys], bool(groups)


def horizon_figure(results: Sequence[Result], width: float | None = None, style: str = "paper",
                   fontsize: float | None = None) -> Figure:
    """The horizon figure at `width` inches (default 5.5): one row per configuration,
    rows about two lines of text apart; the legend below names the markers drawn."""
    import matplotlib as mpl

    from .layout import wrapped_to
    from .multipanel import finish, grouped_legend
    from .style import new_figure, resolve_width, style_context

    with style_context(style, fontsize=fontsize):
        w = resolve_width(width or 5.5)
        fig, ax = new_figure(width=w, height=1.0)
        plot_horizon(results, ax=ax)
        renderer = fig.canvas.get_renderer()  # a label wider than 40% of the figure wraps
        labels = [wrapped_to(label, 0.4 * fig.bbox.width, renderer) for label in ax.get_yticklabels()]
        ax.set_yticklabels(labels)
        lines = max((label.count("\n") + 1 for label in labels), default=1)
        row = (lines + 1) * float(mpl.rcParams["ytick.labelsize"] if not isinstance(
            mpl.rcParams["ytick.labelsize"], str) else mpl.rcParams["font.size"]) / 72.0
        fig.set_size_inches(w, min(40.0, 0.75 + row * max(1, len(results))))
        handles, names, keys = _legend(ax)
        n = len(getattr(ax, "_gradscope_groups", ({}, None))[0])  # the swatches on rows of their own
        legend = grouped_legend(fig, [list(zip(handles[:n], names[:n])), list(zip(handles[n:], names[n:]))])
        if keys and legend is not None:
            legend.set_gid(LEGEND_KEYS)  # colours name the groups, grey marks the outcomes
        finish(fig, [ax])
    return fig
