"""The GRU, as `torch.nn.GRUCell` (gates r, z, n; `n = act(W_in x + b_in + r * (W_hn h + b_hn))`).

Its step Jacobian is `diag(kr) W_hr + diag(kz) W_hz + diag(dn r) W_hn + diag(z)`: products
never form it, and fast mode forms the Jacobians of a few lags at once, in place
(`stacks_jacobians`: cheaper than one call per step).

May import: `gradscope.model.cells.pytorch`, `gradscope.model.batched`.
"""

from __future__ import annotations

from typing import Any

import torch

from ..batched import linear, linear_t, scale_rows
from .pytorch import PyTorchCell, row_blocks_into, split, split_rows

Tensor = torch.Tensor


class GRUCell(PyTorchCell):
    """`torch.nn.GRUCell` (gates r, z, n; `n = act(W_in x + b_in + r * (W_hn h + b_hn))`)."""

    kind = "gru"
    stacks_jacobians = True

    def _parts(self, s: Tensor, x: Tensor) -> tuple[Tensor, ...]:
        n, w = self.hidden, self.w
        xr, xz, xn = split(linear(w.weight_ih, x) + w.bias_ih, n)
        hr, hz, hn = split(linear(w.weight_hh, s) + w.bias_hh, n)
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
        wr, wz, wn = split_rows(self.w.weight_hh, self.hidden)
        j = scale_rows(lin["kr"], wr) + scale_rows(lin["kz"], wz) + scale_rows(lin["dn"] * lin["r"], wn)
        return j + torch.diag_embed(lin["z"])

    def input_jacobian(self, lin: Any) -> Tensor:
        wr, wz, wn = split_rows(self.w.weight_ih, self.hidden)
        return scale_rows(lin["kr"], wr) + scale_rows(lin["kz"], wz) + scale_rows(lin["dn"], wn)

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return torch.cat([g * lin["kr"], g * lin["kz"], g * lin["dn"] * lin["r"]], dim=-1)

    # -- products without forming J ------------------------------------------------------
    def _coefs(self, lin: Any, recurrent: bool) -> tuple[Tensor, Tensor, Tensor]:
        """Row scales of the r, z, n blocks (the reset gate scales only `W_hn h`)."""
        return lin["kr"], lin["kz"], (lin["dn"] * lin["r"] if recurrent else lin["dn"])

    def _combine(self, coefs: tuple[Tensor, ...], a: Tensor) -> Tensor:
        ar, az, an = split(a, self.hidden)
        return coefs[0] * ar + coefs[1] * az + coefs[2] * an

    def _jv(self, lin: Any, v: Tensor) -> Tensor:
        return self._combine(self._coefs(lin, True), linear_t(self.w.weight_hh.mT, v)) + lin["z"] * v

    def _uj(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_hh, self.weight_grad_rows(lin, u)) + lin["z"] * u

    def _input_jv(self, lin: Any, v: Tensor) -> Tensor:
        return self._combine(self._coefs(lin, False), linear_t(self.w.weight_ih.mT, v))

    def _input_uj(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_ih, torch.cat([u * c for c in self._coefs(lin, False)], dim=-1))

    def _rows_j(self, lin: Any, q: Tensor, out: Tensor | None = None) -> Tensor:
        """`q J` for one step, J formed once (`3 N^2` work) and multiplied."""
        return torch.bmm(q, self.jacobian_stack(lin), out=out)

    def jacobian_stack(self, lin: Any) -> Tensor:
        """J for every step of `lin` `(..., B, N, N)`, formed in place (four passes over
        it, no temporaries): a few steps at once cost less than one call per step, so fast
        mode forms the Jacobians of a few lags together."""
        n, z = self.hidden, lin["z"]
        j = torch.empty((*z.shape, n), dtype=z.dtype, device=z.device)
        row_blocks_into(j, self.w.weight_hh, self._coefs(lin, True))
        j.diagonal(dim1=-2, dim2=-1).add_(z)
        return j

    def frobenius(self, lin: Any) -> Tensor:
        return self._frobenius([(torch.stack(self._coefs(lin, True), dim=-1), lin["z"])], cross=True)
