"""The figures of a comparison report: overlay and small multiples (here), horizons
(`figures.horizon`) and the figure along a swept field (`figures.along`), built by one
registry.

`FIGURE_BUILDERS` maps each figure's name to `builder(results, width, style, fontsize)
-> Figure | None` (None: the figure does not apply, e.g. no sweep); `report_figures`
builds them all. Every builder sizes its figure by measurement (`figures.multipanel`,
`figures.layout`), so it fits at every venue width in both styles. Colours, line
styles and panels come from one `figures.encoding.Encoding` per report. Gains are drawn
from log-norms as log10 values on a linear axis labelled in powers of ten (a gain of
1e-800 is real and below float64); a zero gain (`-inf`) is never drawn, the point
where the median underflows is marked.

May import: the modules of `gradscope.figures`, `gradscope.results`, `gradscope.config`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..config.naming import display_fields, field_label, unique_labels
from .along import sweep_figure
from .curves import eps_tex, log_spaced_indices, trial_quantiles
from .encoding import Encoding, encode
from .horizon import horizon_figure, plot_horizon  # noqa: F401  (public here too)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results import Result

LN10 = math.log(10.0)
FIGURES = ("overlay", "small_multiples", "horizon", "sweep")
#: Default widths (inches) when none is asked for: NeurIPS text, two columns.
DEFAULT_WIDTH = {"overlay": 5.5, "small_multiples": 6.75, "horizon": 5.5, "sweep": 5.5}
#: Bands (10-90% of trials) are drawn when a panel holds at most this many series.
MAX_BANDS = 3
EPS_STYLE = {"color": "#777777", "linewidth": 0.6, "linestyle": (0, (1, 1.5)), "zorder": 1}


def draw_curve(ax: Axes, result: Result, quantity: str, color: Any, ls: Any, label: str | None,
               band: bool = True) -> None:
    """Median over trials of `quantity` against lag, with its 10-90% band; the lag where
    the median underflows to a zero gain (`v`) or stops being finite (`^`) is marked."""
    curve = result.curves.get(quantity)
    if curve is None or np.size(curve) == 0:
        return
    curve = np.atleast_2d(np.asarray(curve, dtype=np.float64))
    lag = np.asarray(result.curves.get("lag", np.arange(curve.shape[1])))
    idx = log_spaced_indices(len(lag))
    q = trial_quantiles(curve[:, idx]) / LN10
    x = lag[idx].astype(np.float64)
    finite = np.isfinite(q)
    lo, med, hi = (np.where(f, v, np.nan) for f, v in zip(finite, q))
    if band:
        ax.fill_between(x, lo, hi, where=finite[0] & finite[2], color=color, alpha=0.16, linewidth=0)
    ax.plot(x, med, color=color, linestyle=ls, label=label)
    bad = ~finite[1]
    if bad.any() and finite[1].any():
        last = int(np.flatnonzero(finite[1])[-1])
        if last + 1 < len(x) and bad[last + 1:].all():
            marker = "v" if np.isneginf(q[1][last + 1]) else "^"
            ax.plot([x[last]], [med[last]], marker=marker, color=color, linestyle="none")


def _eps_line(ax: Axes, results: Sequence[Result]) -> str | None:
    """The threshold eps as a dotted line when every run shares it; returns its label."""
    eps = {r.config.eps for r in results}
    if len(eps) != 1:
        return None
    (e,) = eps
    ax.axhline(math.log10(e), **EPS_STYLE)
    return r"$\varepsilon$ = " + eps_tex(e)


def _gain_axes(ax: Axes, ylabel: bool = True, xlabel: bool = True) -> None:
    from .style import log10_axis

    log10_axis(ax, "y")
    ax.set_xlabel("lag $k$ (steps)" if xlabel else "")
    ax.set_ylabel(r"spectral gain $\|P\|_2$" if ylabel else "")


def _draw_panel(ax: Axes, results: Sequence[Result], idx: Sequence[int], enc: Encoding, quantity: str) -> None:
    band = len(idx) <= MAX_BANDS
    for i in idx:
        draw_curve(ax, results[i], quantity, enc.colors[i], enc.styles[i], None, band=band)


def _legend_entries(enc: Encoding, eps_label: str | None, bands: bool) -> list[list[tuple[Any, str]]]:
    """Groups of `(handle, label)`: colours (one per value of the colour field), line
    styles (one per value of the style field, in grey), then the band and the threshold;
    each meaning named once, each group on rows of its own."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colours = [(Line2D([], [], color=c, linestyle=ls if enc.style_field is None else "-"), text)
               for text, (c, ls) in enc.color_values.items()]
    styles = [(Line2D([], [], color="0.3", linestyle=ls), text) for text, ls in enc.style_values.items()]
    extra = []
    if bands:
        extra.append((Patch(color="0.6", alpha=0.35, linewidth=0), "10-90% of trials"))
    if eps_label:
        extra.append((Line2D([], [], **{k: v for k, v in EPS_STYLE.items() if k != "zorder"}), eps_label))
    return [g for g in (colours, styles, extra) if g]


