"""The vanilla RNN, as `torch.nn.RNNCell`: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`.

Its step Jacobian is `J = diag(d) W_hh` with `d = act'(a)`: every product is one product
with `W_hh` and a scaling (`row_scaled` says so, so the numerics never form J), `J J^T`
is one product with the cached `W_hh W_hh^T`, and `log|det J| = sum log|d| + log|det W_hh|`
with the last term computed once per network.

May import: `gradscope.model.cells.pytorch`, `gradscope.model.batched`.
"""

from __future__ import annotations

from typing import Any

import torch

from ..batched import linear, linear_t, log_abs_det, scale_rows
from .pytorch import PyTorchCell

Tensor = torch.Tensor


class RNNCell(PyTorchCell):
    """`h' = act(W_ih x + b_ih + W_hh h + b_hh)`, as `torch.nn.RNNCell`."""

    kind = "rnn"

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        w = self.w
        return self.act.phi(linear(w.weight_ih, x) + w.bias_ih + linear(w.weight_hh, s) + w.bias_hh)

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        w = self.w
        a = linear(w.weight_ih, x) + w.bias_ih + linear(w.weight_hh, s) + w.bias_hh
        return {"d": self.act.dphi(a)}

    def jacobian(self, lin: Any) -> Tensor:
        return scale_rows(lin["d"], self.w.weight_hh)

    def input_jacobian(self, lin: Any) -> Tensor:
        return scale_rows(lin["d"], self.w.weight_ih)

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return g * lin["d"]

    def row_scaled(self, lin: Any) -> tuple[Tensor, Tensor]:
        return lin["d"], self.w.weight_hh

    def log_abs_det(self, lin: Any) -> Tensor:
        w = self.w.weight_hh
        key = (w.data_ptr(), w._version, w.shape)
        if getattr(self, "_logdet_key", None) != key:  # log|det W_hh|, once per network
            self._logdet, self._logdet_key = log_abs_det(w), key
        return lin["d"].to(torch.float64).abs().log().sum(-1) + self._logdet

    # -- products without forming J ------------------------------------------------------
    def _jv(self, lin: Any, v: Tensor) -> Tensor:
        return lin["d"] * linear_t(self.w.weight_hh.mT, v)

    def _uj(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_hh, lin["d"] * u)

    def _input_jv(self, lin: Any, v: Tensor) -> Tensor:
        return lin["d"] * linear_t(self.w.weight_ih.mT, v)

    def _input_uj(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_ih, lin["d"] * u)

    def _rows_j(self, lin: Any, q: Tensor, out: Tensor | None = None) -> Tensor:
        return torch.bmm(q, lin["d"].unsqueeze(-1) * self.w.weight_hh, out=out)

    def gram(self, lin: Any, u: Tensor) -> Tensor:
        """`u J J^T = d * (W W^T (d * u))` for one row: one product with the cached `W W^T`."""
        if u.shape[-2] != 1:
            return super().gram(lin, u)
        w = self.w.weight_hh
        key = (w.data_ptr(), w._version, w.shape, w.dtype)
        if getattr(self, "_wwt_key", None) != key:
            self._wwt, self._wwt_key = (w @ w.mT).contiguous(), key
        d, v = lin["d"], u.squeeze(-2)
        return (d * linear_t(self._wwt, d * v)).unsqueeze(-2)

    def frobenius(self, lin: Any) -> Tensor:
        return self._frobenius([(lin["d"].unsqueeze(-1), None)])
