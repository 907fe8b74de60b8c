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
are lower bounds. Per-step gains `||J_t||_2` are exact SVDs in both modes (block power
iteration was no cheaper: it is memory-bound on re-reading each J_t, and the top
singular values of gated cells' step Jacobians cluster, so it converges slowly).

`lyapunov_spectrum` runs forwards: Benettin's QR re-orthonormalisation, accumulating
`log|R_jj|`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

Tensor = torch.Tensor
Progress = Callable[[str, int, int], None]

EXACT_LAGS = 32  # fast mode: exact SVD for lags 0..EXACT_LAGS-1
BLOCK = 8  # columns of the warm-started power-iteration block
CHUNK_ELEMENTS = 1 << 23  # a chunk's Jacobians hold at most this many numbers

QUANTITIES = ("spectral", "rms", "loss_grad", "input_sensitivity", "weight_grad", "step_gain")


def chunk_length(trials: int, dim: int) -> int:
    return int(min(256, max(1, CHUNK_ELEMENTS // (trials * dim * dim))))


def _log(t: Tensor) -> np.ndarray:
    """Natural log in float64 on the host; log(0) = -inf without warnings."""
    a = t.detach().to("cpu", torch.float64).numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a)


def _safe_div_(q: Tensor, n: Tensor) -> None:
    """q /= n in place per trial, leaving an all-zero (or non-finite-norm) q alone."""
    scale = torch.where(n > 0, n, torch.ones_like(n))
    q.div_(scale.reshape(-1, *([1] * (q.ndim - 1))))


def _top_from_gram(gram: Tensor) -> Tensor:
    """Largest singular value from batched Gram matrices `Y^T Y` `(..., p, p)`."""
    return torch.linalg.eigvalsh(gram)[..., -1].clamp_min(0).sqrt()


@dataclass
class _Carry:
    q: Tensor  # (B, D, D) running product, unit Frobenius norm
    log_scale: np.ndarray  # (B,) float64: log of the factor taken out of q
    v: Tensor  # (B, D) loss gradient direction, unit norm
    log_v: np.ndarray  # (B,) float64
    u: Tensor | None  # (B, D, p) left singular subspace (fast mode)
    v_in: Tensor | None  # (B, I, p) right singular vectors of Q B_t (fast mode)


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
    eye = torch.eye(dim, dtype=dtype, device=device).expand(trials, dim, dim)
    v0 = torch.zeros((trials, dim), dtype=dtype, device=device)
    v0[:, : readout.shape[1]] = readout
    carry = _Carry(
        q=eye / math.sqrt(dim),
        log_scale=np.full(trials, 0.5 * math.log(dim)),
        v=v0,
        log_v=np.zeros(trials),
        u=None,
        v_in=None,
    )
    clen = chunk or chunk_length(trials, dim)
    hi = steps
    while hi > 0:
        lo = max(0, hi - clen)
        _sweep_chunk(cell, states, inputs, lo, hi, steps, spectral, want, carry, out)
        hi = lo
        if progress is not None:
            progress("transport", steps - hi, steps)
    if "spectral" in want or "rms" in want:  # P(T, T) = I: exactly 0, not 0 up to rounding
        out["log_spectral"][:, 0] = out["log_rms"][:, 0] = 0.0
    # the last lag, k = T: the whole product
    sv = torch.linalg.svdvals(carry.q)[:, 0] if want & {"spectral", "rms"} else carry.q[:, 0, 0]
    out["log_spectral"][:, steps] = carry.log_scale + _log(sv)
    out["log_rms"][:, steps] = carry.log_scale - 0.5 * math.log(dim)
    out["log_loss_grad"][:, steps] = carry.log_v
    for key, name in (("spectral", "log_spectral"), ("rms", "log_rms"), ("loss_grad", "log_loss_grad")):
        if key not in want:
            out[name][:] = np.nan
    return out


def _sweep_chunk(cell, states, inputs, lo, hi, steps, spectral, want, carry: _Carry, out) -> None:
    """Multiply the Jacobians of steps lo+1..hi (lags steps-hi .. steps-lo-1) into the carry."""
    count = hi - lo
    trials, dim = carry.q.shape[0], carry.q.shape[1]
    lin = cell.linearize(states[lo:hi], inputs[lo:hi])
    jac = cell.jacobian(lin)  # (C, B, D, D); jac[j] is the step lo+1+j
    sens = "input_sensitivity" in want
    bjac = cell.input_jacobian(lin) if sens else None  # (C, B, D, I)
    lag0 = steps - hi  # lag of the running product before the first multiplication
    exact_spec, exact_sens, fast_spec, fast_sens = [], [], [], []
    q_norms = torch.ones((count, trials), dtype=jac.dtype, device=jac.device)
    v_norms = torch.empty_like(q_norms)
    vs = torch.empty((count, trials, dim), dtype=jac.dtype, device=jac.device)
    need_q = bool(want & {"spectral", "rms", "input_sensitivity"})
    for i, j in enumerate(range(count - 1, -1, -1)):
        vs[i] = carry.v
        if need_q:
            q = carry.q
            if spectral == "exact" or lag0 + i < EXACT_LAGS:
                exact_spec.append(torch.linalg.svdvals(q)[:, 0])
                if sens:
                    exact_sens.append(torch.linalg.svdvals(q @ bjac[j])[:, 0])
            else:
                fast_spec.append(_power_step(q, carry))
                if sens:
                    fast_sens.append(_input_power_step(q, bjac[j], carry))
            q = torch.bmm(q, jac[j])
            n = torch.linalg.vector_norm(q, dim=(1, 2))
            _safe_div_(q, n)
            q_norms[i] = n
            carry.q = q
        v = torch.bmm(jac[j].transpose(1, 2), carry.v.unsqueeze(-1)).squeeze(-1)
        m = torch.linalg.vector_norm(v, dim=1)
        _safe_div_(v, m)
        v_norms[i] = m
        carry.v = v
    # --- the rest is vectorised over the chunk -----------------------------------------
    order = torch.arange(count - 1, -1, -1, device=jac.device)  # i -> j
    lags = np.arange(lag0, lag0 + count)
    log_q = np.concatenate([carry.log_scale[None], _log(q_norms)]).cumsum(0)  # (C+1, B)
    log_v = np.concatenate([carry.log_v[None], _log(v_norms)]).cumsum(0)
    before = log_q[:-1].T  # (B, C): log scale of Q at lags lag0..lag0+C-1
    out["log_rms"][:, lags] = before - 0.5 * math.log(dim)
    out["log_loss_grad"][:, lags] = log_v[:-1].T
    if need_q:
        out["log_spectral"][:, lags] = before + _log(torch.stack(exact_spec + fast_spec)).T
    if sens:
        out["log_input_sensitivity"][:, lags] = before + _log(torch.stack(exact_sens + fast_sens)).T
    if "weight_grad" in want:
        lin_rev = {k: t[order] for k, t in lin.items()}
        delta = cell.weight_grad_rows(lin_rev, vs)  # (C, B, G*N)
        h_prev = cell.hidden_part(states[lo:hi])[order]
        norms = torch.linalg.vector_norm(delta, dim=-1) * torch.linalg.vector_norm(h_prev, dim=-1)
        out["log_weight_grad"][:, lags] = log_v[:-1].T + _log(norms).T
    out["log_step_rms"][:, lo:hi] = (
        _log(torch.linalg.vector_norm(jac, dim=(-2, -1))).T - 0.5 * math.log(dim)
    )
    if "step_gain" in want:
        out["log_step_gain"][:, lo:hi] = _log(torch.linalg.svdvals(jac)[..., 0]).T
    carry.log_scale = log_q[-1]
    carry.log_v = log_v[-1]


def _power_step(q: Tensor, carry: _Carry) -> Tensor:
    """Rayleigh-Ritz estimate of `||q||_2` on the carried left subspace, then one power step."""
    if carry.u is None:
        carry.u = torch.linalg.svd(q)[0][..., : min(BLOCK, q.shape[-1])].contiguous()
    y = torch.bmm(q.transpose(1, 2), carry.u)  # Q^T U
    carry.u = torch.linalg.qr(torch.bmm(q, y))[0]
    return _top_from_gram(y.transpose(1, 2) @ y)


def _input_power_step(q: Tensor, b: Tensor, carry: _Carry) -> Tensor:
    """Estimate of `||q b||_2` (b = ds_t/dx_t) without forming `q b`.

    Rayleigh-Ritz on the left subspace spanned by the carried singular subspace of `q`
    (right when the product has a gap) and by `q b V`, V the carried right singular
    vectors of the last lag's `q b` (right when the product is flat, as for an
    orthogonal cell); the top of that block is carried on as the next V.
    """
    p = min(BLOCK, b.shape[-1])
    if carry.v_in is None:
        carry.v_in = torch.linalg.svd(q @ b)[2][:, :p].transpose(1, 2).contiguous()
    left = torch.linalg.qr(torch.cat([carry.u, q @ (b @ carry.v_in)], dim=-1))[0]
    y = b.transpose(1, 2) @ (q.transpose(1, 2) @ left)  # (B, I, 2p) = (left^T q b)^T
    evals, evecs = torch.linalg.eigh(y.transpose(1, 2) @ y)
    top = y @ evecs[..., -p:]
    carry.v_in = top / torch.linalg.vector_norm(top, dim=1, keepdim=True).clamp_min(1e-300)
    return evals[:, -1].clamp_min(0).sqrt()


def lyapunov_spectrum(
    cell,
    states: Tensor,
    inputs: Tensor,
    exponents: int,
    discard: int | None = None,
    checkpoints: int = 50,
    chunk: int | None = None,
) -> dict[str, np.ndarray]:
    """Top `exponents` Lyapunov exponents by QR re-orthonormalisation (Benettin).

    Arguments:
        states, inputs: the window, as for `transport`.
        exponents: how many (E <= D).
        discard: steps at the start whose growth is dropped while the frame aligns
            (default: a tenth of the window).
        checkpoints: how many running estimates to keep (the convergence history).

    Returns:
        `lyapunov_spectrum` `(B, E)` (natural log per step, descending),
        `lyapunov_history` `(B, E, H)`, `lyapunov_history_steps` `(H,)` and
        `mean_log_det` `(B,)`, the time average of `log|det J_t|` over the same steps
        (equal to the sum of all D exponents, exactly, for smooth activations).
    """
    steps, trials, dim = states.shape[0] - 1, states.shape[1], states.shape[2]
    discard = steps // 10 if discard is None else discard
    dtype, device = states.dtype, states.device
    frame = torch.eye(dim, exponents, dtype=dtype, device=device).expand(trials, dim, exponents)
    total = torch.zeros((trials, exponents), dtype=torch.float64, device=device)
    logdet = torch.zeros(trials, dtype=torch.float64, device=device)
    marks = set(np.unique(np.linspace(discard + 1, steps, checkpoints).astype(int)).tolist())
    history, history_steps = [], []
    clen = chunk or chunk_length(trials, dim)
    for lo in range(0, steps, clen):
        hi = min(steps, lo + clen)
        jac = cell.jacobian(cell.linearize(states[lo:hi], inputs[lo:hi]))
        counted = slice(max(discard - lo, 0), hi - lo)
        logdet += torch.linalg.slogdet(jac[counted])[1].to(torch.float64).sum(0)
        for j in range(hi - lo):
            t = lo + j + 1
            frame, r = torch.linalg.qr(jac[j] @ frame)
            if t > discard:
                total += torch.diagonal(r, dim1=-2, dim2=-1).abs().log().to(torch.float64)
                if t in marks:
                    history.append(total.cpu().numpy() / (t - discard))
                    history_steps.append(t)
    n = max(steps - discard, 1)
    spectrum = total.cpu().numpy() / n
    return {
        "lyapunov_spectrum": -np.sort(-spectrum, axis=1),
        "lyapunov_history": np.stack(history, axis=-1) if history else np.zeros((trials, exponents, 0)),
        "lyapunov_history_steps": np.asarray(history_steps, dtype=np.int64),
        "mean_log_det": logdet.cpu().numpy() / n,
    }
