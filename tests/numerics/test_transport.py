"""Log-space transport (`numerics.transport`) against explicit products and exact
oracles, in both modes, and `--spectral exact` unchanged to the last bit. (Fast mode's
self-check: test_fast.py; per-step gains: test_step_gain.py.)"""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import explicit_products, trajectory

from gradscope.numerics.transport import transport

CELLS = ["rnn", "lstm", "gru"]


def rel(a, b):
    return np.abs(np.expm1(a - b))


@pytest.mark.parametrize("cell", CELLS)
def test_exact_mode_equals_svd_of_explicit_product(cell):
    config, c, traj, r = trajectory(cell=cell, hidden=6, input_size=4, steps=60, trials=3)
    out = transport(c, traj.states, traj.inputs, r, spectral="exact")
    products, jac = explicit_products(c, traj)
    d = config.state_dim
    bj = c.input_jacobian(c.linearize(traj.states[:-1], traj.inputs))
    r_full = torch.zeros(3, d, dtype=torch.float64)
    r_full[:, : config.hidden] = r
    for k, p in enumerate(products):
        sv = torch.linalg.svdvals(p)[:, 0].log().numpy()
        assert rel(out["log_spectral"][:, k], sv).max() < 1e-9
        rms = (torch.linalg.matrix_norm(p) / math.sqrt(d)).log().numpy()
        assert rel(out["log_rms"][:, k], rms).max() < 1e-9
        g = torch.einsum("bi,bij->bj", r_full, p)
        assert rel(out["log_loss_grad"][:, k], g.norm(dim=1).log().numpy()).max() < 1e-9
        if k < config.steps:
            t = config.steps - k  # the input x_t drives step t
            sens = torch.linalg.svdvals(p @ bj[t - 1])[:, 0].log().numpy()
            assert rel(out["log_input_sensitivity"][:, k], sens).max() < 1e-9
    step = torch.linalg.svdvals(jac)[..., 0].log().numpy().T
    assert rel(out["log_step_gain"], step).max() < 1e-9
    assert np.isnan(out["log_input_sensitivity"][:, -1]).all()


@pytest.mark.parametrize("cell", CELLS)
def test_fast_mode_within_stated_tolerance(cell):
    # at most 1% of lags off by more than 1e-3 relative, none by more than 1e-2
    config, c, traj, r = trajectory(cell=cell, hidden=24, steps=3000, trials=2)
    exact = transport(c, traj.states, traj.inputs, r, spectral="exact")
    fast = transport(c, traj.states, traj.inputs, r, spectral="fast")
    for key in ("log_spectral", "log_input_sensitivity"):
        a, b = exact[key][:, :-1], fast[key][:, :-1]
        err = rel(b, a)
        assert err.max() < 1e-2, key
        assert np.mean(err > 1e-3) <= 0.01, key
        assert (b <= a + 1e-9).all(), "power iteration gives lower bounds"
    for key in ("log_rms", "log_loss_grad", "log_weight_grad", "log_step_rms"):
        # exact in both modes; fast mode rescales per block of lags, so rounding differs
        np.testing.assert_allclose(exact[key], fast[key], rtol=1e-12, atol=1e-9)
    # per-step gains: Lanczos in fast mode, the same tolerance
    err = rel(fast["log_step_gain"], exact["log_step_gain"])
    assert err.max() < 1e-2 and np.mean(err > 1e-3) <= 0.01


def test_weight_gradient_equals_autograd_bptt():
    # dL/dW_hh split per step: autograd of L = r . h_T with a separate copy of W per step
    config, c, traj, r = trajectory(cell="gru", hidden=5, input_size=3, steps=12, trials=2)
    out = transport(c, traj.states, traj.inputs, r, spectral="exact")
    base = c.w.weight_hh
    copies = [base.clone().requires_grad_(True) for _ in range(config.steps)]
    s = traj.states[0]
    for t in range(config.steps):
        c.w.weight_hh = copies[t]
        s = c.step(s, traj.inputs[t])
    c.w.weight_hh = base
    (s[:, :5] * r).sum().backward()
    for k in range(config.steps):
        grad = copies[config.steps - 1 - k].grad
        assert rel(out["log_weight_grad"][:, k], grad.flatten(1).norm(dim=1).log().numpy()).max() < 1e-10


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-9), ("float32", 1e-4)])
@pytest.mark.parametrize("gain", [1.0, 0.97])
def test_orthogonal_linear_oracle(dtype, tol, gain):
    # identity activation, orthogonal W: J = gW, every singular value of P is g^k
    steps = 10_000
    config, c, traj, r = trajectory(cell="rnn", act="identity", init="orthogonal", gain=gain,
                                    hidden=16, steps=steps, trials=2, dtype=dtype, transient=0)
    out = transport(c, traj.states, traj.inputs, r, spectral="fast")
    k = np.arange(steps + 1)
    expected = k * math.log(gain)
    allowed = tol * np.maximum(k / 1000, 1)  # float32: 1e-4 per 1,000 steps
    for key in ("log_spectral", "log_rms", "log_loss_grad"):
        assert (np.abs(out[key] - expected) <= allowed).all(), key
    w_ih = torch.linalg.svdvals(c.w.weight_ih.double())[:, 0].log().numpy()
    sens = out["log_input_sensitivity"][:, :-1] - w_ih[:, None]
    assert (np.abs(sens - expected[:-1]) <= allowed[:-1]).all()
    assert (np.abs(out["log_step_gain"] - math.log(gain)) <= tol).all()


