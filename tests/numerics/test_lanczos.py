"""The largest eigenvalue of many PSD operators at once (`numerics.transport.lanczos`):
`lanczos_top` against `numpy.linalg.eigvalsh` on random batches of known spectra, a
lower bound that converges, flags that say which items did not; and the vectorised
tridiagonal solver and the small power iteration against LAPACK."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradscope.numerics.transport.lanczos import lanczos_top, small_top, tridiagonal_top


def spd_batch(eigenvalues: np.ndarray, seed: int = 0) -> torch.Tensor:
    """Matrices `Q diag(eigenvalues) Q^T` `(F, B, D, D)` with random orthogonal Q."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((*eigenvalues.shape, eigenvalues.shape[-1])))
    return torch.from_numpy((q * eigenvalues[..., None, :]) @ np.swapaxes(q, -1, -2))


def apply_of(a: torch.Tensor, seen: list[int] | None = None):
    def apply(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        if seen is not None:
            seen.append(len(idx))
        return (a[idx] @ x.unsqueeze(-1)).squeeze(-1)

    return apply


def start(f: int, b: int, d: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(f, b, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("d", [5, 24, 60])
def test_lanczos_top_equals_eigvalsh_on_random_spd_batches(d: int) -> None:
    rng = np.random.default_rng(d)
    eig = rng.uniform(0.0, 1.0, (6, 3, d)) * rng.choice([1e-3, 1.0, 1e4], (6, 3, 1))  # scales far apart
    a = spd_batch(eig, seed=d)
    w = np.linalg.eigvalsh(a.numpy())
    np.testing.assert_allclose(w[..., -1], eig.max(-1), rtol=1e-12)  # the batch is what it says
    top = lanczos_top(apply_of(a), start(6, 3, d), tol=1e-6, first_check=4, max_iter=200)
    assert top.value.shape == (6, 3) and top.converged.all() and (top.residual <= 1e-6).all()
    # the residual bound: an eigenvalue within tol of the Ritz value; here it is the top one
    assert (np.abs(w - top.value[..., None]).argmin(-1) == d - 1).all()
    assert (np.abs(w - top.value[..., None]).min(-1) <= 1e-6 * top.value).all()
    # and Kato-Temple: lambda_max - theta <= r^2 / (theta - lambda_2) for a residual norm
    # r <= tol * theta, what the stopping rule guarantees (not a tighter rtol: another BLAS
    # rounds the iterations otherwise and lands elsewhere inside the bound, e.g. 2.3e-9
    # relative at d = 60 under MKL_CBWR=COMPATIBLE against < 1e-9 here)
    gap = top.value - w[..., -2]
    assert (gap > 0).all()
    assert (w[..., -1] - top.value <= (1e-6 * top.value) ** 2 / gap + 1e-11 * w[..., -1]).all()
    assert (top.value <= w[..., -1] * (1 + 1e-12)).all()  # a Ritz value: never above lambda_max
    assert top.iterations <= 200


def test_items_that_do_not_converge_are_flagged_and_the_rest_stop_early() -> None:
    d = 40
    easy = np.concatenate([[10.0], np.full(d - 1, 1.0)])  # one dominant eigenvalue: converges at once
    hard = 1.0 - 1e-3 * np.arange(d)  # a crowded top: not within 3 iterations
    a = spd_batch(np.stack([np.stack([easy, easy]), np.stack([hard, hard])]), seed=2)  # (F=2, B=2)
    seen: list[int] = []
    top = lanczos_top(apply_of(a, seen), start(2, 2, d), tol=1e-10, first_check=2, max_iter=3, check_every=1)
    assert top.converged.tolist() == [[True, True], [False, False]]
    assert (top.residual[1] > 1e-10).all() and top.iterations == 3
    assert seen == [2, 2, 1]  # the converged item dropped out of the batch
    truth = np.linalg.eigvalsh(a.numpy())[..., -1]
    np.testing.assert_allclose(top.value[0], truth[0], rtol=1e-9)
    assert (top.value[1] <= truth[1]).all() and (top.value[1] > 0.9).all()  # a lower bound, not yet the top
    zero = lanczos_top(apply_of(torch.zeros(1, 1, 4, 4, dtype=torch.float64)), start(1, 1, 4), tol=1e-10,
                       first_check=1, max_iter=4)
    assert zero.value.tolist() == [[0.0]] and zero.converged.all()  # A = 0: exactly converged


def test_tridiagonal_top_equals_eigh_of_the_matrix() -> None:
    rng = np.random.default_rng(3)
    for m in (1, 2, 7, 20):
        alpha, beta = rng.standard_normal((50, m)), rng.standard_normal((50, m - 1))
        t = np.zeros((50, m, m))
        t[:, np.arange(m), np.arange(m)] = alpha
        t[:, np.arange(m - 1), np.arange(1, m)] = beta
        t[:, np.arange(1, m), np.arange(m - 1)] = beta
        w, v = np.linalg.eigh(t)
        width = (alpha + np.abs(np.pad(beta, ((0, 0), (1, 0)))) + np.abs(np.pad(beta, ((0, 0), (0, 1))))).max(-1) \
            - alpha.max(-1)  # the Gershgorin bracket bisection starts from
        for bits in (20, 40):
            theta, last = tridiagonal_top(alpha, beta, bits=bits)
            assert (theta <= w[:, -1] + 1e-12 * np.abs(w[:, -1])).all()  # a Rayleigh quotient: never above
            assert (w[:, -1] - theta <= width * 2.0**-bits + 1e-12).all()  # within the bisection's bracket
        np.testing.assert_allclose(theta, w[:, -1], rtol=1e-10, atol=1e-12)  # 40 bits: to rounding
        gap = w[:, -1] - (w[:, -2] if m > 1 else -np.inf)
        clear = gap > 1e-3 * np.abs(w).max(-1)  # a well-separated top has a well-defined eigenvector
        np.testing.assert_allclose(last[clear], np.abs(v[clear, -1, -1]), rtol=1e-6, atol=1e-8)


def test_small_top_equals_eigh_even_for_a_nearly_degenerate_top() -> None:
    eig = np.stack([np.linspace(0.1, 2.0, 8), np.concatenate([np.linspace(0.1, 1.0, 7), [1.0 + 1e-9]])])
    gram = spd_batch(eig[None], seed=4)[0]
    value, vec = small_top(gram, torch.ones(8, dtype=torch.float64), iterations=6)
    w, v = np.linalg.eigh(gram.numpy())
    np.testing.assert_allclose(value.numpy(), w[:, -1], rtol=1e-10)
    assert np.allclose(np.abs((vec.numpy() * v[:, :, -1]).sum(-1)), 1.0, atol=1e-6)  # the top eigenvector
    gv = (gram @ vec.unsqueeze(-1)).squeeze(-1)
    np.testing.assert_allclose(gv.numpy(), value.numpy()[:, None] * vec.numpy(), atol=1e-6)  # an eigenpair
