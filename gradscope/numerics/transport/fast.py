"""Fast mode over one chunk of steps, with its self-check, and `FastSteps`: the products
with the chunk's step Jacobians it takes.

The first `EXACT_LAGS` lags take an exact SVD. After that lags go in blocks (of
`EARLY_SUB` lags while the subspaces still turn fast, up to lag `PER_LAG`, then of
`SUB`): the block's products are formed one after another without rescaling (one
product each, which also carries the estimator's rows and the readout along), then their
norms and their spectral and input-sensitivity estimates (`lags.LagEstimator`) are
taken in a few batched calls; a block whose scale leaves `e^+-SAFE_LOG` is done in
smaller pieces (lag by lag at last). The loss-gradient vector at every lag is read off
the running product (`r^T Q`), so it costs no chain of its own; the per-step gains come
from `step_gain.step_gains`.

Self-check: at `checks` lags of the chunk, spread over block positions (the last lag of
a block, and offsets drawn from a fixed seed), one trial's estimates are compared with an
exact SVD once the chunk's refinements are done. A shortfall beyond `CHECK_TOL` makes
`run` return False: the caller restores the carry and does the chunk again at a higher
accuracy level (`LagEstimator.level`).

`FastSteps` never forms the chunk: `q @ J_t` for the running product comes from the
cell's `rmatmul` (a vanilla RNN: `q diag(d) W`; an LSTM: half a D x D product, since the
right half of its Jacobian is diagonal), or, for a cell that `stacks_jacobians` (the
GRU), from the Jacobians of the next few lags formed together, about 2 MiB of them, so
that they stay in cache (per step, the calls cost 40% of the product at N = 128); `v^T
J_t` from `rmatmul` on one row, `||J_t||_F` from `frobenius`. A cell that does not
declare those products fast (`fast_products`) uses its materialised Jacobians.

May import: `gradscope.numerics.transport.lags`, `gradscope.numerics.transport.step_gain`,
`gradscope.numerics.transport.chunk`, `gradscope.numerics.logspace`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..logspace import stable_norm
from .chunk import Chunk, lin_lead, lin_take
from .lags import InputJacobians, LagEstimator
from .step_gain import step_gains

Tensor = torch.Tensor

EXACT_LAGS = 4  # fast mode: exact SVD for lags 0..EXACT_LAGS-1
PER_LAG = 256  # then blocks of EARLY_SUB lags while the singular subspaces still turn fast,
EARLY_SUB = 4
SUB = 32  # then blocks of SUB lags
# A block whose products leave e^+-SAFE_LOG (relative to its start) is done in smaller pieces.
# Norms and Gram matrices square the entries, so the limit is well inside half the
# dtype's range; float32 also keeps the squares it drops (below ~1e-38 each) negligible.
SAFE_LOG = {torch.float32: 30.0, torch.float64: 150.0}
CHECK_TOL = 1e-3  # a checked lag further below its exact SVD than this redoes the chunk
FLUSH_BYTES = 64 << 20  # refine the flagged lags kept so far once they hold this much
CHECK_SEED = 20240917


#: `FastSteps` forms the Jacobians of this many bytes of lags at once (cells with `jacobian_stack`)
STACK_BYTES = 2 << 20
STACK_MAX = 16


class FastSteps:
    """Fast mode's products with the chunk's step Jacobians (see the module docstring)."""

    def __init__(self, cell, lin: dict) -> None:
        self.cell, self.lin = cell, lin
        self.structured = {"rmatmul", "frobenius"} <= cell.fast_products
        # a structured cell's lin is a dict of (C, ...) tensors; others' (stacked layers,
        # custom cells) may be anything their own `jacobian` reads
        self.steps = [lin_take(lin, j) for j in range(lin_lead(lin)[0])] if self.structured else []
        self.jac = None if self.structured else cell.jacobian(lin)
        self.stacked = self.structured and cell.stacks_jacobians
        self.stack: Tensor | None = None  # the Jacobians of steps stack_lo.. (`jacobian_stack`)
        self.stack_lo = 0

    def right(self, q: Tensor, j: int, out: Tensor | None = None) -> Tensor:
        """`q @ J_j` for q `(B, M, D)`."""
        if self.jac is not None:
            return torch.bmm(q, self.jac[j], out=out)
        if self.stacked:
            if self.stack is None or not self.stack_lo <= j < self.stack_lo + self.stack.shape[0]:
                per_step = q.shape[0] * q.shape[-1] ** 2 * q.element_size()
                count = max(1, min(STACK_MAX, STACK_BYTES // per_step))
                self.stack_lo = max(0, j - count + 1)  # the lags run backwards: steps j, j-1, ...
                self.stack = self.cell.jacobian_stack(lin_take(self.lin, slice(self.stack_lo, j + 1)))
            return torch.bmm(q, self.stack[j - self.stack_lo], out=out)
        return self.cell.rmatmul(self.steps[j], q, out=out)

    def vjp(self, v: Tensor, j: int) -> Tensor:
        """`J_j^T v` for v `(B, D)`."""
        if self.jac is not None:
            return torch.bmm(v.unsqueeze(1), self.jac[j]).squeeze(1)
        return self.cell.rmatmul(self.steps[j], v.unsqueeze(-2)).squeeze(-2)

    def frobenius(self) -> Tensor:
        """`||J_t||_F` for the chunk `(C, B)`."""
        if self.jac is not None:
            return stable_norm(self.jac, (-2, -1))
        return self.cell.frobenius(self.lin)


class FastChunk(Chunk):
    """Fast mode over steps lo+1..hi; `run()` is False when a check failed."""

    def __init__(self, cell, states, inputs, lo, hi, steps, want, carry, out,
                 estimator: LagEstimator, readout: Tensor, checks: int) -> None:
        super().__init__(cell, states, inputs, lo, hi, steps, want, carry, out)
        self.ops = FastSteps(cell, self.lin)
        self.est = estimator
        self.readout = readout.unsqueeze(1)  # (B, 1, D), zero beyond h
        self.inputs_wanted = "input_sensitivity" in want
        self.checks = checks
        self.stats: dict = {}  # what the checks found; merged into carry.stats on success
        self.kept: list = []  # (lag index, trial, product, input Jacobian) at the planned checks
        self.plan = self._plan(np.random.default_rng([CHECK_SEED, lo]))

    def _plan(self, rng: np.random.Generator) -> dict[int, int]:
        """Checked lag index i -> trial: in turn the last lag of a block (or of the chunk)
        and any lag, drawn from a seeded generator."""
        first = max(0, EXACT_LAGS - self.lag0)
        if not self.need_q or first >= self.count:
            return {}
        lags = range(first, self.count)
        ends = [i for i in lags if i == self.count - 1 or (
            self.lag0 + i >= PER_LAG and (self.lag0 + i - PER_LAG) % SUB == SUB - 1)]
        picks: set[int] = set()
        for k in range(min(self.checks, len(lags))):
            pool = [i for i in (ends if k % 2 == 0 else lags) if i not in picks]
            picks.add(int(rng.choice(pool or [i for i in lags if i not in picks])))
        trials = self.carry.q.shape[0]
        return {i: int(rng.integers(trials)) for i in sorted(picks)}

    def run(self) -> bool:
        i = 0
        while i < self.count:
            lag = self.lag0 + i
            if not self.need_q:
                self.vector_step(i, self.ops.vjp)  # only loss_grad / weight_grad
                i += 1
            elif lag < EXACT_LAGS:
                self._single(i, exact=True)
                i += 1
            else:
                size = self._lags(i, lag)
                self._keep_checked(i, size)
                i += size
                if self.est.pending_bytes > FLUSH_BYTES:
                    self.est.flush()
        self.est.flush()
        if not self._check():
            return False
        self.finish()
        for key, value in self.stats.items():
            old = self.carry.stats.get(key, 0)
            self.carry.stats[key] = old + value if key.endswith(("checked", "redone")) else max(old, value)
        return True

    # -- lags ------------------------------------------------------------------------------
    def _lags(self, i: int, lag: int) -> int:
        """The next block of lags from i on: its size is halved while its scale runs away
        (e.g. ~e^-2 a step in float32: 8 lags), and tried larger again after a while."""
        est = self.est
        est.early = lag < PER_LAG
        if lag < PER_LAG:
            size = min(EARLY_SUB, PER_LAG - lag, self.count - i)
            while size > 1 and not self._block(i, size):
                size //= 2
        else:
            if est.tame_run >= 16 and est.block_size < SUB:
                est.block_size, est.tame_run = 2 * est.block_size, 0
            size = min(est.block_size, self.count - i)
            while size > 1 and not self._block(i, size):
                size = est.block_size = max(1, size // 2)
                est.tame_run = 0
            est.tame_run += 1
        if size == 1:
            self._single(i, exact=False)
        return size

    def _single(self, i: int, exact: bool) -> None:
        """One lag: the estimates of the carried product, then one multiplication."""
        c, j = self.carry, self.count - 1 - i
        q = c.q
        self._record(i, q.unsqueeze(0), torch.ones((1, q.shape[0]), dtype=q.dtype, device=q.device), exact)
        self.advance(self.ops.right(q, j))

    def _block(self, i: int, size: int) -> bool:
        """Lags i..i+size-1 at once; False (nothing changed) if the scale runs away.

        The running product is multiplied along with extra rows: the estimator's `W^T Q`
        and the readout `r^T Q` (the loss gradient), so that each product also yields
        them, for a few percent more work and no further pass over the products."""
        c, d = self.carry, self.carry.q.shape[-1]
        y0 = self.est.rows(c.q)
        extra = [] if y0 is None else [y0]
        if self.need_v:
            extra.append(self.readout @ c.q)
        rows = torch.cat([c.q, *extra], dim=1) if extra else c.q
        buf = torch.empty((size + 1, *rows.shape), dtype=rows.dtype, device=rows.device)
        buf[0] = rows
        for s in range(size):
            self.ops.right(buf[s], self.count - 1 - (i + s), out=buf[s + 1])
        prods = buf[:, :, :d]
        # a plain norm is exact inside the safe range; outside it the block goes in
        # smaller pieces, lag by lag at last, where `stable_norm` is used
        frob = torch.linalg.vector_norm(prods[1:], dim=(-2, -1))  # (size, B)
        if not _tame(frob, prods.dtype):
            return False
        y = buf[:size, :, d : d + self.est.w.shape[-1]] if self.est.w is not None else None
        vecs = buf[:size, :, -1] if self.need_v else None
        self._record(i, prods[:size], torch.cat([torch.ones_like(frob[:1]), frob[:-1]]), False, y, vecs)
        # the carried scale accumulates over every block: its norm summed in float64
        last = prods[size].contiguous()
        self.advance(last, stable_norm(last, (-2, -1)))
        return True

    def _record(self, i: int, stack: Tensor, frob: Tensor, exact: bool, y: Tensor | None = None,
                vecs: Tensor | None = None) -> None:
        """Store the estimates of the products `stack` `(S, B, D, D)` at lags i..i+S-1
        (`y`, `vecs`: their estimator rows and loss-gradient vectors if already formed)."""
        size = stack.shape[0]
        js = [self.count - 1 - (i + s) for s in range(size)]
        self.stack, self.js = stack, js
        bjac = InputJacobians(self.cell, lin_take(self.lin, js)) if self.inputs_wanted else None
        self.bjac = bjac
        if exact:
            spectral = torch.linalg.svdvals(stack)[..., 0]
            inputs = None if bjac is None else torch.linalg.svdvals(stack @ bjac.matrix())[..., 0]
        else:
            spectral, inputs = self.est.block(stack, bjac, y)
        self.q_add[i : i + size] = self.carry.log_scale
        self.q_frob.extend(frob.unbind(0))
        # views of the estimator's float64 values: a later refinement (`flush`) shows here
        self.q_sig.extend(spectral.to(torch.float64).unbind(0))
        if inputs is not None:
            self.sens.extend(inputs.to(torch.float64).unbind(0))
        if self.need_v:  # the loss gradient r^T Q, in the same scale as Q
            self.v_add[i : i + size] = self.carry.log_scale
            if vecs is None:
                vecs = (self.readout.unsqueeze(0) @ stack).squeeze(-2)
            self.v_vec.extend(vecs.unbind(0))

    def _keep_checked(self, i: int, size: int) -> None:
        """Keep the product (and input Jacobian) at the planned checks among lags
        i..i+size-1, to compare with an exact SVD once the chunk's estimates are final."""
        for s in range(size):
            b = self.plan.get(i + s)
            if b is not None:
                bmat = None if self.bjac is None else self.bjac.take([s]).matrix()[0, b]
                self.kept.append((len(self.q_sig) - size + s, b, self.stack[s, b].clone(), bmat))

    def _check(self) -> bool:
        """The kept checks; False if an estimate falls short of its exact SVD by more than
        CHECK_TOL (the chunk is then done again, more accurately)."""
        stats = self.stats
        for k, b, q, bmat in self.kept:
            pairs = [("spectral", self.q_sig, float(torch.linalg.svdvals(q)[0]))]
            if bmat is not None:
                pairs.append(("input", self.sens, float(torch.linalg.svdvals(q @ bmat)[0])))
            for name, values, truth in pairs:
                est = float(values[k][b])
                short = 1 - est / truth if truth > 0 else 0.0
                if short > CHECK_TOL:
                    return False
                stats[name] = max(stats.get(name, 0.0), short)
                stats["checked"] = stats.get("checked", 0) + 1
                if truth > est:  # keep the exact value where we have it
                    values[k][b] = truth
        return True

    # -- per step ---------------------------------------------------------------------------
    def step_frobenius(self) -> Tensor:
        return self.ops.frobenius()

    def step_log_gains(self) -> np.ndarray:
        checks = max(1, math.ceil(self.checks))
        g = step_gains(self.cell, self.lin, "fast", checks, CHECK_SEED + self.lo, self.ops.jac)
        self.stats.update(step_gain=g.worst, step_checked=g.checked, step_redone=int(g.redone > 0))
        return g.log_gain


def _tame(norms: Tensor, dtype: torch.dtype) -> bool:
    """Every norm finite and within e^+-SAFE_LOG of `dtype` (else the block is done in smaller pieces)."""
    limit = SAFE_LOG.get(dtype, 30.0)
    return bool(((norms > math.exp(-limit)) & (norms < math.exp(limit))).all())
