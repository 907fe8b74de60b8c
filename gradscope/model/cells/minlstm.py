"""minLSTM (Feng et al. 2024): `f = sigmoid(W_f x)`, `i = sigmoid(W_i x)`, the normalised
`f' = f / (f + i)`, `i' = i / (f + i)`, `h' = f' h + i' g(W_h x)`.

Gates and candidate come from the input alone: the step Jacobian is `diag(f'_t)`, every
entry in (0, 1), every exponent negative. The candidate is the log-space model's `g`, as
mingru-pytorch's `minLSTM` computes it in its sequential mode
(`to_hidden_and_f_i_gate.weight` holds `[W_h; W_f; W_i]`, no biases). `--act` does not
apply; the weight-gradient curve is over `W_f`, `W_i`, `W_h`.

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
WEIGHTS = ("weight_f", "weight_i", "weight_h")


class MinLSTMCell(RowScaledInput, DiagonalCell):
    """`h' = f/(f+i) h + i/(f+i) g(W_h x)`, `f, i = sigmoid(W_f x), sigmoid(W_i x)`."""

    kind = "minlstm"
    names = WEIGHTS
    checkpoint_key = "to_hidden_and_f_i_gate.weight"  # mingru-pytorch's minLSTM

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
        """mingru-pytorch's `minLSTM`: `to_hidden_and_f_i_gate.weight` `(3N, I)`, rows `[W_h; W_f; W_i]`."""
        w = tensors[cls.checkpoint_key]
        if w.ndim != 2 or w.shape[0] % 3 or w.shape[0] == 0:
            raise ValueError(f"{cls.checkpoint_key} must be (3 x hidden, inputs), got {tuple(w.shape)}")
        n = w.shape[0] // 3
        return {"weight_h": w[:n], "weight_f": w[n : 2 * n], "weight_i": w[2 * n :]}

    def setup(self) -> None:
        self.trials, self.hidden, self.input_size = self.p["weight_f"].shape
        self.state_dim = self.hidden

    @classmethod
    def draw_weights(cls, config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """`nn.Linear(I, 3N, bias=False)`'s init, as mingru-pytorch draws `to_hidden_and_f_i_gate`
        (rows: hidden, f, i)."""
        n, i = config.hidden, config.n_input
        w = linear_uniform(rng, i, (3 * n, i))
        return {"weight_h": w[:n], "weight_f": w[n : 2 * n], "weight_i": w[2 * n :]}

    def _parts(self, x: Tensor) -> tuple[Tensor, ...]:
        f = torch.sigmoid(linear(self.p["weight_f"], x))
        i = torch.sigmoid(linear(self.p["weight_i"], x))
        cand, dcand = g_candidate(linear(self.p["weight_h"], x))
        return f, i, f / (f + i), cand, dcand

    def log_abs_diagonal_at(self, s: Tensor, x: Tensor) -> Tensor:
        """`log f/(f+i) = -softplus(log sigmoid(W_i x) - log sigmoid(W_f x))`, from the input alone."""
        f64 = torch.float64
        lf = F.logsigmoid(linear(self.p["weight_f"], x).to(f64))
        li = F.logsigmoid(linear(self.p["weight_i"], x).to(f64))
        return -F.softplus(li - lf)

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        f, i, fn, cand, _ = self._parts(x)
        return fn * s + (i / (f + i)) * cand

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        f, i, fn, cand, dcand = self._parts(x)
        # h' = cand + f' (h - cand); df'/da_f = f i (1 - f) / (f + i)^2, df'/da_i = -f i (1 - i) / (f + i)^2
        common = (s - cand) * f * i / ((f + i) * (f + i))
        return {"d": fn, "logd": self.log_abs_diagonal_at(s, x), "kf": common * (1 - f), "ki": -common * (1 - i),
                "kh": (1 - fn) * dcand,
                "xnorm": stable_norm(x, -1).to(x.dtype)}

    def row_pairs(self, lin: Any) -> list[tuple[Tensor, Tensor]]:
        return self._pairs(lin)

    def _pairs(self, lin: Any) -> list[tuple[Tensor, Tensor]]:
        return [(lin["kf"], self.p["weight_f"]), (lin["ki"], self.p["weight_i"]), (lin["kh"], self.p["weight_h"])]

    def input_jacobian(self, lin: Any) -> Tensor:
        return sum(k.unsqueeze(-1) * w for k, w in self._pairs(lin))

    def input_matmul(self, lin: Any, v: Tensor) -> Tensor:
        return sum(k.unsqueeze(-1) * (w @ v) for k, w in self._pairs(lin))

    def input_rmatmul(self, lin: Any, u: Tensor) -> Tensor:
        return sum((u * k.unsqueeze(-2)) @ w for k, w in self._pairs(lin))

    def weight_grad_norms(self, lin: Any, g: Tensor, s_prev: Tensor) -> Tensor:
        """`||dL/d[W_f; W_i; W_h]|_t||_F = |[g kf; g ki; g kh]| |x_t|`."""
        delta = torch.cat([g * k for k, _ in self._pairs(lin)], -1)
        return stable_norm(delta, -1).to(torch.float64) * lin["xnorm"].to(torch.float64)
