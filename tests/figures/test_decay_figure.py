"""The decay figure of one run (`figures.decay_figure`, `figures.decay_panels`), on
synthetic results: panels, theory lines, series told apart, the horizon close-up, runs
that explode or reach zero, thinned long curves; and, from a cell built by hand, the
non-normal hump above the lambda_1 asymptote."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch
from conftest import make_synthetic_result
from helpers import (
    linear_window,
    one_thread,  # noqa: F401  (a fixture)
    rnn_cell,
)
from legend_check import legend_problems

from gradscope.config import Config
from gradscope.figures.decay_figure import (
    decay_figure,
    has_close_up,
    plot_decay,
    plot_input_sensitivity,
    plot_step_gain,
)
from gradscope.figures.layout import layout_problems
from gradscope.figures.style import (
    save_figure,
    style_context,
)
from gradscope.numerics.spectrum import lyapunov_spectrum


def _drawn_y(ax):
    return np.concatenate([np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()])


def test_plot_decay_panels_return_axes(synthetic_result):
    with style_context():
        for fn in (plot_decay, plot_step_gain, plot_input_sensitivity):
            ax = fn(synthetic_result)
            assert isinstance(ax, matplotlib.axes.Axes)
            y = _drawn_y(ax)
            assert not np.any(np.isinf(y))
            assert all(np.isfinite(ax.get_ylim()))


def test_plot_decay_theory_lines(synthetic_result):
    ax = plot_decay(synthetic_result)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert "Pascanu bound" in lines and any(k.startswith("mean field") for k in lines)
    lstm = plot_decay(make_synthetic_result("lstm"))
    labels = [line.get_label() for line in lstm.get_lines()]
    assert "Pascanu bound" not in labels and "annealed estimate" in labels
    assert any("horizon 8 steps" in k for k in lines)  # the threshold's legend entry names it


def test_decay_series_are_told_apart(synthetic_result):
    """RMS and its mean-field prediction differ in colour; the loss gradient is drawn on
    top of the spectral gain (it coincides with it for gated cells); the band is named."""
    ax = plot_decay(synthetic_result)
    lines = {line.get_label(): line for line in ax.get_lines()}
    rms = next(v for k, v in lines.items() if k.startswith("RMS"))
    mean_field = next(v for k, v in lines.items() if k.startswith("mean field"))
    assert rms.get_color() != mean_field.get_color()
    spectral = next(v for k, v in lines.items() if k.startswith("spectral"))
    loss = next(v for k, v in lines.items() if k.startswith("loss"))
    assert loss.get_zorder() > spectral.get_zorder() and loss.get_linestyle() != spectral.get_linestyle()
    fig = decay_figure(synthetic_result)
    legend_texts = [t.get_text() for leg in fig.findobj(matplotlib.legend.Legend) for t in leg.get_texts()]
    assert "10-90% of trials" in legend_texts


def test_first_lags_panel_shows_the_horizon():
    r = make_synthetic_result("vanishing")  # horizon 8 steps in a window of 300
    fig = decay_figure(r)
    ax_b = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("(b)"))
    assert 8 < ax_b.get_xlim()[1] <= 40  # a few horizons, not the whole window
    vertical = [line for line in ax_b.get_lines() if list(line.get_xdata()) == [8, 8]]
    assert vertical, "the horizon is marked by a vertical line"
    lo, hi = ax_b.get_ylim()
    assert lo < -6 < hi  # eps = 1e-6 lies inside the close-up


def test_exploding_run_never_mixes_steps_and_lags():
    r = make_synthetic_result("nonfinite")  # the state overflowed after 150 of 300 lags
    fig = decay_figure(r)
    ax_a = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("(a)"))
    assert ax_a.get_xlim()[1] == 150  # the lags that were measured, not the window
    assert not [t for t in ax_a.texts if "step" in t.get_text()]  # no step number on the lag axis
    note = fig._supxlabel.get_text().replace("\n", " ")
    assert f"step {r.summary['nonfinite_step']}" in note and "lags beyond 150" in note
    legend_texts = " ".join(t.get_text() for leg in fig.findobj(matplotlib.legend.Legend) for t in leg.get_texts())
    assert "exceeded at lag" in legend_texts.replace("\n", " ") and "no horizon" in legend_texts.replace("\n", " ")


def test_plot_decay_marks_zero_gain():
    zero = plot_decay(make_synthetic_result("zero"))
    assert not np.any(np.isinf(_drawn_y(zero)))
    assert any("gain exactly 0 from lag" in line.get_label() for line in zero.get_lines())


def test_long_curves_are_thinned():
    r = make_synthetic_result("lstm", steps=100_000, trials=2)
    ax = plot_decay(r)
    assert max(len(line.get_xdata()) for line in ax.get_lines()) <= 500
    ax = plot_step_gain(r)
    assert max(len(line.get_xdata()) for line in ax.get_lines()) <= 500


def test_step_gain_bins_keep_every_drawn_point_a_real_median():
    """Binned, the per-step gain is drawn through the lowest and highest step of each bin
    (every vertex a real step's median over trials), never a median pooled over steps."""
    r = make_synthetic_result("vanishing", steps=1000, trials=2)
    r.curves["log_step_gain"][0, :] = 0.0
    r.curves["log_step_gain"][1, :] = math.log(10.0)
    ax = plot_step_gain(r, max_points=100)
    median = ax.get_lines()[0].get_ydata()
    assert len(median) <= 100 and np.allclose(median, 0.5)  # log10 of the median over the two trials


def test_alternating_step_gain_is_drawn_alternating_and_its_band_named():
    """A trained LSTM whose ||J_t|| alternates 2.0, 8.8, 2.0, ... (every trial alike):
    the drawn line takes both values and nothing between (no level of 4.2 that is never
    attained), and the band's label says it spans the steps of each bin, not trials."""
    r = make_synthetic_result("lstm", steps=1000, trials=8)
    seq = np.where(np.arange(1000) % 2 == 0, math.log(2.0), math.log(8.8))
    r.curves["log_step_gain"] = np.tile(seq, (8, 1))
    ax = plot_step_gain(r)
    line = next(line for line in ax.get_lines() if line.get_label().startswith("per-step"))
    drawn = np.unique(np.round(10 ** np.asarray(line.get_ydata(), dtype=float), 6))
    assert drawn.tolist() == [2.0, 8.8]
    band = next(c for c in ax.collections if c.get_label().startswith("per-step gain: 10-90%"))
    assert "steps in each bin" in band.get_label() and "trials" in band.get_label()
    short = make_synthetic_result("lstm", steps=40, trials=8)  # every step drawn: a band over trials only
    assert [c.get_label() for c in plot_step_gain(short).collections] == ["10-90% of trials"]


def test_decay_figure_fits_and_saves(synthetic_result_kind, tmp_path):
    fig = decay_figure(synthetic_result_kind, width=3.25)
    panels = 4 if has_close_up(synthetic_result_kind) else 3
    assert len([ax for ax in fig.axes if ax.axison]) == panels and tuple(fig.get_size_inches())[0] == 3.25
    assert layout_problems(fig) == [] and legend_problems(fig) == []
    save_figure(fig, tmp_path / "decay", formats=("png",), dpi=100)


def test_decay_figure_screen_style_and_venue():
    fig = decay_figure(make_synthetic_result(), width="neurips", style="screen")
    assert tuple(fig.get_size_inches())[0] == 5.5


# -- from a cell built by hand -------------------------------------------------------


F64 = torch.float64


def _decay_result_of(cell, steps: int):
    """A `Result` with decay curves and a spectrum for a cell built by hand."""
    from gradscope.numerics.metrics import decay_figures
    from gradscope.numerics.spectrum.summary import spectrum_figures
    from gradscope.numerics.transport import transport
    from gradscope.results import SUMMARY_KEYS, Result

    states, inputs = linear_window(cell, steps)
    readout = torch.zeros(cell.trials, cell.hidden, dtype=F64)
    readout[:, 0] = 1.0
    curves = transport(cell, states, inputs, readout, spectral="exact")
    curves.pop("fast_check")
    lyap = lyapunov_spectrum(cell, states, inputs, frame_transient=0)
    curves.update(lag=np.arange(steps + 1), lyapunov_spectrum=lyap["lyapunov_spectrum"],
                  lyapunov_history=lyap["lyapunov_history"], lyapunov_history_steps=lyap["lyapunov_history_steps"])
    summary = {k: None for k in SUMMARY_KEYS}
    summary.update(decay_figures(curves["log_spectral"], 1e-6), status="ok", warnings=[])
    summary.update(spectrum_figures(lyap, cell.state_dim, "float64")[0])
    config = Config(cell="rnn", act="identity", hidden=cell.hidden, steps=steps, trials=cell.trials).resolved()
    return Result(config=config, summary=summary, curves=curves, provenance={})


@pytest.mark.usefixtures("one_thread")
def test_decay_figure_shows_the_non_normal_hump_above_the_lambda_1_asymptote():
    from gradscope.figures.decay_figure import decay_figure

    r = _decay_result_of(rnn_cell([[0.9, 5.0], [0.0, 0.9]]), 2000)
    ax = decay_figure(r, width=3.25).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    lag, spectral = (np.asarray(v, dtype=float) for v in lines[r"spectral $\|P\|_2$"].get_data())  # log10
    peak = int(np.nanargmax(spectral))
    assert 5 <= lag[peak] <= 15 and spectral[peak] > 1.0  # the transient hump: ||W^k|| grows ~20x first
    k, y = (np.asarray(v, dtype=float) for v in lines[r"$k\,\lambda_1$"].get_data())
    assert np.allclose(y, k * r.summary["lambda_1"] / math.log(10))  # the asymptote k lambda_1 ...
    assert abs(r.summary["lambda_1"] - math.log(0.9)) < 1e-2  # ... with lambda_1 = ln 0.9
    assert spectral[-1] > y[-1]  # and the curve stays above it: the hump's offset never decays
