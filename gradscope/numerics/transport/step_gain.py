"""Per-step gains `||J_t||_2` for a chunk of steps, without an SVD per step.

`exact` mode takes an SVD of every step Jacobian. `fast` mode runs Lanczos on
`J_t J_t^T` for every step of the chunk at once (`lanczos.lanczos_top`): for the built-in
cells `x^T J_t J_t^T` (`cell.gram`) is two products with `weight_hh` (one with `W W^T`
for the vanilla RNN), so one iteration for 256 steps is one matrix product; cells that do
not declare `gram` fast use their materialised Jacobians. Each step stops when the relative residual of its top Ritz pair is below
`TOL` (then the estimate, a lower bound, is within `TOL` of an eigenvalue of
`J^T J`); a step that does not get there in `MAX_ITER` iterations gets an exact SVD.

The self-check: an exact SVD at `checks` steps of the chunk drawn from a fixed seed (at
least one a chunk, about 32 over a short window and a few hundred over 10^5 steps). If
one falls short by more than `CHECK_TOL`, the chunk is done again with a 100x tighter
tolerance, and if that still falls short, exactly. What is reported (`worst`) is the
largest shortfall of the estimates that were kept, at the checked steps.

May import: `gradscope.numerics.transport.lanczos`, `gradscope.numerics.transport.chunk`,
`gradscope.numerics.logspace`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..logspace import host_log
from .chunk import lin_first, lin_lead, lin_take
from .lanczos import lanczos_top

Tensor = torch.Tensor

#: Relative Lanczos residual at which a step's gain is accepted, by dtype (float32's
#: rounding keeps the residual estimate from going much lower).
TOL = {torch.float32: 3e-4, torch.float64: 1e-5}
FIRST_CHECK = 24  # Lanczos iterations before the first convergence test (most pass by then)
MAX_ITER = 48
CHECK_TOL = 1e-3  # a checked step further below its exact SVD than this redoes the chunk


@dataclass
class StepGains:
    log_gain: np.ndarray  # (C, B) natural log of ||J_t||_2
    worst: float  # largest relative shortfall at the checked steps (0 in exact mode)
    checked: int  # (step, trial) pairs checked
    redone: int  # 0: first pass kept; 1: redone tighter; 2: redone exactly


def step_gains(cell, lin: dict, spectral: str, checks: int, seed: int, jac: Tensor | None = None) -> StepGains:
    """`log ||J_t||_2` for the steps of one chunk, `(C, B)`.

    Arguments:
        cell, lin: the cell and `cell.linearize` of the chunk's steps (leading axis C).
        spectral: `exact` (an SVD per step) or `fast` (see the module docstring).
        checks: steps of the chunk to check against an exact SVD (fast mode).
        seed: seeds the start vectors and the checked steps (results are reproducible).
        jac: the chunk's materialised Jacobians `(C, B, D, D)` if the caller has them.
    """
    if spectral == "exact":
        jac = cell.jacobian(lin) if jac is None else jac
        return StepGains(host_log(torch.linalg.svdvals(jac)[..., 0]), 0.0, 0, 0)
    count, trials = lin_lead(lin)
    rng = np.random.default_rng([seed, 7])
    picks = np.sort(rng.choice(count, size=min(checks, count), replace=False))
    who = rng.integers(0, trials, size=picks.size)  # one trial per checked step
    exact = _svd_top(cell, lin, picks, jac)[np.arange(picks.size), who]
    tol0 = TOL.get(lin_first(lin).dtype, 1e-4)
    for level, tol in enumerate((tol0, tol0 / 100)):
        gain = _lanczos_gains(cell, lin, tol, seed, jac)
        est = gain[picks, who]
        short = np.max(1 - est[exact > 0] / exact[exact > 0], initial=0.0)  # a zero gain: both 0
        if short <= CHECK_TOL:
            gain[picks, who] = np.maximum(est, exact)
            return StepGains(_log(gain), float(max(short, 0.0)), picks.size, level)
    return StepGains(_log(_svd_top(cell, lin, np.arange(count), jac)), 0.0, picks.size, 2)


def _log(gain: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):  # an exact zero gain (dead relu units) is -inf
        return np.log(gain)


def _svd_top(cell, lin: dict, idx: np.ndarray, jac: Tensor | None) -> np.ndarray:
    """Exact `||J_t||_2` `(len(idx), B)` float64 by SVD."""
    if idx.size == 0:
        return np.zeros((0, lin_lead(lin)[1]))
    sel = torch.as_tensor(idx, device=lin_first(lin).device)
    j = jac[sel] if jac is not None else cell.jacobian(lin_take(lin, sel))
    return torch.linalg.svdvals(j)[..., 0].to("cpu", torch.float64).numpy()


def _lanczos_gains(cell, lin: dict, tol: float, seed: int, jac: Tensor | None) -> np.ndarray:
    """`||J_t||_2` `(C, B)` by Lanczos on `J^T J` (exact SVD where it does not converge)."""
    count, trials = lin_lead(lin)
    structured = jac is None and "gram" in cell.fast_products
    if not structured and jac is None:
        jac = cell.jacobian(lin)

    def apply(x: Tensor, idx: Tensor) -> Tensor:  # J J^T x: the same top eigenvalue as J^T J
        if structured:
            sub = lin_take(lin, idx) if idx.numel() < count else lin
            return cell.gram(sub, x.unsqueeze(-2)).squeeze(-2)
        j = jac[idx]
        return ((x.unsqueeze(-2) @ j) @ j.mT).squeeze(-2)  # row vectors: the fast orientation

    ref = lin_first(lin)
    dim = cell.state_dim
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    x0 = torch.randn((count, trials, dim), generator=gen, dtype=torch.float64).to(ref.device, ref.dtype)
    top = lanczos_top(apply, x0, tol, first_check=min(FIRST_CHECK, dim),
                      max_iter=min(MAX_ITER, dim + 1), check_every=6)
    gain = np.sqrt(np.maximum(top.value, 0.0))
    bad = np.flatnonzero(~top.converged.all(axis=1))
    if bad.size:
        gain[bad] = _svd_top(cell, lin, bad, jac)
    return gain
