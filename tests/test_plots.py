"""Figures, style and tables, on synthetic results (no numerics needed)."""

from __future__ import annotations

import math
import re

import matplotlib
import numpy as np
import pytest
from conftest import make_synthetic_result

from gradscope.figures.curves import (
    drawing_indices,
    log_spaced_indices,
    trial_quantiles,
)
from gradscope.figures.decay_figure import (
    decay_figure,
    plot_decay,
    plot_input_sensitivity,
    plot_step_gain,
)
from gradscope.figures.layout import layout_problems
from gradscope.figures.style import (
    COLORS,
    LINESTYLES,
    SERIES_COLORS,
    VENUE_WIDTHS,
    log10_axis,
    log10_label,
    new_figure,
    reach_ticks,
    save_figure,
    series_style,
    style_context,
)
from gradscope.text.decay_table import plain_sentence, render_text, summary_table


# -- thinning and statistics ---------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 7, 500, 501, 1001, 100_001])
def test_log_spaced_indices(n):
    idx = log_spaced_indices(n, 500)
    assert len(idx) == min(n, 500) or (n > 500 and 450 <= len(idx) <= 500)
    if n:
        assert idx[0] == 0 and idx[-1] == n - 1
        assert np.all(np.diff(idx) > 0)
    if n > 500:  # log-spaced: dense at small lags, every early lag kept
        assert set(range(20)) <= set(idx.tolist())


def test_drawing_indices_cover_linear_axis():
    idx = drawing_indices(100_001, 500)
    assert len(idx) <= 500 and idx[0] == 0 and idx[-1] == 100_000
    assert np.max(np.diff(idx)) <= 100_000 / 200  # no large gap on a linear lag axis


def test_trial_quantiles_keep_inf_and_skip_nan():
    logs = np.array([[0.0, -1.0, -np.inf, np.nan], [0.0, -3.0, -np.inf, np.nan], [0.0, -2.0, -5.0, np.nan]])
    q = trial_quantiles(logs)
    assert q.shape == (3, 4)
    assert q[1, 1] == -2.0
    assert q[1, 2] == -np.inf and q[2, 2] > -np.inf  # median zero gain, 90% not
    assert np.all(np.isnan(q[:, 3]))


# -- style ---------------------------------------------------------------------------
def test_style_context_sets_and_restores_rc():
    before = matplotlib.rcParams["pdf.fonttype"]
    with style_context("paper"):
        assert matplotlib.rcParams["pdf.fonttype"] == 42
        assert matplotlib.rcParams["ps.fonttype"] == 42
        assert matplotlib.rcParams["svg.fonttype"] == "none"
        assert matplotlib.rcParams["mathtext.fontset"] in ("cm", "stix")
        assert matplotlib.rcParams["font.size"] == 8
    with style_context("screen", fontsize=12):
        assert matplotlib.rcParams["font.size"] == 12
    assert matplotlib.rcParams["pdf.fonttype"] == before
    with pytest.raises(ValueError):
        with style_context("poster"):
            pass


def test_palette_and_venues():
    assert COLORS[0] == "#0072B2" and len(set(COLORS)) == 8
    assert "#F0E442" not in SERIES_COLORS  # no yellow line (nearly invisible on white)
    styles = [series_style(i) for i in range(40)]
    assert len({(c, str(ls)) for c, ls in styles}) == 40  # nine series never share a colour and style
    assert len(LINESTYLES) == len(COLORS) and len(set(map(str, LINESTYLES))) == len(LINESTYLES)
    assert VENUE_WIDTHS == {"icml": 3.25, "one-column": 3.25, "ieee": 3.5, "neurips": 5.5,
                            "icml2": 6.75, "two-column": 6.75, "ieee2": 7.16}


def test_new_figure_size():
    fig, ax = new_figure(3.25)
    w, h = fig.get_size_inches()
    assert w == 3.25 and math.isclose(h, 3.25 / ((1 + 5**0.5) / 2))
    fig, axes = new_figure("ieee2", 2.0, nrows=1, ncols=2)
    assert tuple(fig.get_size_inches()) == (7.16, 2.0) and len(axes) == 2


def test_log10_labels():
    assert log10_label(-300.0) == "$10^{-300}$"
    assert log10_label(0.0) == "$10^{0}$"
    assert log10_label(math.log10(2e-3), mode="mantissa") == r"$2\times10^{-3}$"
    with style_context():
        fig, ax = new_figure()
        ax.plot([0, 1000], [0, -800])
        log10_axis(ax)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"\$10\^\{-?\d+\}\$", s) for s in labels), labels


