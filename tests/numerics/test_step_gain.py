"""Per-step gains `||J_t||_2` (`numerics.transport.step_gain`: Lanczos in fast mode)
against exact SVDs for every cell, activation and init, and the check that redoes a
chunk whose estimates fall short."""

import itertools

import pytest
import torch
from helpers import trajectory, within_stated_tolerance

from gradscope.numerics.transport import FAST_STATS, transport
from gradscope.numerics.transport import step_gain as stepgain

CELLS, ACTS, INITS = ("rnn", "lstm", "gru"), ("tanh", "sigmoid", "relu"), ("default", "orthogonal", "normal")


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
