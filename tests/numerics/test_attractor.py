"""What the state settled on, on systems where it is known: a contracting tanh network
(g = 0.5, zero input) reaches a fixed point; an orthogonal linear map with gain 1 is
quasi-periodic (every exponent 0, no repetition); the linear map W = -I has period 2; a
tanh network at g = 3 is chaotic; a network driven by noise with a negative top exponent
contracts; a state that overflows diverged. And the sentences say it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradscope import Config, analyze, spectrum
from gradscope.model.cells import RNNCell
from gradscope.model.inputs import ReplayDrive
from gradscope.numerics.attractor import classify, recurrence, summarize_kinds
from gradscope.numerics.unroll import unroll
from gradscope.text.decay_table import plain_sentence
from gradscope.text.spectrum_table import spectrum_sentence

AUTONOMOUS = dict(cell="rnn", init="normal", bias_std=0.0, input="zeros", trials=2)


def test_a_contracting_tanh_network_reaches_a_fixed_point():
    r = analyze(Config(act="tanh", gain=0.5, hidden=32, steps=400, **AUTONOMOUS))
    assert r.summary["attractor"] == "fixed point" and r.summary["attractor_trials"] == {"fixed point": 2}
    assert "fixed point" in plain_sentence(r)


def test_an_orthogonal_linear_map_is_quasi_periodic():
    r = analyze(Config(cell="rnn", act="identity", init="orthogonal", gain=1.0, bias_std=0.0, input="zeros",
                       hidden=16, steps=400, trials=2))
    assert abs(r.summary["growth_rate"]) < 1e-12
    assert r.summary["attractor"] == "quasi-periodic" and r.summary["attractor_period"] is None
    assert "quasi-periodic" in plain_sentence(r) and "edge of chaos" not in plain_sentence(r)


def test_the_map_w_minus_identity_has_period_two():
    n, b = 6, 2
    eye = torch.eye(n, dtype=torch.float64).expand(b, n, n)
    cell = RNNCell(torch.zeros(b, n, 3, dtype=torch.float64), -eye.clone(), torch.zeros(b, n, dtype=torch.float64),
                   torch.zeros(b, n, dtype=torch.float64), act="identity")
    drive = ReplayDrive(np.zeros((300, b, 3)))
    traj = unroll(cell, torch.randn(b, n, dtype=torch.float64), drive, 50, 200)
    tail = traj.states[-67:]
    kinds = [classify(tail[:, i].numpy(), True, (0.0, 0.0)) for i in range(b)]
    assert kinds == [("periodic", 2)] * b
    assert summarize_kinds(kinds) == {"attractor": "periodic", "attractor_period": 2,
                                      "attractor_trials": {"periodic 2": 2}}


def test_a_tanh_network_at_gain_3_is_chaotic():
    r = spectrum(Config(act="tanh", gain=3.0, hidden=64, steps=600, exponents=2, **AUTONOMOUS))
    assert r.summary["lambda_1"] > 0.1 and r.summary["attractor"] == "chaotic"
    assert "chaotic attractor" in spectrum_sentence(r)
    d = analyze(Config(act="tanh", gain=3.0, hidden=64, steps=600, **AUTONOMOUS))  # from the growth rate
    assert d.summary["attractor"] == "chaotic" and "chaotic" in plain_sentence(d)


def test_the_issue_network_just_past_the_edge_is_quasi_periodic_not_chaos():
    kw = dict(cell="rnn", act="tanh", init="normal", bias_std=0.0, input="zeros", gain=1.25, hidden=128,
              steps=3000, transient=300, trials=1, exponents=4)
    quasi, chaos = spectrum(Config(seed=0, **kw)), spectrum(Config(seed=1, **kw))
    assert abs(quasi.summary["lambda_1"]) < 2 * quasi.summary["lambda_1_se"]
    assert quasi.summary["attractor"] == "quasi-periodic"
    assert "quasi-periodic orbit, not chaos" in spectrum_sentence(quasi)
    assert "edge of chaos" not in spectrum_sentence(quasi)
    assert chaos.summary["lambda_1"] > 2 * chaos.summary["lambda_1_se"] and chaos.summary["attractor"] == "chaotic"


def test_driven_networks_contract_are_marginal_or_chaotic_and_an_overflow_diverged():
    driven_rotation = analyze(Config(cell="rnn", act="identity", init="orthogonal", gain=1.0, bias_std=0.0,
                                     hidden=16, steps=300, trials=2))
    assert driven_rotation.summary["attractor"] == "marginal"
    assert analyze(Config(cell="lstm", steps=300, trials=2)).summary["attractor"] == "contracting"
    assert analyze(Config(cell="rnn", init="normal", gain=3.0, steps=300, trials=2)).summary["attractor"] == "chaotic"
    blown = analyze(Config(cell="rnn", act="relu", init="normal", gain=6.0, steps=300, trials=2))
    assert blown.status == "nonfinite" and blown.summary["attractor"] == "diverged"


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-9), ("float32", 1e-4)])
def test_recurrence_needs_two_steps_back_within_the_dtype_tolerance(dtype, tol):
    orbit = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]] * 10)
    assert recurrence(orbit, dtype) == 3
    drift = np.cumsum(np.full((40, 2), 10 * tol), axis=0)  # a slow drift is no cycle
    assert recurrence(drift, dtype) is None
    still = np.ones((10, 3))
    assert recurrence(still, dtype) == 1
