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

from ..config import CELL_SPECS
from ..config.naming import display_fields, field_label, labels_of, unique_labels
from .along import sweep_figure
from .curves import eps_tex, log_spaced_indices, trial_quantiles
from .encoding import MAX_PER_PANEL, Encoding, encode
from .horizon import horizon_figure, plot_horizon  # noqa: F401  (public here too)
from .style import LEGEND_KEYS

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
BAND_TEXT = "10-90% of trials"


#: Marks at the end of a median that stops: legend words, by marker.
END_MARKS = {"v": "median gain exactly 0 beyond this lag", "^": "median not finite beyond this lag"}
END_SIZE = 4.0
#: Two medians closer than this share of the panel's span over most lags coincide: the
#: one drawn first is hidden, and the panel's title says so.
COINCIDE = 0.015


def draw_curve(ax: Axes, result: Result, quantity: str, color: Any, ls: Any, label: str | None,
               band: bool = True) -> tuple[np.ndarray, np.ndarray, Any] | None:
    """Median over trials of `quantity` against lag, with its 10-90% band; the lag where
    the median underflows to a zero gain (`v`) or stops being finite (`^`) is marked.
    Returns the drawn `(lags, log10 median, its line)` (None: nothing to draw)."""
    curve = result.curves.get(quantity)
    if curve is None or np.size(curve) == 0:
        return None
    curve = np.atleast_2d(np.asarray(curve, dtype=np.float64))
    lag = np.asarray(result.curves.get("lag", np.arange(curve.shape[1])))
    idx = log_spaced_indices(len(lag))
    q = trial_quantiles(curve[:, idx]) / LN10
    x = lag[idx].astype(np.float64)
    finite = np.isfinite(q)
    lo, med, hi = (np.where(f, v, np.nan) for f, v in zip(finite, q))
    if band:
        ax.fill_between(x, lo, hi, where=finite[0] & finite[2], color=color, alpha=0.16, linewidth=0,
                        label=BAND_TEXT)
    (line,) = ax.plot(x, med, color=color, linestyle=ls, label=label)
    bad = ~finite[1]
    if bad.any() and finite[1].any():
        last = int(np.flatnonzero(finite[1])[-1])
        if last + 1 < len(x) and bad[last + 1:].all():
            marker = "v" if np.isneginf(q[1][last + 1]) else "^"
            ax.plot([x[last]], [med[last]], marker=marker, markersize=END_SIZE, color=color, linestyle="none")
            ax._gradscope_ends = getattr(ax, "_gradscope_ends", set()) | {marker}  # type: ignore[attr-defined]
    return x, med, line


def hidden_under(curves: Sequence[tuple[np.ndarray, np.ndarray, Any] | None]) -> list[tuple[int, int]]:
    """`(i, j)` for each curve i (drawn first) that curve j (drawn later) hides: their
    medians lie within `COINCIDE` of the panel's span at nine in ten of the lags both
    reach."""
    drawn = [c for c in curves if c is not None]
    values = np.concatenate([c[1][np.isfinite(c[1])] for c in drawn]) if drawn else np.zeros(0)
    if values.size < 2:
        return []
    tol = COINCIDE * max(float(values.max() - values.min()), 1e-9)
    out = []
    for i, a in enumerate(curves):
        for j in range(len(curves) - 1, i, -1):
            b = curves[j]
            if a is None or b is None or len(a[0]) != len(b[0]) or not np.array_equal(a[0], b[0]):
                continue
            both = np.isfinite(a[1]) & np.isfinite(b[1])
            if both.sum() >= 2 and np.mean(np.abs(a[1][both] - b[1][both]) <= tol) >= 0.9:
                out.append((i, j))
                break
    return out


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


def _draw_panel(ax: Axes, results: Sequence[Result], idx: Sequence[int], enc: Encoding, quantity: str,
                names: Sequence[str]) -> str:
    """Draw the panel's curves; returns a note naming each curve another one hides
    (`lstm tanh lies under gru tanh`), or "". A hidden curve is also drawn a little wider,
    so its colour shows along the edges of the one on top."""
    band = len(idx) <= MAX_BANDS
    curves = [draw_curve(ax, results[i], quantity, enc.colors[i], enc.styles[i], None, band=band) for i in idx]
    pairs = hidden_under(curves)
    for a, _ in pairs:
        under = curves[a][2]  # type: ignore[index]
        under.set_linewidth(2.4 * under.get_linewidth())
    if len(pairs) > 2:  # named one by one, they would fill the panel
        return f"{len(pairs)} curves lie under others (drawn wider)"
    return "; ".join(f"{names[idx[a]]} lies under {names[idx[b]]}" for a, b in pairs)