def test_sigmoid_step_gains_obey_the_bound():
    config, c, traj, r = trajectory(cell="rnn", act="sigmoid", hidden=32, steps=400, trials=4,
                                    gain=3.0, init="normal")
    out = transport(c, traj.states, traj.inputs, r, spectral="exact")
    smax = torch.linalg.svdvals(c.w.weight_hh)[:, 0].numpy()
    assert (out["log_step_gain"] <= np.log(smax / 4)[:, None] + 1e-12).all()
    # and the bound is not vacuous: the largest step gain comes within a factor 2
    assert (out["log_step_gain"].max(axis=1) > np.log(smax / 8)).all()


def test_float32_agrees_with_float64_when_contracting():
    kw = dict(cell="rnn", act="tanh", hidden=32, steps=10_000, trials=2, gain=1.0)
    _, c64, t64, r64 = trajectory(dtype="float64", **kw)
    _, c32, t32, r32 = trajectory(dtype="float32", **kw)
    from gradscope.numerics.spectrum import lyapunov_spectrum

    lam = lyapunov_spectrum(c64, t64.states[:2001], t64.inputs[:2000], 1)["lyapunov_spectrum"]
    assert (lam < -0.05).all()
    a = transport(c64, t64.states, t64.inputs, r64)["log_spectral"]
    b = transport(c32, t32.states, t32.inputs, r32)["log_spectral"]
    assert np.isfinite(b).all() and b[:, -1].max() < -1000
    assert np.abs(a - b).max() < 1e-4


def test_zero_gain_is_minus_infinity_not_nan():
    # relu with zero input and negative bias: every unit dies, the product is exactly 0
    config, c, traj, r = trajectory(cell="rnn", act="relu", hidden=8, steps=50, trials=2,
                                    input="zeros", init="identity", gain=0.5, bias_std=0.0)
    c.w.bias_ih.fill_(-1.0)
    from gradscope.model.inputs import InputDrive
    from gradscope.numerics.unroll import unroll  # rerun with the dead bias

    traj = unroll(c, traj.states[0].abs() + 1, InputDrive(config, []), 0, 50)
    out = transport(c, traj.states, traj.inputs, r)
    assert out["log_spectral"][:, 0].tolist() == [0.0, 0.0]
    assert (out["log_spectral"][:, 5:] == -np.inf).all()
    assert (out["log_rms"][:, 5:] == -np.inf).all()
    assert not np.isnan(out["log_spectral"]).any()


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hundred_thousand_steps_neither_underflow_nor_overflow(dtype):
    # a sigmoid RNN shrinks gradients ~e^-2 a step; a chaotic tanh RNN (N=32, gain 3) grows them ~e^0.2
    for act, init, gain, sign in (("sigmoid", "default", 1.0, -1), ("tanh", "normal", 3.0, 1)):
        config, c, traj, r = trajectory(cell="rnn", act=act, hidden=32, steps=100_000, trials=1,
                                        gain=gain, init=init, dtype=dtype, transient=0)
        assert traj.steps == 100_000  # the state itself stays bounded
        out = transport(c, traj.states, traj.inputs, r, quantities=("spectral", "rms", "loss_grad"))
        for key in ("log_spectral", "log_rms", "log_loss_grad"):
            curve = out[key][0]
            assert np.isfinite(curve).all(), key
            assert sign * curve[-1] > 5000, key  # thousands of decades beyond float range


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("init,gain", [("default", 1.0), ("normal", 0.2)])
def test_blocks_of_lags_and_their_fallback_match_exact(dtype, init, gain):
    # sigmoid: ~e^-2 a step (16-lag blocks span e^-32: taken as blocks in float32);
    # with gain 0.2, ~e^-6 a step (blocks would leave float32's safe range: redone lag by lag)
    config, c, traj, r = trajectory(cell="rnn", act="sigmoid", init=init, gain=gain, hidden=12,
                                    steps=700, trials=2, dtype=dtype)
    exact = transport(c, traj.states, traj.inputs, r, spectral="exact")
    fast = transport(c, traj.states, traj.inputs, r, spectral="fast")
    for key in ("log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity"):
        a, b = exact[key][:, :-1], fast[key][:, :-1]
        assert np.isfinite(b).all(), key
        assert (np.abs(a - b) <= 1e-5 * np.abs(a) + 1e-3).all(), key
    assert exact["log_spectral"][:, -1].max() < -1000


