"""Products with the step Jacobians of the built-in cells, without forming them.

Each built-in cell's step Jacobian is a sum of row-scaled gate blocks of `weight_hh`
plus diagonal terms (RNN: `J = diag(d) W`; GRU: `sum_g diag(k_g) W_g + diag(z)`; LSTM:
the same on `h`, diagonal on `c`). So `J v` and `J^T u` are one product with `weight_hh`
and a few elementwise scalings, and a whole chunk of steps times a block of vectors is
one matrix product (what the per-step gains and the input sensitivity need), and
`||J||_F^2` is a small quadratic form in the row scales.

The mixins add, to `RNNCell`, `LSTMCell` and `GRUCell`, the optional methods the
numerics use when a cell has them (they fall back to `jacobian` otherwise): `jvp(lin, v)`
= `J v`, `vjp(lin, u)` = `J^T u` (v, u `(..., B, D)`), `input_jvp` / `input_vjp` the same
for `ds_t/dx_t`, `matrix_vjp(lin, q)` = `q @ J` for a matrix of row vectors `(B, M, D)`
and one step's `lin`, and `jacobian_frobenius(lin)` `(..., B)`; the vanilla RNN also
`jjt(lin, u)` = `J J^T u` (one product with `W W^T` instead of two), the GRU
`jacobian_stack(lin)` (J of several steps formed at once, in place).

May import: nothing of gradscope's (torch only).
"""

from __future__ import annotations

from typing import Any

import torch

Tensor = torch.Tensor


def linear_t(weight: Tensor, u: Tensor) -> Tensor:
    """`weight^T @ u` per trial: weight `(B, R, K)`, u `(..., B, R)` -> `(..., B, K)`.

    `linear_t(weight.mT, v)` is `weight @ v`."""
    lead = u.shape[:-2]
    ub = u.movedim(-2, 0).reshape(weight.shape[0], -1, u.shape[-1])  # (B, M, R)
    return torch.bmm(ub, weight).reshape(weight.shape[0], *lead, weight.shape[2]).movedim(0, -2)


def _row_blocks_into(out: Tensor, weight: Tensor, coefs: tuple[Tensor, ...]) -> Tensor:
    """`out = sum_g diag(coefs[g]) W_g` for one step: coefs `(B, N)`, weight `(B, G*N, K)`."""
    for g, (w, k) in enumerate(zip(weight.split(coefs[0].shape[-1], dim=-2), coefs)):
        if g == 0:
            torch.mul(w, k.unsqueeze(-1), out=out)
        else:
            out.addcmul_(w, k.unsqueeze(-1))
    return out


def _split(t: Tensor, n: int) -> tuple[Tensor, ...]:
    return tuple(t.split(n, dim=-1))


class _RowGram:
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


class RNNProducts(_RowGram):
    """`J = diag(d) W_hh`."""

    def jvp(self, lin: Any, v: Tensor) -> Tensor:
        return lin["d"] * linear_t(self.w.weight_hh.mT, v)

    def vjp(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_hh, lin["d"] * u)

    def input_jvp(self, lin: Any, v: Tensor) -> Tensor:
        return lin["d"] * linear_t(self.w.weight_ih.mT, v)

    def input_vjp(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_ih, lin["d"] * u)

    def matrix_vjp(self, lin: Any, q: Tensor, out: Tensor | None = None) -> Tensor:
        """`q @ J` for one step: q `(B, M, D)`, `lin` of one step (J formed: `N^2` work)."""
        return torch.bmm(q, lin["d"].unsqueeze(-1) * self.w.weight_hh, out=out)

    def jjt(self, lin: Any, u: Tensor) -> Tensor:
        """`J J^T u = d * (W W^T (d * u))`: one product with the cached `W W^T`."""
        w = self.w.weight_hh
        key = (w.data_ptr(), w._version, w.shape, w.dtype)
        if getattr(self, "_wwt_key", None) != key:
            self._wwt, self._wwt_key = (w @ w.mT).contiguous(), key
        d = lin["d"]
        return d * linear_t(self._wwt, d * u)

    def jacobian_frobenius(self, lin: Any) -> Tensor:
        return self._frobenius([(lin["d"].unsqueeze(-1), None)])


