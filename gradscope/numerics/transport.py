"""Log-space Jacobian products: every lag of `P(T, T-k) = J_T ... J_{T-k+1}` at once.

`transport` sweeps the window backwards, chunk by chunk. Each chunk's step Jacobians
are recomputed from the stored states (never all stored) and multiplied into a running
product `Q` that is renormalised to unit Frobenius norm after every step; the scale is
carried as a float64 log. So `log ||P||` is exact to rounding at every lag, at 10^5
steps, in float32 or float64, and a zero product (dead relu units) is `-inf` from that
lag on instead of a division by zero.

Spectral norms: `exact` takes an SVD of `Q` at every lag. `fast` takes the exact SVD for
the first `EXACT_LAGS` lags, then one step of warm-started block power iteration per lag
on the left singular subspace of `Q` (which lives at time T and converges with the lag,
so the warm start is good), with a Rayleigh-Ritz estimate of the top singular value;
the input sensitivity `||Q B_t||_2` likewise (see `_input_power_step`). Both estimates
are lower bounds. After `PER_LAG` lags the subspace has settled and lags go in blocks
of `SUB`: the block's products are formed without rescaling (one `bmm` each), then
their norms and estimates are taken in a few batched calls; a block whose scale runs
out of the dtype's safe range is redone lag by lag. Per-step gains `||J_t||_2` are exact SVDs in both modes (block power
iteration was no cheaper: it is memory-bound on re-reading each J_t, and the top
singular values of gated cells' step Jacobians cluster, so it converges slowly).

May import: `gradscope.numerics.logspace` (cells come in as arguments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .logspace import (
    chunk_length,
    divide_by_norm_,
    host_log,
    stable_norm,
    top_from_gram,
)

Tensor = torch.Tensor
Progress = Callable[[str, int, int], None]

EXACT_LAGS = 32  # fast mode: exact SVD for lags 0..EXACT_LAGS-1
PER_LAG = 256  # fast mode: one power step per lag up to here, then blocks of SUB lags
SUB = 16
# A block whose products leave e^+-SAFE_LOG (relative to its start) is redone lag by lag.
# Norms and Gram matrices square the entries, so the limit is well inside half the
# dtype's range; float32 also keeps the squares it drops (below ~1e-38 each) negligible.
SAFE_LOG = {torch.float32: 30.0, torch.float64: 150.0}
BLOCK = 8  # columns of the warm-started power-iteration block
CHECK_FIRST = 64  # fast mode: an exact SVD at lags 64, 128, 256, ... checks the estimates

QUANTITIES = ("spectral", "rms", "loss_grad", "input_sensitivity", "weight_grad", "step_gain")


@dataclass
class _Carry:
    q: Tensor  # (B, D, D) running product, unit Frobenius norm
    log_scale: np.ndarray  # (B,) float64: log of the factor taken out of q
    v: Tensor  # (B, D) loss gradient direction, unit norm
    log_v: np.ndarray  # (B,) float64
    u: Tensor | None = None  # (B, D, p) left singular subspace (fast mode)
    v_in: Tensor | None = None  # (B, I, p) right singular vectors of Q B_t (fast mode)
    worst: list = field(default_factory=lambda: [0.0, 0.0])  # checked fast-mode errors


class _Steps:
    """The step Jacobians of one chunk, as right-multiplication and vector products.

    A vanilla RNN's `J_t = diag(d_t) W` is never formed: `Q J_t = (Q diag(d_t)) W` and
    `J_t^T v = W^T (d_t * v)` (it saves building the chunk and half the memory traffic).
    Other cells, or when the Jacobians themselves are needed (per-step gains), use the
    materialised chunk `jac[j]`.
    """

    def __init__(self, cell, lin, materialise: bool) -> None:
        self.direct = not materialise and getattr(cell, "kind", "") == "rnn" and "d" in lin
        if self.direct:
            self.d, self.w = lin["d"], cell.w.weight_hh
            self.jac = None
        else:
            self.jac = cell.jacobian(lin)  # (C, B, D, D); jac[j] is the step lo+1+j

    def right(self, q: Tensor, j: int, out: Tensor | None = None) -> Tensor:
        if self.direct:
            return torch.bmm(q * self.d[j].unsqueeze(1), self.w, out=out)
        return torch.bmm(q, self.jac[j], out=out)

    def vjp(self, v: Tensor, j: int) -> Tensor:
        """`J_j^T v` for v `(B, D)`, as `(v^T J_j)`."""
        if self.direct:
            return torch.bmm((self.d[j] * v).unsqueeze(1), self.w).squeeze(1)
        return torch.bmm(v.unsqueeze(1), self.jac[j]).squeeze(1)

    def frobenius(self) -> Tensor:
        """`||J_t||_F` for the chunk `(C, B)`."""
        if self.direct:  # sum_i d_i^2 |W_i|^2, in float64 (see `_norm`)
            w, d = self.w.to(torch.float64), self.d.to(torch.float64)
            return ((d * d) * (w * w).sum(-1)).sum(-1).sqrt()
        return stable_norm(self.jac, (-2, -1))


def transport(
    cell,
    states: Tensor,
    inputs: Tensor,
    readout: Tensor,
    spectral: str = "fast",
    quantities: tuple[str, ...] = QUANTITIES,
    progress: Progress | None = None,
    chunk: int | None = None,
) -> dict[str, np.ndarray]:
    """Gradient transport at every lag of the window, per trial, in log space.

    Arguments:
        cell: a batched cell with `linearize`, `jacobian`, `input_jacobian`, `weight_grad_rows`.
        states: `(T+1, B, D)` states `s_0..s_T`.
        inputs: `(T, B, I)` inputs `x_1..x_T`.
        readout: `(B, N)` unit vectors; the loss is `L = r . h_T`.
        spectral: `fast` or `exact` (see the module docstring).
        quantities: which of `QUANTITIES` to compute (others come back as NaN).

    Returns:
        `log_spectral`, `log_rms`, `log_loss_grad`, `log_input_sensitivity`,
        `log_weight_grad` `(B, T+1)` indexed by lag k, and `log_step_gain`,
        `log_step_rms` `(B, T)` indexed by step t-1. Natural logs, float64.
    """
    steps, trials, dim = states.shape[0] - 1, states.shape[1], states.shape[2]
    want = set(quantities)
    unknown = want - set(QUANTITIES)
    if unknown:
        raise ValueError(f"unknown quantities {sorted(unknown)}; choose from {', '.join(QUANTITIES)}")
    dtype, device = states.dtype, states.device
    lag_shape, step_shape = (trials, steps + 1), (trials, steps)
    out = {
        "log_spectral": np.full(lag_shape, np.nan),
        "log_rms": np.full(lag_shape, np.nan),
        "log_loss_grad": np.full(lag_shape, np.nan),
        "log_input_sensitivity": np.full(lag_shape, np.nan),
        "log_weight_grad": np.full(lag_shape, np.nan),
        "log_step_gain": np.full(step_shape, np.nan),
        "log_step_rms": np.full(step_shape, np.nan),
    }
    v0 = torch.zeros((trials, dim), dtype=dtype, device=device)
    v0[:, : readout.shape[1]] = readout
    carry = _Carry(
        q=torch.eye(dim, dtype=dtype, device=device).expand(trials, dim, dim) / math.sqrt(dim),
        log_scale=np.full(trials, 0.5 * math.log(dim)),
        v=v0,
        log_v=np.zeros(trials),
    )
    clen = chunk or chunk_length(trials, dim)
    flush = device.type == "cpu" and torch.set_flush_denormal(True)  # denormals: 100x slower
    try:
        hi = steps
        while hi > 0:
            lo = max(0, hi - clen)
            _Sweep(cell, states, inputs, lo, hi, steps, spectral, want, carry, out).run()
            hi = lo
            if progress is not None:
                progress("transport", steps - hi, steps)
    finally:
        if flush:
            torch.set_flush_denormal(False)
    if want & {"spectral", "rms"}:  # P(T, T) = I: exactly 0, not 0 up to rounding
        out["log_spectral"][:, 0] = out["log_rms"][:, 0] = 0.0
        # the last lag, k = T: the whole product
        out["log_spectral"][:, steps] = carry.log_scale + host_log(torch.linalg.svdvals(carry.q)[:, 0])
        out["log_rms"][:, steps] = carry.log_scale - 0.5 * math.log(dim)
    if want & {"loss_grad", "weight_grad"}:
        out["log_loss_grad"][:, steps] = carry.log_v
    # worst relative error of the fast estimates at the checked lags (0 in exact mode)
    out["fast_check"] = np.array(carry.worst)
    for key, name in (("spectral", "log_spectral"), ("rms", "log_rms"), ("loss_grad", "log_loss_grad")):
        if key not in want:
            out[name][:] = np.nan
    return out


class _Sweep:
    """Multiply the Jacobians of steps lo+1..hi (lags steps-hi .. steps-lo-1) into the carry.

    Lags are taken one at a time (exact mode, the first `PER_LAG` lags of fast mode, and
    any block whose scale leaves `e^+-SAFE_LOG`), else in blocks of `SUB` lags: the
    products of a block are formed without rescaling, then their norms, spectral
    estimates and the next power step are taken in one batched call each.
    """

    def __init__(self, cell, states, inputs, lo, hi, steps, spectral, want, carry, out) -> None:
        self.cell, self.carry, self.out, self.want = cell, carry, out, want
        self.lo, self.hi, self.count = lo, hi, hi - lo
        self.lag0 = steps - hi  # lag of the running product before the first multiplication
        self.spectral = spectral
        self.states = states
        self.need_q = bool(want & {"spectral", "rms", "input_sensitivity"})
        self.need_v = bool(want & {"loss_grad", "weight_grad"})
        self.lin = cell.linearize(states[lo:hi], inputs[lo:hi])
        self.steps = _Steps(cell, self.lin, materialise="step_gain" in want)
        self.bjac = cell.input_jacobian(self.lin) if "input_sensitivity" in want else None
        # per lag i (i = 0..count-1, lag = lag0 + i, step j = count-1-i):
        self.q_add = np.zeros((self.count, carry.q.shape[0]))  # log scale to add
        self.q_frob: list[Tensor] = []  # ||matrix||_F of the stored (possibly unscaled) product
        self.q_sig: list[Tensor] = []  # its top singular value (estimate)
        self.sens: list[Tensor] = []
        self.v_add = np.zeros_like(self.q_add)
        self.v_vec: list[Tensor] = []  # (B, D) the loss gradient at that lag, in that scale

    def run(self) -> None:
        i = 0
        while i < self.count:
            lag = self.lag0 + i
            block = min(SUB, self.count - i)
            if self.spectral == "fast" and lag >= PER_LAG and block > 1 and self._block(i, block):
                i += block
            else:
                self._one(i)
                i += 1
        self._finish()

    # -- one lag at a time ---------------------------------------------------------------
    def _one(self, i: int) -> None:
        c, j = self.carry, self.count - 1 - i
        if self.need_q:
            q = c.q
            self.q_add[i] = c.log_scale
            self.q_frob.append(torch.ones(q.shape[0], dtype=q.dtype, device=q.device))
            if self.spectral == "exact" or self.lag0 + i < EXACT_LAGS:
                self.q_sig.append(torch.linalg.svdvals(q)[:, 0])
                if self.bjac is not None:
                    self.sens.append(torch.linalg.svdvals(q @ self.bjac[j])[:, 0])
            else:
                self.q_sig.append(_power_step(q, c))
                if self.bjac is not None:
                    self.sens.append(_input_power_step(q, self.bjac[j], c))
                self._verify(i, q, j)
            q = self.steps.right(q, j)
            n = stable_norm(q, (1, 2))
            divide_by_norm_(q, n)
            c.q = q
            c.log_scale = c.log_scale + host_log(n)
        if self.need_v:
            self.v_add[i] = c.log_v
            self.v_vec.append(c.v)
            v = self.steps.vjp(c.v, j)
            m = stable_norm(v, 1)
            divide_by_norm_(v, m)
            c.v = v
            c.log_v = c.log_v + host_log(m)

    # -- a block of lags -----------------------------------------------------------------
    def _block(self, i: int, size: int) -> bool:
        """Lags i..i+size-1 at once; False (nothing changed) if the scale runs away."""
        c = self.carry
        js = [self.count - 1 - (i + s) for s in range(size)]
        if self.need_q:
            prods = torch.empty((size + 1, *c.q.shape), dtype=c.q.dtype, device=c.q.device)
            prods[0] = c.q
            for s, j in enumerate(js):
                self.steps.right(prods[s], j, out=prods[s + 1])
            # a plain norm is exact inside the safe range; outside it _tame sends the block
            # back lag by lag, where `_norm` is used
            frob = torch.linalg.vector_norm(prods[1:], dim=(-2, -1))  # (size, B)
            if not _tame(frob, prods.dtype):
                return False
        if self.need_v:
            vs = torch.empty((size + 1, *c.v.shape), dtype=c.v.dtype, device=c.v.device)
            vs[0] = c.v
            for s, j in enumerate(js):
                vs[s + 1] = self.steps.vjp(vs[s], j)
            vnorm = torch.linalg.vector_norm(vs[1:], dim=-1)
            if not _tame(vnorm, vs.dtype):
                return False
        if self.need_q:
            # the products at lags i..i+size-1, their scale within e^+-SAFE_LOG of c.q's
            stack = prods[:size]
            y = torch.matmul(c.u.transpose(1, 2), stack)  # (size, B, p, D) = U^T Q
            self.q_sig.extend(top_from_gram(y @ y.transpose(-1, -2)).unbind(0))
            self.q_frob.extend(torch.cat([torch.ones_like(frob[:1]), frob[:-1]]).unbind(0))
            self.q_add[i : i + size] = c.log_scale
            if self.bjac is not None:
                self.sens.extend(_input_block(stack, self.bjac[js], c).unbind(0))
            for k in range(size):
                self._verify(i + k, stack[k], js[k])
            # the carried scale accumulates over every block: its norm summed in float64
            last, n = prods[size], stable_norm(prods[size], (-2, -1))
            divide_by_norm_(last, n)
            c.q = last.clone()
            c.log_scale = c.log_scale + host_log(n)
            _power_step(c.q, c)  # refresh the subspace on the new carry
        if self.need_v:
            self.v_add[i : i + size] = c.log_v
            self.v_vec.extend(vs[:size].unbind(0))
            v, m = vs[size], stable_norm(vs[size], -1)
            divide_by_norm_(v, m)
            c.v = v.clone()
            c.log_v = c.log_v + host_log(m)
        return True

    def _verify(self, i: int, q: Tensor, j: int) -> None:
        """At lags 64, 128, 256, ... (powers of two), the fast estimate against an exact SVD.

        `q` is the product (in whatever scale) the estimate `q_sig[i]` was taken from; the worst
        relative shortfall so far is kept in `carry.worst` (spectral, input sensitivity).
        """
        lag = self.lag0 + i
        if lag < CHECK_FIRST or lag & (lag - 1):  # lags 64, 128, 256, 512, ...: log2(T) SVDs
            return
        c = self.carry
        exact = torch.linalg.svdvals(q)[:, 0]
        c.worst[0] = max(c.worst[0], float((1 - self.q_sig[i] / exact).abs().max()))
        if self.bjac is not None:
            exact = torch.linalg.svdvals(q @ self.bjac[j])[:, 0]
            c.worst[1] = max(c.worst[1], float((1 - self.sens[i] / exact).abs().max()))

    # -- everything else, vectorised over the chunk --------------------------------------
    def _finish(self) -> None:
        out, lags, dim = self.out, np.arange(self.lag0, self.lag0 + self.count), self.carry.q.shape[-1]
        order = torch.arange(self.count - 1, -1, -1, device=self.carry.q.device)  # i -> j
        if self.need_q:
            frob = host_log(torch.stack(self.q_frob)).T  # (B, C)
            out["log_rms"][:, lags] = self.q_add.T + frob - 0.5 * math.log(dim)
            out["log_spectral"][:, lags] = self.q_add.T + host_log(torch.stack(self.q_sig)).T
            if self.sens:
                out["log_input_sensitivity"][:, lags] = self.q_add.T + host_log(torch.stack(self.sens)).T
        if self.need_v:
            vecs = torch.stack(self.v_vec)  # (C, B, D)
            out["log_loss_grad"][:, lags] = self.v_add.T + host_log(stable_norm(vecs, -1)).T
            if "weight_grad" in self.want and hasattr(self.cell, "weight_grad_norms"):
                # stacked layers, custom cells: no single outer product; the cell gives the norms
                norms = self.cell.weight_grad_norms(self.lin, vecs[order])[order]
                out["log_weight_grad"][:, lags] = self.v_add.T + host_log(norms).T
            elif "weight_grad" in self.want:
                lin_rev = {k: t[order] for k, t in self.lin.items()}
                delta = self.cell.weight_grad_rows(lin_rev, vecs)  # (C, B, G*N)
                h_prev = self.cell.hidden_part(self.states[self.lo : self.hi])[order]
                norms = stable_norm(delta, -1) * stable_norm(h_prev, -1)
                out["log_weight_grad"][:, lags] = self.v_add.T + host_log(norms).T
        out["log_step_rms"][:, self.lo : self.hi] = host_log(self.steps.frobenius()).T - 0.5 * math.log(dim)
        if "step_gain" in self.want:
            out["log_step_gain"][:, self.lo : self.hi] = host_log(torch.linalg.svdvals(self.steps.jac)[..., 0]).T


def _tame(norms: Tensor, dtype: torch.dtype) -> bool:
    """Every norm finite and within e^+-SAFE_LOG of `dtype` (else the block is redone lag by lag)."""
    limit = SAFE_LOG.get(dtype, 30.0)
    return bool(((norms > math.exp(-limit)) & (norms < math.exp(limit))).all())


def _power_step(q: Tensor, carry: _Carry) -> Tensor:
    """Rayleigh-Ritz estimate of `||q||_2` on the carried left subspace, then one power step."""
    if carry.u is None:
        carry.u = torch.linalg.svd(q)[0][..., : min(BLOCK, q.shape[-1])].contiguous()
    y = torch.bmm(carry.u.transpose(1, 2), q)  # U^T Q, (B, p, D) (faster than Q^T U)
    carry.u = torch.linalg.qr(torch.bmm(q, y.transpose(1, 2)))[0]
    return top_from_gram(y @ y.transpose(1, 2))


def _input_power_step(q: Tensor, b: Tensor, carry: _Carry) -> Tensor:
    """Estimate of `||q b||_2` (b = ds_t/dx_t) without forming `q b`.

    Rayleigh-Ritz on the left subspace spanned by the carried singular subspace of `q`
    (right when the product has a gap) and by `q b V`, V the carried right singular
    vectors of the last lag's `q b` (right when the product is flat, as for an
    orthogonal cell); the top of that block is carried on as the next V.
    """
    return _input_block(q.unsqueeze(0), b.unsqueeze(0), carry)[0]


def _input_block(qs: Tensor, bs: Tensor, carry: _Carry) -> Tensor:
    """`_input_power_step` for a stack of lags `(S, B, D, D)`, `(S, B, D, I)` -> `(S, B)`;
    the carried V is updated from the last lag."""
    p = min(BLOCK, bs.shape[-1])
    if carry.v_in is None:
        carry.v_in = torch.linalg.svd(qs[0] @ bs[0])[2][:, :p].transpose(1, 2).contiguous()
    u = carry.u.expand(qs.shape[0], *carry.u.shape)
    left = torch.linalg.qr(torch.cat([u, qs @ (bs @ carry.v_in)], dim=-1))[0]
    y = bs.transpose(-1, -2) @ (left.transpose(-1, -2) @ qs).transpose(-1, -2)  # (S, B, I, 2p)
    gram = (y.transpose(-1, -2) @ y).to(torch.float64)  # small: solved in float64 (see above)
    evals, evecs = torch.linalg.eigh(gram)
    top = y[-1] @ evecs[-1][..., -p:].to(y.dtype)
    tiny = torch.finfo(top.dtype).tiny
    carry.v_in = top / torch.linalg.vector_norm(top, dim=1, keepdim=True).clamp_min(tiny)
    return evals[..., -1].clamp_min(0).sqrt().to(y.dtype)


