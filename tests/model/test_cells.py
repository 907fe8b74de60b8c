"""The built-in cells against PyTorch's own modules and autograd (float64): steps equal
`nn.RNNCell/LSTMCell/GRUCell`, analytic Jacobians equal `torch.func.jacrev` for every
cell and activation, batched over leading axes, and weight-gradient rows equal autograd.
(The research cells' steps against their papers: test_research_cells.py.)"""

import pytest
import torch
from helpers import jacrev_step, make_cell

from gradscope.config import cell_spec
from gradscope.model.activations import ACTIVATIONS
from gradscope.model.cells import CELL_CLASSES

torch.manual_seed(0)


def random_state(config, trials=2):
    s = torch.randn(trials, config.state_dim, dtype=torch.float64)
    if config.cell == "slstm":  # a normaliser n > 0, as every state the cell reaches (m of either sign: both branches)
        n = config.hidden
        s[:, 2 * n : 3 * n] = s[:, 2 * n : 3 * n].abs() + 0.5
    return s


@pytest.mark.parametrize(
    "cell,act",
    [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")],
)
def test_step_equals_torch_module(cell, act):
    config, c, _, _ = make_cell(cell, act)
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


# every activation as the cell's act, and a few as the gates' activation
COMBOS = [(cell, act, "sigmoid") for cell in CELL_CLASSES
          for act in (ACTIVATIONS if cell_spec(cell).act else ("tanh",))] + [
    (cell, "tanh", gate) for cell in ("lstm", "gru") for gate in ("hardtanh", "softsign", "tanh")
]


@pytest.mark.parametrize("cell,act,gate_act", COMBOS)
def test_analytic_jacobians_equal_autograd(cell, act, gate_act):
    config, c, _, _ = make_cell(cell, act, gate_act)
    s = random_state(config) * 0.7 + 0.05  # away from the kinks at 0 and +-1 with probability 1
    x = torch.randn(2, 3, dtype=torch.float64)
    lin = c.linearize(s, x)
    assert torch.allclose(c.jacobian(lin), jacrev_step(c, s, x, "s"), atol=1e-10, rtol=0)
    assert torch.allclose(c.input_jacobian(lin), jacrev_step(c, s, x, "x"), atol=1e-10, rtol=0)


@pytest.mark.parametrize("cell", list(CELL_CLASSES))
def test_jacobians_batched_over_leading_axes(cell):
    config, c, _, _ = make_cell(cell, "tanh")
    s = torch.randn(4, 2, config.state_dim, dtype=torch.float64)
    x = torch.randn(4, 2, 3, dtype=torch.float64)
    big = c.jacobian(c.linearize(s, x))
    for t in range(4):
        assert torch.allclose(big[t], c.jacobian(c.linearize(s[t], x[t])), atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])  # research cells: test_research_cells.py
def test_weight_gradient_rows_equal_autograd(cell):
    config, c, _, _ = make_cell(cell, "tanh")
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
