"""The research cells (IndRNN, MinimalRNN, antisymmetric, coRNN): their steps against the
papers' formulas written out plainly, weight gradients against autograd (float64), and
the fast tangent maps against the Jacobians. (Analytic Jacobians against
`torch.func.jacrev` for every activation: test_cells.py; their exact spectra:
tests/numerics/test_spectrum.py; every command on each: tests/cli/test_main.py.)"""

from __future__ import annotations

import pytest
import torch
from helpers import (
    jacrev_step,
    one_thread,  # noqa: F401  (a fixture)
)

from gradscope.config import CELL_SPECS, Config, cell_spec
from gradscope.model.draws import trial_streams
from gradscope.model.initialization import build

F64 = torch.float64
CELLS = [name for name, spec in CELL_SPECS.items() if spec.family == "research"]
pytestmark = pytest.mark.usefixtures("one_thread")


def make(cell, act="tanh", hidden=5, input_size=3, trials=2, **kw):
    config = Config(cell=cell, act=act, hidden=hidden, input_size=input_size, trials=trials, steps=2,
                    bias_std=0.5, **kw).resolved()
    c = build(config, trial_streams(config.seed, trials))[0]
    s = torch.randn(trials, config.state_dim, dtype=F64)
    x = torch.randn(trials, input_size, dtype=F64)
    return config, c, s, x


def reference_step(config, p, s, x):
    """One trial's step as the paper writes it (plain matrix-vector products)."""
    phi = {"tanh": torch.tanh, "identity": lambda v: v}[config.act]
    if config.cell == "indrnn":
        return phi(p["weight_ih"] @ x + p["bias_ih"] + p["weight_hh"] * s)
    if config.cell == "minimalrnn":
        e = phi(p["weight_ih"] @ x)
        u = torch.sigmoid(p["weight_hh"] @ s + p["weight_eh"] @ e + p["bias_ih"])
        return u * s + (1 - u) * e
    if config.cell == "antisymmetric":
        w = p["weight_hh"]
        a = (w - w.T - config.diffusion * torch.eye(len(s), dtype=F64)) @ s + p["weight_ih"] @ x + p["bias_ih"]
        return s + config.step_size * phi(a)
    n, dt = config.hidden, config.step_size
    y, z = s[:n], s[n:]
    a = p["weight_hh"] @ y + p["weight_zh"] @ z + p["weight_ih"] @ x + p["bias_ih"]
    z2 = z + dt * (phi(a) - config.stiffness * y - config.damping * z)
    return torch.cat([y + dt * z2, z2])


@pytest.mark.parametrize("cell", CELLS)
def test_step_follows_the_paper_and_parameters_are_counted(cell):
    config, c, s, x = make(cell)
    out = c.step(s, x)
    for b in range(2):
        p = {k: v[b] for k, v in c.parameters().items()}
        assert torch.allclose(out[b], reference_step(config, p, s[b], x[b]), atol=1e-13, rtol=0)
    per_net = sum(v[0].numel() for v in c.parameters().values())
    assert per_net == cell_spec(cell).params(5, 3)
    assert set(c.parameters()) >= {"weight_ih", "weight_hh", "bias_ih"}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("gate_act", ["sigmoid", "hardtanh"])
def test_fast_tangent_maps_equal_the_jacobian(cell, gate_act):
    config, c, s, x = make(cell, gate_act=gate_act)
    s, x = torch.randn(3, *s.shape, dtype=F64), torch.randn(3, *x.shape, dtype=F64)  # a chunk of 3 steps
    lin = c.linearize(s, x)
    jac = c.jacobian(lin)
    v = torch.randn(3, 2, config.state_dim, 4, dtype=F64)
    assert torch.allclose(c.matmul(lin, v), jac @ v, atol=1e-12)
    assert torch.allclose(c.log_abs_det(lin), torch.linalg.slogdet(jac)[1], atol=1e-10)


@pytest.mark.parametrize("gate_act", ["tanh", "hardtanh", "softsign"])
def test_minimalrnn_jacobians_with_other_gates_equal_autograd(gate_act):

    _, c, s, x = make("minimalrnn", gate_act=gate_act)
    s = s * 0.7 + 0.05  # away from the kinks with probability 1
    lin = c.linearize(s, x)
    assert torch.allclose(c.jacobian(lin), jacrev_step(c, s, x, "s"), atol=1e-10, rtol=0)
    assert torch.allclose(c.input_jacobian(lin), jacrev_step(c, s, x, "x"), atol=1e-10, rtol=0)


def _grad(c, s, x, g, name):
    """The gradient of `g . step(s, x)` with respect to parameter `name` by autograd
    (`effective`: the antisymmetric cell's A; `weight_hh` there: W, with A rebuilt from it)."""
    if name == "effective":
        w = c.effective = c.effective.clone().requires_grad_(True)
    else:
        w = c.p[name] = c.p[name].clone().requires_grad_(True)
        if c.kind == "antisymmetric":
            c.effective = w - w.transpose(1, 2) - c.diffusion * torch.eye(c.hidden, dtype=F64)
    (c.step(s, x) * g).sum().backward()
    return w.grad


@pytest.mark.parametrize("cell", CELLS)
def test_weight_gradient_rows_are_the_documented_w_hh_gradient(cell):
    config, c, s, x = make(cell)
    g = torch.randn(2, config.state_dim, dtype=F64)
    delta = c.weight_grad_rows(c.linearize(s, x), g)
    h = c.hidden_part(s)
    outer = delta.unsqueeze(-1) * h.unsqueeze(-2)  # delta h^T
    if cell == "indrnn":  # W_hh = diag(u) as a dense matrix: u's gradient is its diagonal
        assert torch.allclose(_grad(c, s, x, g, "weight_hh"), torch.diagonal(outer, dim1=-2, dim2=-1))
        m = torch.diag_embed(c.p["weight_hh"].detach()).requires_grad_(True)  # the dense view
        a = (c.p["weight_ih"] @ x.unsqueeze(-1) + m @ s.unsqueeze(-1)).squeeze(-1) + c.p["bias_ih"]
        (torch.tanh(a) * g).sum().backward()
        assert torch.allclose(m.grad, outer, atol=1e-12)
    elif cell == "antisymmetric":  # W_hh = A = W - W^T - gamma I; W's gradient is A's, antisymmetrised
        assert torch.allclose(_grad(c, s, x, g, "effective"), outer, atol=1e-12)
        _, c, _, _ = make(cell)
        assert torch.allclose(_grad(c, s, x, g, "weight_hh"), outer - outer.transpose(1, 2), atol=1e-12)
    else:
        assert torch.allclose(_grad(c, s, x, g, "weight_hh"), outer, atol=1e-12)
