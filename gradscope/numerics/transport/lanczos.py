"""The largest eigenvalue of many symmetric positive semi-definite operators at once.

`lanczos_top(apply, x0, ...)` runs the Lanczos iteration on a batch of operators
`A_i` (each a step's `J^T J`, or a lag's `Q Q^T`), all in the same tensor calls: one
application of every operator per iteration, so a chunk of 256 step Jacobians times one
vector each is one matrix product with `weight_hh`. The top Ritz value is a lower bound
of `lambda_max(A_i)`; an item stops when the Lanczos residual of its top Ritz pair,
`beta_{m+1} |y_m|`, is at most `tol` times the Ritz value (then an eigenvalue of `A_i`
lies within that relative distance). Items that do not meet it within `max_iter`
iterations are reported as not converged, and the caller takes an exact SVD there.

The iteration keeps three vectors and no basis (no reorthogonalisation): in floating
point the Lanczos vectors lose orthogonality as Ritz values converge, which only adds
copies of converged Ritz values, never a wrong largest one (Paige 1976). The small
tridiagonal problems are solved vectorised on the host (`tridiagonal_top`): one LAPACK
call per small matrix would cost more than the products themselves.

May import: nothing of gradscope's (torch and numpy only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

Tensor = torch.Tensor


@dataclass
class TopEigen:
    """What `lanczos_top` found, per item `(F, B)` of the batch."""

    value: np.ndarray  # float64 top Ritz value (a lower bound of lambda_max)
    converged: np.ndarray  # bool: relative residual <= tol
    residual: np.ndarray  # float64 relative residual of the top Ritz pair
    iterations: int  # the most iterations any item ran


def tridiagonal_top(alpha: np.ndarray, beta: np.ndarray, bits: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Largest eigenvalue of symmetric tridiagonal matrices, and |last component| of
    its unit eigenvector, for a batch: alpha `(..., m)`, beta `(..., m-1)` (float64).

    Bisection on Sturm counts of `T - x I` (the signs of its LDL^T pivots; a zero pivot
    becomes -inf, Kahan's rule), `bits` halvings of the Gershgorin interval, then one
    step of inverse iteration from there for the eigenvector and its Rayleigh quotient
    for the value (accurate to about the square of the bisection's 2^-bits). All
    vectorised over the batch: ~3 `bits` m array operations whatever the batch size.
    """
    m = alpha.shape[-1]
    b2 = np.maximum(beta * beta, 1e-300)
    off = np.zeros_like(alpha)
    off[..., 1:] += np.abs(beta)
    off[..., :-1] += np.abs(beta)
    lo = alpha.max(axis=-1)  # the largest diagonal entry is a lower bound
    hi = (alpha + off).max(axis=-1)
    cols = [alpha[..., i] for i in range(m)]
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(bits):
            x = 0.5 * (lo + hi)
            d = cols[0] - x
            above = d > 0  # a positive pivot: some eigenvalue above x
            for i in range(1, m):
                d = (cols[i] - x) - b2[..., i - 1] / d
                above |= d > 0
            lo = np.where(above, x, lo)
            hi = np.where(above, hi, x)
        # (T - theta I) z = 1 through the LDL^T factors at theta just above the top
        theta = hi + 1e-12 * np.abs(hi)
        piv = [cols[0] - theta]
        for i in range(1, m):
            piv.append((cols[i] - theta) - b2[..., i - 1] / piv[-1])
        w = [np.ones_like(theta)]
        for i in range(1, m):
            w.append(1.0 - beta[..., i - 1] / piv[i - 1] * w[-1])
        z = [w[m - 1] / piv[m - 1]]
        for i in range(m - 2, -1, -1):
            z.append(w[i] / piv[i] - beta[..., i] / piv[i] * z[-1])
        y = np.stack(z[::-1], axis=-1)
        y /= np.linalg.norm(y, axis=-1, keepdims=True)
    ty = alpha * y
    ty[..., :-1] += beta * y[..., 1:]
    ty[..., 1:] += beta * y[..., :-1]
    rq = (y * ty).sum(-1)
    good = np.isfinite(rq)
    theta = np.where(good, np.maximum(rq, lo), hi)  # the Rayleigh quotient, never below the bracket
    last = np.where(good, np.abs(y[..., -1]), 1.0)
    return theta, last