def _colorbar(fig: Figure, axes: Sequence[Any], enc: Encoding) -> None:
    import matplotlib as mpl

    from .encoding import sweep_colormap

    bar = fig.colorbar(mpl.cm.ScalarMappable(norm=enc.norm, cmap=sweep_colormap()), ax=list(axes),
                       location="bottom", fraction=0.05, aspect=40, pad=0.02)
    bar.set_label(field_label(enc.continuous))


def _panels_figure(results: Sequence[Result], enc: Encoding, width: float, quantity: str,
                   titles: Sequence[str], groups: Sequence[Sequence[int]], most_columns: int | None = None) -> Figure:
    """One panel per group, shared axes, the legend (or colour bar) under the panels."""
    from .multipanel import finish, grouped_legend, panel_figure

    n = max(1, len(groups))
    fig, axes = panel_figure(n, width, sharex=True, sharey=True, most_columns=most_columns,
                             extra_height=0.45 if enc.continuous else 0.0)
    cols = {round(ax.get_position().x0, 4) for ax in axes}
    left = min(cols)
    bottom_of = _bottom_axes(axes)
    eps_label = None
    for ax, title, idx in zip(axes, titles, groups):
        _draw_panel(ax, results, idx, enc, quantity)
        eps_label = _eps_line(ax, [results[i] for i in idx]) or eps_label
        if title:
            ax.set_title(title)
        _gain_axes(ax, ylabel=round(ax.get_position().x0, 4) == left, xlabel=ax in bottom_of)
        if ax in bottom_of:  # the lowest panel of a column shows its lags, even above an empty cell
            ax.xaxis.set_tick_params(labelbottom=True)
        if not idx:
            ax.text(0.5, 0.5, "not run", transform=ax.transAxes, ha="center", va="center", color="#777777")
    if enc.continuous:
        _colorbar(fig, axes, enc)
    bands = any(0 < len(idx) <= MAX_BANDS for idx in groups)
    grouped_legend(fig, _legend_entries(enc, eps_label, bands))
    finish(fig, axes)
    return fig


def _bottom_axes(axes: Sequence[Any]) -> list[Any]:
    """The lowest panel of each column (the ones that carry an x label)."""
    by_col: dict[float, Any] = {}
    for ax in axes:
        x = round(ax.get_position().x0, 4)
        if x not in by_col or ax.get_position().y0 < by_col[x].get_position().y0:
            by_col[x] = ax
    return list(by_col.values())