@pytest.mark.parametrize("dtype,gain", [("float32", 1e-20), ("float64", 1e-160)])
def test_tiny_step_gains_are_not_read_as_zero(dtype, gain):
    # every step shrinks a gradient by `gain`: the product's entries square to below the
    # dtype's range (a plain norm reads 0), yet the gain is not zero
    config, c, traj, r = trajectory(cell="rnn", act="identity", init="orthogonal", gain=gain,
                                    hidden=6, steps=40, trials=1, dtype=dtype, transient=0,
                                    input="zeros")
    assert traj.steps == 40
    for mode in ("exact", "fast"):
        out = transport(c, traj.states, traj.inputs, r, spectral=mode)
        k = np.arange(41)
        for key in ("log_spectral", "log_rms", "log_loss_grad"):
            np.testing.assert_allclose(out[key][0], k * math.log(gain), rtol=1e-5, atol=1e-4, err_msg=key)
        np.testing.assert_allclose(out["log_step_rms"][0], math.log(gain), rtol=1e-5)


# -- exact mode: unchanged to the last bit -------------------------------------------


REFERENCE = Path(__file__).resolve().parents[1] / "data" / "exact_reference.npz"


#: Exact mode against the stored reference, on any CPU: the same code path on another
#: CPU's kernels (or another MKL code path) rounds differently. Measured here against the
#: reference with MKL_CBWR=AVX2, MKL_CBWR=COMPATIBLE and ATEN_CPU_CAPABILITY=default:
#: float64 6.7e-16, float32 6.5e-7 (relative to max(1, |log|)); an Intel Xeon (AVX-512)
#: gave 2.9e-7 in float32. The bounds keep a 1,000x and a 30x margin.
ACROSS_CPUS = {"float64": 1e-12, "float32": 2e-5}


def _reference_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_ref", REFERENCE.with_name("make_exact_reference.py"))
    make_ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_ref)
    return make_ref


def test_exact_mode_is_unchanged_on_any_cpu():
    # exact_reference.npz holds what engine 3 (before the fast-mode rewrite) returned, made
    # by tests/data/make_exact_reference.py; it holds on any CPU to the rounding of its
    # kernels (ACROSS_CPUS), bit for bit only where the same kernels run
    make_ref = _reference_module()
    ref = np.load(REFERENCE)
    threads = torch.get_num_threads()
    try:
        for name, kw, quantities in make_ref.cases():
            out = make_ref.compute(kw, quantities)
            tol = ACROSS_CPUS[kw["dtype"]]
            for key in (k for k in out if k.startswith("log_")):
                want = ref[f"{name}/{key}"]
                assert np.array_equal(np.isfinite(out[key]), np.isfinite(want)), f"{name} {key}"
                ok = np.isfinite(want)
                err = np.abs(out[key][ok] - want[ok]) / np.maximum(1.0, np.abs(want[ok]))
                assert err.max(initial=0.0) <= tol, f"{name} {key}: {err.max():.2e} > {tol:g}"
    finally:
        torch.set_num_threads(threads)


def test_exact_mode_is_bit_for_bit_within_a_process():
    # the same code path run twice on one machine and thread count: the same bits
    make_ref = _reference_module()
    threads = torch.get_num_threads()
    try:
        for name, kw, quantities in list(make_ref.cases())[::3]:
            a, b = make_ref.compute(kw, quantities), make_ref.compute(kw, quantities)
            for key in (k for k in a if k.startswith("log_")):
                assert np.array_equal(a[key], b[key], equal_nan=True), f"{name} {key}"
    finally:
        torch.set_num_threads(threads)

