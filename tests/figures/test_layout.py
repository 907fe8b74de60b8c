"""Every figure fits its page: each figure kind, at the five advertised widths, in both
styles, for every cell and for reports of 1, 9 and 30 configurations, drawn on an Agg
canvas (no file written) and measured by `gradscope.figures.layout`: no text or legend
leaves the canvas, overlaps another text, or covers a curve. Each is also read by the
legend check (`legend_check.legend_problems`): every series has exactly one legend
entry, no two look alike, and a band's entry says over what it spreads.

To add a figure kind, add one line to `RUN_FIGURES` (one `Result`) or `REPORT_FIGURES`
(a list of them; the synthetic runs are in tests/synthetic_reports.py); the spectrum
figure and a sweep's phase figures are drawn from real tiny runs at the end.
`GRADSCOPE_LAYOUT_PNG=DIR pytest tests/figures/test_layout.py` also writes each figure as
a PNG into DIR, to look at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pytest
from legend_check import legend_problems
from synthetic_reports import report_results, sweep_results, synthetic

from gradscope.config import Config
from gradscope.figures.along import sweep_figure
from gradscope.figures.comparison import (
    horizon_figure,
    overlay_figure,
    small_multiples_figure,
)
from gradscope.figures.decay_figure import (
    decay_figure,
)
from gradscope.figures.layout import layout_problems
from gradscope.figures.style import (
    new_figure,
    style_context,
)
from gradscope.results import Result

WIDTHS = (3.25, 3.5, 5.5, 6.75, 7.16)  # the venues; 3.25 is also the narrowest allowed (MIN_WIDTH)
STYLES = ("paper", "screen")


#: Figures of one run: name -> builder(result, width, style) -> Figure.
RUN_FIGURES: dict[str, Callable[..., Any]] = {
    "decay": lambda r, w, s: decay_figure(r, width=w, style=s),
}


#: Figures of a report: name -> builder(results, width, style) -> Figure (or None: n/a).
REPORT_FIGURES: dict[str, Callable[..., Any]] = {
    "overlay": lambda rs, w, s: overlay_figure(rs, width=w, style=s),
    "small_multiples": lambda rs, w, s: small_multiples_figure(rs, width=w, style=s),
    "horizon": lambda rs, w, s: horizon_figure(rs, width=w, style=s),
    "sweep": lambda rs, w, s: sweep_figure(rs, width=w, style=s),
}


#: One run per cell (and the exploding relu run whose state overflows).
RUNS = {
    "rnn": lambda: synthetic(Config(cell="rnn", act="sigmoid"), -1.9),
    "lstm": lambda: synthetic(Config(cell="lstm", act="tanh"), -0.3),
    "gru": lambda: synthetic(Config(cell="gru", act="tanh"), -0.45),
    "rnn-exploding": lambda: synthetic(Config(cell="rnn", act="relu", init="normal", gain=6.0), 1.4, stop=120),
}


#: The configurations each report figure is drawn for, by size.
REPORT_SETS: dict[str, Callable[[int], list[Result]]] = {"sweep": sweep_results}


_CACHE: dict[Any, Any] = {}


def _cached(key: Any, make: Callable[[], Any]) -> Any:
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def _check(fig: Any, name: str) -> None:
    folder = os.environ.get("GRADSCOPE_LAYOUT_PNG")
    if folder:
        from gradscope.figures.style import save_figure

        Path(folder).mkdir(parents=True, exist_ok=True)
        save_figure(fig, Path(folder) / name, formats=("png",), dpi=110)
    problems = layout_problems(fig) + legend_problems(fig)
    assert problems == [], f"{name}: " + "; ".join(problems)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("run", sorted(RUNS))
@pytest.mark.parametrize("kind", sorted(RUN_FIGURES))
def test_run_figure_fits(kind: str, run: str, width: float, style: str) -> None:
    result = _cached(run, RUNS[run])
    fig = RUN_FIGURES[kind](result, width, style)
    assert tuple(fig.get_size_inches())[0] == width
    _check(fig, f"{kind}-{run}-{width}-{style}")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("size", (1, 9, 30))
@pytest.mark.parametrize("kind", sorted(REPORT_FIGURES))
def test_report_figure_fits(kind: str, size: int, width: float, style: str) -> None:
    make = REPORT_SETS.get(kind, report_results)
    results = _cached((make, size), lambda: make(size))
    fig = REPORT_FIGURES[kind](results, width, style)
    if fig is None:  # the figure does not apply to these configurations (a sweep needs three values)
        assert kind == "sweep" and size == 1
        return
    assert tuple(fig.get_size_inches())[0] == width
    _check(fig, f"{kind}-{size}-{width}-{style}")


# -- the spectrum figure and a sweep's phase figures: drawn from real (tiny) runs ----
def _spectrum_run() -> Result:
    from gradscope.analysis import spectrum

    return spectrum(Config(cell="rnn", act="tanh", hidden=8, steps=300, trials=2, transient=20,
                           exponents="all", seed=0))


def _phase_runs() -> list[Result]:
    from gradscope.runs.task import run_one

    return [run_one(Config(cell="rnn", act="tanh", init="normal", input="zeros", gain=g, bias_std=b,
                           hidden=8, steps=80, trials=1, transient=20, exponents=1, seed=0))
            for g in (0.5, 1.0, 1.5, 2.5) for b in (0.0, 0.5, 1.0)]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
def test_spectrum_figure_fits(width: float, style: str) -> None:
    from gradscope.figures.spectrum_figure import spectrum_figure

    fig = spectrum_figure(_cached("spectrum", _spectrum_run), width=width, style=style)
    assert tuple(fig.get_size_inches())[0] == width
    _check(fig, f"spectrum-{width}-{style}")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("axes", (1, 2))
def test_phase_figures_fit(axes: int, width: float, style: str) -> None:
    """A sweep's heatmaps (two swept numbers) and line plots (one), for two measures."""
    from gradscope.report.sweep_report import phase_figures

    runs = _cached("phase", _phase_runs)
    if axes == 1:
        runs = [r for r in runs if r.config.bias_std == 0.5]
    drawn = phase_figures(("growth_rate", "lambda_1"))(runs, width=width, style=style)
    assert len(drawn) == 2 and all(name.startswith("phase_" if axes == 2 else "line_") for name in drawn)
    for name, (fig, _) in drawn.items():
        assert tuple(fig.get_size_inches())[0] == width
        _check(fig, f"{name}-{axes}-{width}-{style}")


# -- the measurement itself ----------------------------------------------------------
def test_layout_problems_sees_a_clipped_legend_and_an_overlap():
    """The measurement the layout test relies on fails a broken figure."""
    with style_context():
        fig, ax = new_figure(3.25)
        ax.plot([0, 1], [0, 1], label="a curve")
        fig.legend(["a legend far wider than any one-column figure could ever hold, " * 2], loc="center")
        ax.text(0.5, 0.5, "text on the curve", transform=ax.transAxes)
        ax.text(0.5, 0.5, "and text on that text", transform=ax.transAxes)
    problems = " | ".join(layout_problems(fig))
    assert "leaves the canvas" in problems and "overlaps" in problems and "covers the curve" in problems
