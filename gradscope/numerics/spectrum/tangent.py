"""The step Jacobians of a chunk acting on a frame of tangent vectors, and `log|det J_t|`,
for the Lyapunov spectrum, without forming `J_t` where a cell's structure allows it.

- a row-scaled Jacobian `J_t = diag(d_t) M` (the cell's `row_scaled`: a vanilla RNN):
  `J_t Q = d_t * (M Q)`;
- a cell that declares `matmul` fast (the research cells): `J_t Q` from it;
- any other cell: the chunk's Jacobians are formed (`cell.jacobian`) and `J_t Q` is a `bmm`.

`log|det J_t|` is the cell's `log_abs_det` (a vanilla RNN: `sum log|d_t| + log|det W|`, the
last term once per network), or, where the Jacobians were formed, taken from them by QR
(`model.batched.log_abs_det`: never a batched LU, which hangs on 2 or more threads in
torch 2.13).

`matrix(j)` gives `(M_j, rows)` with `J_j = diag(rows) M_j` (rows None: `J_j = M_j`) where
a matrix exists, so that the first step after a QR can be taken straight from the
Householder reflectors (`ormqr`), never forming the orthonormal frame.

May import: `gradscope.model.batched` (cells come in as arguments).
"""

from __future__ import annotations

from typing import Any

import torch

from ...model.batched import log_abs_det

Tensor = torch.Tensor


class Tangent:
    """The step Jacobians of steps lo+1..hi of one chunk (index j = 0..hi-lo-1)."""

    def __init__(self, cell, lin: Any, need_det: bool) -> None:
        self.lin, self.cell = lin, cell
        scaled = cell.row_scaled(lin)
        self.direct = scaled is not None
        self.frames = not self.direct and "matmul" in cell.fast_products
        self.jac = None
        if scaled is not None:
            self.d, self.w = scaled  # (C, B, D), (B, D, D)
        elif not self.frames:
            self.jac = cell.jacobian(lin)  # (C, B, D, D)
        self.log_det = self._log_det() if need_det else None  # (C, B) float64

    def _log_det(self) -> Tensor:
        if self.jac is not None:
            return log_abs_det(self.jac)
        return self.cell.log_abs_det(self.lin).to(torch.float64)

    def apply(self, j: int, frame: Tensor, out: Tensor | None = None) -> Tensor:
        """`J_j frame` for a frame `(B, D, K)`."""
        if self.direct:
            out = torch.bmm(self.w, frame, out=out)
            return out.mul_(self.d[j].unsqueeze(-1))
        if self.frames:
            return self.cell.matmul({k: v[j] for k, v in self.lin.items()}, frame)
        return torch.bmm(self.jac[j], frame, out=out)

    def matrix(self, j: int) -> tuple[Tensor, Tensor | None] | None:
        """`(M_j, rows)` with `J_j = diag(rows) M_j`, or None where no matrix is formed."""
        if self.direct:
            return self.w, self.d[j]
        if self.jac is not None:
            return self.jac[j], None
        return None
