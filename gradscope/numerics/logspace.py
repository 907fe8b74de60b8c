"""Log-space arithmetic shared by the transport and the Lyapunov spectrum: logs on the
host in float64, norms that neither underflow nor overflow, safe renormalisation, the
top singular value from a small Gram matrix, and the chunk length of a sweep.

May import: `gradscope.model.batched` (its `stable_norm`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..model.batched import stable_norm  # noqa: F401  (the norm every sweep uses, public here)

Tensor = torch.Tensor


#: A chunk's Jacobians hold at most this many numbers.
CHUNK_ELEMENTS = 1 << 23


def chunk_length(trials: int, dim: int) -> int:
    """Steps per chunk: at most 256, and at most `CHUNK_ELEMENTS` Jacobian entries."""
    return int(min(256, max(1, CHUNK_ELEMENTS // (trials * dim * dim))))


def host_log(t: Tensor) -> np.ndarray:
    """Natural log in float64 on the host; log(0) = -inf without warnings."""
    a = t.detach().to("cpu", torch.float64).numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a)


def divide_by_norm_(q: Tensor, n: Tensor) -> None:
    """q /= n in place per trial, leaving an all-zero (or non-finite-norm) q alone."""
    scale = torch.where(n > 0, n, torch.ones_like(n))
    q.div_(scale.reshape(-1, *([1] * (q.ndim - 1))))


def top_from_gram(gram: Tensor) -> Tensor:
    """Largest singular value from batched Gram matrices `Y^T Y` `(..., p, p)`.

    The small eigenproblem is solved in float64 (float32 `eigh` can fail to converge on
    a nearly rank-one Gram matrix)."""
    return torch.linalg.eigvalsh(gram.to(torch.float64))[..., -1].clamp_min(0).sqrt()
