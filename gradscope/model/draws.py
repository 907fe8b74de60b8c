"""Seeded random draws, per trial: the streams, the recurrent blocks of each
initialisation, initial states and readouts. What each cell draws with them is the
cell's own (`draw_weights` of its class).

Each trial draws from its own streams, spawned from one root seed:
`numpy.random.SeedSequence(seed).spawn(B)`, then four children per trial (weights,
initial state, readout, inputs), so changing `steps` or the input never changes the
weights. Draws are made in float64 and cast afterwards: float32 and float64 runs of one
seed see the same numbers.

May import: nothing of gradscope's (numpy only).
"""

from __future__ import annotations

import math

import numpy as np

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
    """A recurrent *vector* u (IndRNN): `default` U(-g, g) (as Li et al. 2018 draw it),
    `normal` N(0, g^2), `orthogonal` +-g (the diagonal orthogonal matrices), `identity` g."""
    if init == "default":
        return rng.uniform(-gain, gain, n)
    if init == "normal":
        return rng.normal(0.0, gain, n)
    if init == "orthogonal":
        return gain * rng.choice([-1.0, 1.0], n)
    if init == "identity":
        return np.full(n, float(gain))
    raise ValueError(f"init={init!r} does not apply to a recurrent vector")


def pytorch_uniform(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    """PyTorch's default `U(-1/sqrt(N), 1/sqrt(N))`."""
    bound = 1.0 / math.sqrt(n)
    return rng.uniform(-bound, bound, shape)


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
