"""Fast-mode spectral norms at a block of lags: `||Q||_2` and `||Q B_t||_2`, checked.

The running product `Q` (the transport at one lag, `D x D`) and the input Jacobian `B_t`
(`D x I`) of the step that lag reaches: their top singular values are wanted at every
lag, an SVD each is 10-20 matrix products. The left singular subspaces live at time T,
where they converge with the lag, so a small subspace carried from lag to lag captures
them. For a block of lags (the products formed one after another, no rescaling) one
subspace `W` (`2p` columns) serves every lag of the block: the carried top-`p` left
subspace `U` of `Q` and one Krylov block `Q Q^T U`. The Rayleigh-Ritz estimates
`||W^T Q||_2` and `||W^T Q B||_2` are lower bounds.

A posteriori, the residual of each top Ritz pair is computed (one matrix-vector pass
over each product). Where it exceeds `FLAG_TOL` of the Ritz value, the input
sensitivity is first tried on the right subspace V, the carried top right singular
vectors of `Q B` (the right place where Q is nearly flat, as for an orthogonal cell),
and what still fails is refined by Lanczos on `Q Q^T` (or `Q B B^T Q^T`) from the Ritz
vector, or by an exact SVD where that is cheaper (few lags) or Lanczos does not converge;
the refinement waits for `flush`, so that the flagged lags of a whole chunk go in one
batch (a Lanczos call costs ~30 iterations of a few calls, however many lags it serves).
This is what makes nearly degenerate spectra (a near-orthogonal cell with weak input, an
LSTM with a large forget bias) as accurate as easy ones: their lags get refined, the
others cost nothing more.

`level` raises the accuracy when a check fails (see `transport`): 0 and 1 differ in
their tolerances, 2 takes an exact SVD at every lag.

A block-diagonal cell (sLSTM: no head acts on another) is never estimated: its products
are block-diagonal, each block's singular vectors live in that block alone, and a carried
subspace that has settled in one block never sees another block overtake it (its Ritz
pairs are exact eigenpairs of the block it holds, so no residual flags the miss: at
N = 8 the estimate fell short by up to 39% at a tenth of the lags). Its spectral norm is
the largest of its blocks' exact SVDs, K x K each, H^2 times cheaper than one SVD of the
whole product; the input sensitivity (the input reaches every block) by SVD of `Q B`.

May import: `gradscope.numerics.transport.lanczos`, `gradscope.numerics.transport.chunk`.
"""

from __future__ import annotations

import torch

from .chunk import lin_cat, lin_take
from .lanczos import lanczos_top, small_top

Tensor = torch.Tensor

FLAG_TOL = (1e-3, 1e-5)  # per level: relative residual above which a lag is refined
REFINE_TOL = (1e-4, 1e-6)  # per level: the refinement's Lanczos tolerance
REFINE_ITER = 80
LANCZOS_WORK = 2048  # refine by Lanczos where (flagged lags x trials) x D is at least this,
# else by SVD: Lanczos costs ~30 iterations of a few calls each, whatever the batch size
REFINE_BYTES = 4 << 20  # Lanczos refines this many bytes of products at a time: each
# iteration reads them twice, and from a cache instead of memory that is 3-4x faster (float64,
# N = 64, 8 trials: 8-10 us a lag up to ~8 MiB, 35 us at 22 MiB on a 32 MiB L3)
HARD, RETRY = 0.5, 8  # where more than HARD of a block's lags needed refining (after the
# early lags), the next RETRY blocks take SVDs without estimating first (a nearly flat
# spectrum: the estimates would fail again), then the estimates start afresh
POWER_ITER = 4  # power steps (with the fourth power) on each lag's small Gram matrix


