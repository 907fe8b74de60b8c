"""Batched linear algebra of the cells: one weight per trial, any leading axes.

Every cell holds its weights with a leading trial axis `(B, R, K)` and takes states of
shape `(..., B, K)`, so a whole chunk of steps goes through one `bmm`. Also the norms
and determinants every layer above shares: `stable_norm` (neither underflows nor
overflows) and `log_abs_det` (by QR, never by a batched LU: see there).

May import: nothing of gradscope's (torch only).
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def linear(weight: Tensor, v: Tensor) -> Tensor:
    """`weight @ v` per trial: weight `(B, R, K)`, v `(..., B, K)` -> `(..., B, R)`."""
    lead = v.shape[:-2]
    vb = v.movedim(-2, 0).reshape(weight.shape[0], -1, v.shape[-1])  # (B, M, K)
    out = torch.bmm(vb, weight.transpose(1, 2))  # (B, M, R)
    return out.reshape(weight.shape[0], *lead, weight.shape[1]).movedim(0, -2)


def scale_rows(coef: Tensor, weight: Tensor) -> Tensor:
    """`diag(coef) @ weight` per trial: coef `(..., B, R)`, weight `(B, R, K)`."""
    return coef.unsqueeze(-1) * weight


def linear_t(weight: Tensor, u: Tensor) -> Tensor:
    """`weight^T @ u` per trial: weight `(B, R, K)`, u `(..., B, R)` -> `(..., B, K)`.

    `linear_t(weight.mT, v)` is `weight @ v`."""
    lead = u.shape[:-2]
    ub = u.movedim(-2, 0).reshape(weight.shape[0], -1, u.shape[-1])  # (B, M, R)
    return torch.bmm(ub, weight).reshape(weight.shape[0], *lead, weight.shape[2]).movedim(0, -2)


def stable_norm(t: Tensor, dim) -> Tensor:
    """Euclidean/Frobenius norm over `dim` that neither underflows nor overflows.

    A plain norm squares the entries: in float32 a product whose entries are all below
    ~1e-19 (with denormals flushed) would read exactly 0, and one above ~1e19 inf.
    float32 tensors are summed in float64; float64 ones are scaled by their largest
    entry first.
    """
    if t.dtype == torch.float32:
        return torch.linalg.vector_norm(t, dim=dim, dtype=torch.float64)
    a = t.abs().amax(dim=dim, keepdim=True)
    a = torch.where(a > 0, a, torch.ones_like(a))
    return torch.linalg.vector_norm(t / a, dim=dim) * a.squeeze(dim)


def log_abs_det(a: Tensor) -> Tensor:
    """`log|det a|` of square matrices `(..., D, D)`, in float64: the sum of `log|R_jj|`
    of a Householder QR (`geqrf`).

    Never through LU: torch 2.13's batched LU (`slogdet`, `det`, `lu_factor`, `solve`,
    `inv`) prints "Intel oneMKL ERROR: Parameter 6 was incorrect on entry to DLASWP" and
    hangs on 2 or more threads for a batch of matrices of ~150 rows or more (pytorch
    issues #141358 and #142815). Batched `geqrf`, `qr`, `svdvals`, `eigvalsh`, `ormqr` and
    `householder_product` ran correctly on 2 and 4 threads at 128-400 rows (measured).
    A singular matrix gives `-inf`."""
    r = torch.geqrf(a.to(torch.float64))[0]
    with torch.no_grad():
        return torch.diagonal(r, dim1=-2, dim2=-1).abs().log().sum(-1)
