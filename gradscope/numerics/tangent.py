"""The step Jacobians of a chunk acting on a frame of tangent vectors, and `log|det J_t|`,
for the Lyapunov spectrum, without forming `J_t` where a cell's structure allows it.

- vanilla RNN (`kind == "rnn"`): `J_t Q = d_t * (W Q)` and
  `log|det J_t| = sum_i log|d_t,i| + log|det W|`, `W` = `weight_hh`;
- a cell with `frame_jvp(lin, v)` (the research cells): `J_t Q` from it, and `log_abs_det(lin)`;
- any other cell: the chunk's Jacobians are formed (`cell.jacobian`), `J_t Q` is a `bmm`
  and `log|det J_t|` a batched LU.

`matrix(j)` gives `(M_j, rows)` with `J_j = diag(rows) M_j` (rows None: `J_j = M_j`) where
a matrix exists, so that the first step after a QR can be taken straight from the
Householder reflectors (`ormqr`), never forming the orthonormal frame.

May import: nothing of gradscope's (cells come in as arguments).
"""

from __future__ import annotations

from typing import Any

import torch

Tensor = torch.Tensor


class Tangent:
    """The step Jacobians of steps lo+1..hi of one chunk (index j = 0..hi-lo-1)."""

    def __init__(self, cell, lin: Any, need_det: bool) -> None:
        self.lin = lin
        self.direct = getattr(cell, "kind", "") == "rnn" and isinstance(lin, dict) and "d" in lin
        self.jvp = None if self.direct else getattr(cell, "frame_jvp", None)
        self.jac = None
        if self.direct:
            self.w = cell.w.weight_hh  # (B, N, N)
        elif self.jvp is None:
            self.jac = cell.jacobian(lin)  # (C, B, D, D)
        self.log_det = self._log_det(cell) if need_det else None  # (C, B) float64

    def _log_det(self, cell) -> Tensor:
        if self.direct:
            d = self.lin["d"].to(torch.float64)
            return d.abs().log().sum(-1) + torch.linalg.slogdet(self.w.to(torch.float64))[1]
        own = getattr(cell, "log_abs_det", None)
        if self.jac is None and own is not None:
            return own(self.lin).to(torch.float64)
        return torch.linalg.slogdet(self.jac)[1].to(torch.float64)

    def apply(self, j: int, frame: Tensor, out: Tensor | None = None) -> Tensor:
        """`J_j frame` for a frame `(B, D, K)`."""
        if self.direct:
            out = torch.bmm(self.w, frame, out=out)
            return out.mul_(self.lin["d"][j].unsqueeze(-1))
        if self.jvp is not None:
            return self.jvp({k: v[j] for k, v in self.lin.items()}, frame)
        return torch.bmm(self.jac[j], frame, out=out)

    def matrix(self, j: int) -> tuple[Tensor, Tensor | None] | None:
        """`(M_j, rows)` with `J_j = diag(rows) M_j`, or None where no matrix is formed."""
        if self.direct:
            return self.w, self.lin["d"][j]
        if self.jac is not None:
            return self.jac[j], None
        return None
