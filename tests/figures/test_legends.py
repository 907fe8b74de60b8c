"""Every word and every mark true (issue 22): for every figure kind, every plotted series
has exactly one legend entry, no two series share colour and style, and a band's label
says over what it spreads (`legend_check.legend_problems`, which tests/figures/
test_layout.py also runs on every figure at every width and style). Then the points the
issue saw in PNGs, one test each, and the checker failing figures that break its rules."""

from __future__ import annotations

import math
from typing import Any

import matplotlib
import numpy as np
import pytest
from conftest import make_synthetic_result
from legend_check import legend_problems
from sweep_tasks import fake_result
from synthetic_reports import report_results, sweep_results, synthetic

from gradscope.config import Config
from gradscope.figures.along import sweep_figure
from gradscope.figures.comparison import (
    horizon_figure,
    overlay_figure,
    small_multiples_figure,
)
from gradscope.figures.decay_figure import decay_figure, has_close_up
from gradscope.figures.phase import phase_figures
from gradscope.figures.spectrum_figure import spectrum_figure
from gradscope.figures.style import new_figure, style_context
from gradscope.results import SUMMARY_KEYS, Result

WIDTHS = (3.25, 6.75)
STYLES = ("paper", "screen")


def _assert_true(fig: Any, name: str) -> None:
    problems = legend_problems(fig)
    assert problems == [], f"{name}: " + "; ".join(problems)


# -- runs of every kind --------------------------------------------------------------
def with_exponents(result: Result) -> Result:
    """A run with the top exponent measured: (a) also draws k lambda_1."""
    result.summary["lambda_1"] = float(result.summary["growth_rate"] or -0.1) - 0.01
    return result


def alternating_lstm() -> Result:
    """A trained LSTM checkpoint whose ||J_t|| alternates 2.0, 8.8 every step, all trials alike."""
    r = make_synthetic_result("lstm", steps=1000, trials=8)
    r.curves["log_step_gain"] = np.tile(np.where(np.arange(1000) % 2 == 0, math.log(2.0), math.log(8.8)), (8, 1))
    return r


def spectrum_result() -> Result:
    """A synthetic spectrum of D = 16 (with two directions lost exactly) and its convergence."""
    config = Config(cell="rnn", act="tanh", hidden=16, steps=400, trials=3, exponents="all").resolved()
    rng = np.random.default_rng(0)
    spec = np.linspace(-0.2, -2.5, 16)[None, :] + 0.02 * rng.standard_normal((3, 16))
    spec[:, -2:] = -np.inf
    steps = np.geomspace(5, 380, 12)
    hist = spec[:, :, None] + 0.3 / np.sqrt(steps)[None, None, :]
    summary = {k: None for k in SUMMARY_KEYS}
    summary.update(status="ok", lambda_1=-0.2, mean_field_rate=-0.25, warnings=[])
    curves = {"lyapunov_spectrum": spec, "lyapunov_history": hist, "lyapunov_history_steps": steps}
    return Result(config=config, summary=summary, curves=curves, provenance={})


RUNS = {kind: (lambda kind=kind: make_synthetic_result(kind))
        for kind in ("vanishing", "exploding", "marginal", "nonfinite", "zero", "lstm")}
RUNS["exponents"] = lambda: with_exponents(make_synthetic_result("vanishing"))
RUNS["lstm-exponents-short"] = lambda: with_exponents(make_synthetic_result("lstm", steps=40))
RUNS["alternating"] = alternating_lstm


def horizon_grid() -> list[Result]:
    """A sweep of a horizon over the gain at T = 60: measured, censored and exploding."""
    out = []
    for s in (0, 1):
        for g in np.linspace(0.5, 3.0, 6):
            rate = 0.5 * math.log(g / 1.6)
            r = fake_result(Config(hidden=8, steps=60, init="normal", gain=float(g), seed=s), rate=rate)
            horizon = math.ceil(math.log(1e-6) / rate) if rate < 0 else None
            r.summary.update(horizon=horizon if horizon and horizon <= 60 else None,
                             horizon_censored=rate < 0 and not (horizon and horizon <= 60),
                             explosion_lag=math.ceil(math.log(1e6) / rate) if rate > 0 else None)
            out.append(r)
    return out


def phase_grid_runs() -> list[Result]:
    """Gain x bias std, two seeds, a rate that changes sign, and one noisy cell of the
    other sign beside the line (the README sweep's cell at g = 1.9, sigma_b = 0.8)."""
    grid = []
    for g in (0.5, 1.0, 1.5, 2.0, 2.5):
        for b in (0.0, 0.5, 1.0):
            for s in (0, 1):
                rate = 0.4 * (g - 1.2 - b) + 0.01 * s
                if (g, b) == (2.5, 1.0):
                    rate = -0.003  # noise of the other sign
                grid.append(fake_result(Config(hidden=8, steps=40, init="normal", input="zeros", gain=g,
                                               bias_std=b, seed=s), rate=rate))
    return grid


