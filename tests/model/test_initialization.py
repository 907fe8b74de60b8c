"""Initialisation and the draws: each init's variance convention (and IndRNN's on its
vector u), biases and the forget bias, the same numbers in float32 and float64, trials
independent of each other and of the window."""

from __future__ import annotations

import pytest
import torch
from helpers import (
    make_cell,
    one_thread,  # noqa: F401  (a fixture)
)

from gradscope.config import Config
from gradscope.model.draws import trial_streams
from gradscope.model.initialization import build

F64 = torch.float64


def test_initialisations_follow_the_conventions():
    n = 400
    for init, gain, var in [("default", 2.0, 4.0 / (3 * n)), ("normal", 1.5, 2.25 / n), ("xavier", 1.0, 1.0 / n)]:
        config, c, _, _ = make_cell("rnn", hidden=n, input_size=3, trials=1, init=init, gain=gain)
        w = c.w.weight_hh[0]
        assert abs(w.var().item() / var - 1) < 0.02
    config, c, _, _ = make_cell("rnn", hidden=6, init="orthogonal", gain=0.5)
    w = c.w.weight_hh[0]
    assert torch.allclose(w @ w.T, 0.25 * torch.eye(6, dtype=torch.float64), atol=1e-12)
    config, c, _, _ = make_cell("gru", hidden=6, init="identity", gain=0.9)
    blocks = c.recurrent_blocks()[0]
    assert torch.allclose(blocks, 0.9 * torch.eye(6, dtype=torch.float64).expand(3, 6, 6))


def test_biases_and_forget_bias():
    cfg = Config(cell="lstm", hidden=4, trials=1, forget_bias=1.0, init="orthogonal")
    c, _, _ = build(cfg.resolved(), trial_streams(0, 1))
    b = c.w.bias_ih[0]
    assert torch.equal(b[4:8], torch.ones(4, dtype=torch.float64))
    assert torch.count_nonzero(b[:4]) == 0 and torch.count_nonzero(c.w.bias_hh) == 0


def test_float32_and_float64_draw_the_same_numbers():
    a = build(Config(dtype="float64", trials=2).resolved(), trial_streams(3, 2))
    b = build(Config(dtype="float32", trials=2).resolved(), trial_streams(3, 2))
    assert b[0].w.weight_hh.dtype == torch.float32
    assert torch.allclose(a[0].w.weight_hh.float(), b[0].w.weight_hh)
    assert torch.allclose(a[1].float(), b[1])


def test_trials_are_independent_and_steps_do_not_change_weights():
    a = build(Config(steps=10).resolved(), trial_streams(0, 3))[0].w.weight_hh
    b = build(Config(steps=99).resolved(), trial_streams(0, 3))[0].w.weight_hh
    assert torch.equal(a, b)
    assert not torch.equal(a[0], a[1])


@pytest.mark.usefixtures("one_thread")
def test_indrnn_init_acts_on_the_vector_u():
    c = build(Config(cell="indrnn", hidden=2000, trials=1, gain=0.8).resolved(), trial_streams(0, 1))[0]
    u = c.p["weight_hh"][0]
    assert u.shape == (2000,) and u.abs().max() <= 0.8 and abs(u.var().item() - 0.64 / 3) < 0.01
    c = build(Config(cell="indrnn", hidden=6, trials=1, init="orthogonal", gain=0.5).resolved(), trial_streams(0, 1))[0]
    assert torch.equal(c.p["weight_hh"].abs(), torch.full((1, 6), 0.5, dtype=F64))
    with pytest.raises(ValueError, match="does not apply to indrnn"):
        Config(cell="indrnn", init="xavier")
