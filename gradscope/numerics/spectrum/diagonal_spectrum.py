"""The Lyapunov spectrum of a diagonal cell, exactly: time averages of `log|d_t[j]|`.

When every step Jacobian acts on coordinate j (or on a pair, as a rotation-scaling) with
gain `|d_t[j]|` (the cell's `log_abs_diagonal`), the singular values of
`P(t, S) = J_t ... J_{S+1}` are `exp(sum_{S < tau <= t} log|d_tau[j]|)`, so the finite-time
exponents over the counted steps are those sums divided by their number, sorted: no
frame, no QR, float64 sums whatever the dtype. The result has the keys of
`qr.lyapunov_spectrum` over the same counted steps (after the frame transient): the
blocks of time (for the standard errors) are each coordinate's averages over the block,
in the order of the final spectrum; the running estimates are the sorted averages so far;
`lyapunov_qr_count` is 0.

May import: nothing of gradscope's (torch and numpy only; its caller, `qr.SpectrumStream`,
hands it the cell's log gains).
"""

from __future__ import annotations

import numpy as np
import torch

Tensor = torch.Tensor


class DiagonalRun:
    """The float64 sums of one diagonal spectrum, fed chunk by chunk (`qr._Run`'s interface)."""

    def __init__(self, trials: int, dim: int, steps: int, k: int, s: int, checkpoints: int, blocks: int) -> None:
        self.steps, self.done, self.k, self.s, self.dim = steps, 0, k, s, dim
        self.counted = steps - s
        self.total = np.zeros((trials, dim))
        self.nblocks = max(1, min(blocks, self.counted))
        self.block_sums = np.zeros((self.nblocks, trials, dim))
        self.block_steps = np.zeros(self.nblocks)
        marks = np.unique(np.geomspace(1, self.counted, checkpoints).astype(np.int64))
        self.marks = [int(m) for m in marks]
        self.history: list[np.ndarray] = []
        self.history_steps: list[int] = []

    def feed(self, log_gains: Tensor, lo: int) -> None:
        """Steps lo+1..lo+C: their `log|d_t|` `(C, B, D)`."""
        ld = log_gains.to(device="cpu", dtype=torch.float64).numpy()
        count = ld.shape[0]
        t = lo + 1 + np.arange(count)  # the steps
        keep = t > self.s
        if keep.any():
            block = np.minimum(self.nblocks - 1, (t[keep] - self.s - 1) * self.nblocks // self.counted)
            part, tk = ld[keep], t[keep]
            for b in np.unique(block):
                sel = block == b
                self.block_sums[b] += part[sel].sum(0)
                self.block_steps[b] += int(sel.sum())
            counted = tk - self.s
            marks = np.asarray(self.marks, dtype=np.int64)
            at = np.unique(np.searchsorted(counted, marks[marks <= counted[-1]]))  # first step past each mark
            if tk[-1] == self.steps and (at.size == 0 or at[-1] != counted.size - 1):
                at = np.append(at, counted.size - 1)
            start = 0
            for idx in at:  # the sums up to each of those steps, segment by segment
                self.total = self.total + part[start : idx + 1].sum(0)
                start = idx + 1
                self.history.append(self._sorted(self.total / counted[idx]))
                self.history_steps.append(int(counted[idx]))
            self.total = self.total + part[start:].sum(0)
            self.marks = [m for m in self.marks if m > counted[-1]]
        self.done = lo + count

    def _sorted(self, means: np.ndarray) -> np.ndarray:
        """The top K of each trial's exponents `(B, D)`, descending."""
        return -np.sort(-means, axis=1)[:, : self.k]

    def result(self) -> dict[str, np.ndarray] | None:
        if self.done <= self.s:
            return None
        counted = self.done - self.s
        means = self.total / counted  # (B, D)
        if not self.history_steps or self.history_steps[-1] != counted:
            self.history.append(self._sorted(means))
            self.history_steps.append(counted)
        order = np.argsort(-means, axis=1, kind="stable")[:, : self.k]
        spectrum = np.take_along_axis(means, order, axis=1)
        used = self.block_steps > 0
        blocks = (self.block_sums[used] / self.block_steps[used][:, None, None]).transpose(1, 2, 0)  # (B, D, nb)
        blocks = np.take_along_axis(blocks, order[..., None], axis=1)
        finite = np.isfinite(spectrum)
        resolved = np.where(finite.all(axis=1), self.k, np.argmin(finite, axis=1))
        return {  # `lyapunov_se` is added by the stream (batch means of the blocks)
            "lyapunov_spectrum": spectrum,
            "lyapunov_blocks": blocks,
            "lyapunov_history": np.stack(self.history, axis=-1),
            "lyapunov_history_steps": np.asarray(self.history_steps, dtype=np.int64),
            "lyapunov_resolved": resolved.astype(np.int64),
            "mean_log_det": means.sum(axis=1) if self.k == self.dim else np.full(means.shape[0], np.nan),
            "lyapunov_qr_count": np.asarray(0, dtype=np.int64),
            "lyapunov_max_spread": np.asarray(0.0, dtype=np.float64),
            "frame_transient": np.asarray(self.s, dtype=np.int64),
        }
