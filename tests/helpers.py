"""Small shared helpers for the numerical tests."""

import pytest
import torch

from gradscope.analysis import simulate
from gradscope.config import Config


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
