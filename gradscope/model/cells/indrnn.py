"""IndRNN (Li et al. 2018): `h' = act(W_ih x + b + u * h)`, a recurrent *vector* u.

Every unit has its own recurrence, so the step Jacobian is diagonal, `diag(u act'(a))`.
For the weight-gradient curve `W_hh` is `diag(u)` taken as a dense N x N matrix; the
gradient of u itself is the diagonal of that outer product, `delta * h_{t-1}`.

May import: `gradscope.model.cells.research`, `gradscope.model.contract`, `gradscope.model.batched`,
`gradscope.model.draws`, `gradscope.config`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...config import Config
from ..batched import linear, scale_rows
from ..contract import Structure
from ..draws import recurrent_vector
from .research import ResearchCell

Tensor = torch.Tensor


class IndRNNCell(ResearchCell):
    """`h' = act(W_ih x + b + u * h)` (Li et al. 2018): every unit its own recurrence."""

    kind = "indrnn"
    names = ("weight_ih", "weight_hh", "bias_ih")
    structure = Structure.DIAGONAL

    @classmethod
    def recurrent_weight(cls, config: Config, rng: np.random.Generator) -> np.ndarray:
        return recurrent_vector(rng, config.hidden, config.init, config.gain)

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        p = self.p
        return self.act.phi(linear(p["weight_ih"], x) + p["bias_ih"] + p["weight_hh"] * s)

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        p = self.p
        d = self.act.dphi(linear(p["weight_ih"], x) + p["bias_ih"] + p["weight_hh"] * s)
        return {"d": d, "diag": d * p["weight_hh"]}  # J = diag(u * phi'(a))

    def jacobian(self, lin: Any) -> Tensor:
        return torch.diag_embed(lin["diag"])

    def matmul(self, lin: Any, v: Tensor) -> Tensor:
        return lin["diag"].unsqueeze(-1) * v

    def log_abs_det(self, lin: Any) -> Tensor:
        return lin["diag"].abs().log().sum(-1)

    def input_jacobian(self, lin: Any) -> Tensor:
        return scale_rows(lin["d"], self.p["weight_ih"])

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return g * lin["d"]

    def recurrent_matrix(self) -> Tensor:
        return torch.diag_embed(self.p["weight_hh"])
