"""A sweep's phase figures (`figures.phase`, drawn by `report.sweep_report`): heatmaps
and line plots whose texts fit the canvas without overlapping, at every venue width."""

from __future__ import annotations

from typing import Any

import pytest
from sweep_tasks import fake_result

from gradscope.config import Config


@pytest.mark.parametrize("style", ["paper", "screen"])
@pytest.mark.parametrize("width", [3.25, 3.5, 5.5, 6.75, 7.16])
def test_phase_figures_fit_every_width(width: float, style: str) -> None:
    """No text leaves the canvas or overlaps other text, heatmap and line plot alike."""
    from gradscope.report.sweep_report import phase_figures

    grid = [fake_result(Config(hidden=8, steps=40, init="normal", input="zeros", gain=g, bias_std=b, seed=s),
                        rate=0.4 * (g - 1.2 - b) + 0.01 * s)
            for g in (0.5, 1.0, 1.5, 2.0) for b in (0.0, 0.5, 1.0) for s in (0, 1)]
    for r in grid:
        r.summary["horizon"] = None if r.summary["growth_rate"] > -0.05 else 30
    line = [r for r in grid if r.config.bias_std == 0.0]
    for results, names in ((grid, ("growth_rate", "horizon")), (line, ("growth_rate", "half_life"))):
        for name, (fig, caption) in phase_figures(names)(results, width=width, style=style).items():
            assert caption and tuple(fig.get_size_inches())[0] == width
            _assert_text_fits(fig, name, style)


def _drawn_texts(fig: Any) -> list[Any]:
    """Every text the figure draws: axis and tick labels inside the view, titles,
    annotations, legends."""
    out = list(fig.texts)
    for legend in fig.legends:
        out += legend.get_texts()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for locs, labels in ((axis.get_majorticklocs(), axis.get_majorticklabels()),
                                 (axis.get_minorticklocs(), axis.get_minorticklabels())):
                out += [t for v, t in zip(locs, labels) if lo - 1e-9 * (hi - lo) <= v <= hi + 1e-9 * (hi - lo)]
            out += [axis.label, axis.get_offset_text()]
        out += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        if ax.get_legend() is not None:
            out += ax.get_legend().get_texts()
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def _assert_text_fits(fig: Any, name: str, style: str) -> None:
    from gradscope.figures.style import style_context

    with style_context(style):  # as save_figure draws it
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _drawn_texts(fig)]
    canvas = fig.bbox
    for text, box in boxes:
        assert box.x0 >= canvas.x0 - 1 and box.x1 <= canvas.x1 + 1, f"{name}: {text!r} leaves the canvas"
        assert box.y0 >= canvas.y0 - 1 and box.y1 <= canvas.y1 + 1, f"{name}: {text!r} leaves the canvas"
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            overlap = ba.x0 < bb.x1 - 0.5 and bb.x0 < ba.x1 - 0.5 and ba.y0 < bb.y1 - 0.5 and bb.y0 < ba.y1 - 0.5
            assert not overlap, f"{name}: {a!r} overlaps {b!r}"
