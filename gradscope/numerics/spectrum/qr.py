"""The Lyapunov spectrum of a trajectory: Benettin's QR re-orthonormalisation along the
forward trajectory, accumulating `log|R_jj|` in float64.

A frame of K orthonormal tangent vectors (random, seeded) is carried forward through the
step Jacobians (`spectrum.tangent`: for a vanilla RNN `J Q = d * (W Q)`, J never formed)
and re-orthonormalised by a QR every M steps, the signs of diag R made positive. The
first `frame_transient` steps only align the frame; from then on `log|R_jj|` is summed
in float64 whatever the dtype, and the sum over the counted steps divided by their
number is exponent j (natural log per step). Memory does not grow with T: the step
Jacobians are taken chunk by chunk from the states, and `SpectrumStream` takes the
states themselves as they come (nothing of length T is kept).

QR interval (`qr_every`): between QRs the columns of the frame drift apart like
`exp(m (lambda_1 - lambda_K))`; the smallest ones are resolved to about
`eps * exp(spread)` relative. `auto` takes the largest M with
`M (lambda_1 - lambda_K) <= 0.5 ln(1/eps)` (spread at most `eps^(-1/2)`) from the
running estimate of `lambda_1 - lambda_K` (the largest spread over the trials of each
QR interval, averaged over the intervals so far), with one standard deviation of the
spread of an M-step interval added, `mu M + sigma sqrt(M) <= 0.5 ln(1/eps)`, so that a
typical interval stays inside the budget; M starts at 1, grows by at most a quarter (and
one) per QR while the frame aligns, and keeps `M max|lambda|` inside the dtype's range
(`SAFE_LOG`). An integer forces M. In exact arithmetic the schedule changes nothing:
the QR factor of `P(T, S) Q_S` is unique, so every schedule gives the same exponents up
to rounding.

Singular steps: a column whose `|R_jj|` is at most `RANK_TOL * eps * max_i |R_ii|` is
numerically dependent on the ones before it (the rounding noise of a dependent column is
a few to a few hundred eps of the largest, growing with D): the product has lost that
direction (a relu unit that is off, an LSTM with `W_hh = 0`). From the first
such column of any counted QR on, the trial's exponents are reported as `-inf`, never
as the rounding noise (`log eps`) that the sum would otherwise average in.

A cell whose structure is diagonal (declared: `cell.structure`) takes no frame and no QR:
its exponents are time averages of `log|d_t|`, exact (`spectrum.diagonal_spectrum`).

May import: `gradscope.numerics.logspace`, `gradscope.numerics.spectrum.tangent`,
`gradscope.numerics.spectrum.diagonal_spectrum`, `gradscope.model.contract` (cells come in
as arguments).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from ...model.contract import Structure
from ..logspace import chunk_length
from .diagonal_spectrum import DiagonalRun
from .tangent import Tangent

Tensor = torch.Tensor
Progress = Callable[[str, int, int], None]

#: `|R_jj| <= RANK_TOL * eps * max_i |R_ii|` reads as zero: below e^-11.8 (float32) or
#: e^-29 (float64) of the top column within one QR interval, far beyond the spread that
#: `auto` allows (e^-8, e^-18), and above most of the rounding noise of a dependent column.
RANK_TOL = {torch.float32: 64.0, torch.float64: 1024.0}
#: Largest growth or shrinkage (natural log) of a column between QRs.
SAFE_LOG = {torch.float32: 30.0, torch.float64: 300.0}
MAX_INTERVAL = 256
#: Implicit frames (Householder reflectors applied by `ormqr`) when K >= this share of D.
IMPLICIT_SHARE = 0.75


def lyapunov_spectrum(
    cell,
    states: Tensor,
    inputs: Tensor,
    exponents: int | None = None,
    frame_transient: int | None = None,
    qr_every: int | str = "auto",
    checkpoints: int = 60,
    blocks: int = 10,
    chunk: int | None = None,
    progress: Progress | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """The top `exponents` Lyapunov exponents by QR re-orthonormalisation (Benettin).

    Arguments:
        cell: a batched cell (`linearize`, `jacobian`; `frame_jvp` and `log_abs_det` are used
            where it has them).
        states: `(T+1, B, D)` states `s_0..s_T`; inputs `(T, B, I)` inputs `x_1..x_T`.
        exponents: K <= D (default: all D).
        frame_transient: steps S that align the frame before accumulating (default T // 10).
        qr_every: steps between QRs, or `auto` (see the module docstring).
        checkpoints: how many running estimates to keep (log-spaced in time).
        blocks: blocks of time for the within-trial standard error (batch means).
        seed: of the random initial frame.

    Returns:
        `lyapunov_spectrum` `(B, K)` (natural log per step, descending, `-inf` for lost
        directions), `lyapunov_blocks` `(B, K, nb)` (the exponents of each of `blocks`
        consecutive blocks of time), `lyapunov_se` `(B, K)` (their standard error, batch
        means), `lyapunov_history` `(B, K, H)` running estimates after
        `lyapunov_history_steps` `(H,)` counted steps, `lyapunov_resolved` `(B,)` (how
        many exponents are finite), `mean_log_det` `(B,)` (time average of
        `log|det J_t|` over the counted steps when K = D, else NaN: their sum equals it,
        exactly, for smooth activations), `lyapunov_qr_count` (QRs over the counted
        steps), `lyapunov_max_spread` (largest `ln(R_11/R_jj)` of one counted QR interval
        over the finite columns), `frame_transient` (S).
    """
    steps = states.shape[0] - 1
    stream = SpectrumStream(states.shape[1], states.shape[2], steps, exponents, frame_transient,
                            qr_every, checkpoints, blocks, seed, states.dtype, states.device)
    stream.feed(cell, states, inputs, chunk=chunk, progress=progress)
    return stream.result()


class SpectrumStream:
    """The spectrum of a trajectory that arrives chunk by chunk, never stored whole:
    memory is O(B D K) plus one chunk, whatever T (what `analysis.spectrum` uses).

        stream = SpectrumStream(trials, dim, steps, exponents=16)
        for states, inputs in chunks:      # states (C+1, B, D) from the last state on
            stream.feed(cell, states, inputs)
        out = stream.result()              # as `lyapunov_spectrum`; a stream that stopped
                                           # early (a non-finite state) counts what it saw

    Arguments are those of `lyapunov_spectrum`, with `steps` the length planned (it sets
    the default frame transient, the blocks and the checkpoints), `dtype` and `device`.
    """

    def __init__(self, trials: int, dim: int, steps: int, exponents: int | None = None,
                 frame_transient: int | None = None, qr_every: int | str = "auto",
                 checkpoints: int = 60, blocks: int = 10, seed: int = 0,
                 dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> None:
        k = dim if exponents is None else int(exponents)
        if not 1 <= k <= dim:
            raise ValueError(f"exponents must be between 1 and the state dimension {dim}, got {exponents}")
        s = steps // 10 if frame_transient is None else int(frame_transient)
        if not 0 <= s < steps:
            raise ValueError(f"frame_transient must be in [0, steps) = [0, {steps}), got {frame_transient}")
        if qr_every != "auto" and (isinstance(qr_every, str) or int(qr_every) < 1):
            raise ValueError(f"qr_every must be an integer >= 1 or auto, got {qr_every!r}")
        self.args = (trials, dim, steps, dtype, torch.device(device), k, s, qr_every, checkpoints, blocks, seed)
        self.run: _Run | DiagonalRun | None = None  # made on the first feed, by the cell's structure

    @property
    def done(self) -> int:
        """Steps fed so far."""
        return 0 if self.run is None else self.run.done

    def feed(self, cell, states: Tensor, inputs: Tensor, chunk: int | None = None,
             progress: Progress | None = None) -> None:
        """The next `C` steps: states `(C+1, B, D)` (the first is the last state fed
        before, or `s_0`), inputs `(C, B, I)`."""
        diagonal = cell.structure == Structure.DIAGONAL
        if self.run is None:
            trials, dim, steps, _, _, k, s, _, checkpoints, blocks, _ = self.args
            self.run = DiagonalRun(trials, dim, steps, k, s, checkpoints, blocks) if diagonal else _Run(*self.args)
        run = self.run
        count = min(states.shape[0] - 1, run.steps - run.done)
        clen = chunk or (4096 if diagonal else chunk_length(states.shape[1], states.shape[2]))
        flush = states.device.type == "cpu" and torch.set_flush_denormal(True)  # denormals: 100x slower
        try:
            for lo in range(0, count, clen):
                hi = min(count, lo + clen)
                if isinstance(run, DiagonalRun):  # log|d_t| straight from the states and inputs
                    run.feed(cell.log_abs_diagonal_at(states[lo:hi], inputs[lo:hi]), run.done)
                else:
                    lin = cell.linearize(states[lo:hi], inputs[lo:hi])
                    run.chunk(Tangent(cell, lin, need_det=run.k == run.dim), run.done, run.done + hi - lo)
                if progress is not None:
                    progress("lyapunov", run.done, run.steps)
        finally:
            if flush:
                torch.set_flush_denormal(False)

    def result(self) -> dict[str, np.ndarray] | None:
        """The spectrum over the steps fed after the frame transient (None if none were)."""
        out = None if self.run is None else self.run.result()
        if out is not None and "lyapunov_se" not in out:
            out["lyapunov_se"] = batch_means_se(out["lyapunov_blocks"])
        return out


class _Run:
    """The frame, the float64 sums and the QR schedule of one spectrum."""

    def __init__(self, trials: int, dim: int, steps: int, dtype: torch.dtype, device: torch.device,
                 k: int, s: int, qr_every, checkpoints: int, blocks: int, seed: int) -> None:
        self.steps, self.done = steps, 0
        self.k, self.s, self.counted, self.dim = k, s, steps - s, dim
        self.eps = torch.finfo(dtype).eps
        self.rank_tol = RANK_TOL.get(dtype, 32.0) * self.eps
        self.budget = 0.5 * math.log(1.0 / self.eps)
        self.safe = SAFE_LOG.get(dtype, 30.0)
        self.fixed = None if qr_every == "auto" else int(qr_every)
        self.interval = self.fixed or 1
        self.implicit = k >= IMPLICIT_SHARE * dim
        gen = torch.Generator().manual_seed(seed)
        start = torch.linalg.qr(torch.randn(trials, dim, k, generator=gen, dtype=torch.float64))[0]
        self.frame = start.to(dtype=dtype, device=device)  # A: the frame since the last QR
        self.reflectors = None  # (a, tau, signs) of the last QR when the frame is implicit
        self.since = 0  # steps since the last QR
        self.total = np.zeros((trials, k))  # float64 sums of log|R_jj|, on the host
        self.nblocks = max(1, min(blocks, self.counted))
        self.block_sums = np.zeros((self.nblocks, trials, k))
        self.block_steps = np.zeros(self.nblocks)
        self.dead_from = np.full(trials, k, dtype=np.int64)
        self.log_det = torch.zeros(trials, dtype=torch.float64, device=device)
        marks = np.unique(np.geomspace(1, self.counted, checkpoints).astype(np.int64))
        self.marks = [int(m) for m in marks]
        self.history: list[np.ndarray] = []
        self.history_steps: list[int] = []
        # for `auto`: sums over every QR of the spread s, s^2 / m, the scale and the steps m
        self.spread_sum = self.spread_sq = self.scale_sum = 0.0
        self.spread_steps = self.intervals = 0
        self.qr_count = 0
        self.max_spread = 0.0

    # -- stepping ------------------------------------------------------------------------
    def chunk(self, tangent: Tangent, lo: int, hi: int) -> None:
        """Steps lo+1..hi (lo = the steps done so far)."""
        if tangent.log_det is not None and hi > self.s:
            self.log_det += tangent.log_det[max(self.s - lo, 0):].sum(0)
        for j in range(hi - lo):
            t = lo + j + 1
            self._advance(tangent, j)
            self.since += 1
            if self.since >= self.interval or t == self.s or t == self.steps:
                self._qr(t)
        self.done = hi

    def _advance(self, tangent: Tangent, j: int) -> None:
        if self.reflectors is None:
            self.frame = tangent.apply(j, self.frame)
            return
        a, tau, signs = self.reflectors
        self.reflectors = None
        mat = tangent.matrix(j)
        if mat is None:  # no matrix to take the reflectors into: form the frame
            self.frame = tangent.apply(j, torch.linalg.householder_product(a, tau) * signs.unsqueeze(-2))
            return
        m, rows = mat
        out = torch.ormqr(a, tau, m.expand(a.shape[0], *m.shape[-2:]), left=False)[..., : self.k]
        out.mul_(signs.unsqueeze(-2))
        self.frame = out if rows is None else out.mul_(rows.unsqueeze(-1))

    # -- the QR and the bookkeeping ------------------------------------------------------
    def _qr(self, t: int) -> None:
        frame, m = self.frame, self.since
        if self.implicit:
            a, tau = torch.geqrf(frame)
            diag = torch.diagonal(a, dim1=-2, dim2=-1)[..., : self.k]
        else:
            q, r = torch.linalg.qr(frame)
            diag = torch.diagonal(r, dim1=-2, dim2=-1)
        signs = torch.where(diag < 0, -1.0, 1.0).to(frame.dtype)
        if self.implicit:
            self.reflectors = (a, tau, signs)
        else:
            self.frame = q * signs.unsqueeze(-2)
        size = diag.abs().to(device="cpu", dtype=torch.float64).numpy()  # the bookkeeping is on the host
        with np.errstate(divide="ignore"):
            logs = np.log(size)
        zero = size <= self.rank_tol * size.max(axis=-1, keepdims=True)  # numerically dependent columns
        first = np.where(zero.any(-1), zero.argmax(-1), self.k)
        self._schedule(logs, first, m, counted=t > self.s)
        self.since = 0
        if t <= self.s:
            return
        self.qr_count += 1
        self.dead_from = np.minimum(self.dead_from, first)
        self.total += logs
        block = min(self.nblocks - 1, (t - self.s - 1) * self.nblocks // self.counted)
        self.block_sums[block] += logs
        self.block_steps[block] += m
        if (self.marks and t - self.s >= self.marks[0]) or t == self.steps:
            while self.marks and t - self.s >= self.marks[0]:
                self.marks.pop(0)
            self.history.append(self._estimate(t - self.s))
            self.history_steps.append(t - self.s)

    def _schedule(self, logs: np.ndarray, first: np.ndarray, m: int, counted: bool) -> None:
        """Re-choose the QR interval from the spread of the finite columns (auto)."""
        top = logs[:, 0]
        low = logs[np.arange(logs.shape[0]), np.maximum(first - 1, 0)]
        with np.errstate(invalid="ignore"):  # -inf - -inf: every column lost, handled below
            spread = float((top - low).max())
        scale = float(np.maximum(np.abs(top), np.abs(low)).max())
        if not (math.isfinite(spread) and math.isfinite(scale)):
            spread = scale = math.inf
        if counted:
            self.max_spread = max(self.max_spread, spread)
        if self.fixed is not None:
            return
        if not math.isfinite(spread):  # every column lost: nothing to schedule by
            self.interval = 1
            return
        self.spread_sum += spread
        self.spread_sq += spread * spread / m
        self.scale_sum += scale
        self.spread_steps += m
        self.intervals += 1
        mu = self.spread_sum / self.spread_steps  # per step
        sigma = math.sqrt(max(self.spread_sq - mu * self.spread_sum, 0.0) / self.intervals)
        root = (math.sqrt(sigma * sigma + 4 * mu * self.budget) - sigma) / (2 * mu) if mu > 0 else math.inf
        grow = max(self.scale_sum / self.spread_steps, scale / m)
        best = min(root * root, self.safe / grow if grow > 0 else math.inf)
        cap = max(1, min(MAX_INTERVAL, self.counted // (2 * self.nblocks)))
        step_up = self.interval + max(1, self.interval // 4)
        self.interval = int(max(1, min(best, step_up, cap)))

    def _estimate(self, counted: int) -> np.ndarray:
        return np.where(np.arange(self.k) >= self.dead_from[:, None], -np.inf, self.total / counted)

    # -- the result ----------------------------------------------------------------------
    def result(self) -> dict[str, np.ndarray] | None:
        if self.done <= self.s:
            return None
        if self.since:  # stopped early: the last steps' growth still counts
            self._qr(self.done)
        self.counted = self.done - self.s
        if not self.history_steps or self.history_steps[-1] != self.counted:
            self.history.append(self._estimate(self.counted))
            self.history_steps.append(self.counted)
        spectrum = self._estimate(self.counted)
        used = self.block_steps > 0
        blocks = self.block_sums[used] / self.block_steps[used][:, None, None]
        blocks = np.where(np.isfinite(spectrum)[None], blocks, -np.inf).transpose(1, 2, 0)  # (B, K, nb)
        history = (np.stack(self.history, axis=-1) if self.history
                   else np.zeros((*spectrum.shape, 0)))
        order = np.argsort(-spectrum, axis=1, kind="stable")
        blocks = np.take_along_axis(blocks, order[..., None], axis=1)
        mean_log_det = (self.log_det.cpu().numpy() / self.counted if self.k == self.dim
                        else np.full(spectrum.shape[0], np.nan))
        return {
            "lyapunov_spectrum": np.take_along_axis(spectrum, order, axis=1),
            "lyapunov_se": batch_means_se(blocks),
            "lyapunov_blocks": blocks,
            "lyapunov_history": np.take_along_axis(history, order[..., None], axis=1),
            "lyapunov_history_steps": np.asarray(self.history_steps, dtype=np.int64),
            "lyapunov_resolved": self.dead_from.copy(),
            "mean_log_det": mean_log_det,
            "lyapunov_qr_count": np.asarray(self.qr_count, dtype=np.int64),
            "lyapunov_max_spread": np.asarray(self.max_spread, dtype=np.float64),
            "frame_transient": np.asarray(self.s, dtype=np.int64),
        }


def batch_means_se(blocks: np.ndarray) -> np.ndarray:
    """Standard error of a time average from the averages of its blocks `(..., nb)`:
    `std / sqrt(nb)` (NaN with fewer than two blocks or a non-finite block)."""
    nb = blocks.shape[-1]
    if nb < 2:
        return np.full(blocks.shape[:-1], np.nan)
    with np.errstate(invalid="ignore"):
        se = np.std(blocks, axis=-1, ddof=1) / math.sqrt(nb)
    return np.where(np.isfinite(blocks).all(axis=-1), se, np.nan)
