"""Fast mode against exact SVDs: per-step gains, degenerate spectra, the self-check that
corrects, and `--spectral exact` unchanged to the last bit (float64 unless stated)."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import trajectory

from gradscope.numerics.transport import CHECKS, FAST_STATS, transport
from gradscope.numerics.transport import fast as fastsweep
from gradscope.numerics.transport import lags as lagfast
from gradscope.numerics.transport import step_gain as stepgain

CELLS, ACTS, INITS = ("rnn", "lstm", "gru"), ("tanh", "sigmoid", "relu"), ("default", "orthogonal", "normal")


def rel(a, b):
    """Relative error of log-estimates a against log-truth b; NaN (not measured) and -inf
    (an exact zero) must sit at the same places in both."""
    assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(np.isneginf(a), np.isneginf(b))
    both = np.isfinite(a) & np.isfinite(b)
    err = np.zeros(a.shape)
    err[both] = np.abs(np.expm1(a[both] - b[both]))
    return err


def within_stated_tolerance(estimate, truth, name):
    err = rel(estimate, truth)
    assert err.max() < 1e-2, f"{name}: worst {err.max():.2e}"
    assert np.mean(err > 1e-3) <= 0.01, f"{name}: {np.mean(err > 1e-3):.3%} of values off by > 1e-3"


# (the structured products themselves: tests/model/test_contract.py, for every cell)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_frobenius_norm_of_a_tiny_jacobian_is_not_zero(cell):
    # entries ~1e-160: their squares underflow float64, the norm does not
    config, c, traj, _ = trajectory(cell=cell, act="identity", hidden=6, steps=4, trials=1,
                                    init="orthogonal", gain=1e-160, input="zeros", transient=0)
    lin = c.linearize(traj.states[:-1], traj.inputs)
    ours = c.frobenius(lin)
    jac = c.jacobian(lin)
    scale = jac.abs().amax((-2, -1), keepdim=True)
    ref = torch.linalg.matrix_norm(jac / scale) * scale[..., 0, 0]
    assert (ref > 0).all() and torch.allclose(ours, ref, rtol=1e-12, atol=0)


# -- per-step gains -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell,act,init", list(itertools.product(CELLS, ACTS, INITS)))
def test_step_gains_within_stated_tolerance_of_svdvals(cell, act, init, dtype):
    config, c, traj, r = trajectory(cell=cell, act=act, init=init, hidden=20, steps=300, trials=2, dtype=dtype)
    out = transport(c, traj.states, traj.inputs, r, spectral="fast", quantities=("step_gain",))
    jac = c.jacobian(c.linearize(traj.states[:-1], traj.inputs)).double()
    truth = torch.linalg.svdvals(jac)[..., 0].log().numpy().T
    within_stated_tolerance(out["log_step_gain"], truth, f"{cell} {act} {init} {dtype}")
    if dtype == "float64":  # Lanczos' Ritz values are lower bounds
        assert (out["log_step_gain"] <= truth + 1e-9).all()
    assert out["step_gain_check"][0] <= 1e-3


# -- degenerate spectra: where one power step per lag used to be off by percents ------------
def _gru_with_update_gate_near_one(**kw):
    """A GRU whose update gate sits near 1 (z = sigmoid(5 + ...)): h' ~ h, J ~ diag(z)."""
    config, c, traj, r = trajectory(cell="gru", **kw)
    n = config.hidden
    c.w.bias_ih[:, n : 2 * n] += 5.0
    s, states = traj.states[0], [traj.states[0]]
    for x in traj.inputs:  # the window again, from the same state and inputs
        s = c.step(s, x)
        states.append(s)
    traj.states = torch.stack(states)
    assert c.linearize(traj.states[:-1], traj.inputs)["z"].mean() > 0.95
    return config, c, traj, r


DEGENERATE = {
    "orthogonal, gain 1, input std 0.02": lambda: trajectory(
        cell="rnn", act="tanh", init="orthogonal", gain=1.0, input_std=0.02, hidden=32, steps=1200, trials=2),
    "orthogonal, gain 1, input std 0.1": lambda: trajectory(
        cell="rnn", act="tanh", init="orthogonal", gain=1.0, input_std=0.1, hidden=32, steps=1200, trials=2),
    "lstm, forget bias 5": lambda: trajectory(cell="lstm", forget_bias=5.0, hidden=24, steps=1200, trials=2),
    "gru, update gate near 1": lambda: _gru_with_update_gate_near_one(hidden=32, steps=1200, trials=2),
}


