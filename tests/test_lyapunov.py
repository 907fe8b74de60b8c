"""The Lyapunov spectrum against exact oracles (float64), the sum rule, the QR schedule,
float32 against float64, lost directions, and the mean-field edge of chaos."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import one_thread  # noqa: F401  (a fixture)

from gradscope.analysis import simulate, spectrum
from gradscope.config import Config
from gradscope.model.activations import ACTIVATIONS
from gradscope.model.cells import CELL_CLASSES, RNNCell
from gradscope.numerics.spectrum import lyapunov_spectrum
from gradscope.numerics.theory.mean_field import critical_gain, mean_field

F64 = torch.float64
SMOOTH = [name for name, a in ACTIVATIONS.items() if a.smooth]

pytestmark = pytest.mark.usefixtures("one_thread")


def rnn_cell(weight_hh: np.ndarray, trials: int = 1, act: str = "identity") -> RNNCell:
    """A vanilla RNN with the given recurrent matrix, no input weight and no bias."""
    w = torch.as_tensor(np.asarray(weight_hh, dtype=np.float64)).expand(trials, -1, -1).clone()
    n = w.shape[1]
    zeros = torch.zeros(trials, n, dtype=F64)
    return RNNCell(torch.zeros(trials, n, 1, dtype=F64), w, zeros, zeros.clone(), act=act)


def linear_window(cell, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """States and inputs for a linear cell, whose Jacobian does not depend on them."""
    return torch.zeros(steps + 1, cell.trials, cell.state_dim, dtype=F64), torch.zeros(steps, cell.trials, 1, dtype=F64)


def spectrum_of(cell, steps, frame=500, **kw):
    states, inputs = linear_window(cell, steps)
    return lyapunov_spectrum(cell, states, inputs, frame_transient=frame, **kw)


# -- exact oracles ----------------------------------------------------------------------
def test_diagonal_linear_cell_gives_the_log_moduli_sorted():
    a = np.array([0.95, -0.8, 0.6, 1.1, -0.3, 0.05])
    cell = rnn_cell(np.diag(a))
    expected = np.sort(np.log(np.abs(a)))[::-1]
    for k in (6, 3):  # every exponent, and the top three from a random frame
        out = spectrum_of(cell, 2500, exponents=k)  # 500 steps align the frame, 2,000 count
        assert np.abs(out["lyapunov_spectrum"][0] - expected[:k]).max() < 1e-3  # the ChaosTools test
        assert np.abs(out["lyapunov_spectrum"][0] - expected[:k]).max() < 1e-10  # it is in fact exact
    one = spectrum_of(cell, 2500, exponents=3, qr_every=1)["lyapunov_spectrum"]
    assert np.abs(one - out["lyapunov_spectrum"]).max() < 1e-8  # auto vs every step


def test_orthogonal_cell_with_identity_activation_gives_log_gain_everywhere():
    config = Config(cell="rnn", act="identity", init="orthogonal", gain=0.7, hidden=8, steps=600,
                    trials=2, input="zeros", exponents="all", transient=10)
    r = spectrum(config)
    assert np.abs(r.curves["lyapunov_spectrum"] - math.log(0.7)).max() < 1e-10
    assert r.summary["sum_rule_error"] < 1e-12


def test_antisymmetric_identity_cell_without_diffusion():
    config = Config(cell="antisymmetric", act="identity", diffusion=0.0, step_size=0.3, hidden=6,
                    init="normal", steps=4000, trials=1, input="zeros", transient=0)
    cell, traj, _, _ = simulate(config.resolved())
    w = cell.p["weight_hh"][0]
    mu = torch.linalg.eigvals(w - w.T).numpy()  # +-i omega
    expected = np.sort(np.log(np.abs(1 + 0.3 * mu)))[::-1]
    assert np.diff(np.unique(expected.round(6))).min() > 0.01  # distinct pairs: the frame aligns
    out = lyapunov_spectrum(cell, traj.states, traj.inputs, frame_transient=2000)
    assert np.abs(out["lyapunov_spectrum"][0] - expected).max() < 1e-8
    one = lyapunov_spectrum(cell, traj.states, traj.inputs, frame_transient=2000, qr_every=1)
    assert np.abs(one["lyapunov_spectrum"] - out["lyapunov_spectrum"]).max() < 1e-8


def test_gru_without_recurrence_and_constant_input_gives_log_update_gates():
    config = Config(cell="gru", init="identity", gain=0.0, hidden=6, steps=3000, trials=2,
                    input="constant", bias_std=0.5, transient=0)
    cell, traj, _, _ = simulate(config.resolved())
    w, b = cell.w.weight_ih, cell.w.bias_ih + cell.w.bias_hh
    z = torch.sigmoid(w[:, 6:12] @ torch.ones(6, dtype=F64) + b[:, 6:12]).numpy()  # gate z, x = 1
    out = lyapunov_spectrum(cell, traj.states, traj.inputs, frame_transient=1000)
    expected = -np.sort(-np.log(z), axis=1)
    assert np.abs(out["lyapunov_spectrum"] - expected).max() < 1e-8


def test_lstm_without_recurrence_gives_log_forget_gates_and_minus_inf_for_h():
    config = Config(cell="lstm", init="identity", gain=0.0, hidden=5, steps=3000, trials=2,
                    input="constant", bias_std=0.5, transient=0)
    cell, traj, _, _ = simulate(config.resolved())
    w, b = cell.w.weight_ih, cell.w.bias_ih + cell.w.bias_hh
    f = torch.sigmoid(w[:, 5:10] @ torch.ones(5, dtype=F64) + b[:, 5:10]).numpy()  # gate f
    out = lyapunov_spectrum(cell, traj.states, traj.inputs, frame_transient=1000)
    spec = out["lyapunov_spectrum"]
    assert np.abs(spec[:, :5] - -np.sort(-np.log(f), axis=1)).max() < 1e-8
    assert np.all(spec[:, 5:] == -np.inf) and not np.isnan(spec).any()  # -inf, not NaN, not noise
    assert list(out["lyapunov_resolved"]) == [5, 5]


def test_indrnn_exponent_is_log_u_plus_the_time_average_of_log_slope():
    config = Config(cell="indrnn", act="tanh", hidden=6, steps=1500, trials=2, gain=1.5, seed=5)
    cell, traj, _, _ = simulate(config.resolved())
    frame = 600
    d = cell.linearize(traj.states[:-1], traj.inputs)["d"][frame:]  # steps S+1..T
    exact = (torch.log(cell.p["weight_hh"].abs()) + torch.log(d).mean(0)).numpy()
    exact = -np.sort(-exact, axis=1)
    assert np.diff(exact, axis=1).max() < -0.01  # distinct: the frame aligns with the axes
    out = lyapunov_spectrum(cell, traj.states, traj.inputs, frame_transient=frame)
    assert np.abs(out["lyapunov_spectrum"] - exact).max() < 1e-8


def test_non_normal_transient_hump_still_has_both_exponents_ln_09():
    cell = rnn_cell([[0.9, 5.0], [0.0, 0.9]])
    power = np.linalg.matrix_power(np.array([[0.9, 5.0], [0.0, 0.9]]), 10)
    assert np.linalg.norm(power, 2) > 10  # ||W^k|| first grows ...
    out = spectrum_of(cell, 2000, frame=0)
    assert np.abs(out["lyapunov_spectrum"][0] - math.log(0.9)).max() < 1e-2  # ... yet both -> ln 0.9


# -- identities and consistency ----------------------------------------------------------
@pytest.mark.parametrize("cell", list(CELL_CLASSES))
def test_sum_rule_for_every_smooth_activation(cell):
    for act in SMOOTH:
        config = Config(cell=cell, act=act, hidden=4, steps=150, trials=2, transient=20, exponents="all")
        out = spectrum(config)
        spec, log_det = out.curves["lyapunov_spectrum"], out.curves["lyapunov_mean_log_det"]
        assert np.isfinite(spec).all(), (cell, act)
        np.testing.assert_allclose(spec.sum(axis=1), log_det, rtol=1e-8, err_msg=f"{cell} {act}")


def test_qr_every_auto_agrees_with_every_step_within_the_standard_error():
    config = Config(cell="rnn", act="tanh", hidden=16, steps=3000, trials=2, gain=2.5)
    cell, traj, _, _ = simulate(config.resolved())
    auto = lyapunov_spectrum(cell, traj.states, traj.inputs)
    one = lyapunov_spectrum(cell, traj.states, traj.inputs, qr_every=1)
    assert auto["lyapunov_qr_count"] < 0.6 * one["lyapunov_qr_count"]  # auto takes fewer QRs
    diff = np.abs(auto["lyapunov_spectrum"] - one["lyapunov_spectrum"])
    assert (diff <= auto["lyapunov_se"]).all()
    assert diff.max() < 1e-6  # the QR of P(T, S) Q_S is unique: only rounding differs


def test_float32_and_float64_agree_on_the_top_exponents_within_three_standard_errors():
    base = dict(cell="rnn", act="tanh", hidden=16, steps=3000, trials=2, exponents=4)
    r64 = spectrum(Config(dtype="float64", **base))
    r32 = spectrum(Config(dtype="float32", **base))
    assert r64.summary["lambda_1"] < 0
    diff = np.abs(r32.curves["lyapunov_spectrum"] - r64.curves["lyapunov_spectrum"])
    assert (diff <= 3 * r64.curves["lyapunov_se"]).all()


def test_relu_lost_directions_are_minus_inf_never_rounding_noise():
    config = Config(cell="rnn", act="relu", hidden=24, steps=1500, trials=3, exponents="all")
    r = spectrum(config)
    spec = r.curves["lyapunov_spectrum"]
    finite = np.isfinite(spec)
    assert finite.any() and (~finite).any()
    assert (spec[finite] > -15).all()  # no log(eps)-sized values dressed as measurements
    assert (spec[~finite] == -np.inf).all()
    assert (r.curves["lyapunov_resolved"] == finite.sum(axis=1)).all()
    assert r.summary["exponents_unresolved"] > 0 and "-inf" in " ".join(r.summary["warnings"])


def test_history_converges_to_the_estimate_and_errors_are_reported():
    r = spectrum(Config(cell="gru", hidden=8, steps=1200, trials=1))
    hist, steps = r.curves["lyapunov_history"], r.curves["lyapunov_history_steps"]
    assert hist.shape[:2] == (1, 8) and steps[-1] == 1200 - 120 and np.all(np.diff(steps) > 0)
    np.testing.assert_allclose(hist[:, :, -1], r.curves["lyapunov_spectrum"], atol=1e-12)
    s = r.summary
    assert len(s["lyapunov"]) == len(s["lyapunov_se"]) == 8
    assert all(v is not None and v > 0 for v in s["lyapunov_se"])
    assert s["lambda_1_se"] == s["lyapunov_se"][0] and s["sum_exponents_se"] > 0


def test_memory_does_not_grow_with_the_window_beyond_the_states():
    """Nothing per step is kept: the outputs of a 10x longer window have the same sizes
    (peak memory against T is measured in benchmarks/bench_spectrum.py)."""
    cell = rnn_cell(np.diag([0.9, 0.5, 0.2]))
    short, long = spectrum_of(cell, 300, frame=50), spectrum_of(cell, 3000, frame=50)
    assert short["lyapunov_history"].shape[-1] <= 60 and long["lyapunov_history"].shape[-1] <= 60
    assert short["lyapunov_blocks"].shape == long["lyapunov_blocks"].shape


# -- mean field at the edge of chaos ------------------------------------------------------
def test_mean_field_is_exact_at_the_edge_of_chaos():
    mf = mean_field("tanh", 1.0)
    assert mf["q"] == 0.0 and abs(mf["chi"] - 1.0) < 1e-12
    assert mean_field("tanh", 0.81)["q"] == 0.0
    assert 0 < mean_field("tanh", 1.21)["q"] < 1 and mean_field("tanh", 1.21)["chi"] > 1
    assert critical_gain("tanh", "normal") == pytest.approx(1.0, abs=1e-7)
    assert critical_gain("tanh", "default") == pytest.approx(math.sqrt(3), abs=1e-7)
    from gradscope.analysis import analyze

    s = analyze(Config(cell="rnn", init="normal", input="zeros", hidden=8, steps=20, trials=1)).summary
    assert s["mean_field_q"] == 0.0 and any("q* = 0 exactly" in w for w in s["warnings"])


# -- the figures and the command ----------------------------------------------------------
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


def test_spectrum_command_writes_json_files_and_replots(tmp_path):
    from click.testing import CliRunner

    from gradscope.cli import main

    runner = CliRunner()
    small = ["-n", "6", "-T", "300", "-b", "2", "--transient", "20"]
    r = runner.invoke(main, ["spectrum", *small, "--json"])
    assert r.exit_code == 0, r.output
    summary = __import__("json").loads(r.output)["summary"]
    for key in ("lyapunov", "lambda_1", "kaplan_yorke_dim", "n_positive", "entropy", "sum_exponents",
                "mean_log_det", "lambda_1_se", "lyapunov_se", "entropy_se", "sum_exponents_se"):
        assert key in summary, key
    assert len(summary["lyapunov"]) == 6 and summary["sum_rule_error"] < 1e-8
    out = tmp_path / "run"
    r = runner.invoke(main, ["spectrum", *small, "--exponents", "3", "--qr-every", "1", "--out", str(out),
                             "--format", "png"])
    assert r.exit_code == 0, r.output
    assert "lambda_1" in r.output and "3 of 6" in r.output
    assert {p.name for p in out.iterdir()} == {"result.json", "curves.npz", "summary.txt", "spectrum.png"}
    r = runner.invoke(main, ["replot", str(out), "--width", "7.16", "--format", "svg"])
    assert r.exit_code == 0 and (out / "spectrum.svg").is_file(), r.output
    for bad, message in ((["--exponents", "0"], "at least one exponent"), (["--exponents", "7"], "<= the state"),
                         (["--qr-every", "often"], "qr_every must be"), (["--frame-transient", "300"], "< steps")):
        r = runner.invoke(main, ["spectrum", *small, *bad])
        assert r.exit_code == 2 and message in r.output, (bad, r.output)


def test_spectrum_out_of_a_run_that_explodes_at_once_writes_its_numbers_and_no_figure(tmp_path):
    """No exponent accumulated (non-finite within the transient): result.json, curves and
    summary are written and say so; no figure is drawn, and the command does not fail."""
    from click.testing import CliRunner

    from gradscope.cli import main

    out = tmp_path / "run"
    r = CliRunner().invoke(main, ["spectrum", "-n", "8", "-T", "30", "-b", "2", "--transient", "10", "--act",
                                  "identity", "--init", "normal", "--gain", "1e100", "--out", str(out)])
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    assert "no figure" in r.output and "nonfinite" in r.output
    assert {p.name for p in out.iterdir()} == {"result.json", "curves.npz", "summary.txt"}