def _legend_entries(enc: Encoding, eps_label: str | None, bands: bool, ends: set[str] = frozenset()
                    ) -> list[list[tuple[Any, str]]]:
    """Groups of `(handle, label)`: colours (one per value of the colour field), line
    styles (one per value of the style field, in grey), then the band, the threshold and
    the marks where a median stops; each meaning named once, each group on rows of its
    own. With colours on a colour bar, a grey line says what a line is."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colours = [(Line2D([], [], color=c, linestyle=ls if enc.style_field is None else "-"), text)
               for text, (c, ls) in enc.color_values.items()]
    styles = [(Line2D([], [], color="0.3", linestyle=ls), text) for text, ls in enc.style_values.items()]
    if enc.continuous:
        styles.insert(0, (Line2D([], [], color="0.3", linestyle="-"), "median over trials (colour: the bar)"))
    elif not colours and enc.colors:  # nothing varies: one kind of line, named
        first = min(enc.colors)
        colours = [(Line2D([], [], color=enc.colors[first], linestyle=enc.styles.get(first, "-")),
                    "median over trials")]
    extra = []
    if bands:
        extra.append((Patch(color="0.6", alpha=0.35, linewidth=0), BAND_TEXT))
    if eps_label:
        extra.append((Line2D([], [], **{k: v for k, v in EPS_STYLE.items() if k != "zorder"}), eps_label))
    for marker in sorted(ends, reverse=True):
        extra.append((Line2D([], [], color="0.3", marker=marker, markersize=END_SIZE, linestyle="none"),
                      END_MARKS[marker]))
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
    fields = display_fields([r.config for r in results])
    for ax, title, idx in zip(axes, titles, groups):
        # a hidden curve is named by what varies within its panel (the title says the rest)
        inside = [f for f in fields if len({repr(getattr(results[i].config, f)) for i in idx}) > 1] or fields
        names = dict(zip(idx, labels_of([results[i].config for i in idx], inside)))
        note = _draw_panel(ax, results, idx, enc, quantity, names)
        eps_label = _eps_line(ax, [results[i] for i in idx]) or eps_label
        if title or note:
            ax.set_title(f"{title} ({note})" if title and note else (title or note))
        _gain_axes(ax, ylabel=round(ax.get_position().x0, 4) == left, xlabel=ax in bottom_of)
        if ax in bottom_of:  # the lowest panel of a column shows its lags, even above an empty cell
            ax.xaxis.set_tick_params(labelbottom=True)
        if not idx:
            ax.text(0.5, 0.5, "not run", transform=ax.transAxes, ha="center", va="center", color="#777777")
    if enc.continuous:
        _colorbar(fig, axes, enc)
    bands = any(0 < len(idx) <= MAX_BANDS for idx in groups)
    ends = set().union(*(getattr(ax, "_gradscope_ends", set()) for ax in axes))
    legend = grouped_legend(fig, _legend_entries(enc, eps_label, bands, ends))
    if legend is not None:
        legend.set_gid(LEGEND_KEYS)  # colours name a field's values, grey lines the others
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
    overlay (and split into panels as the overlay splits them, where colour and line
    style cannot tell them apart)."""
    from .style import resolve_width, style_context

    cells = list(dict.fromkeys(r.config.cell for r in results))
    acts = list(dict.fromkeys(r.config.act for r in results))
    pairs = [(c, a) for c in cells for a in acts]
    groups = [[i for i, r in enumerate(results) if (r.config.cell, r.config.act) == p] for p in pairs]
    titles = [f"{c}, {a}" if c not in CELL_SPECS or CELL_SPECS[c].act else c for c, a in pairs]  # lru: no act
    rest = [f for f in display_fields([r.config for r in results]) if f not in ("cell", "act")]
    if rest:  # what else varies tells the curves of a panel apart
        enc = encode(results, rest)
        beyond = [f for f in rest if f not in (enc.color_field, enc.style_field)]
        crowded = max((len(g) for g in groups), default=0) > MAX_PER_PANEL
        if enc.many_panels and (beyond or crowded):  # what neither colour nor line style can carry splits the panels
            split = [(f"{t}, {p}" if p else t, [i for i in g if i in set(idx)]) for t, g in zip(titles, groups)
                     for p, idx in enc.panels.items()]
            # only the panels that hold runs: split, they no longer form a cell x activation
            # grid whose holes a "not run" panel would show
            kept = [(t, g) for t, g in split if g]
            titles, groups = [t for t, _ in kept], [g for _, g in kept]
    else:  # one curve per panel, in its cell's colour (named in the legend too, as in every figure)
        enc = encode(results, ["cell"] if len(cells) > 1 else [])
        if len(cells) == 1:
            enc.color_values = {"median over trials": (enc.colors[0], "-")} if results else {}
        enc.style_values = {}
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
    bands = len(results) <= MAX_BANDS
    for i, (r, label) in enumerate(zip(results, labels)):
        draw_curve(ax, r, quantity, enc.colors[i], enc.styles[i], label, band=bands)
    eps_label = _eps_line(ax, results)
    _gain_axes(ax)
    if results:
        from matplotlib.collections import PolyCollection

        pairs = [(h, t) for h, t in zip(*ax.get_legend_handles_labels()) if not isinstance(h, PolyCollection)]
        extra = _legend_entries(Encoding({}, {}, {}), eps_label, bands, getattr(ax, "_gradscope_ends", set()))
        pairs += [p for group in extra for p in group]
        ax.legend([h for h, _ in pairs], [t for _, t in pairs], loc="best")
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
