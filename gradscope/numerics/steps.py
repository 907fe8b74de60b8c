"""The step Jacobians of one chunk of the sweep, as the products the transport needs.

`ExactSteps` is what `--spectral exact` multiplies with (kept as it was, so exact mode
is unchanged to the last bit): a Jacobian of the form `J_t = diag(d_t) W` (the cell's
`row_scaled`: a vanilla RNN) is never formed unless the per-step gains need the
Jacobians themselves; other cells use the chunk's materialised Jacobians.

`FastSteps` serves fast mode and never forms the chunk: `q @ J_t` for the running
product comes from the cell's `rmatmul` (a vanilla RNN: `q diag(d) W`; an LSTM: half
a D x D product, since the right half of its Jacobian is diagonal), or, for a cell that
`stacks_jacobians` (the GRU), from the Jacobians of the next few lags formed together,
about 2 MiB of them, so that they stay in cache (per step, the calls cost 40% of the
product at N = 128); `v^T J_t` from `rmatmul` on one row, `||J_t||_F` from `frobenius`.
A cell that does not declare those products fast (`fast_products`) uses its
materialised Jacobians.

May import: `gradscope.numerics.logspace` (cells come in as arguments).
"""

from __future__ import annotations

import torch

from .logspace import stable_norm

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


#: `FastSteps` forms the Jacobians of this many bytes of lags at once (cells with `jacobian_stack`)
STACK_BYTES = 2 << 20
STACK_MAX = 16


class FastSteps:
    """Fast mode's products with the chunk's step Jacobians (see the module docstring)."""

    def __init__(self, cell, lin: dict) -> None:
        self.cell, self.lin = cell, lin
        self.structured = {"rmatmul", "frobenius"} <= cell.fast_products
        # a structured cell's lin is a dict of (C, ...) tensors; others' (stacked layers,
        # custom cells) may be anything their own `jacobian` reads
        self.steps = [lin_take(lin, j) for j in range(lin_lead(lin)[0])] if self.structured else []
        self.jac = None if self.structured else cell.jacobian(lin)
        self.stacked = self.structured and cell.stacks_jacobians
        self.stack: Tensor | None = None  # the Jacobians of steps stack_lo.. (`jacobian_stack`)
        self.stack_lo = 0

    def right(self, q: Tensor, j: int, out: Tensor | None = None) -> Tensor:
        """`q @ J_j` for q `(B, M, D)`."""
        if self.jac is not None:
            return torch.bmm(q, self.jac[j], out=out)
        if self.stacked:
            if self.stack is None or not self.stack_lo <= j < self.stack_lo + self.stack.shape[0]:
                per_step = q.shape[0] * q.shape[-1] ** 2 * q.element_size()
                count = max(1, min(STACK_MAX, STACK_BYTES // per_step))
                self.stack_lo = max(0, j - count + 1)  # the lags run backwards: steps j, j-1, ...
                self.stack = self.cell.jacobian_stack(lin_take(self.lin, slice(self.stack_lo, j + 1)))
            return torch.bmm(q, self.stack[j - self.stack_lo], out=out)
        return self.cell.rmatmul(self.steps[j], q, out=out)

    def vjp(self, v: Tensor, j: int) -> Tensor:
        """`J_j^T v` for v `(B, D)`."""
        if self.jac is not None:
            return torch.bmm(v.unsqueeze(1), self.jac[j]).squeeze(1)
        return self.cell.rmatmul(self.steps[j], v.unsqueeze(-2)).squeeze(-2)

    def frobenius(self) -> Tensor:
        """`||J_t||_F` for the chunk `(C, B)`."""
        if self.jac is not None:
            return stable_norm(self.jac, (-2, -1))
        return self.cell.frobenius(self.lin)