def overlay_figure(results: Sequence[Result], width: float | None = None, style: str = "paper",
                   fontsize: float | None = None, quantity: str = "log_spectral") -> Figure:
    """Every configuration's median gain against lag (10-90% band when few), one colour
    per cell, one line style per activation; in panels when there are more series than
    a reader can tell apart (`encoding.MAX_PER_PANEL`), or one per combination of the
    other fields when a numeric option is swept (colour bar)."""
    from .style import resolve_width, style_context

    enc = encode(results)
    with style_context(style, fontsize=fontsize):
        titles = list(enc.panels) if enc.many_panels else [""]
        groups = list(enc.panels.values())
        return _panels_figure(results, enc, resolve_width(width or DEFAULT_WIDTH["overlay"]), quantity, titles, groups)


def small_multiples_figure(results: Sequence[Result], width: float | None = None, style: str = "paper",
                           fontsize: float | None = None, quantity: str = "log_spectral") -> Figure:
    """One panel per cell and activation (rows: cells, in reading order), shared axes;
    configurations differing in other fields share a panel, told apart as in the
    overlay."""
    from .style import resolve_width, style_context

    cells = list(dict.fromkeys(r.config.cell for r in results))
    acts = list(dict.fromkeys(r.config.act for r in results))
    pairs = [(c, a) for c in cells for a in acts]
    groups = [[i for i, r in enumerate(results) if (r.config.cell, r.config.act) == p] for p in pairs]
    titles = [f"{c}, {a}" for c, a in pairs]
    rest = [f for f in display_fields([r.config for r in results]) if f not in ("cell", "act")]
    if rest:  # what else varies tells the curves of a panel apart
        enc = encode(results, rest)
    else:  # one curve per panel, in its cell's colour; the titles name it
        enc = encode(results, ["cell"] if len(cells) > 1 else [])
        enc.color_values, enc.style_values = {}, {}
    with style_context(style, fontsize=fontsize):
        return _panels_figure(results, enc, resolve_width(width or DEFAULT_WIDTH["small_multiples"]),
                              quantity, titles, groups, most_columns=len(acts) if len(acts) > 1 else None)


def plot_overlay(results: Sequence[Result], ax: Axes | None = None, labels: Sequence[str] | None = None,
                 quantity: str = "log_spectral") -> Axes:
    """Every configuration on one Axes (median and 10-90% band of `quantity` against
    lag), labelled by `labels` (default: what tells them apart), with a legend; for your
    own figure. The report's overlay is `overlay_figure`."""
    if ax is None:
        from .style import new_figure

        _, ax = new_figure()
    enc = encode(results)
    labels = list(labels) if labels is not None else unique_labels([r.config for r in results])
    for i, (r, label) in enumerate(zip(results, labels)):
        draw_curve(ax, r, quantity, enc.colors[i], enc.styles[i], label, band=len(results) <= MAX_BANDS)
    _eps_line(ax, results)
    _gain_axes(ax)
    if results:
        ax.legend(loc="best")
    return ax


def report_figures(results: Sequence[Result], labels: Sequence[str] | None = None, width: float | str | None = None,
                   style: str | None = None, fontsize: float | None = None, theory: Any = None) -> dict[str, Figure]:
    """Every report figure that applies (`FIGURE_BUILDERS`), in `style` (default
    `paper`) at `width` inches (default: `DEFAULT_WIDTH` per figure), with the mean-field
    lines of the `theory` lookups (None: none). `labels` is accepted for compatibility;
    the figures name configurations by what varies."""
    from .style import resolve_width

    w = resolve_width(width) if width is not None else None
    figs: dict[str, Figure] = {}
    for name, build in FIGURE_BUILDERS.items():
        fig = build(results, w, style or "paper", fontsize, theory=theory) if name in THEORY_FIGURES else \
            build(results, w, style or "paper", fontsize)
        if fig is not None:
            figs[name] = fig
    return figs


#: The builders that draw theory (they take `theory=`).
THEORY_FIGURES = ("sweep",)
#: name -> builder(results, width or None, style, fontsize) -> Figure | None.
FIGURE_BUILDERS: dict[str, Callable[..., Any]] = {
    "overlay": overlay_figure,
    "small_multiples": small_multiples_figure,
    "horizon": horizon_figure,
    "sweep": sweep_figure,
}
