"""What the modern cells share (LRU, minGRU, minLSTM, S6, sLSTM; one module each):
parameters by name (checked), sizes, and the products of a diagonal step Jacobian.

Parameter names follow the reference code of each paper where it has names (LRU:
`nu_log`, `theta_log`, `gamma_log`, `B_re`, `B_im`; S6: mambapy's `x_proj`, `dt_proj`,
`A_log`, `D`), else PyTorch's style (`weight_z`, `weight_h`, `weight_ih`, ...), with a
leading trial axis on every one.

`DiagonalCell` is the contract for a cell whose step Jacobian is `diag(d_t)` with `d_t`
depending on the input only (minGRU, minLSTM, S6): `linearize` puts `d` in `lin["d"]`,
and every product, `log|det J|` and `log_abs_diagonal` follow from it at O(D) a step.

May import: `gradscope.model.contract`, `gradscope.model.batched`, `gradscope.model.activations`,
`gradscope.config`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ...config import Config, cell_spec
from ..activations import Activation, get_activation
from ..batched import stable_norm
from ..contract import CellBase, Structure, check_parameters

Tensor = torch.Tensor


class ModernCell(CellBase):
    """Parameters by name (checked), activations, sizes; `draw_weights` is each cell's."""

    names: tuple[str, ...] = ()  # parameter names
    optional: tuple[str, ...] = ()  # names that may be absent (S6's input projection)

    def __init__(self, act: str = "tanh", gate_act: str = "sigmoid", **params: Tensor) -> None:
        options = {k: params.pop(k) for k in list(params) if k in cell_spec(self.kind).options}
        check_parameters(self.kind, self.names, params, self.optional)
        self.p = dict(params)
        self.options = options
        self.act: Activation = get_activation(act)
        self.gate_act: Activation = get_activation("sigmoid")
        self.setup()

    def setup(self) -> None:
        """Sizes from the parameters: `trials`, `hidden`, `input_size`, `state_dim`."""
        raise NotImplementedError

    def parameters(self) -> dict[str, Tensor]:
        return dict(self.p)

    @classmethod
    def draw_weights(cls, config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
        raise NotImplementedError


def linear_uniform(rng: np.random.Generator, fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
    """`nn.Linear`'s default weight init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape)


def g_candidate(a: Tensor) -> tuple[Tensor, Tensor]:
    """minGRU's `g(a) = a + 1/2 (a >= 0), sigmoid(a) (a < 0)` (Feng et al. 2024, the
    log-space model's candidate: continuous and positive) and its derivative."""
    s = torch.sigmoid(a)
    pos = a >= 0
    return torch.where(pos, a + 0.5, s), torch.where(pos, torch.ones_like(a), s * (1 - s))


def apply_rows(weight: Tensor, v: Tensor) -> Tensor:
    """`weight @ v` per trial for columns: weight `(B, R, K)`, v `(..., B, K, M)` -> `(..., B, R, M)`."""
    return torch.matmul(weight, v)


class RowScaledInput:
    """An input Jacobian `B_t = sum_g diag(k_g) W_g` (minGRU, minLSTM): its D x D twin
    `diag(w)^(1/2) B B^T diag(w)^(1/2) = sum_(g,h) (s k_g)(s k_h)^T o (W_g W_h^T)`, `s = w^(1/2)`,
    from the weights' Gram matrices (cached), with no `B_t` formed."""

    def row_pairs(self, lin: Any) -> list[tuple[Tensor, Tensor]]:
        raise NotImplementedError

    def input_outer(self, lin: Any, w: Tensor) -> Tensor:
        pairs = self.row_pairs(lin)
        weights = [wt for _, wt in pairs]
        key = tuple((t.data_ptr(), t._version) for t in weights)
        if getattr(self, "_outer_key", None) != key:
            self._outer = [[(a.to(torch.float64) @ b.to(torch.float64).mT) for b in weights] for a in weights]
            self._outer_key = key
        s = w.sqrt()
        scaled = [s * k.to(torch.float64) for k, _ in pairs]
        out = None
        for g, a in enumerate(scaled):
            for h, b in enumerate(scaled):
                term = (a.unsqueeze(-1) * b.unsqueeze(-2)) * self._outer[g][h]
                out = term if out is None else out + term
        return out


class DiagonalCell(ModernCell):
    """`J_t = diag(d_t)`, `d_t = lin["d"]` `(..., B, D)`: products, norms, determinants."""

    structure = Structure.DIAGONAL
    fast_products = frozenset({"matmul", "rmatmul", "input", "gram", "frobenius"})

    def jacobian(self, lin: Any) -> Tensor:
        return torch.diag_embed(lin["d"])

    def matmul(self, lin: Any, v: Tensor) -> Tensor:
        return lin["d"].unsqueeze(-1) * v

    def rmatmul(self, lin: Any, u: Tensor, out: Tensor | None = None) -> Tensor:
        if out is None:
            return u * lin["d"].unsqueeze(-2)
        return torch.mul(u, lin["d"].unsqueeze(-2), out=out)

    def gram(self, lin: Any, u: Tensor) -> Tensor:
        d = lin["d"].unsqueeze(-2)
        return u * (d * d)

    def frobenius(self, lin: Any) -> Tensor:
        return stable_norm(lin["d"], -1).to(torch.float64)

    def log_abs_det(self, lin: Any) -> Tensor:
        return self.log_abs_diagonal(lin).sum(-1)

    def log_abs_diagonal(self, lin: Any) -> Tensor:
        """`lin["logd"]` where the cell computes the log directly (more accurate), else `log|d|`."""
        if "logd" in lin:
            return lin["logd"]
        return lin["d"].to(torch.float64).abs().log()

    def jacobian_stack(self, lin: Any) -> Tensor:
        return self.jacobian(lin)
