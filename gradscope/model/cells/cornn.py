"""coRNN (Rusch & Mishra 2021), coupled oscillators on the state `s = [y; z]` (2N):
`z' = z + dt (act(W y + W_z z + V x + b) - gamma y - eps z)`, `y' = y + dt z'`.

`W_hh` of the weight-gradient curve is `W` (h is y, the oscillators' positions;
`hidden_part` returns y). Options: `step_size` (dt), `stiffness` (gamma), `damping` (eps).

May import: `gradscope.model.cells.research`, `gradscope.model.batched`.
"""

from __future__ import annotations

from typing import Any

import torch

from ..batched import linear, log_abs_det, scale_rows
from .research import ResearchCell

Tensor = torch.Tensor


class CoRNNCell(ResearchCell):
    """Coupled oscillators on `s = [y; z]`:
    `z' = z + dt (act(W y + W_z z + V x + b) - gamma y - eps z)`, `y' = y + dt z'`."""

    kind = "cornn"
    names = ("weight_ih", "weight_hh", "weight_zh", "bias_ih")

    def __init__(self, act: str = "tanh", gate_act: str = "sigmoid", step_size: float = 0.042,
                 stiffness: float = 2.7, damping: float = 4.7, **params: Tensor) -> None:
        super().__init__(act, gate_act, **params)
        self.step_size, self.stiffness, self.damping = float(step_size), float(stiffness), float(damping)

    def _pre(self, s: Tensor, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        n, p = self.hidden, self.p
        y, z = s[..., :n], s[..., n:]
        a = linear(p["weight_hh"], y) + linear(p["weight_zh"], z) + linear(p["weight_ih"], x) + p["bias_ih"]
        return a, y, z

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        a, y, z = self._pre(s, x)
        dt = self.step_size
        z2 = z + dt * (self.act.phi(a) - self.stiffness * y - self.damping * z)
        return torch.cat([y + dt * z2, z2], dim=-1)

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        return {"p": self.step_size * self.act.dphi(self._pre(s, x)[0])}  # dz'/da

    def _z_rows(self, lin: Any) -> tuple[Tensor, Tensor]:
        """`dz'/dy`, `dz'/dz` `(..., B, N, N)`."""
        dt, p = self.step_size, lin["p"]
        eye = torch.eye(self.hidden, dtype=p.dtype, device=p.device)
        zy = scale_rows(p, self.p["weight_hh"]) - (dt * self.stiffness) * eye
        zz = scale_rows(p, self.p["weight_zh"]) + (1 - dt * self.damping) * eye
        return zy, zz

    def jacobian(self, lin: Any) -> Tensor:
        zy, zz = self._z_rows(lin)
        eye = torch.eye(self.hidden, dtype=zy.dtype, device=zy.device)
        top = torch.cat([eye + self.step_size * zy, self.step_size * zz], dim=-1)
        return torch.cat([top, torch.cat([zy, zz], dim=-1)], dim=-2)

    def matmul(self, lin: Any, v: Tensor) -> Tensor:
        n, dt = self.hidden, self.step_size
        vy, vz = v[..., :n, :], v[..., n:, :]
        drive = torch.matmul(self.p["weight_hh"], vy) + torch.matmul(self.p["weight_zh"], vz)
        wz = lin["p"].unsqueeze(-1) * drive - (dt * self.stiffness) * vy + (1 - dt * self.damping) * vz
        return torch.cat([vy + dt * wz, wz], dim=-2)

    def log_abs_det(self, lin: Any) -> Tensor:
        # rows y -= dt * rows z leaves [[I, 0], [dz'/dy, dz'/dz]]: det J = det(dz'/dz)
        return log_abs_det(self._z_rows(lin)[1])

    def input_jacobian(self, lin: Any) -> Tensor:
        dz = scale_rows(lin["p"], self.p["weight_ih"])
        return torch.cat([self.step_size * dz, dz], dim=-2)

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        n = self.hidden
        return (g[..., n:] + self.step_size * g[..., :n]) * lin["p"]  # dL/dz' through y' too