def test_save_figure_reproducible_atomic_and_embeddable(tmp_path):
    paths = []
    for name in ("a", "b"):
        with style_context():
            fig, ax = new_figure()
            ax.plot([0, 1], [0, -300], label=r"$\|\partial s_T/\partial s_t\|_2$")
            log10_axis(ax)
            ax.legend()
        paths.append(save_figure(fig, tmp_path / name))
    for pa, pb in zip(*paths):
        assert pa.read_bytes() == pb.read_bytes(), pa.suffix
    pdf = paths[0][0].read_bytes()
    assert b"/Type3" not in pdf and b"CreationDate" not in pdf
    assert "<text" in paths[0][1].read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.{f}" for n in "ab" for f in ("pdf", "svg", "png"))  # no temporary files left
    with pytest.raises(ValueError):
        save_figure(fig, tmp_path / "c", formats=("gif",))


def test_saved_outside_context_still_type42(tmp_path):
    with style_context():
        fig, ax = new_figure()
        ax.set_xlabel(r"lag $k$")
    (path,) = save_figure(fig, tmp_path / "f", formats=("pdf",))
    assert b"/Type3" not in path.read_bytes()


# -- figures -------------------------------------------------------------------------
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


def test_log10_ticks_reach_the_curves():
    """A curve reaching 1e130 gets a tick above 1e0 (the critical-init overlay had none)."""
    with style_context():
        fig, ax = new_figure()
        ax.plot([0, 1000], [-300, 130])
        ax.set_ylim(-320, 140)
        log10_axis(ax)
        reach_ticks(ax)
        fig.canvas.draw()
        top = max(t.get_loc() for t in ax.yaxis.get_major_ticks() if ax.get_ylim()[0] <= t.get_loc() <= ax.get_ylim()[1])
    assert top >= 100


def test_long_curves_are_thinned():
    r = make_synthetic_result("lstm", steps=100_000, trials=2)
    ax = plot_decay(r)
    assert max(len(line.get_xdata()) for line in ax.get_lines()) <= 500
    ax = plot_step_gain(r)
    assert max(len(line.get_xdata()) for line in ax.get_lines()) <= 500


def test_decay_figure_fits_and_saves(synthetic_result_kind, tmp_path):
    fig = decay_figure(synthetic_result_kind, width=3.25)
    assert len([ax for ax in fig.axes if ax.axison]) == 4 and tuple(fig.get_size_inches())[0] == 3.25
    assert layout_problems(fig) == []
    save_figure(fig, tmp_path / "decay", formats=("png",), dpi=100)


def test_decay_figure_screen_style_and_venue():
    fig = decay_figure(make_synthetic_result(), width="neurips", style="screen")
    assert tuple(fig.get_size_inches())[0] == 5.5


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


# -- tables --------------------------------------------------------------------------
def test_sentences():
    s = plain_sentence(make_synthetic_result("vanishing"))
    assert s.startswith("gradients shrink about 7x per step")
    assert "8 steps back less than 1e-6" in s and "1/4" in s and "holds" in s
    assert "grow" in plain_sentence(make_synthetic_result("exploding"))
    assert "edge of chaos" in plain_sentence(make_synthetic_result("marginal"))
    assert "inf/NaN at step" in plain_sentence(make_synthetic_result("nonfinite"))
    assert "no horizon applies" in plain_sentence(make_synthetic_result("nonfinite"))
    assert "beyond the window" in plain_sentence(make_synthetic_result("lstm"))
    assert plain_sentence(make_synthetic_result("zero")).endswith(".")


def test_summary_table_text(synthetic_result_kind):
    text = render_text(summary_table(synthetic_result_kind), width=100)
    assert "\x1b[" not in text
    assert "growth rate" in text and "ln/step" in text and "horizon" in text
    assert synthetic_result_kind.summary["status"] in text
    for w in synthetic_result_kind.summary["warnings"]:
        assert w.split()[0] in text
    if synthetic_result_kind.config.cell == "rnn":
        assert "Pascanu bound" in text
    horizon_row = next(line for line in text.splitlines() if line.startswith("horizon"))
    if synthetic_result_kind.summary["explosion_lag"] is not None:  # exploding: no horizon, never "censored"
        assert "n/a" in horizon_row and "no horizon" in horizon_row and "censored" not in text
    elif synthetic_result_kind.summary["horizon_censored"]:
        assert "> 300" in horizon_row


def test_step_gain_bins_pool_trials_and_steps():
    r = make_synthetic_result("vanishing", steps=1000, trials=2)
    r.curves["log_step_gain"][0, :] = 0.0
    r.curves["log_step_gain"][1, :] = math.log(10.0)
    ax = plot_step_gain(r, max_points=100)
    median = ax.get_lines()[0].get_ydata()
    assert len(median) == 100 and np.allclose(median, 0.5)  # log10 of the pooled median
