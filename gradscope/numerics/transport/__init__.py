"""The gradient transport: every lag of `P(T, T-k) = J_T ... J_{T-k+1}` at once.

`transport` sweeps the window backwards, chunk by chunk. Each chunk's step Jacobians
are recomputed from the stored states (never all stored) and multiplied into a running
product `Q` that is renormalised to unit Frobenius norm after every step (or every block
of steps); the scale is carried as a float64 log. So `log ||P||` is exact to rounding at
every lag, at 10^5 steps, in float32 or float64, and a zero product (dead relu units) is
`-inf` from that lag on instead of a division by zero.

Spectral norms, input sensitivities and per-step gains: `exact` takes an SVD at every lag
and of every step Jacobian (`exact.ExactChunk`). `fast` (`fast.FastChunk`) forms
the products in blocks with the cells' structured products, estimates the norms on a
carried subspace with an a-posteriori residual test and Lanczos refinement where it
fails (`lags`), the per-step gains by Lanczos on every step of a chunk at once
(`step_gain`, on `lanczos`), and checks itself against an exact SVD at lags and steps spread over the
window; a chunk where a check falls short by more than 1e-3 is done again more
accurately, so the estimates are within 1e-3 of an exact SVD wherever they were checked.

A cell whose structure is diagonal (`cell.structure`, declared) takes neither mode:
`diagonal` computes every quantity exactly from cumulative sums of `log|d_t|` in O(T D).

The room: `chunk` (the carry and what a chunk records), `exact`, `fast` (the two modes,
each with the products it takes of the step Jacobians), `lags` (fast mode's per-lag
estimates), `step_gain` (per-step gains), `lanczos` (the batched eigenvalue iteration),
`diagonal` (diagonal cells).

May import: the modules of `gradscope.numerics.transport`, `gradscope.numerics.logspace`,
`gradscope.numerics.threads`, `gradscope.model.contract` (cells come in as arguments).
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np
import torch

from ...model.contract import Structure
from ..logspace import chunk_length, host_log, stable_norm
from ..threads import ThreadWatch
from .chunk import Carry
from .diagonal import diagonal_transport
from .exact import ExactChunk
from .fast import FastChunk
from .lags import LagEstimator

Tensor = torch.Tensor
Progress = Callable[[str, int, int], None]

QUANTITIES = ("spectral", "rms", "loss_grad", "input_sensitivity", "weight_grad", "step_gain")
FAST_CHUNK = 256  # fast mode: steps per chunk (no chunk of Jacobians is formed)
CHECKS = 16  # fast mode: at least this many checked lags (and steps) over the window,
CHECK_SPACING = 512  # ... and one per this many lags


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
        cell: a batched cell with `linearize`, `jacobian`, `input_jacobian`, `weight_grad_rows`
            (and the products it declares fast: `gradscope.model.contract`).
        states: `(T+1, B, D)` states `s_0..s_T`.
        inputs: `(T, B, I)` inputs `x_1..x_T`.
        readout: `(B, N)` unit vectors; the loss is `L = r . h_T`.
        spectral: `fast` or `exact` (see the module docstring).
        quantities: which of `QUANTITIES` to compute (others come back as NaN).

    Returns:
        `log_spectral`, `log_rms`, `log_loss_grad`, `log_input_sensitivity`,
        `log_weight_grad` `(B, T+1)` indexed by lag k, and `log_step_gain`,
        `log_step_rms` `(B, T)` indexed by step t-1. Natural logs, float64. Fast mode's
        self-check: `fast_check` `(2,)` (worst relative shortfall of the spectral and
        input-sensitivity estimates at the checked lags), `step_gain_check` `(1,)` (the
        same for the per-step gains) and `fast_stats` (see `FAST_STATS`); zeros in exact
        mode. `threads_dropped` `(1,)`: the lag from which the sweep ran on one thread
        (`threads.ThreadWatch`), only where that happened. A diagonal cell's transport is
        exact in either mode (`transport.diagonal`) and has no self-check arrays.
    """
    steps, trials, dim = states.shape[0] - 1, states.shape[1], states.shape[2]
    want = set(quantities)
    unknown = want - set(QUANTITIES)
    if unknown:
        raise ValueError(f"unknown quantities {sorted(unknown)}; choose from {', '.join(QUANTITIES)}")
    if spectral not in ("fast", "exact"):
        raise ValueError(f"spectral must be 'fast' or 'exact', got {spectral!r}")
    dtype, device = states.dtype, states.device
    lag_shape, step_shape = (trials, steps + 1), (trials, steps)
    out = {key: np.full(lag_shape, np.nan) for key in (
        "log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity", "log_weight_grad")}
    out.update({key: np.full(step_shape, np.nan) for key in ("log_step_gain", "log_step_rms")})
    r = cell.readout_cotangent(readout, states[-1], inputs[-1]) if steps > 0 else (
        torch.zeros((trials, dim), dtype=dtype, device=device))
    if cell.structure == Structure.DIAGONAL:
        out = diagonal_transport(cell, states, inputs, r, want, out, progress, chunk)
        for key, name in (("spectral", "log_spectral"), ("rms", "log_rms"), ("loss_grad", "log_loss_grad")):
            if key not in want:
                out[name][:] = np.nan
        return out
    carry = Carry(
        q=torch.eye(dim, dtype=dtype, device=device).expand(trials, dim, dim) / math.sqrt(dim),
        log_scale=np.full(trials, 0.5 * math.log(dim)),
        v=r.clone(),
        log_v=np.zeros(trials),
    )
    fast = spectral == "fast"
    clen = chunk or (FAST_CHUNK if fast else chunk_length(trials, dim))
    blocks = cell.diagonal_blocks() if cell.structure == Structure.BLOCK_DIAGONAL else None
    estimator = LagEstimator(dim, blocks=blocks)  # a block-diagonal cell's norms: by block, exactly
    watch = ThreadWatch()
    flush = device.type == "cpu" and torch.set_flush_denormal(True)  # denormals: 100x slower
    try:
        hi = steps
        while hi > 0:
            lo = max(0, hi - clen)
            started = time.perf_counter()
            if fast:  # checked lags: CHECKS over the window, and one per CHECK_SPACING
                checks = max(1, math.ceil(max(CHECKS * (hi - lo) / steps, (hi - lo) / CHECK_SPACING)))
                _fast_chunk(cell, states, inputs, lo, hi, steps, want, carry, out, estimator, r, checks)
            else:
                ExactChunk(cell, states, inputs, lo, hi, steps, want, carry, out).run()
            watch.tick(time.perf_counter() - started, hi - lo)
            if watch.dropped == watch.ticks:
                out["threads_dropped"] = np.array([steps - lo])
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
        if fast and want & {"spectral", "rms", "input_sensitivity"}:  # r^T Q at lag T
            out["log_loss_grad"][:, steps] = carry.log_scale + host_log(stable_norm(
                (r.unsqueeze(1) @ carry.q).squeeze(1), -1))
        else:
            out["log_loss_grad"][:, steps] = carry.log_v
    s = carry.stats
    out["fast_check"] = np.array([s.get("spectral", 0.0), s.get("input", 0.0)])
    out["step_gain_check"] = np.array([s.get("step_gain", 0.0)])
    out["fast_stats"] = np.array([s.get(k, 0) for k in FAST_STATS], dtype=np.float64)
    for key, name in (("spectral", "log_spectral"), ("rms", "log_rms"), ("loss_grad", "log_loss_grad")):
        if key not in want:
            out[name][:] = np.nan
    return out


#: Fast mode's record of its self-check, in this order in `fast_stats`: lag checks made,
#: chunks redone at a higher level, the highest level used (2: exact SVDs), (lag, trial)
#: pairs refined by Lanczos and by an exact SVD, step checks, step chunks redone.
FAST_STATS = ("checked", "redone", "level", "refined", "exact", "step_checked", "step_redone")


def _fast_chunk(cell, states, inputs, lo, hi, steps, want, carry, out, estimator, r, checks) -> None:
    """One chunk in fast mode; redone at the next level while a check falls short."""
    saved, state = carry.snapshot(), estimator.snapshot()
    while not FastChunk(cell, states, inputs, lo, hi, steps, want, carry, out, estimator, r, checks).run():
        carry.restore(saved)
        estimator.restore(state)
        estimator.level += 1
        carry.stats["redone"] = carry.stats.get("redone", 0) + 1
        carry.stats["level"] = max(carry.stats.get("level", 0), estimator.level)
    carry.stats["refined"], carry.stats["exact"] = estimator.refined, estimator.exact