class LSTMProducts(_RowGram):
    """`J = [[dh/dh, diag(o tanh'(c') f)], [dc/dh, diag(f)]]` on `[h; c]`."""

    def _gates_jvp(self, lin: Any, a: Tensor, vc: Tensor | None) -> Tensor:
        """`[dh; dc]` from the gate pre-activation changes `a` `(..., B, 4N)` (and `dc_prev`)."""
        ki, kf, kg = _split(lin["kc"], self.hidden)
        ai, af, ag, ao = _split(a, self.hidden)
        dc = ki * ai + kf * af + kg * ag
        if vc is not None:
            dc = dc + lin["f"] * vc
        return torch.cat([lin["ko"] * ao + lin["odc"] * dc, dc], dim=-1)

    def jvp(self, lin: Any, v: Tensor) -> Tensor:
        n = self.hidden
        return self._gates_jvp(lin, linear_t(self.w.weight_hh.mT, v[..., :n]), v[..., n:])

    def vjp(self, lin: Any, u: Tensor) -> Tensor:
        n = self.hidden
        dh = linear_t(self.w.weight_hh, self.weight_grad_rows(lin, u))
        return torch.cat([dh, lin["f"] * (u[..., n:] + u[..., :n] * lin["odc"])], dim=-1)

    def input_jvp(self, lin: Any, v: Tensor) -> Tensor:
        return self._gates_jvp(lin, linear_t(self.w.weight_ih.mT, v), None)

    def input_vjp(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_ih, self.weight_grad_rows(lin, u))

    def matrix_vjp(self, lin: Any, q: Tensor, out: Tensor | None = None) -> Tensor:
        """`q @ J` for one step: the right half of J is diagonal, so only its left half
        `[dh/dh; dc/dh]` `(B, 2N, N)` is formed and multiplied (half a D x D product)."""
        n = self.hidden
        left = torch.empty((q.shape[0], 2 * n, n), dtype=q.dtype, device=q.device)
        _row_blocks_into(left[:, n:], self.w.weight_hh[:, : 3 * n], _split(lin["kc"], n))
        torch.mul(left[:, n:], lin["odc"].unsqueeze(-1), out=left[:, :n])
        left[:, :n].addcmul_(self.w.weight_hh[:, 3 * n :], lin["ko"].unsqueeze(-1))
        f = lin["f"].unsqueeze(-2)
        right = q[..., n:] * f
        right.addcmul_(q[..., :n], f * lin["odc"].unsqueeze(-2))
        return torch.cat([torch.bmm(q, left), right], dim=-1, out=out)

    def jacobian_frobenius(self, lin: Any) -> Tensor:
        odc, f = lin["odc"], lin["f"]
        kc = torch.stack(_split(lin["kc"], self.hidden), dim=-1)  # (..., B, N, 3)
        dh = torch.cat([kc * odc.unsqueeze(-1), lin["ko"].unsqueeze(-1)], dim=-1)  # [dh/dh, dh/dc]
        dc = torch.cat([kc, torch.zeros_like(kc[..., :1])], dim=-1)  # [dc/dh, dc/dc]
        return self._frobenius([(dh, odc * f), (dc, f)])


class GRUProducts(_RowGram):
    """`J = diag(kr) W_hr + diag(kz) W_hz + diag(dn r) W_hn + diag(z)`."""

    def _coefs(self, lin: Any, recurrent: bool) -> tuple[Tensor, Tensor, Tensor]:
        """Row scales of the r, z, n blocks (the reset gate scales only `W_hn h`)."""
        return lin["kr"], lin["kz"], (lin["dn"] * lin["r"] if recurrent else lin["dn"])

    def _combine(self, coefs: tuple[Tensor, ...], a: Tensor) -> Tensor:
        ar, az, an = _split(a, self.hidden)
        return coefs[0] * ar + coefs[1] * az + coefs[2] * an

    def jvp(self, lin: Any, v: Tensor) -> Tensor:
        return self._combine(self._coefs(lin, True), linear_t(self.w.weight_hh.mT, v)) + lin["z"] * v

    def vjp(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_hh, self.weight_grad_rows(lin, u)) + lin["z"] * u

    def input_jvp(self, lin: Any, v: Tensor) -> Tensor:
        return self._combine(self._coefs(lin, False), linear_t(self.w.weight_ih.mT, v))

    def input_vjp(self, lin: Any, u: Tensor) -> Tensor:
        return linear_t(self.w.weight_ih, torch.cat([u * c for c in self._coefs(lin, False)], dim=-1))

    def matrix_vjp(self, lin: Any, q: Tensor, out: Tensor | None = None) -> Tensor:
        """`q @ J` for one step, J formed once (`3 N^2` work) and multiplied."""
        return torch.bmm(q, self.jacobian_stack(lin), out=out)

    def jacobian_stack(self, lin: Any) -> Tensor:
        """J for every step of `lin` `(..., B, N, N)`, formed in place (four passes over
        it, no temporaries): a few steps at once cost less than one call per step, so fast
        mode forms the Jacobians of a few lags together (`numerics.steps.FastSteps`)."""
        n, z = self.hidden, lin["z"]
        j = torch.empty((*z.shape, n), dtype=z.dtype, device=z.device)
        _row_blocks_into(j, self.w.weight_hh, self._coefs(lin, True))
        j.diagonal(dim1=-2, dim2=-1).add_(z)
        return j

    def jacobian_frobenius(self, lin: Any) -> Tensor:
        return self._frobenius([(torch.stack(self._coefs(lin, True), dim=-1), lin["z"])], cross=True)
