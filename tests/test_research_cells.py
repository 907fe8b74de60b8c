"""The research cells (IndRNN, MinimalRNN, antisymmetric, coRNN): their steps against the
papers' formulas written out plainly, weight gradients against autograd (float64), the
fast tangent maps against the Jacobians, exact spectra, and every command on each.
(Analytic Jacobians against `torch.func.jacrev` for every activation: test_cells.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from helpers import one_thread  # noqa: F401  (a fixture)

from gradscope.analysis import simulate
from gradscope.cli import main
from gradscope.config import CELL_SPECS, Config, cell_spec
from gradscope.model.cells import CoRNNCell
from gradscope.model.draws import trial_streams
from gradscope.model.initialization import build
from gradscope.numerics.spectrum import lyapunov_spectrum

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
    from test_cells import _jacrev

    _, c, s, x = make("minimalrnn", gate_act=gate_act)
    s = s * 0.7 + 0.05  # away from the kinks with probability 1
    lin = c.linearize(s, x)
    assert torch.allclose(c.jacobian(lin), _jacrev(c, s, x, "s"), atol=1e-10, rtol=0)
    assert torch.allclose(c.input_jacobian(lin), _jacrev(c, s, x, "x"), atol=1e-10, rtol=0)


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

def test_indrnn_init_acts_on_the_vector_u():
    c = build(Config(cell="indrnn", hidden=2000, trials=1, gain=0.8).resolved(), trial_streams(0, 1))[0]
    u = c.p["weight_hh"][0]
    assert u.shape == (2000,) and u.abs().max() <= 0.8 and abs(u.var().item() - 0.64 / 3) < 0.01
    c = build(Config(cell="indrnn", hidden=6, trials=1, init="orthogonal", gain=0.5).resolved(), trial_streams(0, 1))[0]
    assert torch.equal(c.p["weight_hh"].abs(), torch.full((1, 6), 0.5, dtype=F64))
    with pytest.raises(ValueError, match="does not apply to indrnn"):
        Config(cell="indrnn", init="xavier")


def test_cell_options_apply_only_where_they_mean_something():
    with pytest.raises(ValueError, match="step_size applies to antisymmetric and cornn only"):
        Config(cell="rnn", step_size=0.1)
    with pytest.raises(ValueError, match="step_size must be > 0"):
        Config(cell="cornn", step_size=0.0)
    c = Config(cell="cornn").resolved()
    assert (c.step_size, c.stiffness, c.damping, c.diffusion) == (0.042, 2.7, 4.7, None)
    assert Config(cell="antisymmetric").resolved().diffusion == 0.01
    assert Config().key() == Config(qr_every="auto").key()  # fields at their default leave the key alone


# -- exact spectra ------------------------------------------------------------------------
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


# -- every command on every new cell ------------------------------------------------------
def test_every_command_runs_the_research_cells(tmp_path):
    runner = CliRunner()
    small = ["-n", "4", "-T", "40", "-b", "2", "--transient", "10"]
    for cell in CELLS:
        r = runner.invoke(main, ["decay", "--cell", cell, *small, "--exponents", "all", "--json"])
        assert r.exit_code == 0, r.output
        doc = json.loads(r.output)
        assert doc["summary"]["lambda_1"] is not None and doc["config"]["cell"] == cell
        r = runner.invoke(main, ["spectrum", "--cell", cell, *small, "-q"])
        assert r.exit_code == 0 and "direction" in r.output, r.output
    out = tmp_path / "report"
    r = runner.invoke(main, ["compare", "--cell", ",".join(CELLS), *small, "--exponents", "all",
                             "--no-cache", "--quiet", "--format", "svg", "--out", str(out)])
    assert r.exit_code == 0, r.output
    md = (out / "report.md").read_text()
    assert all(cell in md for cell in CELLS) and "Kaplan-Yorke" in md and "lambda\\_1" in md
    r = runner.invoke(main, ["cells"])
    assert r.exit_code == 0 and all(cell in r.output for cell in CELLS)
