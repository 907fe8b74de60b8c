"""The antisymmetric RNN (Chang et al. 2019): `h' = h + eps act((W - W^T - gamma I) h + V x + b)`.

`W_hh` of the weight-gradient curve is the effective matrix `A = W - W^T - gamma I`; the
gradient of W itself is `delta h^T - h delta^T` (A's gradient projected onto
antisymmetric matrices). Options: `step_size` (eps), `diffusion` (gamma).

May import: `gradscope.model.cells.research`, `gradscope.model.batched`.
"""

from __future__ import annotations

from typing import Any

import torch

from ..batched import linear, scale_rows
from .research import ResearchCell

Tensor = torch.Tensor


class AntisymmetricCell(ResearchCell):
    """`h' = h + eps act((W - W^T - gamma I) h + V x + b)` (Chang et al. 2019)."""

    kind = "antisymmetric"
    names = ("weight_ih", "weight_hh", "bias_ih")

    def __init__(self, act: str = "tanh", gate_act: str = "sigmoid", step_size: float = 0.01,
                 diffusion: float = 0.01, **params: Tensor) -> None:
        super().__init__(act, gate_act, **params)
        self.step_size, self.diffusion = float(step_size), float(diffusion)
        w = self.p["weight_hh"]
        eye = torch.eye(self.hidden, dtype=w.dtype, device=w.device)
        self.effective = w - w.transpose(1, 2) - self.diffusion * eye  # A, (B, N, N)

    def _pre(self, s: Tensor, x: Tensor) -> Tensor:
        return linear(self.effective, s) + linear(self.p["weight_ih"], x) + self.p["bias_ih"]

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        return s + self.step_size * self.act.phi(self._pre(s, x))

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        return {"p": self.step_size * self.act.dphi(self._pre(s, x))}  # J = I + diag(p) A

    def jacobian(self, lin: Any) -> Tensor:
        eye = torch.eye(self.hidden, dtype=lin["p"].dtype, device=lin["p"].device)
        return scale_rows(lin["p"], self.effective) + eye

    def matmul(self, lin: Any, v: Tensor) -> Tensor:
        return v + lin["p"].unsqueeze(-1) * torch.matmul(self.effective, v)

    def input_jacobian(self, lin: Any) -> Tensor:
        return scale_rows(lin["p"], self.p["weight_ih"])

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return g * lin["p"]

    def recurrent_matrix(self) -> Tensor:
        return self.effective
