"""The spectrum figure (`figures.spectrum_figure`) of a real run with lost (-inf)
directions: at every venue width, in both styles, no text leaves the canvas or
overlaps another."""

from __future__ import annotations

import pytest
from helpers import one_thread  # noqa: F401  (a fixture)

from gradscope.analysis import spectrum
from gradscope.config import Config

pytestmark = pytest.mark.usefixtures("one_thread")


def _drawn_texts(fig) -> list:
    """The texts a figure shows: titles, axis labels, tick labels inside the view, legends."""
    out = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        for axis, view in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = sorted(view)
            out += [t.label1 for t in axis.get_major_ticks()
                    if lo <= t.get_loc() <= hi and t.label1.get_visible() and t.label1.get_text()]
        out += [ax.title, ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            out += list(ax.get_legend().get_texts())
    return [t for t in out if t.get_text().strip()]


@pytest.mark.parametrize("style", ["paper", "screen"])
def test_spectrum_figure_fits_every_width_without_overlapping_text(style):
    from gradscope.figures.spectrum_figure import spectrum_figure

    r = spectrum(Config(cell="lstm", act="relu", hidden=6, steps=400, trials=3, exponents="all"))
    assert r.summary["exponents_unresolved"]  # the -inf markers and their legend entry are drawn too
    for width in (3.25, 3.5, 5.5, 6.75, 7.16):
        fig = spectrum_figure(r, width=width, style=style)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        box = fig.bbox
        boxes = [(t, t.get_window_extent(renderer)) for t in _drawn_texts(fig)]
        for t, b in boxes:
            assert b.x0 >= box.x0 - 1 and b.x1 <= box.x1 + 1 and b.y0 >= box.y0 - 1 and b.y1 <= box.y1 + 1, \
                (width, t.get_text())
        for i, (t1, b1) in enumerate(boxes):
            for t2, b2 in boxes[i + 1:]:
                overlap = b1.x0 < b2.x1 - 1 and b2.x0 < b1.x1 - 1 and b1.y0 < b2.y1 - 1 and b2.y0 < b1.y1 - 1
                assert not overlap, (width, style, t1.get_text(), t2.get_text())
