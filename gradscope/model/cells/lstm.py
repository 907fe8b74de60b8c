"""The LSTM, as `torch.nn.LSTMCell`, on the state `s = [h; c]` (D = 2N, h first).

The cell-state path is what keeps LSTM gradients alive, so it is never dropped. The
Jacobian is `[[dh/dh, diag(o tanh'(c') f)], [dc/dh, diag(f)]]`: its left half is a sum of
row-scaled gate blocks of `W_hh`, its right half diagonal, so products never form it,
and `q J` for the rows of one step's matrix forms only the left half.

May import: `gradscope.model.cells.pytorch`, `gradscope.model.batched`.
"""

from __future__ import annotations

from typing import Any

import torch

from ..batched import linear, linear_t, scale_rows
from .pytorch import PyTorchCell, row_blocks_into, split, split_rows

Tensor = torch.Tensor


class LSTMCell(PyTorchCell):
    """`torch.nn.LSTMCell` on the state `[h; c]` (gates i, f, g, o)."""

    kind = "lstm"

    def _gates(self, s: Tensor, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        n, w = self.hidden, self.w
        h, c = s[..., :n], s[..., n:]
        a = linear(w.weight_ih, x) + w.bias_ih + linear(w.weight_hh, h) + w.bias_hh
        return a, h, c

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        a, _, c = self._gates(s, x)
        ai, af, ag, ao = split(a, self.hidden)
        ga, act = self.gate_act.phi, self.act.phi
        c2 = ga(af) * c + ga(ai) * act(ag)
        return torch.cat([ga(ao) * act(c2), c2], dim=-1)

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        a, _, c = self._gates(s, x)
        ai, af, ag, ao = split(a, self.hidden)
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
        wi, wf, wg, wo = split_rows(weight, n)
        ki, kf, kg = split(lin["kc"], n)
        dc = scale_rows(ki, wi) + scale_rows(kf, wf) + scale_rows(kg, wg)
        dh = scale_rows(lin["ko"], wo) + lin["odc"].unsqueeze(-1) * dc
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

    # -- products without forming J ------------------------------------------------------
    def _gates_jv(self, lin: Any, a: Tensor, vc: Tensor | None) -> Tensor:
        """`[dh; dc]` from the gate pre-activation changes `a` `(..., B, 4N)` (and `dc_prev`)."""
        ki, kf, kg = split(lin["kc"], self.hidden)
        ai, af, ag, ao = split(a, self.hidden)
        dc = ki * ai + kf * af + kg * ag
        if vc is not None:
            dc = dc + lin["f"] * vc
        return torch.cat([lin["ko"] * ao + lin["odc"] * dc, dc], dim=-1)

    def _jv(self, lin: Any, v: Tensor) -> Tensor:
        n = self.hidden
        return self._gates_jv(lin, linear_t(self.w.weight_hh.mT, v[..., :n]), v[..., n:])

    def _uj(self, lin: Any, u: Tensor) -> Tensor:
        n = self.hidden
        dh = linear_t(self.w.weight_hh, self.weight_grad_rows(lin, u))
        return torch.cat([dh, lin["f"] * (u[..., n:] + u[..., :n] * lin["odc"])], dim=-1)

    def _input_jv(self, lin: Any, v: Tensor) -> Tensor:
        return self._gates_jv(lin, linear_t(self.w.weight_ih.mT, v), None)

    def _input_uj(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_ih, self.weight_grad_rows(lin, u))

    def _rows_j(self, lin: Any, q: Tensor, out: Tensor | None = None) -> Tensor:
        """`q J` for one step: the right half of J is diagonal, so only its left half
        `[dh/dh; dc/dh]` `(B, 2N, N)` is formed and multiplied (half a D x D product)."""
        n = self.hidden
        left = torch.empty((q.shape[0], 2 * n, n), dtype=q.dtype, device=q.device)
        row_blocks_into(left[:, n:], self.w.weight_hh[:, : 3 * n], split(lin["kc"], n))
        torch.mul(left[:, n:], lin["odc"].unsqueeze(-1), out=left[:, :n])
        left[:, :n].addcmul_(self.w.weight_hh[:, 3 * n :], lin["ko"].unsqueeze(-1))
        f = lin["f"].unsqueeze(-2)
        right = q[..., n:] * f
        right.addcmul_(q[..., :n], f * lin["odc"].unsqueeze(-2))
        return torch.cat([torch.bmm(q, left), right], dim=-1, out=out)

    def frobenius(self, lin: Any) -> Tensor:
        odc, f = lin["odc"], lin["f"]
        kc = torch.stack(split(lin["kc"], self.hidden), dim=-1)  # (..., B, N, 3)
        dh = torch.cat([kc * odc.unsqueeze(-1), lin["ko"].unsqueeze(-1)], dim=-1)  # [dh/dh, dh/dc]
        dc = torch.cat([kc, torch.zeros_like(kc[..., :1])], dim=-1)  # [dc/dh, dc/dc]
        return self._frobenius([(dh, odc * f), (dc, f)])