@pytest.mark.parametrize("case", list(DEGENERATE))
def test_degenerate_spectra_within_stated_tolerance(case):
    config, c, traj, r = DEGENERATE[case]()
    exact = transport(c, traj.states, traj.inputs, r, spectral="exact")
    fast = transport(c, traj.states, traj.inputs, r, spectral="fast")
    for key in ("log_spectral", "log_input_sensitivity"):
        a, b = fast[key][:, :-1], exact[key][:, :-1]
        within_stated_tolerance(a, b, f"{case}: {key}")
        assert (a <= b + 1e-9).all(), "the estimates are lower bounds"
    within_stated_tolerance(fast["log_step_gain"], exact["log_step_gain"], f"{case}: step gain")
    assert max(fast["fast_check"]) <= 1e-3 and fast["step_gain_check"][0] <= 1e-3


# -- the self-check: where it looks, and that it corrects ----------------------------------
def test_checked_lags_are_spread_over_block_positions():
    config, c, traj, r = trajectory(cell="rnn", hidden=8, steps=4000, trials=2)
    seen = []
    original = fastsweep.FastChunk._plan

    def spy(self, rng):
        plan = original(self, rng)
        seen.extend(self.lag0 + i for i in plan)
        return plan

    fastsweep.FastChunk._plan = spy
    try:
        transport(c, traj.states, traj.inputs, r, spectral="fast")
        first = list(seen)
        seen.clear()
        transport(c, traj.states, traj.inputs, r, spectral="fast")
    finally:
        fastsweep.FastChunk._plan = original
    assert seen == first, "a fixed seed: the same lags every run"
    positions = np.array([(lag - fastsweep.PER_LAG) % fastsweep.SUB for lag in first if lag >= fastsweep.PER_LAG])
    assert len(first) >= CHECKS
    assert (positions == fastsweep.SUB - 1).sum() >= 4  # block ends
    assert len(set(positions.tolist())) >= 6  # and offsets all over the block


def test_a_failed_lag_check_redoes_the_chunk_more_accurately(monkeypatch):
    # level 0 told to accept anything: the checks must catch the shortfall and redo
    monkeypatch.setattr(lagfast, "FLAG_TOL", (np.inf, 1e-5))
    monkeypatch.setattr(lagfast, "POWER_ITER", 0)
    config, c, traj, r = DEGENERATE["orthogonal, gain 1, input std 0.02"]()
    exact = transport(c, traj.states, traj.inputs, r, spectral="exact")
    fast = transport(c, traj.states, traj.inputs, r, spectral="fast")
    stats = dict(zip(FAST_STATS, fast["fast_stats"]))
    assert stats["redone"] >= 1 and stats["level"] >= 1
    for key in ("log_spectral", "log_input_sensitivity"):
        within_stated_tolerance(fast[key][:, :-1], exact[key][:, :-1], key)


def test_a_failed_step_check_redoes_the_chunk(monkeypatch):
    # an estimator 1% low everywhere: the checks catch it and the chunks are redone (in
    # the end by SVD, since the tighter pass is 1% low too)
    lanczos_gains = stepgain._lanczos_gains
    monkeypatch.setattr(stepgain, "_lanczos_gains", lambda *a, **k: 0.99 * lanczos_gains(*a, **k))
    config, c, traj, r = trajectory(cell="lstm", hidden=16, steps=600, trials=2)
    out = transport(c, traj.states, traj.inputs, r, spectral="fast", quantities=("step_gain",))
    truth = transport(c, traj.states, traj.inputs, r, spectral="exact", quantities=("step_gain",))
    assert dict(zip(FAST_STATS, out["fast_stats"]))["step_redone"] >= 1
    within_stated_tolerance(out["log_step_gain"], truth["log_step_gain"], "step gain")


# -- exact mode: unchanged to the last bit ------------------------------------------------
REFERENCE = Path(__file__).parent / "data" / "exact_reference.npz"


def _platform() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "") if Path("/proc/cpuinfo").exists() else ""
    return f"{cpu} | torch {torch.__version__}"


def test_exact_mode_is_unchanged_to_the_last_bit():
    # exact_reference.npz holds what engine 3 (before the fast-mode rewrite) returned, made
    # by tests/data/make_exact_reference.py; bit for bit on the platform that made it
    # (BLAS kernels differ between CPUs), to 1e-12 elsewhere
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_ref", REFERENCE.with_name("make_exact_reference.py"))
    make_ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_ref)
    ref = np.load(REFERENCE)
    same_platform = str(ref["platform"]) == _platform()
    threads = torch.get_num_threads()
    try:
        for name, kw, quantities in make_ref.cases():
            out = make_ref.compute(kw, quantities)
            for key in (k for k in out if k.startswith("log_")):
                want = ref[f"{name}/{key}"]
                if same_platform:
                    assert np.array_equal(out[key], want, equal_nan=True), f"{name} {key}"
                else:
                    np.testing.assert_allclose(out[key], want, rtol=1e-12, atol=1e-12, err_msg=f"{name} {key}")
    finally:
        torch.set_num_threads(threads)
