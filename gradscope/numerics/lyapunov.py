"""The Lyapunov spectrum of a trajectory: Benettin's QR re-orthonormalisation along the
forward trajectory, accumulating `log|R_jj|`.

May import: `gradscope.numerics.logspace` (cells come in as arguments).
"""

from __future__ import annotations

import numpy as np
import torch

from .logspace import chunk_length

Tensor = torch.Tensor


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
