"""Random draws for B trials: weights, initial states, readouts, seeded per trial.

Each trial draws from its own streams, spawned from one root seed:
`numpy.random.SeedSequence(seed).spawn(B)`, then four children per trial (weights,
initial state, readout, inputs), so changing `steps` or the input never changes the
weights. Draws are made in float64 and cast afterwards: float32 and float64 runs of one
seed see the same numbers.

May import: `gradscope.model.cells`, `gradscope.model.research_cells`, `gradscope.config`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..config import CELL_OPTIONS, GATES, Config
from .cells import CELL_CLASSES
from .research_cells import RESEARCH_CELLS

STREAMS = ("weights", "state", "readout", "inputs")


def trial_streams(seed: int, trials: int) -> list[dict[str, np.random.Generator]]:
    """One dict of named `numpy.random.Generator`s per trial."""
    out = []
    for child in np.random.SeedSequence(seed).spawn(trials):
        out.append(dict(zip(STREAMS, (np.random.default_rng(s) for s in child.spawn(len(STREAMS))))))
    return out


def recurrent_block(rng: np.random.Generator, n: int, init: str, gain: float) -> np.ndarray:
    """One N x N gate block of `weight_hh` (the conventions of the README)."""
    if init == "default":  # PyTorch: U(-1/sqrt(N), 1/sqrt(N)), scaled by the gain
        bound = gain / math.sqrt(n)
        return rng.uniform(-bound, bound, (n, n))
    if init == "normal":
        return rng.normal(0.0, gain / math.sqrt(n), (n, n))
    if init == "orthogonal":
        q, r = np.linalg.qr(rng.standard_normal((n, n)))
        return gain * q * np.sign(np.diag(r))  # Haar-distributed
    if init == "identity":
        return gain * np.eye(n)
    if init == "xavier":
        bound = math.sqrt(6.0 / (n + n))
        return gain * rng.uniform(-bound, bound, (n, n))
    raise ValueError(f"unknown init {init!r}")


def recurrent_vector(rng: np.random.Generator, n: int, init: str, gain: float) -> np.ndarray:
    """IndRNN's recurrent vector u: `default` U(-g, g) (as Li et al. 2018 draw it),
    `normal` N(0, g^2), `orthogonal` +-g (the diagonal orthogonal matrices), `identity` g."""
    if init == "default":
        return rng.uniform(-gain, gain, n)
    if init == "normal":
        return rng.normal(0.0, gain, n)
    if init == "orthogonal":
        return gain * rng.choice([-1.0, 1.0], n)
    if init == "identity":
        return np.full(n, float(gain))
    raise ValueError(f"init={init!r} does not apply to indrnn (its recurrent weight is a vector u)")


def _research_weights(config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The research cells: the recurrent weight by `--init` (IndRNN's vector u, the
    others' N x N W); every other matrix PyTorch's U(-1/sqrt(N), 1/sqrt(N)); one bias b."""
    n, i, cell = config.hidden, config.n_input, config.cell
    bound = 1.0 / math.sqrt(n)
    out = {"weight_ih": rng.uniform(-bound, bound, (n, i))}
    if cell == "indrnn":
        out["weight_hh"] = recurrent_vector(rng, n, config.init, config.gain)
    else:
        out["weight_hh"] = recurrent_block(rng, n, config.init, config.gain)
    extra = {"minimalrnn": "weight_eh", "cornn": "weight_zh"}.get(cell)
    if extra is not None:
        out[extra] = rng.uniform(-bound, bound, (n, n))
    if config.bias_std is not None:
        out["bias_ih"] = rng.normal(0.0, config.bias_std, n)
    elif config.init == "default":
        out["bias_ih"] = rng.uniform(-bound, bound, n)
    else:
        out["bias_ih"] = np.zeros(n)
    if cell == "minimalrnn":
        out["bias_ih"] += config.forget_bias  # the keep gate u
    return out


def draw_weights(config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Parameters of one network in PyTorch's names and shapes (float64)."""
    if config.cell in RESEARCH_CELLS:
        return _research_weights(config, rng)
    n, i, g = config.hidden, config.n_input, GATES[config.cell]
    bound = 1.0 / math.sqrt(n)
    weight_ih = rng.uniform(-bound, bound, (g * n, i))
    weight_hh = np.concatenate([recurrent_block(rng, n, config.init, config.gain) for _ in range(g)])
    if config.bias_std is not None:
        bias_ih = rng.normal(0.0, config.bias_std, g * n)
        bias_hh = np.zeros(g * n)
    elif config.init == "default":
        bias_ih = rng.uniform(-bound, bound, g * n)
        bias_hh = rng.uniform(-bound, bound, g * n)
    else:
        bias_ih = np.zeros(g * n)
        bias_hh = np.zeros(g * n)
    if config.cell == "lstm":
        bias_ih[n : 2 * n] += config.forget_bias
    return {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh}


def bias_variance(config: Config) -> float:
    """Nominal variance of one entry of `b_ih + b_hh` (mean-field `sigma_b^2`; vanilla RNN)."""
    if config.bias_std is not None:
        return config.bias_std**2
    if config.init == "default":
        return 2.0 / (3.0 * config.hidden)
    return 0.0


def input_variance(config: Config, mean_square: float) -> float:
    """Nominal `sigma_u^2 = var(W_ih x)` for inputs of mean square `mean_square`: I entries
    of variance 1/(3N) (PyTorch's U(-1/sqrt(N), 1/sqrt(N)))."""
    return config.n_input * mean_square / (3.0 * config.hidden)


def recurrent_variance(config: Config) -> float | None:
    """Nominal `sigma_w^2` (N times the entry variance of W_hh); None where not random."""
    g2 = config.gain**2
    return {"default": g2 / 3.0, "normal": g2, "orthogonal": g2, "xavier": g2}.get(config.init)


def build(config: Config, streams: list[dict[str, np.random.Generator]]) -> tuple:
    """The batched cell, initial states `(B, D)` and unit readouts `(B, N)` on the device."""
    dtype = getattr(torch, config.torch_dtype_name)
    device = torch.device(config.device)

    def tensor(arrays: list[np.ndarray]) -> torch.Tensor:
        return torch.as_tensor(np.stack(arrays), dtype=dtype, device=device)

    weights = [draw_weights(config, s["weights"]) for s in streams]
    options = {k: config.cell_option(k) for k in CELL_OPTIONS if config.cell_option(k) is not None}
    cell = CELL_CLASSES[config.cell](
        **{k: tensor([w[k] for w in weights]) for k in weights[0]},
        act=config.act,
        gate_act=config.gate_act,
        **options,
    )
    h0, readouts = draw_states_and_readouts(streams, config.state_dim, config.hidden, config.h0_std)
    return cell, tensor(h0), tensor(readouts)


def draw_states_and_readouts(
    streams: list[dict[str, np.random.Generator]], state_dim: int, hidden: int, h0_std: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per trial: the initial state ~ N(0, h0_std^2) `(D,)` and a unit readout `(N,)`
    (float64), from the trial's `state` and `readout` streams."""
    h0 = [s["state"].normal(0.0, 1.0, state_dim) * h0_std for s in streams]
    readouts = []
    for s in streams:
        r = s["readout"].standard_normal(hidden)
        readouts.append(r / np.linalg.norm(r))
    return h0, readouts
