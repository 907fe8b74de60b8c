"""The figures read off the curves (`numerics.metrics`): rates, horizons and regimes from
known lines, fits that skip unmeasured lags, medians and quantiles equal to numpy's
(without importing numpy.ma), and the Kaplan-Yorke dimension."""

import math

import numpy as np
import pytest

from gradscope.numerics.metrics import (
    decay_figures,
    kaplan_yorke,
    median,
    quantiles,
    rate_figures,
    regime,
    slope,
)


def test_rates_horizon_and_regime_from_known_lines():
    k = np.arange(401.0)
    curves = np.stack([-0.5 * k, -0.6 * k, -0.7 * k])
    f = decay_figures(curves, eps=1e-6)
    assert f["growth_rate"] == pytest.approx(-0.6)
    assert f["growth_rate_q10"] == pytest.approx(-0.68) and f["growth_rate_q90"] == pytest.approx(-0.52)
    assert f["half_life"] == pytest.approx(math.log(2) / 0.6)
    assert f["horizon"] == math.ceil(math.log(1e6) / 0.6 + 1e-12)
    assert f["regime"] == "vanishing" and f["explosion_lag"] is None
    up = decay_figures(0.2 * k[None].repeat(2, 0), eps=1e-6)
    assert up["regime"] == "exploding" and up["explosion_lag"] == 70
    assert up["horizon"] is None and up["horizon_censored"] is False  # no horizon applies: not censored
    flat = decay_figures(-1e-5 * k[None].repeat(2, 0), eps=1e-6)  # neither falls below eps nor explodes
    assert flat["horizon"] is None and flat["horizon_censored"] is True
    assert up["doubling_time"] == pytest.approx(math.log(2) / 0.2)
    assert regime(5e-4, 0.0) == "marginal" and regime(-0.01, 0.01) == "marginal"


def test_fit_ignores_unmeasured_lags_and_zero_gain():
    k = np.arange(101.0)
    curve = -0.3 * k
    curve[60:] = np.nan  # a run that stopped at lag 59
    assert rate_figures(curve[None])["rate"] == pytest.approx(-0.3)
    assert slope(np.where(k < 50, -k, -np.inf), 0, 100) == pytest.approx(-1.0)


def test_a_gradient_that_reaches_exactly_zero_is_vanishing():
    k = np.arange(50.0)
    curves = np.where(k < 2, -k, -np.inf)[None].repeat(3, 0)  # exactly zero from lag 2
    f = decay_figures(curves, eps=1e-6)
    assert f["growth_rate"] is None and f["regime"] == "vanishing" and f["horizon"] == 2


def test_median_and_quantiles_are_numpys_to_the_last_bit():
    """Our sort-based median and linear quantiles (which spare a bare `decay` the import of
    numpy.ma) against numpy's own: odd and even counts, NaN, infinities, a huge range."""
    rng = np.random.default_rng(3)
    inf, nan = np.inf, np.nan
    cases = [rng.normal(size=(8, 50)), rng.normal(size=(7, 30)) * 1e5, rng.normal(size=(1, 4)),
             np.array([[1.0, inf, nan], [2.0, inf, 0.0], [-inf, -inf, 1.0], [3.0, inf, 2.0]]),
             np.array([[inf, -inf]]).T, rng.normal(size=5) * 1e300, np.full((3, 2), -inf),
             np.array([1e308, 1e308, -1e308, 1e308]),  # the middle pair's sum overflows, as numpy's does
             rng.normal(size=(6, 9)).astype(np.float32), np.array([3, 1, 2, 8]), np.array([[2.5]])]
    for values in cases:
        for axis in (None, 0, -1):
            with np.errstate(invalid="ignore", over="ignore"):
                want, got = np.median(values, axis=axis), median(values, axis=axis)
            assert np.array_equal(want, got, equal_nan=True), (values, axis)
            assert np.asarray(got).dtype == np.asarray(want).dtype and np.ndim(got) == np.ndim(want)
    for n in (1, 2, 3, 8, 9, 31, 1000):
        for _ in range(20):
            x = rng.normal(size=n) * rng.choice([1e-3, 1.0, 1e6])
            for qs in ([0.1, 0.9], [0.0, 0.5, 1.0], [0.25]):
                assert np.array_equal(np.quantile(x, qs), quantiles(x, qs)), (x, qs)


def test_analysis_does_not_import_numpy_ma():
    """numpy's median and quantile import numpy.ma on first use (~0.1 s of a bare decay)."""
    import subprocess
    import sys

    code = ("import sys\nfrom gradscope import Config, analyze\n"
            "analyze(Config(hidden=8, steps=60, trials=3, transient=5), command='t', threads=1)\n"
            "print('MA', 'numpy.ma' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "MA False" in out.stdout, out.stderr


def test_kaplan_yorke_dimension():
    assert kaplan_yorke(np.array([0.5, -0.2, -1.0])) == pytest.approx(2.3)
    assert kaplan_yorke(np.array([-0.1, -0.2])) == 0.0
    assert kaplan_yorke(np.array([0.3, 0.1])) is None
