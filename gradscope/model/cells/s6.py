"""S6, Mamba's selective state space recurrence (Gu & Dao 2023), one channel per unit.

For an input `x_t` of width N (Mamba's `d_inner`) and S states per channel
(`--state-size`, Mamba's `d_state`, default 16):

    [dt_low; B_t; C_t] = x_proj x_t                  (R + 2S rows, R = dt_rank = ceil(N/32))
    Delta_t = softplus(dt_proj dt_low + dt_bias)       (N,)
    h_t[c, n] = exp(Delta_t[c] A[c, n]) h_{t-1}[c, n] + Delta_t[c] B_t[n] x_t[c],  A = -exp(A_log)
    y_t[c] = sum_n C_t[n] h_t[c, n] + D[c] x_t[c]

as mambapy's `selective_scan_seq` and the official `selective_scan_ref` compute it. The
state is `h` flattened channel-major (`h[c, n]` at `c S + n`, D = N S) and the loss is
`r . y_T`, what the model's output sees (`readout_cotangent`). With an input size other
than N, the input passes through `weight_in` first (`x_t = W_in u_t`, Mamba's in_proj
without its convolution); with input size N it is `x_t` itself.

The step Jacobian is `diag(exp(Delta_t A))`: every entry in (0, 1), the exponents all
negative, and with zero input exactly `-Delta_c (n + 1)` (softplus(dt_bias) at Mamba's
init, A = -(n+1)). The input Jacobian is dense but structured (Delta through a rank-R
map, B through S rows, and the direct term): `input_gram` forms `B_t^T diag(w) B_t` from
those parts in O(N^2 (R + S)) rather than O(N^3 S). The weight-gradient curve is over A.

Mamba's init: `A_log = log(1..S)` per channel (S4D-real), `softplus(dt_bias)` log-uniform
in [1e-3, 1e-1], `dt_proj` U(-R^-1/2, R^-1/2), `x_proj` (and `weight_in`) nn.Linear's, D = 1.

May import: `gradscope.model.cells.modern`, `gradscope.model.batched`, `gradscope.config`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...config import Config
from ...config.registry import dt_rank
from ..batched import linear, stable_norm
from .modern import DiagonalCell, linear_uniform

Tensor = torch.Tensor
DT_MIN, DT_MAX, DT_FLOOR = 1e-3, 1e-1, 1e-4
SOFTPLUS_THRESHOLD = 20.0  # torch's softplus is the identity above it (and so is its slope)


def _sym(m: Tensor) -> Tensor:
    return m + m.mT


class S6Cell(DiagonalCell):
    """Mamba's selective scan as a cell: `h[c,n] <- exp(Delta_c A_cn) h[c,n] + Delta_c B_n x_c`."""

    kind = "s6"
    names = ("weight_in", "x_proj", "dt_proj", "dt_bias", "A_log", "D")
    optional = ("weight_in",)
    checkpoint_key = "A_log"  # mambapy's MambaBlock, the official Mamba mixer

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
        """A Mamba layer's SSM: `x_proj.weight` -> x_proj, `dt_proj.weight` -> dt_proj,
        `dt_proj.bias` -> dt_bias, `A_log`, `D` (in_proj, conv1d and out_proj are outside
        the recurrence: the cell's input is the SSM's, x after in_proj, the convolution and SiLU)."""
        keys = {"x_proj": "x_proj.weight", "dt_proj": "dt_proj.weight", "dt_bias": "dt_proj.bias",
                "A_log": "A_log", "D": "D"}
        missing = [v for v in keys.values() if v not in tensors]
        if missing:
            raise ValueError(f"a Mamba SSM needs {', '.join(keys.values())}; missing: {', '.join(missing)}")
        out = {k: tensors[v] for k, v in keys.items()}
        n, s = out["A_log"].shape if out["A_log"].ndim == 2 else (0, 0)
        r = out["dt_proj"].shape[-1] if out["dt_proj"].ndim == 2 else 0
        shapes = {"x_proj": (r + 2 * s, n), "dt_proj": (n, r), "dt_bias": (n,), "A_log": (n, s), "D": (n,)}
        bad = [f"{keys[k]} {tuple(out[k].shape)} (expected {v})" for k, v in shapes.items() if tuple(out[k].shape) != v]
        if bad or n == 0:
            raise ValueError("the Mamba SSM's shapes do not fit together: " + "; ".join(bad or ["A_log is empty"]))
        return out

    def setup(self) -> None:
        p = self.p
        self.trials, self.hidden, self.states = p["A_log"].shape
        self.rank = p["dt_proj"].shape[-1]
        self.input_size = p["weight_in"].shape[-1] if "weight_in" in p else self.hidden
        self.state_dim = self.hidden * self.states
        if p["x_proj"].shape[-2:] != (self.rank + 2 * self.states, self.hidden):
            raise ValueError(f"s6: x_proj must be (trials, dt_rank + 2 state_size, hidden) = "
                             f"(*, {self.rank + 2 * self.states}, {self.hidden}), got {tuple(p['x_proj'].shape)}")
        r = self.rank
        self.w_r, self.w_b, self.w_c = p["x_proj"][:, :r], p["x_proj"][:, r : r + self.states], p["x_proj"][:, r + self.states :]

    @classmethod
    def draw_weights(cls, config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Mamba's init (module docstring), `weight_in` last."""
        n, i = config.hidden, config.n_input
        s, r = int(config.cell_option("state_size")), dt_rank(n)
        out = {"x_proj": linear_uniform(rng, n, (r + 2 * s, n))}
        out["dt_proj"] = rng.uniform(-(r ** -0.5), r ** -0.5, (n, r))
        dt = np.exp(rng.uniform(0, 1, n) * (math.log(DT_MAX) - math.log(DT_MIN)) + math.log(DT_MIN))
        dt = np.maximum(dt, DT_FLOOR)
        out["dt_bias"] = dt + np.log(-np.expm1(-dt))  # softplus^-1(dt)
        out["A_log"] = np.log(np.tile(np.arange(1, s + 1, dtype=np.float64), (n, 1)))
        out["D"] = np.ones(n)
        if i != n:  # drawn last: the SSM of a seed is the same whatever the input size
            out["weight_in"] = linear_uniform(rng, i, (n, i))
        return out

    # -- the step ------------------------------------------------------------------------
    def channel_input(self, u: Tensor) -> Tensor:
        """`x_t` `(..., B, N)`: the input, through `weight_in` where there is one."""
        return linear(self.p["weight_in"], u) if "weight_in" in self.p else u

    def _parts(self, u: Tensor) -> tuple[Tensor, ...]:
        x = self.channel_input(u)
        low, bv = linear(self.w_r, x), linear(self.w_b, x)
        z = linear(self.p["dt_proj"], low) + self.p["dt_bias"]
        delta = F.softplus(z)
        decay = torch.exp(delta.unsqueeze(-1) * self.a())  # (..., B, N, S)
        return x, z, delta, bv, decay

    def a(self) -> Tensor:
        """`A = -exp(A_log)` `(B, N, S)`."""
        return -torch.exp(self.p["A_log"])

    def step(self, s: Tensor, u: Tensor) -> Tensor:
        x, _, delta, bv, decay = self._parts(u)
        h = s.unflatten(-1, (self.hidden, self.states))
        h = decay * h + (delta * x).unsqueeze(-1) * bv.unsqueeze(-2)
        return h.flatten(-2)

    def linearize(self, s: Tensor, u: Tensor) -> Any:
        x, z, delta, bv, decay = self._parts(u)
        h = s.unflatten(-1, (self.hidden, self.states))
        slope = torch.where(z > SOFTPLUS_THRESHOLD, torch.ones_like(z), torch.sigmoid(z))
        # row (c, n) of ds'/dx: alpha K_c + (Delta x)_c W_B[n] + gamma e_c, K = dt_proj W_r
        alpha = (self.a() * decay * h + bv.unsqueeze(-2) * x.unsqueeze(-1)) * slope.unsqueeze(-1)
        return {"d": decay.flatten(-2), "alpha": alpha, "dx": delta * x, "gamma": delta.unsqueeze(-1) * bv.unsqueeze(-2),
                "delta": delta}

    def log_abs_diagonal(self, lin: Any) -> Tensor:
        """`log exp(Delta_c A_cn) = Delta_c A_cn`, exactly (no exp and log)."""
        return (lin["delta"].to(torch.float64).unsqueeze(-1) * self.a().to(torch.float64)).flatten(-2)

    def log_abs_diagonal_at(self, s: Tensor, u: Tensor) -> Tensor:
        return self.log_abs_diagonal({"delta": self.delta(u)})

    def delta(self, u: Tensor) -> Tensor:
        """`Delta_t` `(..., B, N)`: how fast each channel forgets at this input (the selection)."""
        x = self.channel_input(u)
        return F.softplus(linear(self.p["dt_proj"], linear(self.w_r, x)) + self.p["dt_bias"])

    # -- the input Jacobian -----------------------------------------------------------------
    def _x_jacobian(self, lin: Any) -> Tensor:
        """`ds'/dx_t` `(..., B, D, N)`."""
        k = self.p["dt_proj"] @ self.w_r  # (B, N, N)
        rows = lin["alpha"].unsqueeze(-1) * k.unsqueeze(-2)  # (..., B, N, S, N)
        rows = rows + (lin["dx"].unsqueeze(-1).unsqueeze(-1) * self.w_b.unsqueeze(-3))
        eye = torch.eye(self.hidden, dtype=rows.dtype, device=rows.device)
        rows = rows + lin["gamma"].unsqueeze(-1) * eye.unsqueeze(-2)
        return rows.flatten(-3, -2)

    def input_jacobian(self, lin: Any) -> Tensor:
        jac = self._x_jacobian(lin)
        return jac @ self.p["weight_in"] if "weight_in" in self.p else jac

    def input_gram(self, lin: Any, w: Tensor) -> Tensor:
        """`B_t^T diag(w) B_t` from the parts of each row (module docstring): with
        `F = [W_r; W_B]` it is `sym(F^T [V; Y]) + diag(g)`, `V = dt^T (diag(a) dt W_r / 2 +
        X1 W_B + diag(e))` and `Y = diag(b) W_B / 2 + X3^T`: one product of N^2 (R + S)."""
        f64 = torch.float64
        w = w.unflatten(-1, (self.hidden, self.states))
        alpha, dx, gamma = (lin[k].to(f64) for k in ("alpha", "dx", "gamma"))
        wr, wb, dt = self.w_r.to(f64), self.w_b.to(f64), self.p["dt_proj"].to(f64)
        wa = w * alpha
        a1 = (wa * alpha).sum(-1)  # (..., B, N)
        b1 = (w * (dx * dx).unsqueeze(-1)).sum(-2)  # (..., B, S)
        g1 = (w * gamma * gamma).sum(-1)  # (..., B, N)
        x1 = wa * dx.unsqueeze(-1)  # (..., B, N, S)
        e1 = (wa * gamma).sum(-1)  # (..., B, N)
        x3 = w * gamma * dx.unsqueeze(-1)  # (..., B, N, S)
        dtt = dt.mT  # (B, R, N)
        v = ((dtt * (0.5 * a1).unsqueeze(-2)) @ dt) @ wr + (dtt @ x1) @ wb + dtt * e1.unsqueeze(-2)  # (..., B, R, N)
        y = (0.5 * b1).unsqueeze(-1) * wb + x3.mT  # (..., B, S, N)
        half = torch.cat([wr, wb], -2).mT @ torch.cat([v, y], -2)  # (..., B, N, N)
        half.diagonal(dim1=-2, dim2=-1).add_(0.5 * g1)
        gram = _sym(half)
        if "weight_in" in self.p:
            win = self.p["weight_in"].to(f64)
            gram = win.mT @ gram @ win
        return gram

    def _row_parts(self) -> tuple[Tensor, ...]:
        """For the rows of `B_t` in input space, with `H = W_in W_in^T` (or I): `diag(K H K^T)`,
        `diag(W_B H W_B^T)`, `diag(H)`, `K H W_B^T`, `diag(K H)`, `(W_B H)^T`, float64, cached."""
        key = tuple((t.data_ptr(), t._version) for t in self.p.values())
        if getattr(self, "_row_key", None) != key:
            f64 = torch.float64
            k = (self.p["dt_proj"] @ self.w_r).to(f64)  # (B, N, N)
            wb = self.w_b.to(f64)
            h = self.p["weight_in"].to(f64) @ self.p["weight_in"].to(f64).mT if "weight_in" in self.p else (
                torch.eye(self.hidden, dtype=f64).expand(self.trials, -1, -1))
            kh, bh = k @ h, wb @ h
            self._row_cache = ((kh * k).sum(-1), (bh * wb).sum(-1), torch.diagonal(h, dim1=-2, dim2=-1),
                           kh @ wb.mT, torch.diagonal(kh, dim1=-2, dim2=-1), bh.mT)
            self._row_key = key
        return self._row_cache

    def input_row_norms(self, lin: Any) -> Tensor:
        """`||row (c, n) of B_t||^2` from the parts of each row (no `B_t` formed)."""
        kk, bb, hh, kb, khd, bht = self._row_parts()
        alpha, dx, gamma = (lin[k].to(torch.float64) for k in ("alpha", "dx", "gamma"))
        beta = dx.unsqueeze(-1)
        out = (alpha * alpha * kk.unsqueeze(-1) + beta * beta * bb.unsqueeze(-2) + gamma * gamma * hh.unsqueeze(-1)
               + 2 * alpha * beta * kb + 2 * alpha * gamma * khd.unsqueeze(-1) + 2 * beta * gamma * bht)
        return out.clamp_min(0).flatten(-2)

    def input_rows(self, lin: Any, index: Tensor) -> Tensor:
        """The rows `index` (`c S + n`) of `B_t`: `alpha K_c + (Delta x)_c W_B[n] + gamma e_c` (then `W_in`)."""
        f64 = torch.float64
        c, n = index // self.states, index % self.states
        lead = index.shape[:-1]

        def take(t: Tensor, at: Tensor) -> Tensor:  # rows `at` (..., B, K) of t (B, R, N)
            t = t.to(f64).expand(*lead, *t.shape[-2:])
            return t.gather(-2, at.unsqueeze(-1).expand(*at.shape, t.shape[-1]))

        alpha = lin["alpha"].to(f64).flatten(-2).gather(-1, index)
        gamma = lin["gamma"].to(f64).flatten(-2).gather(-1, index)
        beta = lin["dx"].to(f64).gather(-1, c)
        rows = alpha.unsqueeze(-1) * take(self.p["dt_proj"] @ self.w_r, c) + beta.unsqueeze(-1) * take(self.w_b, n)
        rows = rows + gamma.unsqueeze(-1) * F.one_hot(c, self.hidden).to(f64)
        return rows @ self.p["weight_in"].to(f64) if "weight_in" in self.p else rows

    # -- the readout and the weight gradient ---------------------------------------------
    def readout_cotangent(self, readout: Tensor, s: Tensor, u: Tensor) -> Tensor:
        """`dL/dh_T[c, n] = r_c C_T[n]` for `L = r . y_T`, `y_T = C_T h_T + D x_T`."""
        c = linear(self.w_c, self.channel_input(u))  # (B, S)
        return (readout.to(s.dtype).unsqueeze(-1) * c.unsqueeze(-2)).flatten(-2)

    def weight_grad_norms(self, lin: Any, g: Tensor, s_prev: Tensor) -> Tensor:
        """`||dL/dA|_t||_F`: `dL/dA[c, n] = g[c, n] Delta_c exp(Delta_c A_cn) h_{t-1}[c, n]`."""
        d = lin["d"].unflatten(-1, (self.hidden, self.states))
        h = s_prev.unflatten(-1, (self.hidden, self.states))
        grad = g.unflatten(-1, (self.hidden, self.states)) * lin["delta"].unsqueeze(-1) * d * h
        return stable_norm(grad.flatten(-2), -1).to(torch.float64)
