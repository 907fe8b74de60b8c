"""Figures of several panels that fit their width: as many columns as the width holds at
the style's font size, a height that follows, and a legend under the panels whose
columns (and, if need be, wrapped labels) are chosen by measuring it.

    fig, axes = panel_figure(6, width=3.25)          # 2 columns x 3 rows at 8 pt
    ...draw into axes...
    figure_legend(fig, handles, labels)               # below the panels, measured
    finish(fig, axes)                                 # titles wrapped, ticks reach the data

May import: `gradscope.figures.style`, `gradscope.figures.layout`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

from .layout import TOLERANCE, draw, title_artist, wrap_legend, wrap_to_width

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: The narrowest panel, in ems of the style's font size (tick labels of 10^-300 need room).
PANEL_EMS = 14.0


def columns_for(n: int, width: float, fontsize: float, most: int | None = None) -> int:
    """How many panels of at least `PANEL_EMS` ems fit side by side in `width` inches."""
    fit = int(width * 72.0 // (PANEL_EMS * fontsize))
    return max(1, min(n, fit, most or n))


def panel_figure(
    n: int, width: float, aspect: float = 1.45, most_columns: int | None = None,
    max_panel_height: float = 2.4, extra_height: float = 0.0, **subplots: Any,
) -> tuple[Figure, list[Any]]:
    """A figure of `n` panels in as many columns as fit (`columns_for`), each panel
    `aspect` times wider than tall (at most `max_panel_height` inches tall), plus
    `extra_height` inches (a legend, a colour bar). Returns `(fig, axes)` with the
    `n` axes in reading order; unused grid cells are removed."""
    import matplotlib as mpl

    from .style import new_figure

    fontsize = float(mpl.rcParams["font.size"])
    cols = columns_for(n, width, fontsize, most_columns)
    rows = math.ceil(n / cols)
    panel_h = min(width / cols / aspect, max_panel_height)
    height = min(40.0, max(1.2, 0.35 + rows * (panel_h + 0.25) + extra_height))
    fig, grid = new_figure(width, height, nrows=rows, ncols=cols, squeeze=False, **subplots)
    axes = list(grid.flat)
    for ax in axes[n:]:
        ax.remove()
    return fig, axes[:n]


def figure_legend(fig: Figure, handles: Sequence[Any], labels: Sequence[str], grow: bool = True) -> Any:
    """A legend under the panels ("outside lower center") with the most columns that fit
    the figure's width, read row by row (labels wrapped if one column is too wide); with
    `grow` the figure gets taller by the legend's height, so the panels keep their size."""
    return grouped_legend(fig, [list(zip(handles, labels))], grow)


def grouped_legend(fig: Figure, groups: Sequence[Sequence[tuple[Any, str]]], grow: bool = True) -> Any:
    """`figure_legend` of groups of `(handle, label)` pairs (colours, line styles,
    marks), each group starting on a row of its own (matplotlib fills a legend column by
    column, so the entries are reordered and padded with blank ones)."""
    from matplotlib.lines import Line2D

    groups = [list(g) for g in groups if g]
    if not groups:
        return None
    renderer = fig.canvas.get_renderer()
    room = fig.bbox.width - 4
    widest = max(len(g) for g in groups)
    # one column measures the widest entry; start from as many columns of it as fit
    probe = fig.legend([h for g in groups for h, _ in g], [t for g in groups for _, t in g], ncols=1)
    entry = probe.get_window_extent(renderer).width
    probe.remove()
    start = max(1, min(widest, 6, int(room // max(entry, 1.0)) + 1))
    legend = None
    for ncols in range(start, 0, -1):  # the most columns that fit
        rows = [g[i:i + ncols] for g in groups for i in range(0, len(g), ncols)]
        cells = [row + [(Line2D([], [], linestyle="none"), "")] * (ncols - len(row)) for row in rows]
        ordered = [cells[r][c] for c in range(ncols) for r in range(len(cells))]
        if legend is not None:
            legend.remove()
        legend = fig.legend([h for h, _ in ordered], [t for _, t in ordered], loc="outside lower center",
                            ncols=ncols)
        if legend.get_window_extent(renderer).width <= room:
            break
    else:
        wrap_legend(legend, room, renderer)
    if grow:
        extra = legend.get_window_extent(renderer).height / fig.dpi
        fig.set_size_inches(fig.get_figwidth(), min(40.0, fig.get_figheight() + extra + 0.05))
    return legend


def finish(fig: Figure, axes: Sequence[Any] = ()) -> Any:
    """Let log10 axes reach their data (`style.reach_ticks`, on the panel sizes before
    layout), lay the figure out, then wrap every title and axis label longer than its
    panel (laying out once more only then); returns the renderer of the final layout."""
    from .style import reach_ticks

    axes = list(axes or fig.axes)
    for ax in axes:
        if getattr(ax.yaxis.get_major_formatter(), "log10", False):
            reach_ticks(ax)
    # a first wrapping on the panel sizes before layout (a little wider than after it,
    # hence the margin), so that one layout usually suffices
    _wrap_labels(axes, fig.canvas.get_renderer(), 0.85)
    renderer = draw(fig)
    if _wrap_labels(axes, renderer, 1.0):
        renderer = draw(fig)
    return renderer


def _wrap_labels(axes: Sequence[Any], renderer: Any, share: float) -> bool:
    """Wrap each title, x label and y label to `share` of its panel's length; True if
    any text changed."""
    changed = False
    for ax in axes:
        for text, room, vertical in ((title_artist(ax), ax.bbox.width, False),
                                     (ax.xaxis.label, ax.bbox.width, False),
                                     (ax.yaxis.label, ax.bbox.height, True)):
            if text.get_text() and wrap_to_width(text, share * room + TOLERANCE, renderer, vertical=vertical,
                                                 changed=True):
                changed = True
    return changed
