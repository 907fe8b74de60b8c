"""One check of every figure's legend: every plotted series has exactly one legend entry,
no two series look alike, every entry names something drawn, and a band's entry says
over what it spreads.

    problems = legend_problems(fig)   # [] when the legend tells the whole truth

What counts as a mark (walked over every visible Axes with its axis on, colour bars
aside), when some of it lies in the view:
- a `Line2D` (data lines, markers, `axhline` / `axvline` reference lines);
- a `PolyCollection` (a band from `fill_between`);
- a `PathCollection` (a scatter) and a `LineCollection` that is not an error bar's.
A mark's look: its line (colour, dash pattern) and its marker (shape, size, face and
edge colour; a white or absent face is "open"). Alpha and line width do not count.

An entry covers a mark:
- exactly: its handle has the mark's line (when the mark has one) and the mark's
  marker (when it has one); for a band, a `Patch` of the band's colour;
- for bands of several series that share a meaning: a neutral-grey `Patch` whose text
  is the bands' own label (`10-90% of trials`);
- by keys, in a legend whose gid is `style.LEGEND_KEYS` (a report's legend of colours
  and shapes): the mark's colour from a coloured handle (a colour key) or from a colour
  bar, and its shape (dash pattern; marker, size and fill) from a neutral-grey handle
  (a shape key); a band's shape from a grey `Patch`.

Exempt, and only these:
- a horizontal or vertical line whose gid is `style.AXIS_REFERENCE`, drawn at a value
  its axis names with a tick label in view (the zero line of a rate axis, the gain-1
  line of a log10 gain axis): the axis labels it (checked);
- a `QuadMesh` heatmap: the colour bar beside it is its legend (checked: one exists);
  its cells without a value (the colour map's "bad" colour) need an entry of that colour;
- arrows drawn as annotations: parts of the mark they start from, named in its entry;
- error-bar caps and bars: parts of their data line.

What is reported, one sentence each:
1. a mark no entry covers (a series without an entry);
2. a mark covered exactly by entries of two texts (one series, two entries);
3. two entries whose handles look alike (two series, one look);
4. the same text in two entries;
5. an entry that covers no mark (a word for nothing drawn);
6. a band's entry that does not say over what it spreads (trials, seeds, steps, bins);
7. two curves (lines of three points or more) in one panel that look alike: whatever the
   legend, a reader cannot tell them apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.collections import (
    LineCollection,
    PathCollection,
    PolyCollection,
    QuadMesh,
)
from matplotlib.colors import to_hex, to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from gradscope.figures.layout import draw
from gradscope.figures.style import AXIS_REFERENCE, LEGEND_KEYS

#: What a band's entry must name: what the band spreads over.
SPREAD = re.compile(r"\b(trials?|seeds?|steps?|bins?)\b")
_NONE = ("None", "none", "", " ", None)


@dataclass(frozen=True)
class Look:
    """How a mark or a handle looks: its line and marker (None: it has none), or a
    band's colour."""

    line: tuple | None = None  # (colour, dash pattern)
    marker: tuple | None = None  # (shape, size, face, edge)
    band: str | None = None  # face colour of a band or patch

    def colour(self) -> str | None:
        if self.band is not None:
            return self.band
        if self.line is not None:
            return self.line[0]
        if self.marker is not None:
            return self.marker[3] if self.marker[2] == "open" else self.marker[2]
        return None

    def shape(self) -> tuple:
        """The look without its colour (what a shape key shows)."""
        return (None if self.line is None else self.line[1],
                None if self.marker is None else (self.marker[0], self.marker[1], self.marker[2] == "open"),
                self.band is not None)

    def text(self) -> str:
        parts = []
        if self.line:
            parts.append(f"line {self.line[0]} {'solid' if self.line[1] is None else self.line[1]}")
        if self.marker:
            parts.append(f"marker {self.marker[0]!r} {self.marker[1]} face {self.marker[2]}")
        if self.band:
            parts.append(f"band {self.band}")
        return ", ".join(parts)


def _hex(c: Any) -> str:
    return to_hex(to_rgba(c), keep_alpha=False)


def _neutral(colour: str | None) -> bool:
    if colour is None:
        return False
    r, g, b, _ = to_rgba(colour)
    return max(r, g, b) - min(r, g, b) < 2 / 255


def _dash(line: Any) -> Any:
    offset, seq = line._unscaled_dash_pattern
    return None if seq is None else tuple(round(float(v), 3) for v in seq)


def line_look(line: Line2D) -> Look:
    body = None
    if line.get_linestyle() not in _NONE and line.get_linewidth() > 0:
        body = (_hex(line.get_color()), _dash(line))
    mark = None
    if line.get_marker() not in _NONE:
        face = line.get_markerfacecolor()
        face = "open" if face in _NONE or to_rgba(face)[3] == 0 or _hex(face) == "#ffffff" else _hex(face)
        mark = (str(line.get_marker()), round(float(line.get_markersize()), 1), face, _hex(line.get_markeredgecolor()))
    return Look(body, mark)


def _patch_look(patch: Any) -> Look:
    return Look(band=_hex(patch.get_facecolor()))


