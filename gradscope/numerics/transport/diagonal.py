"""The transport of a diagonal cell, exactly, from cumulative sums of `log|d_t|`.

When every step Jacobian acts on each coordinate j (or on a pair of coordinates as a
rotation-scaling: LRU's `(Re h_j, Im h_j)`) with gain `|d_t[j]|` (the cell's
`log_abs_diagonal`), every product `P(T, T-k)` does too, with gain `exp(L_k[j])`,
`L_k = sum of log|d_t|` over its k steps, summed in float64. So, at every lag and
without a product of matrices, a Lanczos iteration or a QR:

- spectral norm `max_j L_k[j]`; RMS gain `0.5 ln(sum_j exp(2 L_k[j]) / D)`;
- loss gradient `|r^T P| = (sum_j r_j^2 exp(2 L_k[j]))^(1/2)` (a rotation keeps a pair's norm);
- input sensitivity `||P B_t||_2 = lambda_max(B_t^T diag(exp(2 L_k)) B_t)^(1/2)` (the cell's
  `input_gram`, scaled by the largest gain; one symmetric eigenvalue problem per lag, of the
  input size, or smaller where the gains have spread apart so far that fewer rows than
  inputs still count: `_top_eigenvalues`, exact to a relative 1e-18);
- per-step gains `max_j log|d_t[j]|` and RMS `0.5 ln(sum_j |d_t[j]|^2 / D)`;
- the weight gradient: a diagonal cell's `weight_grad_norms` depends on the cotangent only
  through its moduli (per coordinate, or per pair: the contract), so it is handed
  `|r| exp(L_k)` (scaled by its largest entry, the scale put back as a log), every lag at once.

Cost O(T D) (and the input-size eigenvalue problems), memory O(D) besides one chunk.

May import: nothing of gradscope's (torch and numpy; the cell comes in as an argument).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

Tensor = torch.Tensor
Progress = Callable[[str, int, int], None]
#: Numbers one chunk's input Jacobians and Gram matrices may hold.
BUDGET = 1 << 23
MAX_CHUNK = 4096
#: Input sensitivity: rows of `diag(w)^(1/2) B_t` that together move lambda_max by less
#: than this share of itself are left out; lags are taken BLOCK at a time, by rows needed.
PRUNE = 1e-18
BLOCK = 64


def _half_lse2(x: Tensor) -> Tensor:
    """`0.5 ln sum_j exp(2 x_j)` over the last axis, float64, `-inf` for all `-inf`."""
    return 0.5 * torch.logsumexp(2 * x, dim=-1)


def diagonal_transport(cell, states: Tensor, inputs: Tensor, readout: Tensor, want: set[str],
                       out: dict[str, np.ndarray], progress: Progress | None = None,
                       chunk: int | None = None) -> dict[str, np.ndarray]:
    """Fill `out` (the arrays of `transport.transport`, NaN where not asked) for a cell
    whose structure is diagonal; `readout` is `dL/ds_T` `(B, D)`.

    Returns `out` with every lag of `log_spectral`, `log_rms`, `log_loss_grad`
    (lags 0..T), `log_input_sensitivity`, `log_weight_grad` (lags 0..T-1) and the per-step
    `log_step_gain`, `log_step_rms`, as `want` asks."""
    steps, trials, dim = states.shape[0] - 1, states.shape[1], states.shape[2]
    f64 = torch.float64
    clen = chunk or max(1, min(MAX_CHUNK, BUDGET // (trials * dim * max(cell.input_size, 16))))
    carry = torch.zeros(trials, dim, dtype=f64, device=states.device)  # L of the lags done
    r2 = readout.to(f64) ** 2
    hi = steps
    while hi > 0:
        lo = max(0, hi - clen)
        count, lag0 = hi - lo, steps - hi
        lin = cell.linearize(states[lo:hi], inputs[lo:hi])
        ld = cell.log_abs_diagonal(lin).to(f64)  # (C, B, D), step j = lo+1+j
        # L before step j is multiplied: the carry plus the steps after j in the chunk
        after = torch.flip(torch.cumsum(torch.flip(ld, [0]), 0), [0])  # sum over j' >= j
        before = torch.cat([after[1:], torch.zeros_like(after[:1])]) + carry  # (C, B, D) by step
        lags = np.arange(lag0 + count - 1, lag0 - 1, -1)  # the lag of step j
        _lags(cell, lin, before, r2, want, out, lags, states[lo:hi])
        out["log_step_gain"][:, lo:hi] = ld.amax(-1).cpu().numpy().T
        out["log_step_rms"][:, lo:hi] = (_half_lse2(ld) - 0.5 * math.log(dim)).cpu().numpy().T
        carry = carry + after[0]
        hi = lo
        if progress is not None:
            progress("transport", steps - hi, steps)
    final = {}
    _lags(cell, None, carry.unsqueeze(0), r2, want & {"spectral", "rms", "loss_grad"}, final, None, None)
    for key in ("log_spectral", "log_rms", "log_loss_grad"):
        if key in final:
            out[key][:, steps] = final[key][0]
    return out


def _top_eigenvalues(cell, lin, w: Tensor) -> Tensor:
    """`lambda_max(B_t^T diag(w) B_t)` `(C, B)`, exactly, a block of lags at a time.

    A row j of `diag(w)^(1/2) B_t` whose share `w_j ||b_j||^2` is below `PRUNE / D` of the
    largest is left out: together such rows move `lambda_max` by less than `PRUNE` of itself
    (the rows left out add a positive semi-definite matrix of trace at most that, and
    `lambda_max >= max_j w_j ||b_j||^2`). Where fewer rows than inputs remain (long lags:
    the gains of a diagonal product spread apart), the eigenvalue problem is the rows' own
    K x K Gram matrix; else the cell's `input_outer` (D x D) where D <= I, its `input_gram`
    (I x I) otherwise."""
    contrib = w * cell.input_row_norms(lin)  # (C, B, D)
    need = (contrib > contrib.amax(-1, keepdim=True) * (PRUNE / w.shape[-1])).sum(-1).amax(-1)  # (C,)
    out = torch.empty(w.shape[:-1], dtype=torch.float64, device=w.device)
    order = torch.argsort(need)
    for lo in range(0, order.numel(), BLOCK):
        at = order[lo : lo + BLOCK]
        k = max(int(need[at].max()), 1)
        part = _take(lin, at)
        if k >= cell.input_size and w.shape[-1] <= cell.input_size:  # D <= I: the D x D twin
            gram = cell.input_outer(part, w[at])
        elif k >= cell.input_size:
            gram = cell.input_gram(part, w[at])
        else:
            idx = contrib[at].topk(k, dim=-1).indices  # (c, B, K)
            rows = cell.input_rows(part, idx) * w[at].gather(-1, idx).sqrt().unsqueeze(-1)
            gram = rows @ rows.mT
        out[at] = torch.linalg.eigvalsh(gram)[..., -1].clamp_min(0)
    return out


def _take(lin, at: Tensor):
    """The steps `at` of a chunk's linearisation (dicts, lists, tuples of tensors)."""
    if isinstance(lin, torch.Tensor):
        return lin[at]
    if isinstance(lin, dict):
        return {k: _take(v, at) for k, v in lin.items()}
    if isinstance(lin, (list, tuple)):
        return type(lin)(_take(v, at) for v in lin)
    return lin


