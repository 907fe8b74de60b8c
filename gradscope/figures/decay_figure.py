"""The `gradscope decay` figure of one `Result`: (a) gain against every lag, (b) the
first lags around the horizon, (c) per-step gain, (d) input sensitivity, and a legend
in a slot of its own, so it never covers a curve or leaves the page. When the window
is too short for a close-up ((b) would repeat (a)), (b) is left out and the panels
after it move up a letter.

The legend names every series of every panel once, each in the one colour and style it
has across the figure; the bands of several series share one grey entry that says
what they spread over.

The legend's font size (and, if need be, the wrapping of the title and of the note
under the figure) is chosen by measuring the drawn figure (`figures.layout`), so the
figure fits at every venue width in both styles by construction.

May import: `gradscope.figures.style`, `gradscope.figures.decay_panels`,
`gradscope.figures.layout`, `gradscope.figures.spectrum_figure`,
`gradscope.results`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..results import Status, number
from .decay_panels import (  # noqa: F401  (the panels are public here too)
    BAND_LABEL,
    DECAY_SERIES,
    gain_panel,
    has_close_up,
    measured_lags,
    plot_decay,
    plot_first_lags,
    plot_input_sensitivity,
    plot_step_gain,
)
from .spectrum_figure import draw_lambda_asymptote

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..results import Result

#: Layouts by the figure's width in units of its font size (ems): (a) on the left of a
#: 2 x 2 grid of the small panels and the legend; (a) on top of that grid; or every
#: panel in one column, the legend last.
WIDE_EMS, NARROW_EMS = 48.0, 26.0
LAYOUTS = {
    # name: (grid rows, cols, height / width, ratios, placements of a, b, c, d, legend)
    "wide": (2, 4, 0.56, {"width_ratios": [1.2, 1.2, 1, 1]},
             ((slice(None), slice(0, 2)), (0, 2), (0, 3), (1, 2), (1, 3))),
    "narrow": (3, 2, 1.25, {"height_ratios": [1.2, 1, 1], "width_ratios": [1, 1.15]},
               ((0, slice(None)), (1, 0), (1, 1), (2, 0), (2, 1))),
    "stack": (5, 1, 2.6, {"height_ratios": [1.3, 1, 1, 1, 1.1]},
              ((0, 0), (1, 0), (2, 0), (3, 0), (4, 0))),
}
#: The same without the first-lags panel (b None): the per-step gain and the input
#: sensitivity move up, the legend takes the column (or row) they leave.
LAYOUTS_NO_CLOSE_UP = {
    "wide": (2, 4, 0.56, {"width_ratios": [1.2, 1.2, 1, 1]},
             ((slice(None), slice(0, 2)), None, (0, 2), (1, 2), (slice(None), 3))),
    "narrow": (3, 2, 1.25, {"height_ratios": [1.2, 1, 1], "width_ratios": [1, 1.15]},
               ((0, slice(None)), None, (1, 0), (1, 1), (2, slice(None)))),
    "stack": (4, 1, 2.15, {"height_ratios": [1.3, 1, 1, 1.1]},
              ((0, 0), None, (1, 0), (2, 0), (3, 0))),
}


def _share(ratios: list[float], place: Any) -> float:
    part = ratios[place] if isinstance(place, slice) else [ratios[place]]
    return sum(part) / sum(ratios)


def _slot_share(layout: tuple) -> tuple[float, float]:
    """The legend slot's share of the figure's width and height, before margins."""
    rows, cols, _, ratios, places = layout
    row, col = places[4]
    return (_share(ratios.get("width_ratios", [1.0] * cols), col),
            _share(ratios.get("height_ratios", [1.0] * rows), row))


def choose_layout(width: float, fontsize: float) -> str:
    """`wide`, `narrow` or `stack` for a figure `width` inches wide at `fontsize` points."""
    ems = width * 72.0 / fontsize
    return "wide" if ems >= WIDE_EMS else ("narrow" if ems >= NARROW_EMS else "stack")


def _notes(result: Result) -> str:
    """What the figure cannot show by itself: where a non-finite state stopped the run."""
    if result.summary.get("status") != Status.NONFINITE:
        return ""
    step = number(result.summary, "nonfinite_step")
    where = f" at step {int(step)} of the forward run (transient included)" if step is not None else ""
    return f"The state became non-finite{where}: lags beyond {measured_lags(result)} were not measured."


def _legend_entries(axes: list[Any]) -> tuple[list[Any], list[str]]:
    """Every labelled series of every panel once: the gain panel's first (the band
    right after the spectral median), then the others'. Bands that share a label but
    not a colour (the 10-90% of trials of several series) get one grey entry."""
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_hex
    from matplotlib.patches import Patch

    pairs: dict[str, Any] = {}
    band_colours: dict[str, set[str]] = {}
    for i, ax in enumerate(axes):
        entries = list(zip(*ax.get_legend_handles_labels()))
        if i:  # a panel's line before its band
            entries.sort(key=lambda e: isinstance(e[0], PolyCollection))
        for handle, label in entries:
            if isinstance(handle, PolyCollection):
                band_colours.setdefault(label, set()).add(to_hex(handle.get_facecolor()[0], keep_alpha=False))
            if label not in pairs or _richer(handle, pairs[label]):
                pairs[label] = handle  # the horizon's dot, with the line (b) draws through it
    for label, colours in band_colours.items():
        if len(colours) > 1:  # one meaning, several series: a neutral swatch
            pairs[label] = Patch(facecolor="0.6", alpha=0.35, linewidth=0)
    ordered = list(pairs.items())
    band = [p for p in ordered if p[0] == BAND_LABEL]
    rest = [p for p in ordered if p[0] != BAND_LABEL]
    ordered = rest[:1] + band + rest[1:]
    return [h for _, h in ordered], [lab for lab, _ in ordered]


def _richer(new: Any, old: Any) -> bool:
    """A line with a marker over the same marker alone (one series drawn two ways)."""
    from matplotlib.lines import Line2D

    return (isinstance(new, Line2D) and isinstance(old, Line2D) and new.get_marker() == old.get_marker()
            and old.get_linestyle() in ("None", "none", "") and new.get_linestyle() not in ("None", "none", ""))


def _legend_maker(slot: Any, handles: list[Any], labels: list[str], ncols: int) -> Any:
    def make(size: float) -> Any:
        leg = slot.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.0, 1.0), fontsize=size,
                          ncols=ncols, handlelength=2.2, labelspacing=0.35, borderaxespad=0.0,
                          borderpad=0.0, frameon=False, columnspacing=1.2)
        leg.set_in_layout(False)
        return leg

    return make


def decay_figure(
    result: Result,
    width: float | str = 3.25,
    height: float | None = None,
    style: str = "paper",
    fontsize: float | None = None,
    usetex: bool = False,
    max_points: int = 500,
) -> Figure:
    """The `gradscope decay` figure: (a) gain against lag, (b) the first lags, where the
    gain crosses eps (or 1/eps), with the horizon (or explosion lag) marked (only when
    they are at most half of the lags: else (b) is left out and the next panels move
    up), (c) per-step gain against the step t, (d) input sensitivity, and the legend.

    Narrow figures (< 5 in, one column) put (a) on top and the rest in two rows below;
    wide ones put (a) on the left. `width` is inches or a venue name of
    `style.VENUE_WIDTHS`. Save it with `style.save_figure`.
    """
    import matplotlib as mpl

    from .layout import (
        TOLERANCE,
        draw,
        fit_label,
        fit_legend,
        font_points,
        title_artist,
        wrap_legend,
        wrap_to_width,
    )
    from .style import new_figure, reach_ticks, resolve_width, style_context

    width = resolve_width(width)
    with style_context(style, fontsize=fontsize, usetex=usetex):
        layout = choose_layout(width, float(mpl.rcParams["font.size"]))
        close_up = has_close_up(result)
        grid = (LAYOUTS if close_up else LAYOUTS_NO_CLOSE_UP)[layout]
        rows, cols, aspect, ratios, places = grid
        auto_height = height is None
        if auto_height:  # a narrow layout grows slower than its width beyond one column
            height = width * aspect if layout != "narrow" else min(width * aspect, 4.1 + 0.35 * max(width - 3.25, 0))
        fig, _ = new_figure(width, height)
        fig.clear()  # keep new_figure's size, canvas and recorded style; lay out anew
        gs = fig.add_gridspec(rows, cols, **ratios)
        ax_a, ax_b, ax_c, ax_d, slot = (None if place is None else fig.add_subplot(gs[place]) for place in places)
        slot.axis("off")
        plot_decay(result, ax_a, legend=False, max_points=max_points)
        draw_lambda_asymptote(ax_a, result)
        if ax_b is not None:
            plot_first_lags(result, ax_b)
        plot_step_gain(result, ax_c, max_points=max_points)
        plot_input_sensitivity(result, ax_d, max_points=max_points)
        panels = [ax for ax in (ax_a, ax_b, ax_c, ax_d) if ax is not None]
        names = [result.config.label()] + (["first lags"] if ax_b is not None else []) + [
            "per-step gain", "input sensitivity"]
        for letter, ax, name in zip("abcd", panels, names):
            ax.set_title(f"({letter}) {name}")
        note = _notes(result)
        if note:
            fig.supxlabel(note, fontsize="small", ha="left", x=0.01)
        handles, labels = _legend_entries(panels)
        base = font_points(mpl.rcParams["legend.fontsize"])
        share = _slot_share(grid)
        wide_slot = isinstance(places[4][1], slice) and cols > 1  # a row of its own: two columns
        make = _legend_maker(slot, handles, labels, 2 if wide_slot else 1)
        renderer = fig.canvas.get_renderer()
        below = 0.0
        if note:
            wrap_to_width(fig._supxlabel, fig.bbox.width * 0.97, renderer)
            below = fig._supxlabel.get_window_extent(renderer).height / fig.dpi
        if auto_height:  # tall enough for the legend at its full size, before any layout
            legend = make(base)
            wrap_legend(legend, (fig.bbox.width - 0.7 * fig.dpi) * share[0], renderer)  # margins, tick labels
            # each row of panels also holds a title and tick labels (about 0.35 in)
            need = legend.get_window_extent(renderer).height / fig.dpi / share[1] + 0.35 * rows + below
            legend.remove()
            if need > fig.get_figheight():
                fig.set_size_inches(width, need)
        for ax in panels:
            reach_ticks(ax)  # on the panels' sizes before layout: close enough for tick steps
        # first guesses on the panel sizes before layout (a layout costs more than a guess)
        renderer = fig.canvas.get_renderer()
        ylabels = [ax_a.get_ylabel(), r"gain $\|\partial s_T/\partial s_{T-k}\|$", "gain"]
        fit_label(ax_a.yaxis.label, 0.8 * ax_a.bbox.height, ylabels, renderer, vertical=True)
        for ax in panels:
            wrap_to_width(title_artist(ax), 0.85 * ax.bbox.width, renderer)
        renderer = draw(fig)
        changed = [wrap_to_width(title_artist(ax), ax.bbox.width, renderer, changed=True)
                   for ax in panels]
        changed.append(fit_label(ax_a.yaxis.label, ax_a.bbox.height, ylabels[ylabels.index(ax_a.get_ylabel()):],
                                 renderer, vertical=True, changed=True))
        if note:
            changed.append(wrap_to_width(fig._supxlabel, fig.bbox.width * 0.97, renderer, changed=True))
        if any(changed):
            renderer = draw(fig)  # the slot's final size, after titles and labels settled
        sizes = tuple(round(base * f, 2) for f in (1.0, 0.9, 0.8))
        legend = fit_legend(make, slot.get_window_extent(renderer), renderer, sizes)
        deficit = legend.get_window_extent(renderer).height - slot.bbox.height
        if deficit > TOLERANCE and auto_height:  # short of room even at 80%: grow once more
            legend.remove()
            fig.set_size_inches(width, fig.get_figheight() + 1.05 * deficit / fig.dpi / share[1])
            renderer = draw(fig)
            fit_legend(make, slot.get_window_extent(renderer), renderer, sizes)
    return fig
