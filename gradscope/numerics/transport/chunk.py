"""One chunk of the backward pass, what both modes share: the carry between chunks,
what a chunk records per lag, and the linearisation of a chunk taken apart.

`Carry` is what passes from chunk to chunk (the running product in log space and the
loss-gradient vector). A chunk multiplies the Jacobians of steps lo+1..hi (lags
steps-hi .. steps-lo-1) into it, recording per lag the log scale, the Frobenius norm of
the stored product, its spectral norm and input sensitivity and the loss-gradient
vector; `Chunk.finish` turns those into the curves. `exact.ExactChunk` takes an SVD at
every lag (`--spectral exact`), `fast.FastChunk` is the fast mode. `lin_take` and its
kin index a chunk's linearisation (dicts, lists and tuples of tensors) by step.

May import: `gradscope.numerics.logspace`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ..logspace import divide_by_norm_, host_log, stable_norm

Tensor = torch.Tensor


def lin_take(lin, idx):
    """The steps `idx` of a chunk's linearisation (an int: one step, as views): every
    tensor in it indexed on its first axis, through the dicts, lists and tuples a cell's `linearize` may return
    (stacked layers hold one per layer)."""
    if isinstance(lin, torch.Tensor):
        return lin[idx]
    if isinstance(lin, dict):
        return {k: lin_take(v, idx) for k, v in lin.items()}
    if isinstance(lin, (list, tuple)):
        return type(lin)(lin_take(v, idx) for v in lin)
    return lin


def lin_cat(parts: list):
    """Linearisations of consecutive steps joined on their first axis (`lin_take`'s inverse)."""
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(parts)
    if isinstance(first, dict):
        return {k: lin_cat([p[k] for p in parts]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(lin_cat([p[i] for p in parts]) for i in range(len(first)))
    return first


def lin_first(lin) -> Tensor:
    """The first tensor of a linearisation (for its dtype, device and leading axes)."""
    while not isinstance(lin, torch.Tensor):
        lin = next(iter(lin.values())) if isinstance(lin, dict) else lin[0]
    return lin


def lin_lead(lin) -> tuple[int, int]:
    """`(steps, trials)` of a chunk's linearisation: the leading axes of its first tensor."""
    first = lin_first(lin)
    return first.shape[0], first.shape[1]


@dataclass
class Carry:
    q: Tensor  # (B, D, D) running product, unit Frobenius norm
    log_scale: np.ndarray  # (B,) float64: log of the factor taken out of q
    v: Tensor  # (B, D) loss gradient direction, unit norm
    log_v: np.ndarray  # (B,) float64
    stats: dict = field(default_factory=dict)  # fast mode: what its checks found

    def snapshot(self) -> tuple:
        return (self.q.clone(), self.log_scale.copy(), self.v.clone(), self.log_v.copy())

    def restore(self, state: tuple) -> None:
        self.q, self.log_scale, self.v, self.log_v = (
            state[0].clone(), state[1].copy(), state[2].clone(), state[3].copy())


class Chunk:
    """What a chunk records per lag i (lag = lag0 + i, step j = count-1-i), and `finish`."""

    def __init__(self, cell, states, inputs, lo, hi, steps, want, carry, out) -> None:
        self.cell, self.carry, self.out, self.want = cell, carry, out, want
        self.lo, self.hi, self.count = lo, hi, hi - lo
        self.lag0 = steps - hi  # lag of the running product before the first multiplication
        self.states = states
        self.need_q = bool(want & {"spectral", "rms", "input_sensitivity"})
        self.need_v = bool(want & {"loss_grad", "weight_grad"})
        self.lin = cell.linearize(states[lo:hi], inputs[lo:hi])
        self.q_add = np.zeros((self.count, carry.q.shape[0]))  # log scale to add
        self.q_frob: list[Tensor] = []  # ||matrix||_F of the stored (possibly unscaled) product
        self.q_sig: list[Tensor] = []  # its top singular value (estimate)
        self.sens: list[Tensor] = []
        self.v_add = np.zeros_like(self.q_add)
        self.v_vec: list[Tensor] = []  # (B, D) the loss gradient at that lag, in that scale

    def advance(self, q: Tensor, n: Tensor | None = None) -> None:
        """Make q (unnormalised) the new carried product."""
        c = self.carry
        n = stable_norm(q, (-2, -1)) if n is None else n
        divide_by_norm_(q, n)
        c.q = q
        c.log_scale = c.log_scale + host_log(n)

    def vector_step(self, i: int, vjp) -> None:
        """Record the loss-gradient vector at lag i, then `v <- J^T v` (renormalised)."""
        c, j = self.carry, self.count - 1 - i
        self.v_add[i] = c.log_v
        self.v_vec.append(c.v)
        v = vjp(c.v, j)
        m = stable_norm(v, 1)
        divide_by_norm_(v, m)
        c.v = v
        c.log_v = c.log_v + host_log(m)

    def finish(self) -> None:
        out, lags, dim = self.out, np.arange(self.lag0, self.lag0 + self.count), self.carry.q.shape[-1]
        order = torch.arange(self.count - 1, -1, -1, device=self.carry.q.device)  # i -> j
        if self.need_q:
            frob = host_log(torch.stack(self.q_frob)).T  # (B, C)
            out["log_rms"][:, lags] = self.q_add.T + frob - 0.5 * math.log(dim)
            out["log_spectral"][:, lags] = self.q_add.T + host_log(torch.stack(self.q_sig)).T
            if self.sens:
                out["log_input_sensitivity"][:, lags] = self.q_add.T + host_log(torch.stack(self.sens)).T
        if self.v_vec:
            vecs = torch.stack(self.v_vec)  # (C, B, D)
            out["log_loss_grad"][:, lags] = self.v_add.T + host_log(stable_norm(vecs, -1)).T
            if "weight_grad" in self.want:
                s_prev = self.states[self.lo : self.hi]
                norms = self.cell.weight_grad_norms(self.lin, vecs[order], s_prev)[order]
                out["log_weight_grad"][:, lags] = self.v_add.T + host_log(norms).T
        out["log_step_rms"][:, self.lo : self.hi] = host_log(self.step_frobenius()).T - 0.5 * math.log(dim)
        if "step_gain" in self.want:
            out["log_step_gain"][:, self.lo : self.hi] = self.step_log_gains().T

    def step_frobenius(self) -> Tensor:
        raise NotImplementedError

    def step_log_gains(self) -> np.ndarray:
        raise NotImplementedError
