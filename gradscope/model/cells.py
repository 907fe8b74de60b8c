"""Recurrent cells, batched over B independent networks, with analytic Jacobians.

A cell is one step `s_t = F(s_{t-1}, x_t)`. The built-in cells follow PyTorch's
formulas, gate order and parameter names (`weight_ih`, `weight_hh`, `bias_ih`,
`bias_hh`; LSTM gates (i, f, g, o), GRU gates (r, z, n)), with a leading trial axis on
every parameter: `weight_hh` is `(B, G*N, N)`.

Every method takes states `s` of shape `(..., B, D)` and inputs `x` of shape
`(..., B, I)`: the leading axes let a whole chunk of steps be linearised in one call.
`linearize(s, x)` computes the pre-activations once; the Jacobians and the weight
gradient are read from it:

- `jacobian(lin)`: `ds_t/ds_{t-1}`, `(..., B, D, D)`;
- `input_jacobian(lin)`: `ds_t/dx_t`, `(..., B, D, I)`;
- `weight_grad_rows(lin, g)`: `delta`, `(..., B, G*N)`, with `g = dL/ds_t` such that the
  step's contribution to `dL/dweight_hh` is the outer product `delta h_{t-1}^T`
  (so its Frobenius norm is `|delta| |h_{t-1}|`).

The LSTM state is `s = [h; c]` (D = 2N, h first): the cell-state path is what keeps LSTM
gradients alive, so it is never dropped. The same derivatives without forming a Jacobian
(`jvp`, `vjp`, `matrix_vjp`, ...) come from the mixins of `gradscope.model.products`.

The research cells (IndRNN, MinimalRNN, antisymmetric, coRNN) live in
`gradscope.model.research_cells` and are registered in `CELL_CLASSES` here.

May import: `gradscope.model.activations`, `gradscope.model.batched`,
`gradscope.model.products`, `gradscope.model.research_cells`, `gradscope.config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch

from ..config import GATES
from .activations import Activation, get_activation
from .batched import linear
from .batched import scale_rows as _scale_rows
from .products import GRUProducts, LSTMProducts, RNNProducts
from .research_cells import RESEARCH_CELLS

Tensor = torch.Tensor


class Cell(Protocol):
    """What unrolling, the transport and the Lyapunov spectrum need of a cell.

    Every tensor carries the trial axis B just before its last axis; leading axes
    (a chunk of steps) pass through. `Lin` is whatever `linearize` returns: the
    pre-activation quantities the three read-outs below share.
    """

    trials: int  # B
    hidden: int  # N (the size of h; the readout and W_hh act on it)
    input_size: int  # I
    state_dim: int  # D (N, or 2N for the LSTM's [h; c])

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        """`s_t = F(s_{t-1}, x_t)`: states `(..., B, D)`, inputs `(..., B, I)`."""
        ...

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        """The step's derivatives at `(s_{t-1}, x_t)`, for the three methods below."""
        ...

    def jacobian(self, lin: Any) -> Tensor:
        """`ds_t/ds_{t-1}`, `(..., B, D, D)`."""
        ...

    def input_jacobian(self, lin: Any) -> Tensor:
        """`ds_t/dx_t`, `(..., B, D, I)`."""
        ...

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        """`delta` `(..., B, G*N)` with `dL/dW_hh|_t = delta h_{t-1}^T` for `g = dL/ds_t`."""
        ...

    def hidden_part(self, s: Tensor) -> Tensor:
        """The `h` part of a state, `(..., B, N)`."""
        ...

    # Optional, used when a cell has them (`hasattr`): `weight_grad_norms(lin, g)` gives
    # `||dL/dweight_hh|_t||_F` `(..., B)` directly, for cells with no single outer product
    # (stacked layers, custom cells); `jvp`, `vjp`, `matrix_vjp`, `jacobian_frobenius`
    # (`gradscope.model.products`) give the Jacobian's products without forming it.


def _blocks(t: Tensor, n: int) -> tuple[Tensor, ...]:
    return tuple(t.split(n, dim=-1))