class InputJacobians:
    """`B_t` of the steps at a block's lags, as products (or materialised for other cells).

    `lin` holds the lags' steps on its leading axis `(S, B, ...)`."""

    def __init__(self, cell, lin: dict) -> None:
        self.cell, self.lin = cell, lin
        self.structured = "input" in cell.fast_products
        self.mat = None if self.structured else cell.input_jacobian(lin)  # (S, B, D, I)

    def times(self, v: Tensor) -> Tensor:
        """`B_s v` for v `(..., S, B, I)`."""
        if self.structured:
            return self.cell.input_matmul(self.lin, v.unsqueeze(-1)).squeeze(-1)
        return (self.mat @ v.unsqueeze(-1)).squeeze(-1)

    def t_times(self, u: Tensor) -> Tensor:
        """`B_s^T u` for u `(..., S, B, D)`."""
        if self.structured:
            return self.cell.input_rmatmul(self.lin, u.unsqueeze(-2)).squeeze(-2)
        return (self.mat.mT @ u.unsqueeze(-1)).squeeze(-1)

    @staticmethod
    def concat(parts: list[InputJacobians]) -> InputJacobians:
        """The lags of several, in order."""
        out = InputJacobians.__new__(InputJacobians)
        out.cell, out.structured = parts[0].cell, parts[0].structured
        out.lin = lin_cat([p.lin for p in parts])
        out.mat = None if parts[0].mat is None else torch.cat([p.mat for p in parts])
        return out

    def take(self, idx: Tensor) -> InputJacobians:
        sub = InputJacobians.__new__(InputJacobians)
        sub.cell, sub.structured = self.cell, self.structured
        sub.lin = lin_take(self.lin, idx)
        sub.mat = None if self.mat is None else self.mat[idx]
        return sub

    def matrix(self) -> Tensor:
        """The materialised `(S, B, D, I)`."""
        return self.mat if self.mat is not None else self.cell.input_jacobian(self.lin)


def _rows(m: Tensor) -> Tensor:
    """`(S, B, k, D)` rows as `(k, S, B, D)` vectors, for the cells' vector products."""
    return m.permute(2, 0, 1, 3)


def _cols(v: Tensor) -> Tensor:
    """`(k, S, B, X)` vectors back to `(S, B, k, X)` rows."""
    return v.permute(1, 2, 0, 3)