def _handle_look(handle: Any) -> Look | None:
    if isinstance(handle, Line2D):
        return line_look(handle)
    if isinstance(handle, (Patch, PolyCollection)):
        fc = handle.get_facecolor()
        return Look(band=_hex(fc[0] if np.ndim(fc) == 2 else fc))
    if isinstance(handle, PathCollection):
        return Look(marker=("scatter", 0.0, _hex(handle.get_facecolor()[0]), _hex(handle.get_edgecolor()[0])))
    return None


def _in_view(ax: Any, xy_display: np.ndarray, as_line: bool) -> bool:
    from matplotlib.path import Path
    from matplotlib.transforms import Bbox

    box = ax.bbox
    pts = xy_display[np.all(np.isfinite(xy_display), axis=1)]
    if pts.size == 0:
        return False
    inside = (pts[:, 0] >= box.x0 - 1) & (pts[:, 0] <= box.x1 + 1) & (pts[:, 1] >= box.y0 - 1) & (pts[:, 1] <= box.y1 + 1)
    if inside.any():
        return True
    if as_line and len(pts) > 1:
        return Path(pts).intersects_bbox(Bbox.from_extents(box.x0, box.y0, box.x1, box.y1), filled=False)
    return False


def _is_colorbar(ax: Any) -> bool:
    return getattr(ax, "_colorbar", None) is not None or ax.get_label() == "<colorbar>"


def _reference_named(ax: Any, line: Line2D) -> bool:
    """A horizontal or vertical line at a value its axis names with a tick label."""
    x, y = (np.asarray(v, dtype=float) for v in line.get_data())
    for values, axis in ((y, ax.yaxis), (x, ax.xaxis)):
        if values.size and np.allclose(values, values[0]):
            lo, hi = sorted(axis.get_view_interval())
            ticks = [t.get_loc() for t in axis.get_major_ticks()
                     if t.label1.get_visible() and t.label1.get_text().strip() and lo - 1e-9 <= t.get_loc() <= hi + 1e-9]
            if any(abs(t - values[0]) <= 1e-9 * max(1.0, abs(t)) for t in ticks):
                return True
    return False


def marks(fig: Any) -> tuple[list[tuple[Any, Look, str]], list[str]]:
    """`([(artist, look, where)], problems)` of every mark in view (see the module
    docstring); problems: an exempt line its axis does not name, a heatmap without a
    colour bar."""
    problems: list[str] = []
    out: list[tuple[Any, Look, str]] = []
    bars = [ax for ax in fig.axes if _is_colorbar(ax)]
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison or _is_colorbar(ax):
            continue
        where = ax.get_title(loc="left") or ax.get_title() or "the axes"
        where = " ".join(where.split())
        parts = set()
        for c in ax.containers:
            if type(c).__name__ == "ErrorbarContainer":
                _, caps, bars_ = c.lines
                parts |= {id(a) for a in (*caps, *bars_)}
        for line in ax.get_lines():
            if not line.get_visible() or id(line) in parts or len(line.get_xydata()) == 0:
                continue
            xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
            look = line_look(line)
            if look.line is None and look.marker is None:
                continue
            if not _in_view(ax, xy, look.line is not None):
                continue
            if line.get_gid() == AXIS_REFERENCE:
                if not _reference_named(ax, line):
                    problems.append(f"{where}: a reference line ({look.text()}) is exempt but its axis does not name "
                                    "its value")
                continue
            out.append((line, look, where))
        for coll in ax.collections:
            if not coll.get_visible() or id(coll) in parts:
                continue
            if isinstance(coll, QuadMesh):
                if not bars:
                    problems.append(f"{where}: a heatmap without a colour bar")
                if np.ma.getmaskarray(coll.get_array()).any():  # its cells without a value: an entry names them
                    out.append((coll, Look(band=_hex(coll.get_cmap().get_bad())), where))
                continue
            if isinstance(coll, PolyCollection):
                paths = [p for p in coll.get_paths() if len(p.vertices)]
                if paths and any(_in_view(ax, coll.get_transform().transform(p.vertices), True) for p in paths):
                    out.append((coll, Look(band=_hex(coll.get_facecolor()[0])), where))
            elif isinstance(coll, PathCollection) and len(coll.get_offsets()):
                out.append((coll, _handle_look(coll), where))
            elif isinstance(coll, LineCollection) and len(coll.get_segments()):
                colour = _hex(coll.get_color()[0])
                ls = coll.get_linestyle()[0]
                out.append((coll, Look(line=(colour, None if ls[1] is None else tuple(round(v / max(coll.get_linewidth()[0], 1e-9), 3) for v in ls[1]))), where))
    return out, problems


def entries(fig: Any) -> list[tuple[str, Look, bool, Any]]:
    """`(text, look, in a legend of keys, legend)` of every non-blank legend entry."""
    from matplotlib.legend import Legend

    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    legends += [a for a in fig.findobj(Legend) if a not in legends]
    out = []
    for leg in legends:
        if not leg.get_visible():
            continue
        keys = leg.get_gid() == LEGEND_KEYS
        for handle, text in zip(leg.legend_handles, leg.get_texts()):
            words = " ".join(text.get_text().split())
            look = _handle_look(handle) if handle is not None else None
            if not words or look is None:
                continue
            out.append((words, look, keys, leg))
    return out