REPORTS = {
    "cells": lambda: report_results(9),
    "cells-gains": lambda: report_results(30),
    "one": lambda: report_results(1),
    "gain-x-N": lambda: sweep_results(30),  # N=64 (the default) and N=256
    "gain": lambda: sweep_results(9),
    "checkpoints": lambda: [synthetic(Config(cell="lstm", checkpoint=f"ck/{n}.pt", hidden=32), rate)
                            for n, rate in (("init", -0.4), ("trained", -0.2))],
}
REPORT_FIGURES = {"overlay": overlay_figure, "small_multiples": small_multiples_figure,
                  "horizon": horizon_figure, "sweep": sweep_figure}


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("run", sorted(RUNS))
def test_decay_figure_names_every_series_once(run: str, width: float, style: str) -> None:
    _assert_true(decay_figure(RUNS[run](), width=width, style=style), f"decay {run} {width} {style}")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
def test_spectrum_figure_names_every_series_once(width: float, style: str) -> None:
    _assert_true(spectrum_figure(spectrum_result(), width=width, style=style), f"spectrum {width} {style}")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("report", sorted(REPORTS))
def test_report_figures_name_every_series_once(report: str, width: float, style: str) -> None:
    results = REPORTS[report]()
    for name, build in REPORT_FIGURES.items():
        fig = build(results, width=width, style=style)
        if fig is not None:
            _assert_true(fig, f"{name} of {report} {width} {style}")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
def test_sweep_figures_name_every_series_once(width: float, style: str) -> None:
    """Heatmaps (two swept numbers) and line profiles (one), horizons censored and exploding."""
    grid = phase_grid_runs()
    for results, measures in ((grid, ("growth_rate", "horizon")), (horizon_grid(), ("horizon", "growth_rate")),
                              ([r for r in grid if r.config.bias_std == 0.5], ("growth_rate",))):
        for name, (fig, caption) in phase_figures(measures)(results, width=width, style=style).items():
            _assert_true(fig, f"{name} {width} {style}")


# -- the points --------------------------------------------------------------
def _colours(ax: Any) -> set[str]:
    return {matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines() if len(line.get_xydata())}


def test_input_sensitivity_and_lambda_1_are_not_the_mean_field_colour() -> None:
    """decay.png of N = 400 with --exponents: mean field, k lambda_1 and panel (d) were all pink."""
    fig = decay_figure(with_exponents(make_synthetic_result("vanishing")), width=6.75)
    ax_a = fig.axes[0]
    lines = {line.get_label(): line for line in ax_a.get_lines()}
    pink = matplotlib.colors.to_hex(lines[r"mean field $\frac{1}{2}\ln\chi$"].get_color())
    assert matplotlib.colors.to_hex(lines[r"$k\,\lambda_1$"].get_color()) != pink
    ax_d = next(ax for ax in fig.axes if " ".join(ax.get_title(loc="left").split()).endswith("input sensitivity"))
    assert pink not in _colours(ax_d)
    texts = [" ".join(t.get_text().split()) for leg in fig.findobj(matplotlib.legend.Legend) for t in leg.get_texts()]
    assert any(t.startswith("input sens.") for t in texts) and any(t.startswith("per-step gain") for t in texts)


def test_first_lags_panel_only_when_it_is_a_close_up() -> None:
    short = make_synthetic_result("lstm", steps=40)  # no horizon: 60 first lags > 40 lags
    assert not has_close_up(short)
    titles = [" ".join(ax.get_title(loc="left").split()) for ax in decay_figure(short).axes if ax.axison]
    assert titles[1:] == ["(b) per-step gain", "(c) input sensitivity"]
    long = make_synthetic_result("vanishing")  # horizon 8 in 300 lags
    titles = [" ".join(ax.get_title(loc="left").split()) for ax in decay_figure(long).axes if ax.axison]
    assert titles[1:] == ["(b) first lags", "(c) per-step gain", "(d) input sensitivity"]


def test_spectrum_convergence_is_not_squeezed_by_zero_and_mean_field_marks_the_top_exponent() -> None:
    fig = spectrum_figure(spectrum_result(), width=6.75)
    ax_a, ax_b = fig.axes[:2]
    lo, hi = ax_b.get_ylim()
    assert hi < 0  # every running exponent is negative: zero is not forced into view
    mf = [line for line in ax_a.get_lines() if line.get_label().startswith("mean field")]
    assert len(mf) == 1 and len(mf[0].get_xdata()) == 1 and mf[0].get_xdata()[0] == pytest.approx(1 / 16)


