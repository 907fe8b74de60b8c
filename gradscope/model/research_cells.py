"""Four cells from the research literature, with analytic Jacobians, on the `Cell`
protocol of `gradscope.model.cells` (batched over trials, any leading axes).

- `indrnn` (Li et al. 2018): `h' = phi(W_ih x + b + u * h)`, a recurrent *vector* u.
- `minimalrnn` (Chen, Pennington & Schoenholz 2018): `e = phi(W_x x)`,
  `u = sigma(W_h h + W_e e + b)`, `h' = u * h + (1 - u) * e`.
- `antisymmetric` (Chang et al. 2019):
  `h' = h + eps phi((W - W^T - gamma I) h + V x + b)`.
- `cornn` (Rusch & Mishra 2021), coupled oscillators on the state `s = [y; z]` (2N):
  `z' = z + dt (phi(W y + W_z z + V x + b) - gamma y - eps z)`, `y' = y + dt z'`.

Parameter names follow PyTorch's style, with a leading trial axis: `weight_ih` is the
input weight of each (IndRNN, antisymmetric: `W_ih`, `V`; MinimalRNN: `W_x`; coRNN: `V`),
`weight_hh` the recurrent weight (IndRNN: the vector u, `(B, N)`; MinimalRNN: `W_h`;
antisymmetric: `W`; coRNN: `W`, acting on y), `weight_eh` MinimalRNN's `W_e`, `weight_zh`
coRNN's `W_z`, and `bias_ih` the one bias b of each.

What `W_hh` means for the weight-gradient curve (`weight_grad_rows(lin, g)` returns
`delta` with `dL/dW_hh|_t = delta h_{t-1}^T`):
- indrnn: the recurrent matrix `diag(u)` taken as a dense N x N matrix; the gradient of
  u itself is the diagonal of that outer product, `delta * h_{t-1}`;
- minimalrnn: `W_h`;
- antisymmetric: the effective matrix `A = W - W^T - gamma I`; the gradient of W itself is
  `delta h^T - h delta^T` (A's gradient projected onto antisymmetric matrices);
- cornn: `W` (h is y, the oscillators' positions; `hidden_part` returns y).

Besides the protocol each cell has `frame_jvp(lin, v)` (`J v` for a frame `v` `(..., B, D, K)`,
without forming J: what the Lyapunov spectrum uses), `log_abs_det(lin)` (`log|det J|`,
`(..., B)`), `recurrent_matrix()` (`(B, N, N)`, whose largest singular value is reported
as `sigma_max(W_hh)`) and the class method `params_count(hidden, input_size)`.

May import: `gradscope.model.activations`, `gradscope.model.batched`, `gradscope.config`.
"""

from __future__ import annotations

from typing import Any

import torch

from .activations import Activation, get_activation
from .batched import linear, scale_rows

Tensor = torch.Tensor


def _matmul(weight: Tensor, v: Tensor) -> Tensor:
    """`weight @ v` per trial for a frame: weight `(B, N, M)`, v `(..., B, M, K)`."""
    return torch.matmul(weight, v)


def _logabs(t: Tensor) -> Tensor:
    return t.abs().log().sum(-1)


class _ResearchCell:
    """What the four cells share: parameters by name, activations, sizes, the h part."""

    kind = ""
    names: tuple[str, ...] = ()  # parameter names, PyTorch style
    pair_state = False  # True: the state is [h; other] (D = 2N)

    def __init__(self, act: str = "tanh", gate_act: str = "sigmoid", **params: Tensor) -> None:
        missing = [n for n in self.names if n not in params]
        unknown = sorted(set(params) - set(self.names))
        if missing or unknown:
            raise ValueError(
                f"{self.kind} takes the parameters {', '.join(self.names)}; "
                f"missing: {', '.join(missing) or '-'}, unknown: {', '.join(unknown) or '-'}"
            )
        self.p = dict(params)
        self.act: Activation = get_activation(act)
        self.gate_act: Activation = get_activation(gate_act)
        self.trials, self.hidden, self.input_size = params["weight_ih"].shape
        self.state_dim = 2 * self.hidden if self.pair_state else self.hidden

    def parameters(self) -> dict[str, Tensor]:
        return dict(self.p)

    def hidden_part(self, s: Tensor) -> Tensor:
        """The `h` part of a state (the readout and the weight gradient use it)."""
        return s[..., : self.hidden]

    def recurrent_matrix(self) -> Tensor:
        return self.p["weight_hh"]

    def log_abs_det(self, lin: Any) -> Tensor:
        return torch.linalg.slogdet(self.jacobian(lin))[1]

    @classmethod
    def params_count(cls, hidden: int, input_size: int) -> int:
        raise NotImplementedError


