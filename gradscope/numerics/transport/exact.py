"""Exact mode (`--spectral exact`): every lag of a chunk one at a time, an SVD of the
product (and of `Q B_t`) at each, and of every step Jacobian for the per-step gains.

Kept as it was written, so that exact mode's numbers are unchanged to the last bit: a
Jacobian of the form `J_t = diag(d_t) W` (the cell's `row_scaled`: a vanilla RNN) is
never formed unless the per-step gains need the Jacobians themselves; other cells use
the chunk's materialised Jacobians.

May import: `gradscope.numerics.transport.chunk`, `gradscope.numerics.logspace`.
"""

from __future__ import annotations

import numpy as np
import torch

from ..logspace import host_log, stable_norm
from .chunk import Chunk

Tensor = torch.Tensor


class ExactSteps:
    """The step Jacobians of one chunk, as right-multiplication and vector products.

    A row-scaled `J_t = diag(d_t) W` is never formed: `Q J_t = (Q diag(d_t)) W` and
    `J_t^T v = W^T (d_t * v)` (it saves building the chunk and half the memory traffic).
    Other cells, or when the Jacobians themselves are needed (per-step gains), use the
    materialised chunk `jac[j]`.
    """

    def __init__(self, cell, lin, materialise: bool) -> None:
        scaled = None if materialise else cell.row_scaled(lin)
        self.direct = scaled is not None
        if scaled is not None:
            self.d, self.w = scaled
            self.jac = None
        else:
            self.jac = cell.jacobian(lin)  # (C, B, D, D); jac[j] is the step lo+1+j

    def right(self, q: Tensor, j: int, out: Tensor | None = None) -> Tensor:
        if self.direct:
            return torch.bmm(q * self.d[j].unsqueeze(1), self.w, out=out)
        return torch.bmm(q, self.jac[j], out=out)

    def vjp(self, v: Tensor, j: int) -> Tensor:
        """`J_j^T v` for v `(B, D)`, as `(v^T J_j)`."""
        if self.direct:
            return torch.bmm((self.d[j] * v).unsqueeze(1), self.w).squeeze(1)
        return torch.bmm(v.unsqueeze(1), self.jac[j]).squeeze(1)

    def frobenius(self) -> Tensor:
        """`||J_t||_F` for the chunk `(C, B)`."""
        if self.direct:  # sum_i d_i^2 |W_i|^2, in float64 (see `_norm`)
            w, d = self.w.to(torch.float64), self.d.to(torch.float64)
            return ((d * d) * (w * w).sum(-1)).sum(-1).sqrt()
        return stable_norm(self.jac, (-2, -1))


class ExactChunk(Chunk):
    """Every lag one at a time, an SVD of the product (and of `Q B_t`) at each."""

    def __init__(self, cell, states, inputs, lo, hi, steps, want, carry, out) -> None:
        super().__init__(cell, states, inputs, lo, hi, steps, want, carry, out)
        self.steps = ExactSteps(cell, self.lin, materialise="step_gain" in want)
        self.bjac = cell.input_jacobian(self.lin) if "input_sensitivity" in want else None

    def run(self) -> bool:
        for i in range(self.count):
            self._one(i)
        self.finish()
        return True

    def _one(self, i: int) -> None:
        c, j = self.carry, self.count - 1 - i
        if self.need_q:
            q = c.q
            self.q_add[i] = c.log_scale
            self.q_frob.append(torch.ones(q.shape[0], dtype=q.dtype, device=q.device))
            self.q_sig.append(torch.linalg.svdvals(q)[:, 0])
            if self.bjac is not None:
                self.sens.append(torch.linalg.svdvals(q @ self.bjac[j])[:, 0])
            self.advance(self.steps.right(q, j))
        if self.need_v:
            self.vector_step(i, self.steps.vjp)

    def step_frobenius(self) -> Tensor:
        return self.steps.frobenius()

    def step_log_gains(self) -> np.ndarray:
        return host_log(torch.linalg.svdvals(self.steps.jac)[..., 0])
