"""The Linear Recurrent Unit (Orvieto et al. 2023): `h' = lambda * h + gamma * (B x)`,
complex and diagonal, `lambda = exp(-exp(nu) + i exp(theta))`, `gamma = exp(gamma_log)`.

The state is `[Re h; Im h]` (D = 2N); the loss is `r . Re h_T`. The step Jacobian is the
same at every step: on each pair `(Re h_j, Im h_j)` a rotation by `arg lambda_j` scaled
by `|lambda_j| = exp(-exp(nu_j))`, so every product is a rotation-scaling per pair with
gain `|lambda_j|^k` and the Lyapunov exponents are `ln|lambda_j|`, each twice, whatever
the input. There is no activation in the recurrence: `--act` does not apply.

The paper's init (its appendix code, `init_lru_parameters`): `|lambda|^2` uniform on
`[r_min^2, r_max^2]` (area-uniform on the ring, `--r-min`, `--r-max`, defaults 0 and 1),
`arg lambda` uniform on `[0, max_phase)` (`--max-phase`, default 6.28),
`gamma = sqrt(1 - |lambda|^2)`, `B_re`, `B_im` ~ N(0, 1/(2I)). The output map (C, D) is
not part of the recurrence and not drawn. The weight-gradient curve is over lambda
(per pair `|dL/dh_t| |h_{t-1}|`, the gradient with respect to `(Re lambda, Im lambda)`).

May import: `gradscope.model.cells.modern`, `gradscope.model.batched`, `gradscope.model.contract`,
`gradscope.config`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ...config import Config
from ..batched import linear, stable_norm
from ..contract import Structure
from .modern import ModernCell

Tensor = torch.Tensor


class LRUCell(ModernCell):
    """`h' = lambda * h + gamma * (B x)` on `[Re h; Im h]` (Orvieto et al. 2023)."""

    kind = "lru"
    names = ("nu_log", "theta_log", "gamma_log", "B_re", "B_im")
    structure = Structure.DIAGONAL
    fast_products = frozenset({"matmul", "rmatmul", "input", "gram", "frobenius"})

    def setup(self) -> None:
        self.trials, self.hidden, self.input_size = self.p["B_re"].shape
        self.state_dim = 2 * self.hidden

    @classmethod
    def draw_weights(cls, config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
        n, i = config.hidden, config.n_input
        r_min, r_max = config.cell_option("r_min"), config.cell_option("r_max")
        u1, u2 = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
        radius2 = u1 * (r_max**2 - r_min**2) + r_min**2
        with np.errstate(divide="ignore"):  # a radius or a phase of exactly 0: log 0 = -inf
            nu_log = np.log(-0.5 * np.log(radius2))
            theta_log = np.log(config.cell_option("max_phase") * u2)
        gamma_log = np.log(np.sqrt(np.maximum(1 - radius2, 0.0)))
        scale = 1.0 / math.sqrt(2 * i)
        return {"nu_log": nu_log, "theta_log": theta_log, "gamma_log": gamma_log,
                "B_re": rng.normal(0, 1, (n, i)) * scale, "B_im": rng.normal(0, 1, (n, i)) * scale}

    def eigenvalues(self) -> tuple[Tensor, Tensor]:
        """`(Re lambda, Im lambda)` `(B, N)`."""
        mod = torch.exp(-torch.exp(self.p["nu_log"]))
        phase = torch.exp(self.p["theta_log"])
        return mod * torch.cos(phase), mod * torch.sin(phase)

    def log_modulus(self) -> Tensor:
        """`ln|lambda_j| = -exp(nu_j)` `(B, N)`, exactly."""
        return -torch.exp(self.p["nu_log"])

    def _drive(self, x: Tensor) -> tuple[Tensor, Tensor]:
        g = torch.exp(self.p["gamma_log"])
        return g * linear(self.p["B_re"], x), g * linear(self.p["B_im"], x)

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        a, b = self.eigenvalues()
        re, im = s[..., : self.hidden], s[..., self.hidden :]
        u_re, u_im = self._drive(x)
        return torch.cat([a * re - b * im + u_re, b * re + a * im + u_im], -1)

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        a, b = self.eigenvalues()
        lead = s.shape[:-1] + (self.hidden,)
        return {"a": a.expand(lead), "b": b.expand(lead), "logmod": self.log_modulus().expand(lead)}

    # -- J = [[diag a, -diag b], [diag b, diag a]] ---------------------------------------------
    def jacobian(self, lin: Any) -> Tensor:
        a, b = torch.diag_embed(lin["a"]), torch.diag_embed(lin["b"])
        return torch.cat([torch.cat([a, -b], -1), torch.cat([b, a], -1)], -2)

    def matmul(self, lin: Any, v: Tensor) -> Tensor:
        a, b = lin["a"].unsqueeze(-1), lin["b"].unsqueeze(-1)
        re, im = v[..., : self.hidden, :], v[..., self.hidden :, :]
        return torch.cat([a * re - b * im, b * re + a * im], -2)

    def rmatmul(self, lin: Any, u: Tensor, out: Tensor | None = None) -> Tensor:
        a, b = lin["a"].unsqueeze(-2), lin["b"].unsqueeze(-2)
        re, im = u[..., : self.hidden], u[..., self.hidden :]
        result = torch.cat([re * a + im * b, im * a - re * b], -1)
        return result if out is None else out.copy_(result)

    def gram(self, lin: Any, u: Tensor) -> Tensor:
        mod2 = lin["a"] * lin["a"] + lin["b"] * lin["b"]
        return u * torch.cat([mod2, mod2], -1).unsqueeze(-2)

    def frobenius(self, lin: Any) -> Tensor:
        return math.sqrt(2) * stable_norm(torch.exp(lin["logmod"]), -1).to(torch.float64)

    def log_abs_diagonal(self, lin: Any) -> Tensor:
        lm = lin["logmod"].to(torch.float64)
        return torch.cat([lm, lm], -1)

    def log_abs_diagonal_at(self, s: Tensor, x: Tensor) -> Tensor:
        lm = self.log_modulus().to(torch.float64).expand(*s.shape[:-1], self.hidden)
        return torch.cat([lm, lm], -1)

    def log_abs_det(self, lin: Any) -> Tensor:
        return 2 * lin["logmod"].to(torch.float64).sum(-1)

    # -- the input Jacobian [gamma B_re; gamma B_im], the same at every step ------------------
    def _input(self) -> Tensor:
        g = torch.exp(self.p["gamma_log"]).unsqueeze(-1)
        return torch.cat([g * self.p["B_re"], g * self.p["B_im"]], -2)  # (B, 2N, I)

    def input_jacobian(self, lin: Any) -> Tensor:
        b = self._input()
        return b.expand(*lin["a"].shape[:-2], *b.shape)

    def input_matmul(self, lin: Any, v: Tensor) -> Tensor:
        return self._input() @ v

    def input_rmatmul(self, lin: Any, u: Tensor) -> Tensor:
        return u @ self._input()

    def input_gram(self, lin: Any, w: Tensor) -> Tensor:
        b = self._input().to(torch.float64)
        return b.mT @ (w.unsqueeze(-1) * b)

    def input_row_norms(self, lin: Any) -> Tensor:
        b = self._input().to(torch.float64)
        return (b * b).sum(-1).expand(*lin["a"].shape[:-1], 2 * self.hidden)

    def input_rows(self, lin: Any, index: Tensor) -> Tensor:
        b = self._input().to(torch.float64).expand(*index.shape[:-1], 2 * self.hidden, self.input_size)
        return b.gather(-2, index.unsqueeze(-1).expand(*index.shape, self.input_size))

    def weight_grad_norms(self, lin: Any, g: Tensor, s_prev: Tensor) -> Tensor:
        """`||dL/d(Re lambda, Im lambda)|_t|| = sqrt(sum_j |g_j|^2 |h_{t-1, j}|^2)` (complex moduli)."""
        n = self.hidden
        g2 = g[..., :n].to(torch.float64) ** 2 + g[..., n:].to(torch.float64) ** 2
        h2 = s_prev[..., :n].to(torch.float64) ** 2 + s_prev[..., n:].to(torch.float64) ** 2
        return (g2 * h2).sum(-1).sqrt()