# ----------------------------------------------------------------------------- IndRNN
class IndRNNCell(_ResearchCell):
    """`h' = act(W_ih x + b + u * h)` (Li et al. 2018): every unit its own recurrence."""

    kind = "indrnn"
    names = ("weight_ih", "weight_hh", "bias_ih")

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        p = self.p
        return self.act.phi(linear(p["weight_ih"], x) + p["bias_ih"] + p["weight_hh"] * s)

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        p = self.p
        d = self.act.dphi(linear(p["weight_ih"], x) + p["bias_ih"] + p["weight_hh"] * s)
        return {"d": d, "diag": d * p["weight_hh"]}  # J = diag(u * phi'(a))

    def jacobian(self, lin: Any) -> Tensor:
        return torch.diag_embed(lin["diag"])

    def frame_jvp(self, lin: Any, v: Tensor) -> Tensor:
        return lin["diag"].unsqueeze(-1) * v

    def log_abs_det(self, lin: Any) -> Tensor:
        return _logabs(lin["diag"])

    def input_jacobian(self, lin: Any) -> Tensor:
        return scale_rows(lin["d"], self.p["weight_ih"])

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return g * lin["d"]

    def recurrent_matrix(self) -> Tensor:
        return torch.diag_embed(self.p["weight_hh"])

    @classmethod
    def params_count(cls, hidden: int, input_size: int) -> int:
        return hidden * input_size + 2 * hidden


