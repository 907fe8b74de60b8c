"""Cells against PyTorch's own modules and autograd (float64)."""

import pytest
import torch

from gradscope.config import Config, cell_spec
from gradscope.model.activations import ACTIVATIONS
from gradscope.model.cells import CELL_CLASSES
from gradscope.model.draws import trial_streams
from gradscope.model.initialization import build

torch.manual_seed(0)


def make(cell, act="tanh", gate_act="sigmoid", hidden=5, input_size=3, trials=2, **kw):
    config = Config(cell=cell, act=act, gate_act=gate_act, hidden=hidden, input_size=input_size,
                    trials=trials, steps=2, bias_std=0.5, **kw)
    return config, *build(config.resolved(), trial_streams(config.seed, trials))


def random_state(config, trials=2):
    return torch.randn(trials, config.state_dim, dtype=torch.float64)


@pytest.mark.parametrize(
    "cell,act",
    [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")],
)
def test_step_equals_torch_module(cell, act):
    config, c, _, _ = make(cell, act)
    s = random_state(config)
    x = torch.randn(2, 3, dtype=torch.float64)
    ours = c.step(s, x)
    for b in range(2):
        if cell == "rnn":
            mod = torch.nn.RNNCell(3, 5, nonlinearity=act)
        else:
            mod = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[cell](3, 5)
        mod = mod.double()
        with torch.no_grad():
            for name, p in c.parameters().items():
                getattr(mod, name).copy_(p[b])
            if cell == "lstm":
                h, cc = mod(x[b : b + 1], (s[b : b + 1, :5], s[b : b + 1, 5:]))
                ref = torch.cat([h, cc], dim=-1)[0]
            else:
                ref = mod(x[b : b + 1], s[b : b + 1])[0]
        assert torch.allclose(ours[b], ref, atol=1e-12, rtol=0), (ours[b] - ref).abs().max()
        assert sum(p.numel() for p in mod.parameters()) == cell_spec(cell).params(5, 3)


def _jacrev(c, s, x, wrt):
    def f(sb, xb, b):
        # one trial's step as a function of its own state / input
        ss = torch.cat([s[:b], sb[None], s[b + 1 :]])
        xx = torch.cat([x[:b], xb[None], x[b + 1 :]])
        return c.step(ss, xx)[b]

    argnum = 0 if wrt == "s" else 1
    return torch.stack(
        [torch.func.jacrev(f, argnums=argnum)(s[b], x[b], b) for b in range(s.shape[0])]
    )


# every activation as the cell's act, and a few as the gates' activation
COMBOS = [(cell, act, "sigmoid") for cell in CELL_CLASSES for act in ACTIVATIONS] + [
    (cell, "tanh", gate) for cell in ("lstm", "gru") for gate in ("hardtanh", "softsign", "tanh")
]


@pytest.mark.parametrize("cell,act,gate_act", COMBOS)
def test_analytic_jacobians_equal_autograd(cell, act, gate_act):
    config, c, _, _ = make(cell, act, gate_act)
    s = random_state(config) * 0.7 + 0.05  # away from the kinks at 0 and +-1 with probability 1
    x = torch.randn(2, 3, dtype=torch.float64)
    lin = c.linearize(s, x)
    assert torch.allclose(c.jacobian(lin), _jacrev(c, s, x, "s"), atol=1e-10, rtol=0)
    assert torch.allclose(c.input_jacobian(lin), _jacrev(c, s, x, "x"), atol=1e-10, rtol=0)


@pytest.mark.parametrize("cell", list(CELL_CLASSES))
def test_jacobians_batched_over_leading_axes(cell):
    config, c, _, _ = make(cell, "tanh")
    s = torch.randn(4, 2, config.state_dim, dtype=torch.float64)
    x = torch.randn(4, 2, 3, dtype=torch.float64)
    big = c.jacobian(c.linearize(s, x))
    for t in range(4):
        assert torch.allclose(big[t], c.jacobian(c.linearize(s[t], x[t])), atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])  # research cells: test_research_cells.py
def test_weight_gradient_rows_equal_autograd(cell):
    config, c, _, _ = make(cell, "tanh")
    s = random_state(config)
    x = torch.randn(2, 3, dtype=torch.float64)
    g = torch.randn(2, config.state_dim, dtype=torch.float64)
    w = c.w.weight_hh.clone().requires_grad_(True)
    c.w.weight_hh = w
    (c.step(s, x) * g).sum().backward()
    delta = c.weight_grad_rows(c.linearize(s.detach(), x), g)
    h = c.hidden_part(s)
    expected = delta.unsqueeze(-1) * h.unsqueeze(-2)  # outer product per trial
    assert torch.allclose(w.grad, expected.detach(), atol=1e-12)


def test_initialisations_follow_the_conventions():
    n = 400
    for init, gain, var in [("default", 2.0, 4.0 / (3 * n)), ("normal", 1.5, 2.25 / n), ("xavier", 1.0, 1.0 / n)]:
        config, c, _, _ = make("rnn", hidden=n, input_size=3, trials=1, init=init, gain=gain)
        w = c.w.weight_hh[0]
        assert abs(w.var().item() / var - 1) < 0.02
    config, c, _, _ = make("rnn", hidden=6, init="orthogonal", gain=0.5)
    w = c.w.weight_hh[0]
    assert torch.allclose(w @ w.T, 0.25 * torch.eye(6, dtype=torch.float64), atol=1e-12)
    config, c, _, _ = make("gru", hidden=6, init="identity", gain=0.9)
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


@pytest.mark.parametrize("act", ["relu", "hardtanh", "leaky_relu", "elu"])
def test_kink_derivatives_match_autograd_convention(act):
    from gradscope.model.activations import get_activation

    a = get_activation(act)
    x = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
    a.phi(x).sum().backward()
    assert torch.equal(a.dphi(x.detach()), x.grad)
