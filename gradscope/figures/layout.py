"""Layout measured, not hoped for: where every text and legend of a drawn figure lies.

`layout_problems(fig)` lays the figure out (no pixels rendered) and lists every text
or legend that leaves the canvas, overlaps another text, or covers a drawn curve.
The figure builders use the same measurements to adapt (`fit_legend` shrinks a legend
into its slot or gives it more columns, `wrap_to_width` wraps a title), and the layout
test calls `layout_problems` on every figure kind at every advertised width.

    fig = decay_figure(result, width=3.25)
    assert layout_problems(fig) == []

What counts as a text: every visible, non-empty `Text` (titles, axis labels, tick
labels inside the view, annotations, colour-bar labels), with each legend as one box
(its own entries never collide with each other). What counts as a curve: a `Line2D`
drawn in data coordinates (measurements and theory lines; reference lines drawn in axes
coordinates, such as `axhline`, are not curves).

May import: nothing of gradscope's (matplotlib inside functions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

#: Pixels of slack: boxes that touch by less than this do not count as overlapping.
TOLERANCE = 0.75


@dataclass(frozen=True)
class Box:
    """A measured text or legend: what it is, its display-space box, its axes."""

    what: str
    bbox: Any  # matplotlib.transforms.Bbox, display pixels
    axes: Any = None  # the Axes it is drawn in (None: a figure-level artist)
    in_plot: bool = False  # drawn inside its axes' plotting area (annotations, legends)


def _name(text: str, limit: int = 40) -> str:
    flat = " ".join(str(text).split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")


def draw(fig: Figure) -> Any:
    """Lay `fig` out (constrained layout included) without rendering pixels; returns
    the renderer whose measurements are then valid.

    Fonts named by family (`serif`) and mathtext are resolved from rcParams when drawn,
    so the style the figure was made in (`style.new_figure` records it) is applied, as
    `style.save_figure` does: the measurement sees the fonts of the saved file."""
    import matplotlib as mpl

    with mpl.rc_context(getattr(fig, "_gradscope_rc", {})):
        fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def _visible_tick_labels(ax: Any) -> Iterator[Text]:
    for axis in (ax.xaxis, ax.yaxis):
        if not axis.get_visible():
            continue
        lo, hi = sorted(axis.get_view_interval())
        span = max(hi - lo, 1e-300)
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            loc = tick.get_loc()
            if loc is None or not (lo - 1e-9 * span <= loc <= hi + 1e-9 * span):
                continue
            for label in (tick.label1, tick.label2):
                if label.get_visible() and label.get_text().strip():
                    yield label


def _in_legend(text: Any, legends: list[Legend]) -> bool:
    for leg in legends:
        if text in leg.get_texts() or text is leg.get_title():
            return True
    return False


def measured_boxes(fig: Figure, renderer: Any = None) -> list[Box]:
    """Every visible text and legend of a laid-out figure, as display-space boxes."""
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    renderer = renderer or draw(fig)
    legends = [a for a in fig.findobj(Legend) if a.get_visible()]
    boxes: list[Box] = []
    for leg in legends:
        axes = leg.axes if leg.axes is not None and leg.axes.axison else None
        inside = axes is not None and _inside(leg.get_window_extent(renderer), axes.bbox)
        boxes.append(Box(f"legend {_name(' / '.join(t.get_text() for t in leg.get_texts()))}",
                         leg.get_window_extent(renderer), leg.axes, inside))
    ticks = {id(t) for ax in fig.axes for t in _visible_tick_labels(ax)}
    all_ticks = {id(t) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                 for tick in axis.get_major_ticks() + axis.get_minor_ticks() for t in (tick.label1, tick.label2)}
    for text in fig.findobj(Text):
        if id(text) in all_ticks and id(text) not in ticks:
            continue  # a tick outside the view is never drawn
        if not text.get_visible() or not text.get_text().strip() or _in_legend(text, legends):
            continue
        if text.get_alpha() == 0 or not _shown(text):
            continue
        ax = text.axes
        kind = "tick label" if id(text) in ticks else "text"
        bbox = text.get_window_extent(renderer)
        inside = (kind == "text" and ax is not None and text not in (ax.title, ax._left_title, ax._right_title)
                  and text not in (ax.xaxis.label, ax.yaxis.label) and _inside(bbox, ax.bbox))
        boxes.append(Box(f"{kind} {_name(text.get_text())}", bbox, ax, inside))
    return boxes


def _shown(artist: Any) -> bool:
    """Visible with every parent (a text in a hidden axes is not drawn)."""
    ax = getattr(artist, "axes", None)
    return ax is None or ax.get_visible()


def _inside(inner: Bbox, outer: Bbox, slack: float = TOLERANCE) -> bool:
    return (inner.x0 >= outer.x0 - slack and inner.x1 <= outer.x1 + slack
            and inner.y0 >= outer.y0 - slack and inner.y1 <= outer.y1 + slack)


def _overlap(a: Bbox, b: Bbox, slack: float = TOLERANCE) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack) and (min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def curves(fig: Figure) -> Iterator[tuple[Any, Any]]:
    """`(axes, line)` for every visible curve drawn in data coordinates."""
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_visible() and line.get_transform() is ax.transData and len(line.get_xydata()) > 0:
                yield ax, line


def _covers(bbox: Bbox, ax: Any, line: Any) -> bool:
    """True when the curve passes through `bbox` inside the plotting area of `ax`."""
    import numpy as np
    from matplotlib.path import Path
    from matplotlib.transforms import Bbox

    clip = Bbox.intersection(bbox, ax.bbox)
    if clip is None or clip.width <= 2 * TOLERANCE or clip.height <= 2 * TOLERANCE:
        return False
    clip = Bbox.from_extents(clip.x0 + TOLERANCE, clip.y0 + TOLERANCE, clip.x1 - TOLERANCE, clip.y1 - TOLERANCE)
    xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
    if len(xy) == 1 or line.get_linestyle() in ("None", "none", " ", ""):
        pts = xy[np.all(np.isfinite(xy), axis=1)]
        return bool(np.any((pts[:, 0] > clip.x0) & (pts[:, 0] < clip.x1) & (pts[:, 1] > clip.y0) & (pts[:, 1] < clip.y1)))
    finite = np.all(np.isfinite(xy), axis=1)
    # a NaN breaks the curve: test each finite run on its own
    breaks = np.flatnonzero(np.diff(finite.astype(int)) != 0) + 1
    for seg in np.split(np.arange(len(xy)), breaks):
        if seg.size and finite[seg[0]] and Path(xy[seg]).intersects_bbox(clip, filled=False):
            return True
    return False


def layout_problems(fig: Figure, curves_too: bool = True) -> list[str]:
    """What is wrong with a figure's layout, one sentence each (empty: it fits).

    - a text or legend that leaves the canvas (even in part);
    - two texts (or a text and a legend) that overlap;
    - a legend, or a text drawn inside a plotting area, that covers a curve
      (`curves_too`).
    """
    import matplotlib as mpl

    with mpl.rc_context(getattr(fig, "_gradscope_rc", {})):  # the fonts the figure is drawn in
        # a figure laid out by its builder with nothing changed since (not stale) is measured
        # as it is: a layout of the same figure gives the same boxes
        renderer = draw(fig) if fig.stale else fig.canvas.get_renderer()
        boxes = measured_boxes(fig, renderer)
    canvas = fig.bbox
    out: list[str] = []
    for b in boxes:
        if not _inside(b.bbox, canvas):
            out.append(f"{b.what} leaves the canvas ({_edges(b.bbox, canvas)})")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if _overlap(a.bbox, b.bbox):
                out.append(f"{a.what} overlaps {b.what}")
    if curves_too:
        lines = list(curves(fig))
        for b in boxes:
            if not (b.in_plot or b.what.startswith("legend")):
                continue
            for ax, line in lines:
                if _covers(b.bbox, ax, line):
                    out.append(f"{b.what} covers the curve {_name(line.get_label())}")
                    break
    return out


def _edges(inner: Bbox, outer: Bbox) -> str:
    sides = []
    if inner.x0 < outer.x0 - TOLERANCE:
        sides.append(f"left by {outer.x0 - inner.x0:.0f} px")
    if inner.x1 > outer.x1 + TOLERANCE:
        sides.append(f"right by {inner.x1 - outer.x1:.0f} px")
    if inner.y0 < outer.y0 - TOLERANCE:
        sides.append(f"bottom by {outer.y0 - inner.y0:.0f} px")
    if inner.y1 > outer.y1 + TOLERANCE:
        sides.append(f"top by {inner.y1 - outer.y1:.0f} px")
    return ", ".join(sides)


# -- adapting ------------------------------------------------------------------------
def title_artist(ax: Any) -> Text:
    """The Text of the axes' title, wherever it sits (left, centre or right)."""
    for text in (ax.title, ax._left_title, ax._right_title):
        if text.get_text():
            return text
    return ax.title