# ------------------------------------------------------------------------- MinimalRNN
class MinimalRNNCell(_ResearchCell):
    """`e = act(W_x x)`, `u = gate_act(W_h h + W_e e + b)`, `h' = u h + (1 - u) e`
    (Chen, Pennington & Schoenholz 2018)."""

    kind = "minimalrnn"
    names = ("weight_ih", "weight_hh", "weight_eh", "bias_ih")

    def _parts(self, s: Tensor, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        p = self.p
        ax = linear(p["weight_ih"], x)
        e = self.act.phi(ax)
        a = linear(p["weight_hh"], s) + linear(p["weight_eh"], e) + p["bias_ih"]
        return ax, e, a

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        _, e, a = self._parts(s, x)
        u = self.gate_act.phi(a)
        return u * s + (1 - u) * e

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        ax, e, a = self._parts(s, x)
        u = self.gate_act.phi(a)
        # dh'/da = (h - e) sigma'(a); dh'/de = (1 - u) (directly) + k W_e (through u)
        return {"u": u, "k": (s - e) * self.gate_act.dphi(a), "de": self.act.dphi(ax)}

    def jacobian(self, lin: Any) -> Tensor:
        return scale_rows(lin["k"], self.p["weight_hh"]) + torch.diag_embed(lin["u"])

    def frame_jvp(self, lin: Any, v: Tensor) -> Tensor:
        return lin["u"].unsqueeze(-1) * v + lin["k"].unsqueeze(-1) * _matmul(self.p["weight_hh"], v)

    def input_jacobian(self, lin: Any) -> Tensor:
        through_e = scale_rows(lin["k"], self.p["weight_eh"]) + torch.diag_embed(1 - lin["u"])
        return torch.matmul(through_e, scale_rows(lin["de"], self.p["weight_ih"]))

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return g * lin["k"]

    @classmethod
    def params_count(cls, hidden: int, input_size: int) -> int:
        return hidden * input_size + 2 * hidden * hidden + hidden


# ---------------------------------------------------------------------- antisymmetric
class AntisymmetricCell(_ResearchCell):
    """`h' = h + eps act((W - W^T - gamma I) h + V x + b)` (Chang et al. 2019)."""

    kind = "antisymmetric"
    names = ("weight_ih", "weight_hh", "bias_ih")

    def __init__(self, act: str = "tanh", gate_act: str = "sigmoid", step_size: float = 0.01,
                 diffusion: float = 0.01, **params: Tensor) -> None:
        super().__init__(act, gate_act, **params)
        self.step_size, self.diffusion = float(step_size), float(diffusion)
        w = self.p["weight_hh"]
        eye = torch.eye(self.hidden, dtype=w.dtype, device=w.device)
        self.effective = w - w.transpose(1, 2) - self.diffusion * eye  # A, (B, N, N)

    def _pre(self, s: Tensor, x: Tensor) -> Tensor:
        return linear(self.effective, s) + linear(self.p["weight_ih"], x) + self.p["bias_ih"]

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        return s + self.step_size * self.act.phi(self._pre(s, x))

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        return {"p": self.step_size * self.act.dphi(self._pre(s, x))}  # J = I + diag(p) A

    def jacobian(self, lin: Any) -> Tensor:
        eye = torch.eye(self.hidden, dtype=lin["p"].dtype, device=lin["p"].device)
        return scale_rows(lin["p"], self.effective) + eye

    def frame_jvp(self, lin: Any, v: Tensor) -> Tensor:
        return v + lin["p"].unsqueeze(-1) * _matmul(self.effective, v)

    def input_jacobian(self, lin: Any) -> Tensor:
        return scale_rows(lin["p"], self.p["weight_ih"])

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        return g * lin["p"]

    def recurrent_matrix(self) -> Tensor:
        return self.effective

    @classmethod
    def params_count(cls, hidden: int, input_size: int) -> int:
        return hidden * input_size + hidden * hidden + hidden


# ------------------------------------------------------------------------------ coRNN
class CoRNNCell(_ResearchCell):
    """Coupled oscillators on `s = [y; z]` (Rusch & Mishra 2021):
    `z' = z + dt (act(W y + W_z z + V x + b) - gamma y - eps z)`, `y' = y + dt z'`."""

    kind = "cornn"
    names = ("weight_ih", "weight_hh", "weight_zh", "bias_ih")
    pair_state = True

    def __init__(self, act: str = "tanh", gate_act: str = "sigmoid", step_size: float = 0.042,
                 stiffness: float = 2.7, damping: float = 4.7, **params: Tensor) -> None:
        super().__init__(act, gate_act, **params)
        self.step_size, self.stiffness, self.damping = float(step_size), float(stiffness), float(damping)

    def _pre(self, s: Tensor, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        n, p = self.hidden, self.p
        y, z = s[..., :n], s[..., n:]
        a = linear(p["weight_hh"], y) + linear(p["weight_zh"], z) + linear(p["weight_ih"], x) + p["bias_ih"]
        return a, y, z

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        a, y, z = self._pre(s, x)
        dt = self.step_size
        z2 = z + dt * (self.act.phi(a) - self.stiffness * y - self.damping * z)
        return torch.cat([y + dt * z2, z2], dim=-1)

    def linearize(self, s: Tensor, x: Tensor) -> Any:
        return {"p": self.step_size * self.act.dphi(self._pre(s, x)[0])}  # dz'/da

    def _z_rows(self, lin: Any) -> tuple[Tensor, Tensor]:
        """`dz'/dy`, `dz'/dz` `(..., B, N, N)`."""
        dt, p = self.step_size, lin["p"]
        eye = torch.eye(self.hidden, dtype=p.dtype, device=p.device)
        zy = scale_rows(p, self.p["weight_hh"]) - (dt * self.stiffness) * eye
        zz = scale_rows(p, self.p["weight_zh"]) + (1 - dt * self.damping) * eye
        return zy, zz

    def jacobian(self, lin: Any) -> Tensor:
        zy, zz = self._z_rows(lin)
        eye = torch.eye(self.hidden, dtype=zy.dtype, device=zy.device)
        top = torch.cat([eye + self.step_size * zy, self.step_size * zz], dim=-1)
        return torch.cat([top, torch.cat([zy, zz], dim=-1)], dim=-2)

    def frame_jvp(self, lin: Any, v: Tensor) -> Tensor:
        n, dt = self.hidden, self.step_size
        vy, vz = v[..., :n, :], v[..., n:, :]
        drive = _matmul(self.p["weight_hh"], vy) + _matmul(self.p["weight_zh"], vz)
        wz = lin["p"].unsqueeze(-1) * drive - (dt * self.stiffness) * vy + (1 - dt * self.damping) * vz
        return torch.cat([vy + dt * wz, wz], dim=-2)

    def log_abs_det(self, lin: Any) -> Tensor:
        # rows y -= dt * rows z leaves [[I, 0], [dz'/dy, dz'/dz]]: det J = det(dz'/dz)
        return torch.linalg.slogdet(self._z_rows(lin)[1])[1]

    def input_jacobian(self, lin: Any) -> Tensor:
        dz = scale_rows(lin["p"], self.p["weight_ih"])
        return torch.cat([self.step_size * dz, dz], dim=-2)

    def weight_grad_rows(self, lin: Any, g: Tensor) -> Tensor:
        n = self.hidden
        return (g[..., n:] + self.step_size * g[..., :n]) * lin["p"]  # dL/dz' through y' too

    @classmethod
    def params_count(cls, hidden: int, input_size: int) -> int:
        return hidden * input_size + 2 * hidden * hidden + hidden


RESEARCH_CELLS = {c.kind: c for c in (IndRNNCell, MinimalRNNCell, AntisymmetricCell, CoRNNCell)}


def recurrent_matrix(cell) -> Tensor:
    """`(B, R, N)`: the matrix whose largest singular value is reported as
    `sigma_max(W_hh)`: a research cell's own (IndRNN `diag(u)`, antisymmetric
    `W - W^T - gamma I`), else the cell's `weight_hh` (PyTorch cells: the gate blocks)."""
    own = getattr(cell, "recurrent_matrix", None)
    return own() if callable(own) else cell.w.weight_hh
