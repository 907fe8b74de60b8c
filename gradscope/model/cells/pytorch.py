"""What PyTorch's three cells share: their weights, and products with their step
Jacobians that never form them.

The built-in cells follow PyTorch's formulas, gate order and parameter names
(`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`; LSTM gates (i, f, g, o), GRU gates
(r, z, n)), with a leading trial axis on every parameter: `weight_hh` is `(B, G*N, N)`.

Each step Jacobian is a sum of row-scaled gate blocks of `weight_hh` plus diagonal
terms (RNN: `J = diag(d) W`; GRU: `sum_g diag(k_g) W_g + diag(z)`; LSTM: the same on
`h`, diagonal on `c`). So `J v` and `u J` are one product with `weight_hh` and a few
elementwise scalings; a whole chunk of steps times one vector each is one matrix
product (what the per-step gains and the input sensitivity need), and `||J||_F^2` is a
small quadratic form in the row scales (`RowGram`).

Each cell writes its products on vectors `(..., B, D)` (`_jv`: `J v`; `_uj`: `u J`; the
`_input_` pair for `ds_t/dx_t`) and on the rows of one step's matrix `(B, M, D)`
(`_rows_j`: `q J`, with `out=`); `PyTorchCell` turns them into the contract's products
on columns `(..., B, D, K)` and rows `(..., B, K, D)`.

May import: `gradscope.model.contract`, `gradscope.model.batched`, `gradscope.model.draws`,
`gradscope.model.activations`, `gradscope.config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...config import Config, cell_spec
from ..activations import Activation, get_activation
from ..contract import CellBase
from ..draws import pytorch_uniform, recurrent_block

Tensor = torch.Tensor


def split(t: Tensor, n: int) -> tuple[Tensor, ...]:
    """The gate blocks of the last axis."""
    return tuple(t.split(n, dim=-1))


def split_rows(w: Tensor, n: int) -> tuple[Tensor, ...]:
    """The gate blocks of a weight's rows."""
    return tuple(w.split(n, dim=-2))


def row_blocks_into(out: Tensor, weight: Tensor, coefs: tuple[Tensor, ...]) -> Tensor:
    """`out = sum_g diag(coefs[g]) W_g` for one step: coefs `(B, N)`, weight `(B, G*N, K)`."""
    for g, (w, k) in enumerate(zip(weight.split(coefs[0].shape[-1], dim=-2), coefs)):
        if g == 0:
            torch.mul(w, k.unsqueeze(-1), out=out)
        else:
            out.addcmul_(w, k.unsqueeze(-1))
    return out


@dataclass
class Weights:
    weight_ih: Tensor  # (B, G*N, I)
    weight_hh: Tensor  # (B, G*N, N)
    bias_ih: Tensor  # (B, G*N)
    bias_hh: Tensor  # (B, G*N)


def _first(lin: Any) -> Tensor:
    return next(iter(lin.values()))


class RowGram:
    """`||J||_F` of a cell whose Jacobian rows are sums of scaled rows of `weight_hh`."""

    def _frobenius(self, rows: list[tuple[Tensor, Tensor | None]], cross: bool = False) -> Tensor:
        """`||J||_F` `(..., B)` in float64, J given by row groups: row r of a group is
        `sum_g coef[r, g] W_g[r, :] + diag[r] e_r` (coef `(..., B, N, G)`, diag `(..., B, N)`
        or None; `cross`: the diagonal sits on the same columns as `W_g[r, r]`, as for the
        GRU, else on columns of its own, as for the LSTM's c).

        A row's squared norm is the quadratic form `coef^T <W_g[r], W_h[r]> coef` in the row
        Gram matrices, computed once per weight. Everything is scaled by the largest entry
        first, so a Jacobian of 1e-160 neither underflows nor reads as zero."""
        gram, wdiag, scale = self._scaled_gram()
        ks, qs = [], []
        for coef, diag in rows:
            c = coef.to(torch.float64) * scale[:, None, None]  # rows of W / scale
            k = c.abs().amax(-1)
            if diag is not None:
                dg = diag.to(torch.float64)
                k = torch.maximum(k, dg.abs())
            k = torch.where(k > 0, k, torch.ones_like(k))
            c = c / k.unsqueeze(-1)
            q = (c.unsqueeze(-1) * c.unsqueeze(-2) * gram).sum((-2, -1))
            if diag is not None:
                dg = dg / k
                q = q + dg * dg + (2 * dg * (c * wdiag).sum(-1) if cross else 0.0)
            ks.append(k)
            qs.append(q.clamp_min(0))
        k, q = torch.cat(ks, -1), torch.cat(qs, -1)
        top = k.amax(-1, keepdim=True)
        return top.squeeze(-1) * (((k / top) ** 2) * q).sum(-1).sqrt()

    def _scaled_gram(self) -> tuple[Tensor, Tensor, Tensor]:
        """Row Gram matrices `(B, N, G, G)` and block diagonals `(B, N, G)` of
        `weight_hh / scale`, and `scale` `(B,)` (its largest entry), float64, cached per
        weight (recomputed if `weight_hh` is replaced or changed in place)."""
        w = self.w.weight_hh
        key = (w.data_ptr(), w._version, w.shape)
        if getattr(self, "_gram_key", None) != key:
            blocks = self.recurrent_blocks().to(torch.float64)  # (B, G, N, N)
            scale = blocks.abs().amax((1, 2, 3))
            scale = torch.where(scale > 0, scale, torch.ones_like(scale))
            rows = (blocks / scale[:, None, None, None]).transpose(1, 2)  # (B, N, G, N)
            diag = torch.diagonal(rows, dim1=1, dim2=3).permute(0, 2, 1)  # (B, N, G): W_g[r, r]
            self._gram = (rows @ rows.transpose(-1, -2), diag, 1.0 / scale)
            self._gram_key = key
        gram, diag, inv = self._gram
        return gram, diag, 1.0 / inv