def lanczos_top(
    apply: Callable[[Tensor, Tensor], Tensor],
    x0: Tensor,
    tol: float,
    first_check: int,
    max_iter: int,
    check_every: int = 8,
) -> TopEigen:
    """Largest eigenvalues of a batch of PSD operators by Lanczos.

    Arguments:
        apply: `apply(x, idx)` -> `A x` for vectors x `(F', B, D)` of the items `idx`
            (indices into the first axis; the batch shrinks as items converge).
        x0: start vectors `(F, B, D)` (any nonzero; a warm start converges sooner).
        tol: relative residual at which an item has converged.
        first_check, check_every, max_iter: iterations before the first convergence
            test, between tests, and at most.

    Returns:
        `TopEigen` with `(F, B)` arrays.
    """
    f, b, _ = x0.shape
    value = np.zeros((f, b))
    residual = np.full((f, b), np.inf)
    converged = np.zeros((f, b), dtype=bool)
    active = torch.arange(f, device=x0.device)
    v = x0 / _norm(x0).clamp_min(torch.finfo(x0.dtype).tiny).unsqueeze(-1)
    v_prev = torch.zeros_like(v)
    beta_prev = torch.zeros((f, b), dtype=x0.dtype, device=x0.device)
    alphas: list[Tensor] = []
    betas: list[Tensor] = []
    m = 0
    while active.numel() and m < max_iter:
        w = apply(v, active)
        a = torch.linalg.vecdot(w, v)
        w.addcmul_(a.unsqueeze(-1), v, value=-1)
        w.addcmul_(beta_prev.unsqueeze(-1), v_prev, value=-1)
        bnext = _norm(w)
        # breakdown (an invariant subspace: the Ritz values are exact): end that item's
        # recurrence with zero vectors instead of dividing rounding noise by ~0
        alive = bnext > 64 * torch.finfo(w.dtype).eps * (a.abs() + beta_prev)
        bnext = torch.where(alive, bnext, torch.zeros_like(bnext))
        scale = torch.where(alive, 1 / bnext.clamp_min(torch.finfo(w.dtype).tiny), torch.zeros_like(bnext))
        v_prev, v = v, w.mul_(scale.unsqueeze(-1))
        beta_prev = bnext
        alphas.append(a)
        betas.append(bnext)
        m += 1
        if m >= first_check and ((m - first_check) % check_every == 0 or m == max_iter):
            al = torch.stack(alphas, -1).to("cpu", torch.float64).numpy()
            be = torch.stack(betas, -1).to("cpu", torch.float64).numpy()
            theta, last = tridiagonal_top(al, be[..., :-1])
            rel = be[..., -1] * last / np.maximum(theta, np.finfo(np.float64).tiny)
            rel = np.where(theta > 0, rel, 0.0)  # A = 0: exactly converged
            idx = active.cpu().numpy()
            value[idx], residual[idx] = theta, rel
            done = rel <= tol
            converged[idx] = done
            keep = ~done.all(axis=1)
            if not keep.all():
                sel = torch.from_numpy(np.flatnonzero(keep)).to(x0.device)
                active, v, v_prev, beta_prev = active[sel], v[sel], v_prev[sel], beta_prev[sel]
                alphas = [t[sel] for t in alphas]
                betas = [t[sel] for t in betas]
    return TopEigen(value=value, converged=converged, residual=residual, iterations=m)


def _norm(x: Tensor) -> Tensor:
    return torch.linalg.vector_norm(x, dim=-1)


def small_top(gram: Tensor, start: Tensor, iterations: int, tol: float = 1e-6) -> tuple[Tensor, Tensor]:
    """Top eigenpair of many small PSD matrices `(..., k, k)`: the Rayleigh quotient
    (float64) and the unit eigenvector `(..., k)`.

    Power iteration with the fourth power of the matrix (two batched squarings) from
    `start` (a nearby eigenvector converges in a few steps), vectorised over the batch:
    a handful of batched products instead of one LAPACK call per matrix, which at k ~ 16
    costs more than the products that made the matrix. The matrices whose iterate still
    has a relative residual above `tol` (a nearly degenerate top) get LAPACK's `eigh`.
    """
    g = gram.to(torch.float64)
    scale = torch.diagonal(g, dim1=-2, dim2=-1).sum(-1).clamp_min(1e-300)[..., None, None]
    g4 = g / scale
    g4 = g4 @ g4
    g4 = g4 @ g4  # (g / trace)^4: no overflow, the same eigenvectors
    x = start.to(torch.float64).expand(g.shape[:-1]).clone()
    for _ in range(iterations):
        x = (g4 @ x.unsqueeze(-1)).squeeze(-1)
        x = x / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min(1e-300)
    gx = (g @ x.unsqueeze(-1)).squeeze(-1)
    value = (x * gx).sum(-1)
    res = torch.linalg.vector_norm(gx - value.unsqueeze(-1) * x, dim=-1)
    bad = res > tol * value.abs().clamp_min(1e-300)
    if bool(bad.any()):
        evals, evecs = torch.linalg.eigh(g[bad])
        value[bad], x[bad] = evals[..., -1], evecs[..., -1]
    return value.clamp_min(0), x
