"""Fast-mode spectral norms at a block of lags: `||Q||_2` and `||Q B_t||_2`, checked.

The running product `Q` (the transport at one lag, `D x D`) and the input Jacobian `B_t`
(`D x I`) of the step that lag reaches: their top singular values are wanted at every
lag, an SVD each is 10-20 matrix products. Both left singular subspaces live at time T,
where they converge with the lag, so a small subspace carried from lag to lag captures
them. For a block of lags (the products formed one after another, no rescaling) one
subspace `W` (`3p` columns) serves every lag of the block: the carried top-`p` left
subspace `U` of `Q`, one Krylov block `Q Q^T U`, and `Q B V`, V the carried top right
singular vectors of `Q B`. The Rayleigh-Ritz estimates `||W^T Q||_2` and `||W^T Q B||_2`
are lower bounds.

A posteriori, the residual of each top Ritz pair is computed (one matrix-vector pass
over each product): where it exceeds `FLAG_TOL` of the Ritz value, that lag is refined by
Lanczos on `Q Q^T` (or `Q B B^T Q^T`) from the Ritz vector, and where Lanczos does not
converge, by an exact SVD. This is what makes nearly degenerate spectra (a near-
orthogonal cell with weak input, an LSTM with a large forget bias) as accurate as easy
ones: their lags get refined, the others cost nothing more.

`level` raises the accuracy when a check fails (see `transport`): 0 and 1 differ in
their tolerances, 2 takes an exact SVD at every lag.

May import: `gradscope.numerics.lanczos`.
"""

from __future__ import annotations

import torch

from .lanczos import lanczos_top, small_top

Tensor = torch.Tensor

FLAG_TOL = (1e-3, 1e-5)  # per level: relative residual above which a lag is refined
REFINE_TOL = (1e-4, 1e-6)  # per level: the refinement's Lanczos tolerance
REFINE_ITER = 80
LANCZOS_DIM = 128  # below this state size a flagged lag gets an SVD (cheaper than Lanczos)
HARD, RETRY = 0.5, 8  # where more than HARD of a block's lags needed an SVD, the next
# RETRY blocks take SVDs without estimating first (a nearly flat spectrum: the estimates
# would fail again), then the estimates start afresh
TRACK = 0  # subspace-iteration steps on the first product of each block
POWER_ITER = 8  # power steps on each lag's small Gram matrix, from the block's start


