"""Mean-field theory along the axes of a sweep (`numerics.theory.critical`, handed to the
figures as `MeanFieldTheory`): the critical gain of an undriven tanh RNN (1 with normal
init, sqrt(3) with default init), the root and the chi = 1 line that agree with
`critical_gain`, rates against the closed form, no theory for an LSTM; and a measured
gain sweep that changes sign where mean field says."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradscope.config import Config
from gradscope.numerics.theory.critical import MeanFieldTheory
from gradscope.numerics.theory.mean_field import critical_gain
from gradscope.runs.execute import run_grid
from gradscope.runs.grid import expand_grid

#: A vanilla tanh RNN without drive or bias: mean field's q* = 0, so chi = sigma_w^2.
UNDRIVEN = dict(cell="rnn", act="tanh", input="zeros", bias_std=0.0)


def test_critical_gain_of_an_undriven_tanh_rnn() -> None:
    theory = MeanFieldTheory()
    # normal init: sigma_w^2 = g^2, chi = 1 at g = 1; default init: sigma_w^2 = g^2 / 3, so g = sqrt(3)
    assert theory.critical_gain(Config(init="normal", **UNDRIVEN)) == pytest.approx(1.0, abs=1e-8)
    assert theory.critical_gain(Config(init="default", **UNDRIVEN)) == pytest.approx(math.sqrt(3), abs=1e-8)
    assert theory.critical_gain(Config(init="orthogonal", **UNDRIVEN)) == pytest.approx(1.0, abs=1e-8)
    driven = theory.critical_gain(Config(init="normal", act="tanh", input_std=1.0))
    assert driven > 1.05  # a driven network needs a larger gain to reach the edge (q* > 0 shrinks chi)
    assert theory.critical_gain(Config(init="identity", **UNDRIVEN)) is None  # not random: no mean field
    assert theory.critical_gain(Config(cell="lstm", input="zeros")) is None


def test_rates_are_half_log_chi() -> None:
    theory = MeanFieldTheory()
    config = Config(init="normal", **UNDRIVEN)
    for g in (0.3, 0.5, 0.9):  # below the edge q* = 0: chi = g^2 exactly, the rate ln g
        assert theory.rate(config, "gain", g) == pytest.approx(math.log(g), abs=1e-9)
    curve = theory.curve(config, "gain", np.array([0.5, 1.0, 2.0]))
    assert curve[0] == pytest.approx(math.log(0.5), abs=1e-9) and abs(curve[1]) < 1e-9
    assert 0 < curve[2] < math.log(2.0)  # beyond the edge q* > 0: chi < g^2


def test_the_root_and_the_critical_line_agree_with_critical_gain() -> None:
    theory = MeanFieldTheory()
    config = Config(init="normal", **UNDRIVEN)
    assert theory.root(config, "gain", [0.5, 3.0]) == pytest.approx(1.0, abs=1e-3)
    assert theory.root(config, "gain", [1.5, 3.0]) is None  # no sign change in the span
    biases = [0.0, 0.3, 0.6]
    xs, ys = theory.critical_line(config, "gain", [0.5, 3.0], "bias_std", biases)
    assert ys.tolist() == biases
    expected = [critical_gain("tanh", "normal", 0.0, b * b) for b in biases]  # bisection on chi = 1
    assert expected[0] < expected[1] < expected[2]  # a bias pushes the edge to larger gains
    np.testing.assert_allclose(xs, expected, atol=1e-3)
    default = Config(init="default", **UNDRIVEN)
    assert theory.root(default, "gain", [0.5, 3.0]) == pytest.approx(theory.critical_gain(default), abs=1e-3)


def test_no_mean_field_for_an_lstm() -> None:
    theory = MeanFieldTheory()
    lstm = Config(cell="lstm", act="tanh", input="zeros")
    assert theory.curve(lstm, "gain", np.array([0.5, 1.0, 2.0])) is None
    assert theory.rate(lstm, "gain", 1.0) is None and theory.root(lstm, "gain", [0.5, 3.0]) is None
    assert theory.critical_line(lstm, "gain", [0.5, 3.0], "bias_std", [0.0, 0.5]) is None
    assert theory.line(lstm, "growth_rate", "gain", np.array([0.5, 1.0])) is None


@pytest.mark.slow
def test_tanh_gain_sweep_changes_sign_at_the_mean_field_critical_gain() -> None:
    """A vanilla tanh RNN, N = 256, no input, no bias, W ~ N(0, g^2/N): mean field puts
    the edge of chaos at g = 1 (chi = g^2 tanh'(0)^2). The measured median growth rate
    is negative at g = 0.95 and positive at g = 1.05: it changes sign within 0.05 of the
    mean-field critical gain (at T = 100 the interpolated crossing is ~1.03)."""
    from gradscope.numerics.theory.critical import MeanFieldTheory, critical_gain_of
    from gradscope.text.findings import gain_crossings

    configs = expand_grid({"hidden": 256, "steps": 100, "transient": 100, "trials": 2, "init": "normal",
                           "input": "zeros", "bias_std": 0.0, "gain": [0.95, 1.05]}).configs
    results = run_grid(configs, jobs=2)
    rates = [r.summary["growth_rate"] for r in results]
    assert rates[0] < 0 < rates[1], rates
    (row,) = gain_crossings(results, theory=MeanFieldTheory())
    assert abs(row["measured"] - 1.0) <= 0.05, row
    assert abs(row["mean_field"] - 1.0) <= 1e-3 and abs(critical_gain_of(configs[0]) - 1.0) <= 1e-3
