"""minGRU (Feng et al. 2024, "Were RNNs All We Needed?"): `z = sigmoid(W_z x)`,
`h' = (1 - z) h + z g(W_h x)`.

Gate and candidate come from the input alone, so the step Jacobian is `diag(1 - z_t)`:
every entry in (0, 1), every Lyapunov exponent negative whatever the input. The
candidate is the paper's log-space one, `g(a) = a + 1/2` for `a >= 0` and `sigmoid(a)`
below, as mingru-pytorch computes it in its sequential mode (`minGRU(dim)` with the
defaults: `to_hidden_and_gate.weight` holds `[W_h; W_z]`, no biases). `--act` does not
apply. The weight-gradient curve is over `W_z` and `W_h` (the cell has no recurrent
weight: they set its recurrence).

May import: `gradscope.model.cells.modern`, `gradscope.model.batched`, `gradscope.config`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...config import Config
from ..batched import linear, stable_norm
from .modern import DiagonalCell, RowScaledInput, g_candidate, linear_uniform

Tensor = torch.Tensor


class MinGRUCell(RowScaledInput, DiagonalCell):
    """`z = sigmoid(W_z x)`, `h' = (1 - z) h + z g(W_h x)` (Feng et al. 2024)."""

    kind = "mingru"
    names = ("weight_z", "weight_h")
    checkpoint_key = "to_hidden_and_gate.weight"  # mingru-pytorch's minGRU

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
        """mingru-pytorch's `minGRU`: `to_hidden_and_gate.weight` `(2N, I)`, rows `[W_h; W_z]`
        (the candidate first, as its `chunk(2, dim=-1)` reads them); `to_out` is after the recurrence."""
        w = tensors[cls.checkpoint_key]
        if w.ndim != 2 or w.shape[0] % 2 or w.shape[0] == 0:
            raise ValueError(f"{cls.checkpoint_key} must be (2 x hidden, inputs), got {tuple(w.shape)}")
        n = w.shape[0] // 2
        return {"weight_h": w[:n], "weight_z": w[n:]}

    def setup(self) -> None:
        self.trials, self.hidden, self.input_size = self.p["weight_z"].shape
        self.state_dim = self.hidden

    @classmethod
    def draw_weights(cls, config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """`nn.Linear(I, 2N, bias=False)`'s init, as mingru-pytorch draws `to_hidden_and_gate`."""
        n, i = config.hidden, config.n_input
        w = linear_uniform(rng, i, (2 * n, i))
        return {"weight_h": w[:n], "weight_z": w[n:]}

    def _gates(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        z = torch.sigmoid(linear(self.p["weight_z"], x))
        cand, dcand = g_candidate(linear(self.p["weight_h"], x))
        return z, cand, dcand

    def log_abs_diagonal_at(self, s: Tensor, x: Tensor) -> Tensor:
        """`log(1 - z) = -softplus(W_z x)`, from the input alone."""
        return -F.softplus(linear(self.p["weight_z"], x).to(torch.float64))

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        z, cand, _ = self._gates(x)
        return (1 - z) * s + z * cand

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        z, cand, dcand = self._gates(x)
        # ds'/da_z = (cand - h) z (1 - z); ds'/da_h = z g'(a_h)
        return {"d": 1 - z, "logd": self.log_abs_diagonal_at(s, x), "kz": (cand - s) * z * (1 - z), "kh": z * dcand,
                "xnorm": stable_norm(x, -1).to(x.dtype)}

    def row_pairs(self, lin: Any) -> list[tuple[Tensor, Tensor]]:
        return [(lin["kz"], self.p["weight_z"]), (lin["kh"], self.p["weight_h"])]

    def input_jacobian(self, lin: Any) -> Tensor:
        return lin["kz"].unsqueeze(-1) * self.p["weight_z"] + lin["kh"].unsqueeze(-1) * self.p["weight_h"]

    def input_matmul(self, lin: Any, v: Tensor) -> Tensor:
        return lin["kz"].unsqueeze(-1) * (self.p["weight_z"] @ v) + lin["kh"].unsqueeze(-1) * (self.p["weight_h"] @ v)

    def input_rmatmul(self, lin: Any, u: Tensor) -> Tensor:
        return (u * lin["kz"].unsqueeze(-2)) @ self.p["weight_z"] + (u * lin["kh"].unsqueeze(-2)) @ self.p["weight_h"]

    def weight_grad_norms(self, lin: Any, g: Tensor, s_prev: Tensor) -> Tensor:
        """`||dL/d[W_z; W_h]|_t||_F = |[g kz; g kh]| |x_t|`."""
        delta = torch.cat([g * lin["kz"], g * lin["kh"]], -1)
        return stable_norm(delta, -1).to(torch.float64) * lin["xnorm"].to(torch.float64)