def font_points(size: Any) -> float:
    """A font size in points, from a number or a name (`small`, ...)."""
    from matplotlib.font_manager import FontProperties

    return float(FontProperties(size=size).get_size_in_points())


def _words(text: str) -> list[str]:
    """Words of `text` split at spaces outside mathtext (`$...$` stays whole)."""
    words, cur, math_mode = [], "", False
    for ch in text:
        if ch == "$":
            math_mode = not math_mode
        if ch in " \n" and not math_mode:
            if cur:
                words.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        words.append(cur)
    return words


def wrapped(text: str, chars: int) -> str:
    """`text` wrapped into lines of at most `chars` characters (a longer word keeps its
    own line), never breaking inside mathtext."""
    lines: list[str] = []
    for word in _words(text):
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def wrap_to_width(text: Text, width_px: float, renderer: Any = None, min_chars: int = 6,
                  vertical: bool = False, changed: bool = False) -> bool:
    """Wrap `text` at spaces (never inside mathtext) so that it is at most `width_px`
    long (its height when `vertical`, for a y-axis label); True if it fits (with
    `changed`: True if its text changed). Keeps the longest lines that fit (a bisection
    on the line length: a few measurements)."""
    renderer = renderer or text.figure.canvas.get_renderer()

    def length() -> float:
        box = text.get_window_extent(renderer)
        return box.height if vertical else box.width

    before = text.get_text()
    if not before.strip() or length() <= width_px:
        return False if changed else True
    original = " ".join(before.split("\n"))
    text.set_text(original)
    lo, hi = min_chars, len(original) - 1  # invariant: hi does not fit (or is unknown)
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        text.set_text(wrapped(original, mid))
        if length() <= width_px:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    text.set_text(wrapped(original, best if best is not None else min_chars))
    text.set_linespacing(1.15)  # lines of one label, closer than between labels
    return text.get_text() != before if changed else best is not None


