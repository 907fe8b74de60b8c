"""How a report's figures tell configurations apart: one colour per cell, one line style
per activation (or per other varied option), panels for the rest, and a colour bar when
one numeric option is swept; never more series in one panel than a reader can follow.

`encode(results)` decides once per report; every report figure uses the decision, so a
cell has the same colour in the overlay, the small multiples and the horizon figure.

May import: `gradscope.figures` and everything below it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..config import CELLS
from ..config.naming import display_fields, short_names, value_text
from ..results import Result
from .along import sweep_field
from .style import LINESTYLES, SERIES_COLORS, series_style

#: Most series drawn in one panel; beyond it the figure splits into panels.
MAX_PER_PANEL = 6

@dataclass
class Encoding:
    """Colour, line style and panel of every result of a report.

    `continuous` names the swept numeric field coloured on a colour bar (then `colors`
    is empty); `color_field` / `style_field` name the fields behind colours and line
    styles; `panels` maps each panel title to the indices of its results, in order.
    """

    colors: dict[int, Any]
    styles: dict[int, Any]
    panels: dict[str, list[int]]
    color_field: str | None = None
    style_field: str | None = None
    continuous: str | None = None
    color_values: dict[str, Any] = field(default_factory=dict)  # legend: label -> colour
    style_values: dict[str, Any] = field(default_factory=dict)  # legend: label -> style
    norm: Any = None  # a continuous colour's Normalize

    @property
    def many_panels(self) -> bool:
        return len(self.panels) > 1


def _panels(results: Sequence[Result], fields: Sequence[str]) -> dict[str, list[int]]:
    """Indices of `results` by the values of `fields`, titled by what sets each apart."""
    panels: dict[str, list[int]] = {}
    for i, label in enumerate(short_names([r.config for r in results], fields=fields)):
        panels.setdefault(label, []).append(i)
    return panels


def _ordered_values(results: Sequence[Result], name: str) -> list[Any]:
    values = list(dict.fromkeys(getattr(r.config, name) for r in results))
    if all(isinstance(v, (int, float)) for v in values):
        values.sort()
    return values


def encode(results: Sequence[Result], fields: Sequence[str] | None = None) -> Encoding:
    """Decide colours, line styles and panels for `results` (see the module docstring).

    A numeric field swept over three or more values (`sweep_field`) is coloured on a
    continuous scale and every combination of the other fields gets its own panel.
    Otherwise: colours name the cell (or the first varied field), line styles the
    activation (or the next varied field), and the remaining fields split the panels;
    a panel holding more than `MAX_PER_PANEL` series is split by the line-style field.
    """
    fields = list(display_fields([r.config for r in results]) if fields is None else fields)
    swept = sweep_field(results) if results else None
    if swept is not None and swept in fields:
        import matplotlib as mpl

        values = [float(getattr(r.config, swept)) for r in results]
        norm = mpl.colors.Normalize(min(values), max(values))
        cmap = sweep_colormap()
        rest = [f for f in fields if f != swept]
        return Encoding(colors={i: cmap(norm(v)) for i, v in enumerate(values)},
                        styles={i: "-" for i in range(len(results))},
                        panels=_panels(results, rest), continuous=swept, norm=norm)
    color_field = "cell" if "cell" in fields else (fields[0] if fields else None)
    rest = [f for f in fields if f != color_field]
    style_field = "act" if "act" in rest else (rest[0] if rest else None)
    colors: dict[int, Any] = {}
    styles: dict[int, Any] = {i: "-" for i in range(len(results))}
    color_values: dict[str, Any] = {}
    style_values: dict[str, Any] = {}
    if color_field is not None:
        cvalues = _ordered_values(results, color_field)
        many = len(cvalues) > len(SERIES_COLORS)
        if many:  # colour and line style together name the value; styles cannot carry a field
            style_field = None
        # a cell's colour is its place in the registry (modulo the colours), whenever the
        # report's cells keep distinct colours that way; else the report's own order
        slots = [CELLS.index(v) % len(SERIES_COLORS) for v in cvalues if color_field == "cell" and v in CELLS]
        fixed = not many and len(slots) == len(cvalues) and len(set(slots)) == len(slots)
        for j, v in enumerate(cvalues):
            if fixed:
                j = CELLS.index(v) % len(SERIES_COLORS)  # a cell has the same colour in every report
            c, ls = series_style(j) if many else (SERIES_COLORS[j], "-")
            color_values[value_text(color_field, v)] = (c, ls)
        lookup = {v: color_values[value_text(color_field, v)] for v in cvalues}
        for i, r in enumerate(results):
            colors[i], styles[i] = lookup[getattr(r.config, color_field)]
    else:
        colors = {i: SERIES_COLORS[0] for i in range(len(results))}
    if style_field is not None:
        svalues = _ordered_values(results, style_field)
        if len(svalues) > len(LINESTYLES):
            style_field = None
        else:
            for j, v in enumerate(svalues):
                style_values[value_text(style_field, v)] = LINESTYLES[j]
            for i, r in enumerate(results):
                styles[i] = style_values[value_text(style_field, getattr(r.config, style_field))]
    panel_fields = [f for f in fields if f not in (color_field, style_field)]
    panels = _panels(results, panel_fields)
    if style_field is not None and max(len(v) for v in panels.values()) > MAX_PER_PANEL:
        panels = _panels(results, [*panel_fields, style_field])
    panels = dict(item for title, idx in panels.items() for item in _chunks(title, idx))
    return Encoding(colors=colors, styles=styles, panels=panels, color_field=color_field,
                    style_field=style_field, color_values=color_values, style_values=style_values)


def _chunks(title: str, idx: list[int]) -> list[tuple[str, list[int]]]:
    """A panel of more than `MAX_PER_PANEL` series as several panels (`title (1/2)`)."""
    if len(idx) <= MAX_PER_PANEL:
        return [(title, idx)]
    n = -(-len(idx) // MAX_PER_PANEL)
    size = -(-len(idx) // n)
    return [(f"{title} ({k + 1}/{n})".strip(), idx[k * size:(k + 1) * size]) for k in range(n)]


def sweep_colormap() -> Any:
    """viridis without its last, palest tenth (a yellow line on white is hard to see)."""
    import matplotlib as mpl
    from matplotlib.colors import ListedColormap

    base = mpl.colormaps["viridis"]
    return ListedColormap(base(np.linspace(0.0, 0.88, 256)), name="viridis_dark")