class PyTorchCell(RowGram, CellBase):
    """The weights, sizes and contract products of `RNNCell`, `LSTMCell` and `GRUCell`."""

    # `matmul` on a frame of K columns is not declared fast: the spectrum forms the chunk's
    # Jacobians and multiplies those (one `bmm` per step), as it always has for these cells
    fast_products = frozenset({"rmatmul", "input", "gram", "frobenius"})

    def __init__(self, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor, bias_hh: Tensor,
                 act: str = "tanh", gate_act: str = "sigmoid") -> None:
        g = cell_spec(self.kind).blocks
        if weight_hh.ndim != 3 or weight_hh.shape[1] != g * weight_hh.shape[2]:
            raise ValueError(
                f"{self.kind}: weight_hh must be (trials, {g}*hidden, hidden), got {tuple(weight_hh.shape)}"
            )
        self.w = Weights(weight_ih, weight_hh, bias_ih, bias_hh)
        self.act: Activation = get_activation(act)
        self.gate_act: Activation = get_activation(gate_act)
        self.trials, _, self.hidden = weight_hh.shape
        self.input_size = weight_ih.shape[2]
        self.state_dim = cell_spec(self.kind).state_dim(self.hidden)

    @classmethod
    def draw_weights(cls, config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """One network's parameters in PyTorch's names and shapes (float64): the gate
        blocks of `weight_hh` by `--init`, `weight_ih` PyTorch's uniform, the biases
        PyTorch's (default init), N(0, bias_std^2) on `bias_ih`, or zeros; `forget_bias`
        added to the forget gate's block of `bias_ih` where the cell has one."""
        spec = cell_spec(cls.kind)
        n, i, g = config.hidden, config.n_input, spec.blocks
        weight_ih = pytorch_uniform(rng, n, (g * n, i))
        weight_hh = np.concatenate([recurrent_block(rng, n, config.init, config.gain) for _ in range(g)])
        if config.bias_std is not None:
            bias_ih = rng.normal(0.0, config.bias_std, g * n)
            bias_hh = np.zeros(g * n)
        elif config.init == "default":
            bias_ih = pytorch_uniform(rng, n, (g * n,))
            bias_hh = pytorch_uniform(rng, n, (g * n,))
        else:
            bias_ih = np.zeros(g * n)
            bias_hh = np.zeros(g * n)
        if "f" in spec.gates:
            f = spec.gates.index("f")
            bias_ih[f * n : (f + 1) * n] += config.forget_bias
        return {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh}

    def parameters(self) -> dict[str, Tensor]:
        return {"weight_ih": self.w.weight_ih, "weight_hh": self.w.weight_hh,
                "bias_ih": self.w.bias_ih, "bias_hh": self.w.bias_hh}

    def recurrent_blocks(self) -> Tensor:
        """`weight_hh` as `(B, G, N, N)` gate blocks."""
        b, gn, n = self.w.weight_hh.shape
        return self.w.weight_hh.reshape(b, gn // n, n, n)

    def recurrent_matrix(self) -> Tensor:
        return self.w.weight_hh

    # -- the contract's products from the vector kernels ----------------------------------
    def matmul(self, lin: Any, v: Tensor) -> Tensor:
        return _columns(self._jv, lin, v)

    def rmatmul(self, lin: Any, u: Tensor, out: Tensor | None = None) -> Tensor:
        if u.shape[-2] > 1 and _first(lin).ndim == 2 and u.ndim == 3:  # the rows of one step's matrix
            return self._rows_j(lin, u, out=out)
        result = _rows(self._uj, lin, u)
        return result if out is None else out.copy_(result)

    def input_matmul(self, lin: Any, v: Tensor) -> Tensor:
        return _columns(self._input_jv, lin, v)

    def input_rmatmul(self, lin: Any, u: Tensor) -> Tensor:
        return _rows(self._input_uj, lin, u)

    def _rows_j(self, lin: Any, q: Tensor, out: Tensor | None = None) -> Tensor:
        """`q J` for the rows `q` `(B, M, D)` of one step (J formed once, then a `bmm`)."""
        return torch.bmm(q, self.jacobian(lin), out=out)


def _columns(kernel: Any, lin: Any, v: Tensor) -> Tensor:
    """A vector kernel `(..., B, D) -> (..., B, D')` applied to columns `(..., B, D, K)`."""
    if v.shape[-1] == 1:
        return kernel(lin, v.squeeze(-1)).unsqueeze(-1)
    return kernel(lin, v.movedim(-1, 0)).movedim(0, -1)


def _rows(kernel: Any, lin: Any, u: Tensor) -> Tensor:
    """A vector kernel applied to rows `(..., B, K, D)`."""
    if u.shape[-2] == 1:
        return kernel(lin, u.squeeze(-2)).unsqueeze(-2)
    return kernel(lin, u.movedim(-2, 0)).movedim(0, -2)
