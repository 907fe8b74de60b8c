"""MinimalRNN (Chen, Pennington & Schoenholz 2018): `e = act(W_x x)`,
`u = gate_act(W_h h + W_e e + b)`, `h' = u h + (1 - u) e`.

`W_hh` of the weight-gradient curve is `W_h`; `--forget-bias` is added to the bias of
its gate u (the keep gate).

May import: `gradscope.model.cells.research`, `gradscope.model.batched`, `gradscope.config`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...config import Config
from ..batched import linear, scale_rows
from .research import ResearchCell

Tensor = torch.Tensor


class MinimalRNNCell(ResearchCell):
    """`e = act(W_x x)`, `u = gate_act(W_h h + W_e e + b)`, `h' = u h + (1 - u) e`."""

    kind = "minimalrnn"
    names = ("weight_ih", "weight_hh", "weight_eh", "bias_ih")

    @classmethod
    def draw_weights(cls, config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = super().draw_weights(config, rng)
        out["bias_ih"] += config.forget_bias  # the keep gate u
        return out

    def _parts(self, s: Tensor, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        p = self.p
        ax = linear(p["weight_ih"], x)
        e = self.act.phi(ax)
        a = linear(p["weight_hh"], s) + linear(p["weight_eh"], e) + p["bias_ih"]
        return ax, e, a

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        _, e, a = self._parts(s, x)
        u = self.gate_act.phi(a)
        return u * s + (1 - u) * e

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        ax, e, a = self._parts(s, x)
        u = self.gate_act.phi(a)
        # dh'/da = (h - e) sigma'(a); dh'/de = (1 - u) (directly) + k W_e (through u)
        return {"u": u, "k": (s - e) * self.gate_act.dphi(a), "de": self.act.dphi(ax)}

    def jacobian(self, lin: Any) -> Tensor:
        return scale_rows(lin["k"], self.p["weight_hh"]) + torch.diag_embed(lin["u"])

    def matmul(self, lin: Any, v: Tensor) -> Tensor:
        return lin["u"].unsqueeze(-1) * v + lin["k"].unsqueeze(-1) * torch.matmul(self.p["weight_hh"], v)

    def input_jacobian(self, lin: Any) -> Tensor:
        through_e = scale_rows(lin["k"], self.p["weight_eh"]) + torch.diag_embed(1 - lin["u"])
        return torch.matmul(through_e, scale_rows(lin["de"], self.p["weight_ih"]))

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return g * lin["k"]
