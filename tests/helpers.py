"""Small shared helpers for the numerical tests."""

import torch

from gradscope.config import Config
from gradscope.initialization import build, trial_streams
from gradscope.inputs import InputDrive
from gradscope.unroll import unroll


def trajectory(**kw):
    """(config, cell, trajectory, readout) for a Config built from `kw`."""
    config = Config(**kw).resolved()
    streams = trial_streams(config.seed, config.trials)
    with torch.no_grad():
        cell, h0, readout = build(config, streams)
        traj = unroll(cell, h0, InputDrive(config, [s["inputs"] for s in streams]),
                      config.transient, config.steps)
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
