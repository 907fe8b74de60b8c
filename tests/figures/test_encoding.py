"""How a report's figures tell configurations apart (`figures.encoding`): one colour per
cell, the same in every figure and every report; one line style per activation; and a
colour bar, not a legend, when a numeric field is swept."""

from __future__ import annotations

import matplotlib.colors as mcolors
import pytest
from synthetic_reports import report_results, sweep_results

from gradscope.config import CELLS
from gradscope.config.naming import field_label
from gradscope.figures.comparison import (
    horizon_figure,
    overlay_figure,
    small_multiples_figure,
)
from gradscope.figures.encoding import encode, sweep_colormap
from gradscope.figures.style import LINESTYLES, SERIES_COLORS

FIGURES = {"overlay": overlay_figure, "small_multiples": small_multiples_figure, "horizon": horizon_figure}
THRESHOLD_GREY = "#777777"  # the eps line, drawn in every panel


def cell_colour(cell: str) -> str:
    """The colour a cell has in every report: its place in the registry's order."""
    return mcolors.to_hex(SERIES_COLORS[CELLS.index(cell)])


def drawn_colours(fig) -> set[str]:
    """The colours of every line and filled band a figure draws, the eps line aside."""
    out = set()
    for ax in fig.axes:
        out |= {mcolors.to_hex(line.get_color()) for line in ax.get_lines()}
        for band in ax.collections:
            out |= {mcolors.to_hex(c) for c in band.get_facecolor()}
    return out - {THRESHOLD_GREY}


@pytest.mark.parametrize("cells", [("rnn", "lstm", "gru"), ("lstm", "gru"), ("gru", "rnn")])
def test_a_cell_has_one_colour_in_every_figure_and_every_report(cells: tuple[str, ...]) -> None:
    results = [r for r in report_results(9) if r.config.cell in cells]
    if cells == ("gru", "rnn"):
        results = results[::-1]  # the order of a report does not move the colours
    enc = encode(results)
    assert enc.color_field == "cell" and enc.continuous is None
    for i, r in enumerate(results):
        assert mcolors.to_hex(enc.colors[i]) == cell_colour(r.config.cell), r.config.label()
    want = {cell_colour(c) for c in cells}
    assert len(want) == len(cells)  # no two cells alike
    for name, draw in FIGURES.items():
        assert drawn_colours(draw(results, width=6.75)) == want, name


def test_a_line_style_per_activation() -> None:
    results = report_results(9)  # 3 cells x sigmoid, tanh, relu
    enc = encode(results)
    assert enc.style_field == "act"
    acts = ["sigmoid", "tanh", "relu"]  # in the order the report first meets them
    assert enc.style_values == dict(zip(acts, LINESTYLES[:3]))
    for i, r in enumerate(results):
        assert enc.styles[i] == LINESTYLES[acts.index(r.config.act)], r.config.label()
    assert len({str(s) for s in enc.style_values.values()}) == 3  # no two activations alike
    one_act = [r for r in results if r.config.act == "tanh"]
    assert encode(one_act).style_field is None  # nothing varies but the cell: solid lines
    assert set(encode(one_act).styles.values()) == {"-"}


def test_a_swept_number_is_coloured_on_a_colour_bar() -> None:
    sweep = sweep_results(9)  # a tanh RNN at 9 gains from 0.5 to 3
    enc = encode(sweep)
    assert enc.continuous == "gain" and (enc.norm.vmin, enc.norm.vmax) == (0.5, 3.0)
    assert enc.color_values == {}  # no legend entry per gain
    cmap = sweep_colormap()
    for i, r in enumerate(sweep):
        expected = cmap((r.config.gain - 0.5) / 2.5)
        assert mcolors.to_hex(enc.colors[i]) == mcolors.to_hex(expected), r.config.gain
    assert mcolors.to_hex(enc.colors[0]) == mcolors.to_hex(cmap(0.0))
    assert mcolors.to_hex(enc.colors[len(sweep) - 1]) == mcolors.to_hex(cmap(1.0))
    fig = overlay_figure(sweep, width=6.75)
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1
    # under the panels, along the gains from the smallest to the largest
    assert bars[0].get_xlabel() == field_label("gain") and bars[0].get_xlim() == pytest.approx((0.5, 3.0))
    nine = overlay_figure(report_results(9), width=6.75)
    assert not [ax for ax in nine.axes if ax.get_label() == "<colorbar>"]  # nothing swept: no colour bar
