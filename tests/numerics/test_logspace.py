"""Log-space arithmetic (`numerics.logspace`): norms that neither underflow nor overflow
(entries of 1e-200 in float64, 1e-30 in float32, where a plain norm reads 0), logs on
the host in float64 with log(0) = -inf, safe renormalisation, the top singular value
from a Gram matrix, and the chunk length of a sweep."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from gradscope.numerics.logspace import (
    CHUNK_ELEMENTS,
    chunk_length,
    divide_by_norm_,
    host_log,
    stable_norm,
    top_from_gram,
)


@pytest.mark.parametrize("dtype, scale", [(torch.float64, 1e-200), (torch.float32, 1e-30),
                                          (torch.float64, 1e200), (torch.float32, 1e30)])
def test_stable_norm_of_tiny_and_huge_entries_is_the_scaled_exact_norm(dtype, scale) -> None:
    v = np.random.default_rng(0).standard_normal((3, 4, 7)) * np.logspace(-3, 3, 7)  # uneven entries
    t = (torch.from_numpy(v) * scale).to(dtype)  # rounded to the dtype, as a run holds them
    held = t.double().numpy() / scale  # what the run holds, scaled back to ~1
    exact = np.linalg.norm(held, axis=-1) * scale  # the exact norm, scaled
    plain = torch.linalg.vector_norm(t, dim=-1)
    if scale < 1:
        assert (plain == 0).all()  # the squares underflow: a plain norm reads 0 ...
    else:
        assert torch.isinf(plain).all()  # ... or overflow to inf
    ours = stable_norm(t, -1)
    assert (ours > 0).all() and torch.isfinite(ours).all()
    np.testing.assert_allclose(ours.double().numpy(), exact, rtol=1e-6 if dtype == torch.float32 else 1e-13)
    both = stable_norm(t, (-2, -1))  # a Frobenius norm over two axes
    np.testing.assert_allclose(both.double().numpy(), np.linalg.norm(held, axis=(-2, -1)) * scale, rtol=1e-6)


def test_stable_norm_of_zeros_is_zero() -> None:
    for dtype in (torch.float32, torch.float64):
        z = torch.zeros(2, 5, dtype=dtype)
        assert stable_norm(z, -1).tolist() == [0.0, 0.0]


def test_host_log_is_float64_with_log_0_minus_inf_and_no_warning() -> None:
    t = torch.tensor([0.0, 1.0, math.e, 1e-30, 3e38], dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a divide-by-zero RuntimeWarning would fail here
        out = host_log(t)
    assert out.dtype == np.float64 and out[0] == -np.inf
    np.testing.assert_allclose(out[1:], np.log(t.double().numpy()[1:]), rtol=0, atol=1e-12)
    assert host_log(torch.tensor([[0.0, 2.0]], dtype=torch.float64)).tolist() == [[-np.inf, math.log(2.0)]]


def test_divide_by_norm_leaves_a_zero_vector_alone() -> None:
    q = torch.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=torch.float64)
    divide_by_norm_(q, torch.linalg.vector_norm(q, dim=-1))
    assert q.tolist() == [[0.6, 0.8], [0.0, 0.0]]  # no NaN from 0 / 0


def test_top_from_gram_is_the_largest_singular_value() -> None:
    y = torch.randn(5, 30, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float32)
    got = top_from_gram(y.mT @ y)
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), torch.linalg.svdvals(y.double())[:, 0].numpy(), rtol=1e-5)


def test_chunk_length_caps_steps_and_jacobian_entries() -> None:
    assert chunk_length(8, 64) == 256  # small: 256 steps
    assert chunk_length(8, 512) == CHUNK_ELEMENTS // (8 * 512 * 512) == 4
    assert chunk_length(1, 10_000) == 1  # never 0 steps
    for trials, dim in ((2, 300), (16, 128), (3, 1000)):
        steps = chunk_length(trials, dim)
        assert 1 <= steps <= 256 and (steps * trials * dim * dim <= CHUNK_ELEMENTS or steps == 1)