class InputJacobians:
    """`B_t` of the steps at a block's lags, as products (or materialised for other cells).

    `lin` holds the lags' steps on its leading axis `(S, B, ...)`."""

    def __init__(self, cell, lin: dict) -> None:
        self.cell, self.lin = cell, lin
        self.structured = hasattr(cell, "input_jvp") and hasattr(cell, "input_vjp")
        self.mat = None if self.structured else cell.input_jacobian(lin)  # (S, B, D, I)

    def times(self, v: Tensor) -> Tensor:
        """`B_s v` for v `(..., S, B, I)`."""
        if self.structured:
            return self.cell.input_jvp(self.lin, v)
        return (self.mat @ v.unsqueeze(-1)).squeeze(-1)

    def t_times(self, u: Tensor) -> Tensor:
        """`B_s^T u` for u `(..., S, B, D)`."""
        if self.structured:
            return self.cell.input_vjp(self.lin, u)
        return (self.mat.mT @ u.unsqueeze(-1)).squeeze(-1)

    def take(self, idx: Tensor) -> InputJacobians:
        sub = InputJacobians.__new__(InputJacobians)
        sub.cell, sub.structured = self.cell, self.structured
        sub.lin = {k: v[idx] for k, v in self.lin.items()}
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

    def __init__(self, dim: int, level: int = 0) -> None:
        self.level = level
        self.p = min(8, max(4, dim // 16))
        self.full = 3 * self.p >= dim  # small D: the whole space, the estimates are exact
        self.u: Tensor | None = None  # (B, D, p)
        self.v: Tensor | None = None  # (B, I, p)
        self.skip = 0  # blocks to take exactly before the estimates are tried again
        self.flagged = 0  # lags of the last block whose estimate needed refining
        self.refined = 0  # (lag, trial) pairs refined by Lanczos
        self.exact = 0  # ... and by an exact SVD

    def snapshot(self) -> tuple:
        return (self.u, self.v, self.skip)

    def restore(self, state: tuple) -> None:
        self.u, self.v, self.skip = state

    def block(self, prods: Tensor, bjac: InputJacobians | None) -> tuple[Tensor, Tensor | None]:
        """Estimates of `||Q_s||_2` and `||Q_s B_s||_2` `(S, B)` for the products `(S, B, D, D)`.

        Lower bounds, each within the refinement tolerance of an eigenvalue (see the
        module docstring), or exact at level 2."""
        if self.level >= 2 or self.full or self.skip > 0:
            self.exact += int(prods.shape[0] * prods.shape[1])
            self.skip = max(0, self.skip - 1)
            if self.skip == 0:
                self.u = self.v = None  # start the estimates afresh from an SVD
            return _exact(prods, bjac)
        self.flagged = 0
        w = self._basis(prods[0], bjac)
        y = w.mT.unsqueeze(0) @ prods  # (S, B, m, D) = W^T Q
        theta, c = small_top(y @ y.mT, _start(y, 0), POWER_ITER)
        x = _times(w.unsqueeze(0), c)  # the left Ritz vector
        g = _times(y.mT, c)  # Q^T x
        if bjac is None:
            spectral = self._checked(prods, x, theta, _times(prods, g), None)
            self._carry_u(w, y[-1])
            return spectral, None
        x_in, theta_in = self._input_candidates(prods, y, w, bjac)
        qtx = _times(prods.mT, x_in)  # Q^T x_in (one pass)
        btq = bjac.t_times(qtx)  # B^T Q^T x_in
        theta_in = torch.maximum(theta_in, (btq * btq).sum(-1).to(torch.float64))
        qv = prods @ torch.stack([g, bjac.times(btq)], dim=-1)  # Q [Q^T x, B B^T Q^T x_in]
        spectral = self._checked(prods, x, theta, qv[..., 0], None)
        inputs = self._checked(prods, x_in, theta_in, qv[..., 1], bjac)
        self._carry_u(w, y[-1])
        self._carry_v(prods[-1], bjac.take([prods.shape[0] - 1]))
        if self.flagged > HARD * prods.shape[0] and prods.shape[-1] < LANCZOS_DIM:
            self.skip = RETRY  # nearly every lag needed an SVD: skip the estimates a while
        return spectral, inputs

    def _input_candidates(self, prods, y, w, bjac) -> tuple[Tensor, Tensor]:
        """The better of two Rayleigh-Ritz estimates of `||Q B||^2` per lag, and its unit
        left vector: on the left subspace W (right where Q has a gap: the top of Q B is
        the top of Q) and on the right subspace V (right where Q is nearly flat, as for
        an orthogonal cell: the top of Q B is Q times the top of B)."""
        yb = _cols(bjac.t_times(_rows(y)))  # (S, B, m, I) = W^T Q B
        theta_l, c_l = small_top(yb @ yb.mT, _start(y, 2 * self.p), POWER_ITER)
        x_l = _times(w.unsqueeze(0), c_l)
        bv = bjac.times(self.v.permute(2, 0, 1).unsqueeze(1))  # (p, S, B, D) = B V
        xr = prods @ bv.permute(1, 2, 3, 0)  # (S, B, D, p) = Q B V
        theta_r, c_r = small_top(xr.mT @ xr, _start(xr.mT, 0), POWER_ITER)
        x_r = _times(xr, c_r)
        x_r = x_r / torch.linalg.vector_norm(x_r, dim=-1, keepdim=True).clamp_min(1e-300)
        right = (theta_r > theta_l).unsqueeze(-1)
        return torch.where(right, x_r, x_l), torch.maximum(theta_l, theta_r)

    # -- the subspace --------------------------------------------------------------------
    def _basis(self, q0: Tensor, bjac: InputJacobians | None) -> Tensor:
        """`W` `(B, D, m)`: orthonormal basis of [U, Q Q^T U, Q B V] at the block's first lag."""
        b, d = q0.shape[0], q0.shape[-1]
        if self.full:
            return torch.eye(d, dtype=q0.dtype, device=q0.device).expand(b, d, d)
        if self.u is None:
            self.u = torch.linalg.svd(q0)[0][..., : self.p]
        for _ in range(TRACK):  # subspace iteration: keep U on the top of Q0 Q0^T
            self.u = torch.linalg.qr(q0 @ (q0.mT @ self.u))[0]
        parts = [self.u, q0 @ (q0.mT @ self.u)]
        if bjac is not None:
            if self.v is None:
                qb = q0 @ bjac.take(slice(0, 1)).matrix()[0]
                self.v = torch.linalg.svd(qb)[2][:, : self.p].mT
            bv = bjac.take(slice(0, 1)).times(self.v.permute(2, 0, 1).unsqueeze(1))  # (p, 1, B, D)
            parts.append(q0 @ bv[:, 0].permute(1, 2, 0))
        return torch.linalg.qr(torch.cat(parts, dim=-1))[0]

    def _carry_u(self, w: Tensor, y_last: Tensor) -> None:
        """The next U: the top-p Ritz vectors at the block's last lag (one small eigh)."""
        if self.full:
            return
        vecs = torch.linalg.eigh((y_last @ y_last.mT).to(torch.float64))[1][..., -self.p :]
        self.u = torch.linalg.qr(w @ vecs.to(w.dtype))[0]

    def _carry_v(self, q_last: Tensor, b_last: InputJacobians) -> None:
        """The next V: one power step `orth((QB)^T (QB) V)` at the block's last lag."""
        bv = b_last.times(self.v.permute(2, 0, 1).unsqueeze(1))[:, 0]  # (p, B, D)
        qtq = q_last.mT @ (q_last @ bv.permute(1, 2, 0))  # (B, D, p)
        self.v = torch.linalg.qr(b_last.t_times(qtq.permute(2, 0, 1).unsqueeze(1))[:, 0].permute(1, 2, 0))[0]

    # -- a posteriori ----------------------------------------------------------------------
    def _checked(self, prods, x, theta, qv, bjac) -> Tensor:
        """The estimate `sqrt(theta)` for the unit left vectors x `(S, B, D)` (`qv` is
        `A x`), refined where the relative Ritz residual `|A x - theta x| / theta` is too large."""
        th = theta.to(qv.dtype)
        res = torch.linalg.vector_norm(qv - th.unsqueeze(-1) * x, dim=-1) / th.clamp_min(1e-300)
        value = theta.clone()
        flagged = (res > FLAG_TOL[self.level]) & (theta > 0)
        lags = torch.nonzero(flagged.any(dim=1)).flatten()
        self.flagged = max(self.flagged, lags.numel())
        if lags.numel():
            sub = None if bjac is None else bjac.take(lags)
            if prods.shape[-1] < LANCZOS_DIM:  # small D: an SVD is cheaper than Lanczos
                self.exact += int(lags.numel() * prods.shape[1])
                exact = _exact(prods[lags], sub, spectral=bjac is None)
                value[lags] = exact.to(torch.float64) ** 2
            else:
                value[lags] = torch.maximum(value[lags], self._refine(prods[lags], x[lags], sub))
        return value.sqrt()

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
    """`m @ c` for matrices `(..., R, K)` and vectors `(..., K)` (any float dtype)."""
    return (m @ c.to(m.dtype).unsqueeze(-1)).squeeze(-1)


def _start(y: Tensor, k: int) -> Tensor:
    """Start vectors for the lags' power iterations: coordinate k of W (U's top vector
    for k = 0, the first `Q B V` column for k = p), the same for every lag."""
    e = torch.zeros(y.shape[:-1], dtype=torch.float64, device=y.device)
    e[..., min(k, y.shape[-2] - 1)] = 1.0
    return e


def _exact(prods: Tensor, bjac: InputJacobians | None, spectral: bool | None = None):
    """Exact `||Q_s||_2` and `||Q_s B_s||_2` `(S, B)` by SVD (the pair, or with
    `spectral` True / False only the first / the second)."""
    if spectral is True or bjac is None:
        return torch.linalg.svdvals(prods)[..., 0] if spectral else (torch.linalg.svdvals(prods)[..., 0], None)
    inputs = torch.linalg.svdvals(prods @ bjac.matrix())[..., 0]
    if spectral is False:
        return inputs
    return torch.linalg.svdvals(prods)[..., 0], inputs