def _covers_exactly(entry: Look, mark: Look) -> bool:
    if mark.band is not None:
        return entry.band == mark.band
    if entry.band is not None:
        return False
    if mark.line is not None and entry.line != mark.line:
        return False
    if mark.marker is not None and entry.marker != mark.marker:
        return False
    return True


def _shape_covers(entry: Look, mark: Look) -> bool:
    """A grey key's shape covers the mark's (each part the mark has)."""
    es, ms = entry.shape(), mark.shape()
    if mark.band is not None:
        return entry.band is not None
    if entry.band is not None:
        return False
    if mark.line is not None and (entry.line is None or es[0] != ms[0]):
        return False
    if mark.marker is not None and (entry.marker is None or es[1] != ms[1]):
        return False
    return True


def _in_colour_bar(fig: Any, colour: str | None) -> bool:
    if colour is None:
        return False
    rgb = np.array(to_rgba(colour)[:3])
    for ax in fig.axes:
        bar = getattr(ax, "_colorbar", None)
        if bar is None:
            continue
        table = bar.cmap(np.linspace(0, 1, 512))[:, :3]
        if np.min(np.abs(table - rgb).max(axis=1)) < 4 / 255:
            return True
    return False


def legend_problems(fig: Any) -> list[str]:
    """What is untrue or missing in the figure's legends, one sentence each (empty: the
    legends name every series once, and nothing else)."""
    import matplotlib as mpl

    with mpl.rc_context(getattr(fig, "_gradscope_rc", {})):  # ticks as the figure's style draws them
        if fig.stale:  # a figure laid out by its builder is read as it is (as layout_problems does)
            draw(fig)
        return _problems(fig)


def _problems(fig: Any) -> list[str]:
    found, problems = marks(fig)
    listed = entries(fig)
    used = [False] * len(listed)
    texts = [t for t, *_ in listed]
    for t in sorted(set(texts)):
        if texts.count(t) > 1:
            problems.append(f"the entry {t!r} appears {texts.count(t)} times")
    for i, (ti, li, *_) in enumerate(listed):
        for tj, lj, *_ in listed[i + 1:]:
            if li == lj and ti != tj:
                problems.append(f"the entries {ti!r} and {tj!r} look alike ({li.text()})")
    banded = [False] * len(listed)  # entries that name a band (they must say what it spreads over)
    curves: dict[tuple, list[Any]] = {}  # curves of one look in one panel: two series drawn alike
    for artist, look, where in found:
        if isinstance(artist, Line2D) and look.line is not None and np.isfinite(artist.get_xydata()).all(axis=1).sum() >= 3:
            curves.setdefault((id(artist.axes), look), []).append((artist, where))
    for (_, look), group in curves.items():
        if len(group) > 1:
            problems.append(f"{group[0][1]}: {len(group)} curves look alike ({look.text()}): no legend can tell them apart")
    for artist, look, where in found:
        exact = {t for k, (t, lk, *_) in enumerate(listed) if _covers_exactly(lk, look)}
        label = artist.get_label() or ""
        if look.band is not None:  # a grey swatch for the bands of several series, by their label
            exact |= {t for t, lk, *_ in listed if lk.band is not None and _neutral(lk.band) and t == " ".join(label.split())}
        if len(exact) > 1:
            problems.append(f"{where}: a mark ({look.text()}) has {len(exact)} entries: {sorted(exact)}")
        for k, (t, lk, *_) in enumerate(listed):
            if t in exact:
                used[k] = True
                banded[k] |= look.band is not None and not isinstance(artist, QuadMesh)
        colour = look.colour()
        if exact:  # a grey key of the same shape also reads on it (the mark's colour named elsewhere)
            for k, (t, lk, keys, _) in enumerate(listed):
                if keys and _neutral(lk.colour()) and not _neutral(colour) and _shape_covers(lk, look):
                    used[k] = True
            continue
        colour_keys = [k for k, (t, lk, keys, _) in enumerate(listed) if keys and not _neutral(lk.colour())
                       and lk.colour() == colour]
        shape_keys = [k for k, (t, lk, keys, _) in enumerate(listed) if keys and _neutral(lk.colour())
                      and _shape_covers(lk, look)]
        coloured = bool(colour_keys) or _in_colour_bar(fig, colour) or _neutral(colour)
        if coloured and shape_keys:
            for k in colour_keys + shape_keys:
                used[k] = True
            for k in shape_keys:
                banded[k] |= look.band is not None and not isinstance(artist, QuadMesh)
            continue
        problems.append(f"{where}: a mark ({look.text()}, label {label!r}) has no legend entry")
    for k, (t, lk, keys, _) in enumerate(listed):
        if not used[k]:
            problems.append(f"the entry {t!r} ({lk.text()}) names nothing drawn")
        if banded[k] and not SPREAD.search(t):
            problems.append(f"the band entry {t!r} does not say over what it spreads")
    return problems
