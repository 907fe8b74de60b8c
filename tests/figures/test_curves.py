"""Curves as drawn (`figures.curves`): log-spaced and linear thinning that keeps both
ends, and trial quantiles that keep -inf and skip NaN."""

from __future__ import annotations

import numpy as np
import pytest

from gradscope.figures.curves import (
    drawing_indices,
    log_spaced_indices,
    trial_quantiles,
)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 500, 501, 1001, 100_001])
def test_log_spaced_indices(n):
    idx = log_spaced_indices(n, 500)
    assert len(idx) == min(n, 500) or (n > 500 and 450 <= len(idx) <= 500)
    if n:
        assert idx[0] == 0 and idx[-1] == n - 1
        assert np.all(np.diff(idx) > 0)
    if n > 500:  # log-spaced: dense at small lags, every early lag kept
        assert set(range(20)) <= set(idx.tolist())


def test_log_spaced_indices_of_long_curves_keep_both_ends() -> None:
    assert list(log_spaced_indices(5)) == [0, 1, 2, 3, 4]
    for n in (501, 1000, 10_001, 100_001):
        idx = log_spaced_indices(n, 500)
        assert 400 <= len(idx) <= 500, n
        assert idx[0] == 0 and idx[-1] == n - 1
        assert np.all(np.diff(idx) > 0)
    assert len(log_spaced_indices(0)) == 0


def test_drawing_indices_cover_linear_axis():
    idx = drawing_indices(100_001, 500)
    assert len(idx) <= 500 and idx[0] == 0 and idx[-1] == 100_000
    assert np.max(np.diff(idx)) <= 100_000 / 200  # no large gap on a linear lag axis


def test_trial_quantiles_keep_inf_and_skip_nan():
    logs = np.array([[0.0, -1.0, -np.inf, np.nan], [0.0, -3.0, -np.inf, np.nan], [0.0, -2.0, -5.0, np.nan]])
    q = trial_quantiles(logs)
    assert q.shape == (3, 4)
    assert q[1, 1] == -2.0
    assert q[1, 2] == -np.inf and q[2, 2] > -np.inf  # median zero gain, 90% not
    assert np.all(np.isnan(q[:, 3]))