def _lags(cell, lin, before: Tensor, r2: Tensor, want: set[str], out: dict, lags, s_prev) -> None:
    """Every quantity of the lags whose log gains are `before` `(C, B, D)` (by step), into
    `out[key][:, lags]` (`lags` None: `out[key]` itself, `(C, B)`). One exponential,
    `w = exp(2 (L - max L))`, serves them all."""
    top = before.amax(-1, keepdim=True)  # the spectral norm
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    w = torch.exp(2 * (before - top))
    dim = before.shape[-1]
    found = {"log_spectral": before.amax(-1)} if "spectral" in want else {}
    if "rms" in want:
        found["log_rms"] = top.squeeze(-1) + 0.5 * torch.log(w.sum(-1)) - 0.5 * math.log(dim)
    with np.errstate(divide="ignore"):
        if "loss_grad" in want:
            total = (w * r2).sum(-1)
            loss = top.squeeze(-1) + 0.5 * torch.log(total)
            small = total < 1e-250  # the readout sits where the gain is e^-300 below the top
            if bool(small.any()):
                loss = torch.where(small, _half_lse2(before + 0.5 * torch.log(r2)), loss)
            found["log_loss_grad"] = loss
        if "input_sensitivity" in want:  # lambda_max(B^T diag(w) B), the scale put back
            found["log_input_sensitivity"] = top.squeeze(-1) + 0.5 * torch.log(_top_eigenvalues(cell, lin, w))
        if "weight_grad" in want:  # dL/ds after step j has moduli |r| exp(L)
            wg = cell.weight_grad_norms(lin, r2.sqrt() * w.sqrt(), s_prev).to(torch.float64)
            found["log_weight_grad"] = top.squeeze(-1) + torch.log(wg)
    for key, value in found.items():
        host = value.cpu().numpy()
        if lags is None:
            out[key] = host
        else:
            out[key][:, lags] = host.T
