"""sLSTM, the scalar-memory cell of xLSTM (Beck et al. 2024), as the xlstm package's
vanilla backend computes it, on the state `[h; c; n; m]` (D = 4N):

    [i~; f~; z~; o~] = W x + R h + b        (R block-diagonal over --heads)
    m' = max(log sigmoid(f~) + m, i~)         (the stabiliser)
    f' = exp(log sigmoid(f~) + m - m'),  i' = exp(i~ - m')
    c' = f' c + i' act(z~),  n' = f' n + i',  h' = sigmoid(o~) c' / n'

`act` is tanh unless `--act` says otherwise. At a unit whose normaliser is exactly 0 (the
zero state xLSTM starts from) the package sets `m' = i~`, and clamps `f'` and `i'` at 1;
the cell does the same, so its states equal the package's from the first step.

What is differentiated: the max makes the step piecewise smooth. The Jacobian is that of
the branch the max takes at that step (the forget branch `m' = log sigmoid(f~) + m` on a
tie), which is the derivative wherever the branch does not switch; across a switch the
Jacobian jumps (m' itself is continuous). On the forget branch `f' = 1`, on the input
branch `i' = 1`, exactly. The weight-gradient curve is over R.

R's blocks per head and gate by `--init` (default: U(-g/sqrt(N), g/sqrt(N)), xLSTM's
"standard" recurrent init; its own default R = 0 is `--gain 0`), `W` PyTorch's uniform,
biases xLSTM's: the forget gate's per head from 5 down to -7 (`powerlaw_blockdependent`),
the others 0 (`--bias-std` draws them all, `--forget-bias` adds to the forget gate's).
The initial state: `h`, `c` ~ N(0, h0_std^2), `n = m = 0` (xLSTM's start).

The Jacobian is block-diagonal over heads (no head reads another's h): every product is
one product per head with R's blocks and elementwise scalings, O(D N / heads) a column.

May import: `gradscope.model.cells.modern`, `gradscope.model.batched`, `gradscope.model.draws`,
`gradscope.model.contract`, `gradscope.config`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...config import Config
from ..batched import linear
from ..contract import Structure
from ..draws import pytorch_uniform, recurrent_block
from .modern import ModernCell

Tensor = torch.Tensor
ROWS = 4  # state parts h, c, n, m


def powerlaw_forget_bias(head_dim: int) -> np.ndarray:
    """xLSTM's `powerlaw_blockdependent` forget-gate bias of one head (one block):
    `-(-5 + 12 (d / (hd - 1))^0.3)`, from 5 down to -7."""
    if head_dim == 1:
        return np.array([5.0])
    return -(-5.0 + 12.0 * (np.arange(head_dim) / (head_dim - 1)) ** 0.3)


class SLSTMCell(ModernCell):
    """xLSTM's sLSTM cell on `[h; c; n; m]`, R block-diagonal over heads."""

    kind = "slstm"
    names = ("weight_ih", "weight_hh", "bias_ih")
    structure = Structure.BLOCK_DIAGONAL
    fast_products = frozenset({"matmul", "rmatmul", "input", "gram", "frobenius"})

    def setup(self) -> None:
        self.trials, self.heads, rows, self.head_dim = self.p["weight_hh"].shape
        self.hidden = self.heads * self.head_dim
        self.input_size = self.p["weight_ih"].shape[-1]
        self.state_dim = ROWS * self.hidden
        if rows != 4 * self.head_dim or self.p["weight_ih"].shape[-2] != 4 * self.hidden:
            raise ValueError(f"slstm: weight_hh must be (trials, heads, 4 head_dim, head_dim) and weight_ih "
                             f"(trials, 4 hidden, inputs), got {tuple(self.p['weight_hh'].shape)} and "
                             f"{tuple(self.p['weight_ih'].shape)}")

    def diagonal_blocks(self) -> Tensor:
        """Head k's coordinates of `[h; c; n; m]`: `part * N + k * hd + j`, `(H, 4 hd)`."""
        part = torch.arange(ROWS).repeat_interleave(self.head_dim) * self.hidden  # (4 hd,)
        within = torch.arange(self.head_dim).repeat(ROWS)
        return (torch.arange(self.heads).unsqueeze(-1) * self.head_dim + part + within).to(torch.int64)

    @classmethod
    def draw_weights(cls, config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
        n, i = config.hidden, config.n_input
        heads = int(config.cell_option("heads"))
        hd = n // heads
        blocks = np.zeros((heads, 4 * hd, hd))
        for k in range(heads):
            for g in range(4):
                if config.init == "default":  # xLSTM's "standard": U(-1/sqrt(N), 1/sqrt(N)), times g
                    bound = config.gain / math.sqrt(n)
                    blocks[k, g * hd : (g + 1) * hd] = rng.uniform(-bound, bound, (hd, hd))
                else:
                    blocks[k, g * hd : (g + 1) * hd] = recurrent_block(rng, hd, config.init, config.gain)
        weight_ih = pytorch_uniform(rng, n, (4 * n, i))
        if config.bias_std is not None:
            bias = rng.normal(0.0, config.bias_std, 4 * n)
        else:
            bias = np.zeros(4 * n)
            bias[n : 2 * n] = np.tile(powerlaw_forget_bias(hd), heads)
        bias[n : 2 * n] += config.forget_bias
        return {"weight_ih": weight_ih, "weight_hh": blocks, "bias_ih": bias}

    def initial_state(self, s0: Tensor) -> Tensor:
        s = s0.clone()
        s[..., 2 * self.hidden :] = 0  # n = m = 0
        return s

    # -- R, per head ---------------------------------------------------------------------
    def _r(self, y: Tensor) -> Tensor:
        """`R y` gate-major `(..., B, 4N)` for h-vectors `y` `(..., B, N)`."""
        yh = y.unflatten(-1, (self.heads, self.head_dim)).unsqueeze(-1)  # (..., B, H, hd, 1)
        out = (self.p["weight_hh"] @ yh).squeeze(-1)  # (..., B, H, 4 hd)
        return out.unflatten(-1, (4, self.head_dim)).transpose(-3, -2).flatten(-3)

    def _r_t(self, gbar: Tensor) -> Tensor:
        """`R^T gbar` `(..., B, N)` for gate-major cotangents `(..., B, 4N)`."""
        gh = gbar.unflatten(-1, (4, self.heads, self.head_dim)).transpose(-3, -2).flatten(-2)  # (..., B, H, 4hd)
        return (gh.unsqueeze(-2) @ self.p["weight_hh"]).squeeze(-2).flatten(-2)

    # -- the step ------------------------------------------------------------------------
    def _raw(self, s: Tensor, x: Tensor) -> Tensor:
        return linear(self.p["weight_ih"], x) + self._r(s[..., : self.hidden]) + self.p["bias_ih"]

    def _update(self, s: Tensor, x: Tensor) -> dict[str, Tensor]:
        n = self.hidden
        c, nn, m = s[..., n : 2 * n], s[..., 2 * n : 3 * n], s[..., 3 * n :]
        ig, fg, zg, og = self._raw(s, x).split(n, dim=-1)
        lf = m + F.logsigmoid(fg)
        first = nn == 0
        forget = (lf >= ig) & ~first  # the branch the max takes
        m_new = torch.where(forget, lf, ig)
        a = lf - ig
        ea = torch.exp(torch.where(forget, -a, a))  # i' on the forget branch, f' on the input branch
        one = torch.ones_like(a)
        f_new = torch.where(forget, one, torch.where(first, torch.clamp(ea, max=1.0), ea))
        i_new = torch.where(forget, ea, one)
        tz = self.act.phi(zg)
        c_new = f_new * c + i_new * tz
        n_new = f_new * nn + i_new
        so = torch.sigmoid(og)
        h_new = so * c_new / n_new
        return {"c": c, "n": nn, "fg": fg, "zg": zg, "og": og, "forget": forget, "first": first, "f": f_new,
                "i": i_new, "tz": tz, "c_new": c_new, "n_new": n_new, "so": so, "h": h_new, "m": m_new,
                "clamped": first & (ea >= 1)}

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        u = self._update(s, x)
        return torch.cat([u["h"], u["c_new"], u["n_new"], u["m"]], -1)

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        """Coefficients of the Jacobian: `coef` `(..., B, 4 rows, 4 gates, N)` on the gate
        pre-activations (`R dh`, `W dx`) and `diag` `(..., B, 4 rows, 3, N)` on `(c, n, m)`."""
        u = self._update(s, x)
        f, i, tz = u["f"], u["i"], u["tz"]
        zero = torch.zeros_like(f)
        kf = torch.where(u["forget"] | u["clamped"], zero, f)  # df'/da, a = lf - i~
        ki = torch.where(u["forget"], -i, zero)  # di'/da
        ca, na = u["c"] * kf + tz * ki, u["n"] * kf + ki
        sf = torch.sigmoid(-u["fg"])  # d log sigmoid(f~) / d f~
        dz = i * self.act.dphi(u["zg"])
        c_row = [-ca, ca * sf, dz, zero]  # d c' / d (i~, f~, z~, o~)
        n_row = [-na, na * sf, zero, zero]
        p, q = u["so"] / u["n_new"], u["so"] * u["c_new"] / (u["n_new"] * u["n_new"])
        do = u["so"] * (1 - u["so"]) * u["c_new"] / u["n_new"]
        h_row = [p * cr - q * nr for cr, nr in zip(c_row, n_row)]
        h_row[3] = do
        fw = u["forget"].to(f.dtype)
        m_row = [1 - fw, fw * sf, zero, zero]
        coef = torch.stack([torch.stack(r, -2) for r in (h_row, c_row, n_row, m_row)], -3)
        diag = torch.stack([torch.stack(r, -2) for r in (
            [p * f, -q * f, p * ca - q * na], [f, zero, ca], [zero, f, na], [zero, zero, fw])], -3)
        return {"coef": coef, "diag": diag}

    # -- products --------------------------------------------------------------------------
    def _jv(self, lin: Any, v: Tensor) -> Tensor:
        """`J v` for vectors `(..., B, D)`."""
        n = self.hidden
        gates = self._r(v[..., :n]).unflatten(-1, (4, n))  # (..., B, 4, N)
        parts = v[..., n:].unflatten(-1, (3, n))
        out = (lin["coef"] * gates.unsqueeze(-3)).sum(-2) + (lin["diag"] * parts.unsqueeze(-3)).sum(-2)
        return out.flatten(-2)

    def _uj(self, lin: Any, u: Tensor) -> Tensor:
        """`u J` for row vectors `(..., B, D)`."""
        rows = u.unflatten(-1, (ROWS, self.hidden)).unsqueeze(-2)  # (..., B, 4, 1, N)
        gbar = (lin["coef"] * rows).sum(-3)  # (..., B, 4 gates, N)
        rest = (lin["diag"] * rows).sum(-3)  # (..., B, 3, N)
        return torch.cat([self._r_t(gbar.flatten(-2)), rest.flatten(-2)], -1)

    def matmul(self, lin: Any, v: Tensor) -> Tensor:
        return self._jv(_bcast(lin), v.movedim(-1, 0)).movedim(0, -1)

    def rmatmul(self, lin: Any, u: Tensor, out: Tensor | None = None) -> Tensor:
        result = self._uj(_bcast(lin), u.movedim(-2, 0)).movedim(0, -2)
        return result if out is None else out.copy_(result)

    def jacobian(self, lin: Any) -> Tensor:
        blocks = self._dense_r()  # (B, 4, N, N)
        hcols = (lin["coef"].unsqueeze(-1) * blocks.unsqueeze(-4)).sum(-3)  # (..., B, 4 rows, N, N)
        rest = torch.diag_embed(lin["diag"])  # (..., B, 4 rows, 3, N, N)
        rows = torch.cat([hcols.unsqueeze(-3), rest], -3)  # (..., B, 4, 4, N, N)
        return rows.transpose(-3, -2).flatten(-4, -3).flatten(-2)

    def _dense_r(self) -> Tensor:
        """R as four dense N x N gate blocks `(B, 4, N, N)` (zero across heads)."""
        b, h, hd = self.trials, self.heads, self.head_dim
        w = self.p["weight_hh"].unflatten(-2, (4, hd))  # (B, H, 4, hd, hd)
        dense = w.new_zeros(b, 4, self.hidden, self.hidden)
        for k in range(h):
            dense[:, :, k * hd : (k + 1) * hd, k * hd : (k + 1) * hd] = w[:, k]
        return dense

    def frobenius(self, lin: Any) -> Tensor:
        """`||J||_F` from per-row Gram matrices of R's gate blocks (no J formed)."""
        f64 = torch.float64
        rg = self._row_gram().to(f64)  # (B, N, 4, 4)
        coef = lin["coef"].to(f64).transpose(-2, -1)  # (..., B, 4 rows, N, 4 gates)
        quad = ((coef.unsqueeze(-1) * rg.unsqueeze(-4)).sum(-2) * coef).sum(-1)  # (..., B, 4, N)
        return (quad.sum((-2, -1)) + (lin["diag"].to(f64) ** 2).sum((-3, -2, -1))).clamp_min(0).sqrt()

    def _row_gram(self) -> Tensor:
        """`<R_g[j, :], R_g'[j, :]>` `(B, N, 4, 4)`."""
        w = self.p["weight_hh"].unflatten(-2, (4, self.head_dim))  # (B, H, 4, hd, hd)
        rows = w.permute(0, 1, 3, 2, 4)  # (B, H, hd rows, 4, hd)
        return (rows @ rows.mT).flatten(1, 2)

    def input_jacobian(self, lin: Any) -> Tensor:
        w = self.p["weight_ih"].unflatten(-2, (4, self.hidden))  # (B, 4, N, I)
        out = (lin["coef"].unsqueeze(-1) * w.unsqueeze(-4)).sum(-3)  # (..., B, 4 rows, N, I)
        return out.flatten(-3, -2)

    def input_matmul(self, lin: Any, v: Tensor) -> Tensor:
        gates = (self.p["weight_ih"] @ v).unflatten(-2, (4, self.hidden))  # (..., B, 4, N, K)
        return (lin["coef"].unsqueeze(-1) * gates.unsqueeze(-4)).sum(-3).flatten(-3, -2)

    def input_rmatmul(self, lin: Any, u: Tensor) -> Tensor:
        rows = u.unflatten(-1, (ROWS, self.hidden)).unsqueeze(-2)  # (..., B, K, 4, 1, N)
        gbar = (lin["coef"].unsqueeze(-4) * rows).sum(-3)  # (..., B, K, 4, N)
        return gbar.flatten(-2) @ self.p["weight_ih"]

    def weight_grad_norms(self, lin: Any, g: Tensor, s_prev: Tensor) -> Tensor:
        """`||dL/dR|_t||_F`: per head and gate `|gbar_(g, head)| |h_(t-1, head)|`."""
        f64 = torch.float64
        rows = g.to(f64).unflatten(-1, (ROWS, self.hidden)).unsqueeze(-2)
        gbar = (lin["coef"].to(f64) * rows).sum(-3).unflatten(-1, (self.heads, self.head_dim))  # (..., B, 4, H, hd)
        hp = s_prev[..., : self.hidden].to(f64).unflatten(-1, (self.heads, self.head_dim))
        return ((gbar**2).sum(-1) * (hp**2).sum(-1).unsqueeze(-2)).sum((-2, -1)).sqrt()


def _bcast(lin: Any) -> Any:
    """The coefficients with a leading axis for the K vectors moved to the front."""
    return {k: v.unsqueeze(0) for k, v in lin.items()}