def test_horizon_rows_name_the_default_and_groups_differ_in_colour() -> None:
    results = sweep_results(30)  # a gain sweep at N=64 (the default) and N=256
    fig = horizon_figure(results, width=6.75)
    ax = fig.axes[0]
    labels = [t.get_text().replace("\u00a0", " ") for t in ax.get_yticklabels()]
    assert sum(t.startswith("N=64 ") for t in labels) == 15 and sum(t.startswith("N=256 ") for t in labels) == 15
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "N=64" in texts and "N=256" in texts
    assert len(_colours(ax) - {"#000000"}) >= 2


def test_hidden_curves_are_named() -> None:
    a = synthetic(Config(cell="lstm", act="tanh"), -0.3)
    b = synthetic(Config(cell="gru", act="tanh"), -0.3)  # the same curves: gru hides lstm
    c = synthetic(Config(cell="rnn", act="tanh"), -1.2)
    fig = overlay_figure([a, b, c], width=6.75)
    title = " ".join(fig.axes[0].get_title(loc="left").split())
    assert "lstm lies under gru" in title


def test_a_checkpoint_comparison_names_no_gain() -> None:
    fig = horizon_figure(REPORTS["checkpoints"](), width=6.75)
    title = fig.axes[0].get_title(loc="left")
    assert "lstm" in title and "g=" not in title and "N=32" in title


def test_phase_line_is_on_the_cell_edges_and_the_title_names_n_and_t() -> None:
    """No contour through a noisy grid: the solid line runs along the edges between cells
    of opposite sign (a lone cell is boxed, as measured); N and T are named."""
    figs = phase_figures(("growth_rate",))(phase_grid_runs(), width=6.75)
    fig, caption = figs["phase_growth_rate"]
    ax = fig.axes[0]
    assert not [c for c in ax.collections if type(c).__name__ in ("QuadContourSet", "ContourSet")]
    (line,) = [line for line in ax.get_lines() if len(line.get_xydata()) and line.get_linestyle() == "-"]
    x_edges, y_edges = np.array([0.25, 0.75, 1.25, 1.75, 2.25, 2.75]), np.array([-0.25, 0.25, 0.75, 1.25])
    x, y = (np.asarray(v, dtype=float) for v in line.get_data())
    ok = np.isfinite(x)
    assert np.all(np.isin(np.round(x[ok], 9), x_edges) | np.isin(np.round(y[ok], 9), y_edges))
    assert np.any(np.isclose(x[ok], 2.25)) and np.any(np.isclose(y[ok], 0.75))  # the lone cell at (2.5, 1.0)
    title = ax.get_title(loc="left")
    assert "N=8" in title and "T=40" in title
    assert "N=8" in caption and "T=40" in caption and "opposite signs" in caption


def test_censored_and_exploding_horizons_have_their_own_marks() -> None:
    figs = phase_figures(("horizon",))(horizon_grid(), width=6.75)
    fig, caption = figs["line_horizon"]
    texts = [" ".join(t.get_text().split()) for t in fig.legends[0].get_texts()]
    assert any("censored" in t for t in texts) and "explodes: no horizon" in texts and "the window $T$" in texts
    assert "censored" in caption and "explodes" in caption


# -- the checker fails what the issue saw --------------------------------------------
def test_the_checker_fails_an_unnamed_or_look_alike_series_and_an_unsaid_band() -> None:
    with style_context():
        fig, ax = new_figure(3.25)
        ax.plot([0, 1], [0, 1], color="C0", label="mean field")
        ax.plot([0, 1], [1, 0], color="C0", linestyle=":")  # no entry (panel (d) in pink)
        ax.plot([0, 1], [0.5, 0.5], color="C1", linestyle="-", label="a")
        ax.plot([0, 1], [0.2, 0.2], color="C1", linestyle="-", label="b")  # a's look
        ax.fill_between([0, 1], [0.1, 0.1], [0.3, 0.3], color="C2", alpha=0.2, label="spread")
        ax.plot([], [], color="C3", label="nothing drawn")
        for y in (0.6, 0.7):  # two curves alike, whatever the legend says
            ax.plot([0, 0.5, 1], [y, y, y], color="C4", linestyle="-", label="_" if y == 0.7 else "both")
        ax.legend()
    problems = " | ".join(legend_problems(fig))
    assert "has no legend entry" in problems  # the dotted line
    assert "has 2 entries" in problems and "look alike" in problems  # a and b
    assert "does not say over what it spreads" in problems  # the band
    assert "names nothing drawn" in problems
    assert "2 curves look alike" in problems