def wrapped_to(text: Text, width_px: float, renderer: Any) -> str:
    """The string of `text`, wrapped (`wrap_to_width`) to `width_px`; `text` itself is
    left as it was (for tick labels, which an axis sets anew)."""
    before = text.get_text()
    wrap_to_width(text, width_px, renderer)
    after = text.get_text()
    text.set_text(before)
    return after


def fit_label(text: Text, limit_px: float, choices: list[str], renderer: Any, vertical: bool = False,
              changed: bool = False) -> bool:
    """Give `text` the first of `choices` whose extent along its direction (height when
    `vertical`, e.g. a y-axis label) is at most `limit_px`, else the shortest of them;
    True if one fits (with `changed`: True if the text changed)."""
    before = text.get_text()
    fits = False
    for choice in choices:
        text.set_text(choice)
        box = text.get_window_extent(renderer)
        if (box.height if vertical else box.width) <= limit_px:
            fits = True
            break
    else:
        text.set_text(min(choices, key=len))
    return text.get_text() != before if changed else fits


def fit_legend(make_legend: Any, slot: Bbox, renderer: Any, sizes: tuple[float, ...]) -> Any:
    """The legend `make_legend(fontsize)` at the largest of `sizes` whose box fits
    inside `slot` (display pixels), its long labels wrapped at spaces to the slot's width.
    Returns the legend that fits, else the last one tried (smallest font), so that a
    layout check names it rather than a legend silently missing."""
    legend = None
    for size in sizes:
        if legend is not None:
            legend.remove()
        legend = make_legend(size)
        wrap_legend(legend, slot.width, renderer)
        if _inside(legend.get_window_extent(renderer), slot):
            return legend
    return legend


def wrap_legend(legend: Legend, width_px: float, renderer: Any) -> None:
    """Wrap the legend's labels so that the whole box is at most `width_px` wide."""
    box = legend.get_window_extent(renderer)
    if box.width <= width_px:
        return
    texts = legend.get_texts()
    widest = max(t.get_window_extent(renderer).width for t in texts)
    room = width_px - (box.width - widest) - 1
    for t in texts:
        if t.get_window_extent(renderer).width > room:
            wrap_to_width(t, room, renderer)
