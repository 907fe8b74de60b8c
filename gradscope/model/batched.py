"""Batched linear algebra of the cells: one weight per trial, any leading axes.

Every cell holds its weights with a leading trial axis `(B, R, K)` and takes states of
shape `(..., B, K)`, so a whole chunk of steps goes through one `bmm`.

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
