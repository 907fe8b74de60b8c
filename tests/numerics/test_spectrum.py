"""The Lyapunov spectrum (`numerics.spectrum`) against exact oracles (float64) for the
built-in and the research cells, the sum rule, the QR schedule, float32 against
float64, lost directions, and the top exponent against the growth rate. (Its figure:
tests/figures/test_spectrum_figure.py; its command: tests/cli/test_cli_spectrum.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import (
    linear_window,
    one_thread,  # noqa: F401  (a fixture)
    rnn_cell,
    trajectory,
)

from gradscope import Config, analyze
from gradscope.analysis import simulate, spectrum
from gradscope.config import cell_spec
from gradscope.model.activations import ACTIVATIONS
from gradscope.model.cells import CELL_CLASSES, CoRNNCell
from gradscope.numerics.spectrum import lyapunov_spectrum

F64 = torch.float64
SMOOTH = [name for name, a in ACTIVATIONS.items() if a.smooth]
SMALL = dict(hidden=8, steps=120, trials=3, transient=20)
pytestmark = pytest.mark.usefixtures("one_thread")


def spectrum_of(cell, steps, frame=500, **kw):
    states, inputs = linear_window(cell, steps)
    return lyapunov_spectrum(cell, states, inputs, frame_transient=frame, **kw)


# -- exact oracles -------------------------------------------------------------------
def test_lyapunov_exponents_of_a_linear_cell_are_log_eigenvalue_moduli():
    config, cell, traj, _ = trajectory(cell="rnn", act="identity", init="normal", gain=0.9,
                                       hidden=6, steps=4000, trials=2, input="zeros", transient=0)
    out = lyapunov_spectrum(cell, traj.states, traj.inputs, exponents=6)
    for b in range(2):
        expected = np.sort(np.log(np.abs(torch.linalg.eigvals(cell.w.weight_hh[b]).numpy())))[::-1]
        np.testing.assert_allclose(out["lyapunov_spectrum"][b], expected, atol=5e-3)
        assert out["lyapunov_spectrum"][b].sum() == pytest.approx(out["mean_log_det"][b], abs=1e-9)
    assert out["lyapunov_history"].shape[:2] == (2, 6)


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


def test_minimalrnn_without_recurrence_and_constant_input_gives_log_u():
    config = Config(cell="minimalrnn", init="identity", gain=0.0, hidden=6, steps=2000, trials=2,
                    input="constant", bias_std=1.0, transient=0, seed=4)  # gaps > 0.08: the frame aligns
    cell, traj, _, _ = simulate(config.resolved())
    p = cell.p
    e = torch.tanh(p["weight_ih"] @ torch.ones(6, dtype=F64))
    u = torch.sigmoid((p["weight_eh"] @ e.unsqueeze(-1)).squeeze(-1) + p["bias_ih"]).numpy()
    out = lyapunov_spectrum(cell, traj.states, traj.inputs, frame_transient=500)
    assert np.abs(out["lyapunov_spectrum"] - -np.sort(-np.log(u), axis=1)).max() < 1e-8


def test_cornn_undriven_oscillators_decay_at_the_log_moduli_of_one_oscillator():
    n, dt, gamma, eps = 4, 0.042, 2.7, 4.7
    zeros = torch.zeros(1, n, n, dtype=F64)
    cell = CoRNNCell(act="identity", weight_ih=torch.zeros(1, n, 1, dtype=F64), weight_hh=zeros,
                     weight_zh=zeros.clone(), bias_ih=torch.zeros(1, n, dtype=F64), step_size=dt,
                     stiffness=gamma, damping=eps)
    steps = 2000
    states = torch.zeros(steps + 1, 1, 2 * n, dtype=F64)
    out = lyapunov_spectrum(cell, states, torch.zeros(steps, 1, 1, dtype=F64), frame_transient=500)
    # W = W_z = 0: every oscillator steps by the same 2 x 2 matrix, so the spectrum is the log
    # moduli of its two eigenvalues, each N times
    one = np.array([[1 - dt * dt * gamma, dt * (1 - dt * eps)], [-dt * gamma, 1 - dt * eps]])
    exact = np.repeat(np.sort(np.log(np.abs(np.linalg.eigvals(one))))[::-1], n)
    assert np.abs(out["lyapunov_spectrum"][0] - exact).max() < 1e-8


def test_non_normal_transient_hump_still_has_both_exponents_ln_09():
    cell = rnn_cell([[0.9, 5.0], [0.0, 0.9]])
    power = np.linalg.matrix_power(np.array([[0.9, 5.0], [0.0, 0.9]]), 10)
    assert np.linalg.norm(power, 2) > 10  # ||W^k|| first grows ...
    out = spectrum_of(cell, 2000, frame=0)
    assert np.abs(out["lyapunov_spectrum"][0] - math.log(0.9)).max() < 1e-2  # ... yet both -> ln 0.9


# -- identities and consistency ------------------------------------------------------
@pytest.mark.parametrize("cell", [c for c in CELL_CLASSES if c != "slstm"])  # slstm: test_diagonal.py
def test_sum_rule_for_every_smooth_activation(cell):
    for act in SMOOTH if cell_spec(cell).act else ("tanh",):  # lru, s6, ...: no activation to choose
        config = Config(cell=cell, act=act, hidden=4, steps=150, trials=2, transient=20, exponents="all")
        out = spectrum(config)
        spec, log_det = out.curves["lyapunov_spectrum"], out.curves["lyapunov_mean_log_det"]
        assert np.isfinite(spec).all(), (cell, act)
        np.testing.assert_allclose(spec.sum(axis=1), log_det, rtol=1e-8, err_msg=f"{cell} {act}")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sum_of_all_exponents_equals_mean_log_det(cell):
    config = Config(cell=cell, exponents=16 if cell == "lstm" else 8, **SMALL)
    s = analyze(config).summary
    assert s["sum_exponents"] == pytest.approx(s["mean_log_det"], rel=1e-9)
    assert s["lambda_1"] is not None and s["kaplan_yorke_dim"] is not None


def test_top_exponent_is_the_growth_rate_of_the_product():
    s = analyze(Config(cell="rnn", act="tanh", hidden=16, steps=1500, trials=2, exponents=1)).summary
    assert s["lambda_1"] == pytest.approx(s["growth_rate"], abs=0.02)


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
