"""Small shared helpers for the tests of the engine, imported from any folder of the
suite (`pyproject.toml` puts tests/ on the path): trajectories and explicit products,
cells built by hand or drawn, the stated tolerance of fast mode, PyTorch modules to save
as checkpoints, a module of custom cells (`GRU_MODULE`; conftest's `cells_module` puts
it in the current directory), and the one-thread fixture."""

import numpy as np
import pytest
import torch

from gradscope.analysis import simulate
from gradscope.config import Config
from gradscope.model.cells import RNNCell
from gradscope.model.draws import trial_streams
from gradscope.model.initialization import build

F64 = torch.float64


def trajectory(**kw):
    """(config, cell, trajectory, readout) for a Config built from `kw`."""
    config = Config(**kw).resolved()
    cell, traj, readout, _ = simulate(config)
    return config, cell, traj, readout


def explicit_products(cell, traj):
    """Every P(T, T-k), k = 0..T, formed naively in linear scale (short horizons only)."""
    jac = cell.jacobian(cell.linearize(traj.states[:-1], traj.inputs))
    b, d = traj.states.shape[1], traj.states.shape[2]
    p = torch.eye(d, dtype=jac.dtype).expand(b, d, d)
    out = [p]
    for t in range(traj.steps - 1, -1, -1):
        p = p @ jac[t]
        out.append(p)
    return out, jac


@pytest.fixture
def one_thread():
    """Small matrices: one torch thread (two spin against each other on a shared machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- cells drawn or built by hand ----------------------------------------------------
def make_cell(cell, act="tanh", gate_act="sigmoid", hidden=5, input_size=3, trials=2, **kw):
    """(config, cell, h0, readout) of a drawn built-in cell with random biases."""
    from gradscope.config import cell_spec

    kw.setdefault("bias_std", None if "bias_std" in cell_spec(cell).fixed else 0.5)  # the modern cells: their own
    config = Config(cell=cell, act=act, gate_act=gate_act, hidden=hidden, input_size=input_size,
                    trials=trials, steps=2, **kw)
    return config, *build(config.resolved(), trial_streams(config.seed, trials))


def jacrev_step(c, s, x, wrt):
    """Per trial, the Jacobian of one step by `torch.func.jacrev` with respect to the
    state (`wrt="s"`) or the input (`"x"`)."""
    def f(sb, xb, b):
        # one trial's step as a function of its own state / input
        ss = torch.cat([s[:b], sb[None], s[b + 1 :]])
        xx = torch.cat([x[:b], xb[None], x[b + 1 :]])
        return c.step(ss, xx)[b]

    argnum = 0 if wrt == "s" else 1
    return torch.stack(
        [torch.func.jacrev(f, argnums=argnum)(s[b], x[b], b) for b in range(s.shape[0])]
    )


def rnn_cell(weight_hh: np.ndarray, trials: int = 1, act: str = "identity") -> RNNCell:
    """A vanilla RNN with the given recurrent matrix, no input weight and no bias."""
    w = torch.as_tensor(np.asarray(weight_hh, dtype=np.float64)).expand(trials, -1, -1).clone()
    n = w.shape[1]
    zeros = torch.zeros(trials, n, dtype=F64)
    return RNNCell(torch.zeros(trials, n, 1, dtype=F64), w, zeros, zeros.clone(), act=act)


def linear_window(cell, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """States and inputs for a linear cell, whose Jacobian does not depend on them."""
    return torch.zeros(steps + 1, cell.trials, cell.state_dim, dtype=F64), torch.zeros(steps, cell.trials, 1, dtype=F64)


# -- fast mode's stated tolerance ----------------------------------------------------
def log_rel_error(a, b):
    """Relative error of log-estimates a against log-truth b; NaN (not measured) and -inf
    (an exact zero) must sit at the same places in both."""
    assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(np.isneginf(a), np.isneginf(b))
    both = np.isfinite(a) & np.isfinite(b)
    err = np.zeros(a.shape)
    err[both] = np.abs(np.expm1(a[both] - b[both]))
    return err


def within_stated_tolerance(estimate, truth, name):
    """At most 1% of values off by more than 1e-3 relative, none by more than 1e-2."""
    err = log_rel_error(estimate, truth)
    assert err.max() < 1e-2, f"{name}: worst {err.max():.2e}"
    assert np.mean(err > 1e-3) <= 0.01, f"{name}: {np.mean(err > 1e-3):.3%} of values off by > 1e-3"


# -- the user's networks: PyTorch modules saved as checkpoints, custom cells ----------
#: The sizes of the modules the checkpoint tests save: inputs, hidden units.
MODULE_INPUTS, MODULE_HIDDEN = 3, 4
MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def make_module(kind: str, act: str = "tanh", layers: int = 1, bias: bool = True, seed: int = 0):
    """A seeded `nn.RNN/LSTM/GRU` (float64) of `MODULE_INPUTS` inputs and `MODULE_HIDDEN` units."""
    torch.manual_seed(seed)
    kw = {"nonlinearity": act} if kind == "rnn" else {}
    return MODULES[kind](MODULE_INPUTS, MODULE_HIDDEN, num_layers=layers, bias=bias, **kw).double()


GRU_MODULE = '''
"""A GRU written as an nn.Module (PyTorch's formulas), for the custom-cell tests."""
import torch


class MyGRU(torch.nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = torch.nn.Parameter(torch.randn(3 * hidden_size, input_size))
        self.weight_hh = torch.nn.Parameter(torch.randn(3 * hidden_size, hidden_size))
        self.bias_ih = torch.nn.Parameter(torch.randn(3 * hidden_size))
        self.bias_hh = torch.nn.Parameter(torch.randn(3 * hidden_size))

    def forward(self, x, h):
        xr, xz, xn = (self.weight_ih @ x + self.bias_ih).chunk(3)
        hr, hz, hn = (self.weight_hh @ h + self.bias_hh).chunk(3)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        return (1 - z) * torch.tanh(xn + r * hn) + z * h


def wrong_shape():
    return MyCell()


class MyCell(torch.nn.Module):
    state_size, input_size = 4, 3

    def forward(self, x, h):
        return torch.cat([h, h])


def fused():
    return torch.nn.LSTMCell(3, 4)
'''