class LagEstimator:
    """Carries the subspaces from block to block; `block(...)` returns the estimates."""

    def __init__(self, dim: int, level: int = 0, blocks: Tensor | None = None) -> None:
        self.level = level
        self.blocks = blocks  # (H, K) coordinates of a block-diagonal cell's blocks: taken exactly
        self.p = 8 if dim > 128 else 4
        self.full = 2 * self.p >= dim  # small D: the subspace would be the whole space
        self.u: Tensor | None = None  # (B, D, p)
        self.v: Tensor | None = None  # (B, I, p)
        self.block_size = 32  # lags per block (fast.SUB; halved where the scale runs away)
        self.tame_run = 0  # blocks since it was last halved
        self.skip = 0  # blocks to take exactly before the estimates are tried again
        self.early = True  # the first lags, where the subspaces still turn fast (no skipping)
        self.flagged = 0  # lags of the last block whose estimate needed refining
        self.pending: dict = {}  # flagged lags waiting for `flush`
        self.pending_bytes = 0
        self.refined = 0  # (lag, trial) pairs refined by Lanczos
        self.exact = 0  # ... and by an exact SVD

    def snapshot(self) -> tuple:
        return (self.u, self.v, self.skip)

    def restore(self, state: tuple) -> None:
        self.u, self.v, self.skip = state

    @property
    def estimating(self) -> bool:
        """False where the next block is taken by SVD (level 2, small D, or skipping)."""
        return not (self.level >= 2 or self.full or self.skip > 0 or self.blocks is not None)

    def rows(self, q0: Tensor) -> Tensor | None:
        """Set up the block that starts with the product q0 `(B, D, D)`: its subspace W,
        and `W^T q0` `(B, 2p, D)`: rows that, multiplied along with q0, give `W^T Q_s`
        at every lag of the block for a few percent more work in each product (instead
        of a pass over every product). None where the block is taken by SVD."""
        if not self.estimating:
            self.w = None
            return None
        self.w = self._basis(q0)
        return self.w.mT @ q0

    def block(self, prods: Tensor, bjac: InputJacobians | None, y: Tensor | None = None) -> tuple:
        """Estimates of `||Q_s||_2` and `||Q_s B_s||_2` `(S, B)` for the products `(S, B, D, D)`
        (`y`: their `W^T Q_s` rows, see `rows`; computed here if not given).

        Lower bounds, each within the refinement tolerance of an eigenvalue (see the
        module docstring), or exact at level 2."""
        if not self.estimating:
            self.exact += int(prods.shape[0] * prods.shape[1])
            self.skip = max(0, self.skip - 1)
            if self.skip == 0:
                self.u = self.v = None  # start the estimates afresh from an SVD
            return _exact(prods, bjac, blocks=self.blocks)
        self.flagged = 0
        if y is None:
            self.rows(prods[0])
            y = self.w.mT.unsqueeze(0) @ prods  # (S, B, 2p, D) = W^T Q
        w = self.w
        theta, c = small_top(y @ y.mT, _start(y), POWER_ITER)
        x = _times(w.unsqueeze(0), c)  # the left Ritz vector, unit
        g = _times(y.mT, c)  # Q^T x
        if bjac is None:
            spectral = self._checked(prods, x, theta, _times(prods, g), None)
        else:
            if self.v is None:
                self.v = torch.linalg.svd(prods[0] @ bjac.take([0]).matrix()[0])[2][:, : self.p].mT
            yb = _cols(bjac.t_times(_rows(y)))  # (S, B, 2p, I) = W^T Q B
            theta_in, c_in = small_top(yb @ yb.mT, _start(yb), POWER_ITER)
            x_in = _times(w.unsqueeze(0), c_in)
            btq = _times(yb.mT, c_in)  # B^T Q^T x_in
            qv = torch.stack([g, bjac.times(btq)], dim=-2) @ prods.mT  # one pass: Q [Q^T x, B B^T Q^T x_in]
            spectral = self._checked(prods, x, theta, qv[..., 0, :], None)
            inputs = self._checked(prods, x_in, theta_in, qv[..., 1, :], bjac)
            self._carry_v(prods[-1], bjac.take([prods.shape[0] - 1]))
        self._carry_u(w, y[-1])
        if self.flagged > HARD * prods.shape[0] and not self.early:
            self.skip = RETRY  # nearly every lag needed refining: skip the estimates a while
        return spectral, (None if bjac is None else inputs)

    # -- the subspaces ---------------------------------------------------------------------
    def _basis(self, q0: Tensor) -> Tensor:
        """`W` `(B, D, 2p)`: orthonormal basis of `[U, Q Q^T U]` at the block's first lag."""
        if self.u is None:
            self.u = torch.linalg.svd(q0)[0][..., : self.p]
        z = ((self.u.mT @ q0) @ q0.mT).mT  # Q Q^T U, as row products
        return torch.linalg.qr(torch.cat([self.u, z], dim=-1))[0]

    def _carry_u(self, w: Tensor, y_last: Tensor) -> None:
        """The next U: the top-p Ritz vectors at the block's last lag (one small eigh)."""
        vecs = torch.linalg.eigh((y_last @ y_last.mT).to(torch.float64))[1][..., -self.p :]
        self.u = w @ vecs.to(w.dtype)

    def _carry_v(self, q_last: Tensor, b_last: InputJacobians) -> None:
        """The next V (top right singular vectors of `Q B`): one power step
        `orth((QB)^T (QB) V)` at the block's last lag."""
        bv = b_last.times(self.v.permute(2, 0, 1).unsqueeze(1))[:, 0].transpose(0, 1)  # (B, p, D) rows
        qtq = (bv @ q_last.mT) @ q_last  # rows of Q^T Q B V
        self.v = torch.linalg.qr(b_last.t_times(qtq.transpose(0, 1).unsqueeze(1))[:, 0].permute(1, 2, 0))[0]

    # -- a posteriori ----------------------------------------------------------------------
    def _checked(self, prods, x, theta, qv, bjac) -> Tensor:
        """The estimate `sqrt(theta)` for the unit left vectors x `(S, B, D)` (`qv` is
        `A x`), refined where the relative Ritz residual `|A x - theta x| / theta` is too
        large; for the input sensitivity first by the right subspace V."""
        flagged = _flags(qv, x, theta, FLAG_TOL[self.level])
        lags = torch.nonzero(flagged.any(dim=1)).flatten()
        value = theta.clone()
        if lags.numel() and bjac is not None:
            sub = bjac.take(lags)
            th, xr, ok = self._right(prods[lags], sub)
            better = th > value[lags]
            value[lags] = torch.where(better, th, value[lags])
            x = x.clone()
            x[lags] = torch.where(better.unsqueeze(-1), xr, x[lags])
            lags = lags[~(ok & better).all(dim=1)]
        self.flagged = max(self.flagged, lags.numel())
        value = value.sqrt()
        if lags.numel():  # refined later, with every other flagged lag of the chunk (`flush`)
            kind = "spectral" if bjac is None else "input"
            self.pending.setdefault(kind, []).append(
                (value, lags, prods[lags].clone(), x[lags].clone(), None if bjac is None else bjac.take(lags)))
            self.pending_bytes += prods[lags].numel() * prods.element_size()
        return value

    def flush(self) -> None:
        """Refine every lag flagged since the last flush, in one batch per quantity (by
        Lanczos from the Ritz vectors, or by SVD where the batch is small), writing the
        values into the tensors `block` returned (in place)."""
        for kind, items in self.pending.items():
            prods = torch.cat([it[2] for it in items])
            x0 = torch.cat([it[3] for it in items])
            bjac = None if kind == "spectral" else InputJacobians.concat([it[4] for it in items])
            if prods.shape[0] * prods.shape[1] * prods.shape[-1] < LANCZOS_WORK:  # few: SVDs are cheaper
                self.exact += int(prods.shape[0] * prods.shape[1])
                refined = _exact(prods, bjac, spectral=bjac is None).to(torch.float64) ** 2
            else:  # in groups that stay in cache across the iterations (see REFINE_BYTES)
                per_lag = prods[0].numel() * prods.element_size()
                size = max(1, REFINE_BYTES // per_lag)
                refined = torch.cat([
                    self._refine(prods[lo : lo + size], x0[lo : lo + size],
                                 None if bjac is None else bjac.take(slice(lo, lo + size)))
                    for lo in range(0, prods.shape[0], size)])
            at = 0
            for value, lags, *_ in items:
                part = refined[at : at + lags.numel()].sqrt()
                value[lags] = torch.maximum(value[lags], part)
                at += lags.numel()
        self.pending, self.pending_bytes = {}, 0

    def _right(self, prods: Tensor, bjac: InputJacobians) -> tuple[Tensor, Tensor, Tensor]:
        """Rayleigh-Ritz of `||Q B||^2` on the right subspace V (right where Q is nearly
        flat, as for an orthogonal cell: the top of Q B is then Q times the top of B):
        the value, its unit left vector and whether its residual passes."""
        bv = bjac.times(self.v.permute(2, 0, 1).unsqueeze(1))  # (p, F, B, D) = B V
        xr = (bv.permute(1, 2, 0, 3) @ prods.mT).mT  # (F, B, D, p) = Q B V, as row products
        theta, c = small_top(xr.mT @ xr, _start(xr.mT), POWER_ITER)
        y = _times(xr, c)
        y = y / torch.linalg.vector_norm(y, dim=-1, keepdim=True).clamp_min(1e-300)
        btq = bjac.t_times(_times(prods.mT, y))  # B^T Q^T y
        theta = torch.maximum(theta, (btq * btq).sum(-1).to(torch.float64))  # y's own Rayleigh quotient
        ok = ~_flags(_times(prods, bjac.times(btq)), y, theta, FLAG_TOL[self.level])
        return theta, y, ok

    def _refine(self, prods: Tensor, x0: Tensor, bjac: InputJacobians | None) -> Tensor:
        """Lanczos on `Q Q^T` (or `Q B B^T Q^T`) from the Ritz vectors x0 `(F, B, D)`;
        an exact SVD where it does not converge. Returns squared norms `(F, B)` float64."""
        active = {"n": prods.shape[0], "q": prods, "b": bjac}

        def apply(x: Tensor, idx: Tensor) -> Tensor:
            if idx.numel() != active["n"]:  # the batch shrank: gather once, not every iteration
                active.update(n=idx.numel(), q=prods[idx], b=None if bjac is None else bjac.take(idx))
            q, sub = active["q"], active["b"]
            u = _times(q.mT, x)
            if sub is not None:
                u = sub.times(sub.t_times(u))
            return _times(q, u)

        top = lanczos_top(apply, x0, REFINE_TOL[self.level], first_check=8, max_iter=REFINE_ITER)
        value = torch.as_tensor(top.value, device=prods.device)
        self.refined += int(x0.shape[0] * x0.shape[1])
        bad = torch.as_tensor(~top.converged.all(axis=1), device=prods.device).nonzero().flatten()
        if bad.numel():
            exact = _exact(prods[bad], None if bjac is None else bjac.take(bad), spectral=bjac is None)
            value[bad] = exact.to(torch.float64) ** 2
            self.exact += int(bad.numel() * x0.shape[1])
        return value


def _times(m: Tensor, c: Tensor) -> Tensor:
    """`m @ c` for matrices `(..., R, K)` and vectors `(..., K)` (any float dtype), as the
    row vector `c^T m^T`: batched matrix-vector products in that orientation run 4-10x
    faster in torch's CPU kernels than `m @ c[..., None]`."""
    return (c.to(m.dtype).unsqueeze(-2) @ m.mT).squeeze(-2)


def _start(y: Tensor) -> Tensor:
    """Start vectors for the lags' power iterations on `y y^T`: the first coordinate (the
    top carried vector, first in its basis), the same for every lag."""
    e = torch.zeros(y.shape[:-1], dtype=torch.float64, device=y.device)
    e[..., 0] = 1.0
    return e


def _flags(av: Tensor, x: Tensor, theta: Tensor, tol: float) -> Tensor:
    """Where the relative Ritz residual `|A x - theta x| / theta` exceeds tol `(S, B)`."""
    th = theta.to(av.dtype)
    res = torch.linalg.vector_norm(av - th.unsqueeze(-1) * x, dim=-1)
    return (res > tol * th) & (theta > 0)


def _exact(prods: Tensor, bjac: InputJacobians | None, spectral: bool | None = None,
           blocks: Tensor | None = None):
    """Exact `||Q_s||_2` and `||Q_s B_s||_2` `(S, B)` by SVD (the pair, or with
    `spectral` True / False only the first / the second); `blocks` `(H, K)`: the products
    are block-diagonal on those coordinates, their norm the largest block's."""
    def top(m: Tensor) -> Tensor:
        if blocks is None:
            return torch.linalg.svdvals(m)[..., 0]
        idx = blocks.to(m.device)
        return torch.linalg.svdvals(m[..., idx.unsqueeze(-1), idx.unsqueeze(-2)])[..., 0].amax(-1)

    if spectral is True or bjac is None:
        return top(prods) if spectral else (top(prods), None)
    inputs = torch.linalg.svdvals(prods @ bjac.matrix())[..., 0]
    if spectral is False:
        return inputs
    return top(prods), inputs