def _wblocks(w: Tensor, n: int) -> tuple[Tensor, ...]:
    return tuple(w.split(n, dim=-2))


@dataclass
class _Weights:
    weight_ih: Tensor  # (B, G*N, I)
    weight_hh: Tensor  # (B, G*N, N)
    bias_ih: Tensor  # (B, G*N)
    bias_hh: Tensor  # (B, G*N)


class _Base:
    kind = ""

    def __init__(
        self,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor,
        bias_hh: Tensor,
        act: str = "tanh",
        gate_act: str = "sigmoid",
    ) -> None:
        g = GATES[self.kind]
        if weight_hh.ndim != 3 or weight_hh.shape[1] != g * weight_hh.shape[2]:
            raise ValueError(
                f"{self.kind}: weight_hh must be (trials, {g}*hidden, hidden), got {tuple(weight_hh.shape)}"
            )
        self.w = _Weights(weight_ih, weight_hh, bias_ih, bias_hh)
        self.act: Activation = get_activation(act)
        self.gate_act: Activation = get_activation(gate_act)
        self.trials, _, self.hidden = weight_hh.shape
        self.input_size = weight_ih.shape[2]
        self.state_dim = self.hidden

    def hidden_part(self, s: Tensor) -> Tensor:
        """The `h` part of a state (the readout and the weight gradient use it)."""
        return s[..., : self.hidden]

    def parameters(self) -> dict[str, Tensor]:
        return {
            "weight_ih": self.w.weight_ih,
            "weight_hh": self.w.weight_hh,
            "bias_ih": self.w.bias_ih,
            "bias_hh": self.w.bias_hh,
        }

    def recurrent_blocks(self) -> Tensor:
        """`weight_hh` as `(B, G, N, N)` gate blocks."""
        b, gn, n = self.w.weight_hh.shape
        return self.w.weight_hh.reshape(b, gn // n, n, n)


# ------------------------------------------------------------------------- vanilla RNN
class RNNCell(RNNProducts, _Base):
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
        return _scale_rows(lin["d"], self.w.weight_hh)

    def input_jacobian(self, lin: Any) -> Tensor:
        return _scale_rows(lin["d"], self.w.weight_ih)

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return g * lin["d"]


# ------------------------------------------------------------------------------ LSTM
class LSTMCell(LSTMProducts, _Base):
    """`torch.nn.LSTMCell` on the state `[h; c]` (gates i, f, g, o)."""

    kind = "lstm"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.state_dim = 2 * self.hidden

    def _gates(self, s: Tensor, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        n, w = self.hidden, self.w
        h, c = s[..., :n], s[..., n:]
        a = linear(w.weight_ih, x) + w.bias_ih + linear(w.weight_hh, h) + w.bias_hh
        return a, h, c

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        a, _, c = self._gates(s, x)
        ai, af, ag, ao = _blocks(a, self.hidden)
        ga, act = self.gate_act.phi, self.act.phi
        c2 = ga(af) * c + ga(ai) * act(ag)
        return torch.cat([ga(ao) * act(c2), c2], dim=-1)

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        a, _, c = self._gates(s, x)
        ai, af, ag, ao = _blocks(a, self.hidden)
        ga, dga, act, dact = self.gate_act.phi, self.gate_act.dphi, self.act.phi, self.act.dphi
        i, f, g, o = ga(ai), ga(af), act(ag), ga(ao)
        c2 = f * c + i * g
        tc2, dtc2 = act(c2), dact(c2)
        # d c'/d(pre-activations of i, f, g) and d h'/d(pre-activation of o)
        kc = torch.cat([g * dga(ai), c * dga(af), i * dact(ag)], dim=-1)
        ko = tc2 * dga(ao)
        return {"kc": kc, "ko": ko, "f": f, "odc": o * dtc2}

    def _through(self, lin: Any, weight: Tensor) -> tuple[Tensor, Tensor]:
        """(dh'/dv, dc'/dv) for a variable v entering the gates through `weight` (4N rows)."""
        n = self.hidden
        wi, wf, wg, wo = _wblocks(weight, n)
        ki, kf, kg = _blocks(lin["kc"], n)
        dc = _scale_rows(ki, wi) + _scale_rows(kf, wf) + _scale_rows(kg, wg)
        dh = _scale_rows(lin["ko"], wo) + lin["odc"].unsqueeze(-1) * dc
        return dh, dc

    def jacobian(self, lin: Any) -> Tensor:
        dh_dh, dc_dh = self._through(lin, self.w.weight_hh)
        f = lin["f"]
        dc_dc = torch.diag_embed(f)
        dh_dc = torch.diag_embed(lin["odc"] * f)
        top = torch.cat([dh_dh, dh_dc], dim=-1)
        bottom = torch.cat([dc_dh, dc_dc], dim=-1)
        return torch.cat([top, bottom], dim=-2)

    def input_jacobian(self, lin: Any) -> Tensor:
        dh, dc = self._through(lin, self.w.weight_ih)
        return torch.cat([dh, dc], dim=-2)

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        n = self.hidden
        gh, gc = g[..., :n], g[..., n:]
        gc_total = gc + gh * lin["odc"]
        return torch.cat([gc_total.repeat(*([1] * (g.ndim - 1)), 3) * lin["kc"], gh * lin["ko"]], dim=-1)


# ------------------------------------------------------------------------------- GRU
class GRUCell(GRUProducts, _Base):
    """`torch.nn.GRUCell` (gates r, z, n; `n = act(W_in x + b_in + r * (W_hn h + b_hn))`)."""

    kind = "gru"

    def _parts(self, s: Tensor, x: Tensor) -> tuple[Tensor, ...]:
        n, w = self.hidden, self.w
        xr, xz, xn = _blocks(linear(w.weight_ih, x) + w.bias_ih, n)
        hr, hz, hn = _blocks(linear(w.weight_hh, s) + w.bias_hh, n)
        return xr + hr, xz + hz, xn, hn

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        ar, az, xn, hn = self._parts(s, x)
        ga = self.gate_act.phi
        r, z = ga(ar), ga(az)
        nn_ = self.act.phi(xn + r * hn)
        return (1 - z) * nn_ + z * s

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        ar, az, xn, hn = self._parts(s, x)
        ga, dga = self.gate_act.phi, self.gate_act.dphi
        r, z = ga(ar), ga(az)
        an = xn + r * hn
        nn_ = self.act.phi(an)
        dn = (1 - z) * self.act.dphi(an)  # dh'/d(pre-activation of n)
        return {
            "z": z,
            "r": r,
            "kr": dn * hn * dga(ar),  # dh'/d(pre-activation of r)
            "kz": (s - nn_) * dga(az),  # dh'/d(pre-activation of z)
            "dn": dn,
        }

    def jacobian(self, lin: Any) -> Tensor:
        wr, wz, wn = _wblocks(self.w.weight_hh, self.hidden)
        j = _scale_rows(lin["kr"], wr) + _scale_rows(lin["kz"], wz) + _scale_rows(lin["dn"] * lin["r"], wn)
        return j + torch.diag_embed(lin["z"])

    def input_jacobian(self, lin: Any) -> Tensor:
        wr, wz, wn = _wblocks(self.w.weight_ih, self.hidden)
        return _scale_rows(lin["kr"], wr) + _scale_rows(lin["kz"], wz) + _scale_rows(lin["dn"], wn)

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return torch.cat([g * lin["kr"], g * lin["kz"], g * lin["dn"] * lin["r"]], dim=-1)


CELL_CLASSES = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell, **RESEARCH_CELLS}


def params_count(cell: str, hidden: int, input_size: int) -> int:
    """Parameters of one PyTorch module: `G N (I + N) + 2 G N` (the research cells count
    their own, `params_count` of their class)."""
    if cell in RESEARCH_CELLS:
        return RESEARCH_CELLS[cell].params_count(hidden, input_size)
    g = GATES[cell]
    return g * hidden * (input_size + hidden) + 2 * g * hidden
