"""Theory beside the measurement (`numerics.theory`, `.mean_field`): mean field's closed
forms and its edge of chaos, its prediction of the RMS rate at large width, and the
Pascanu bound (the largest singular value, not the spectral radius)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import (
    one_thread,  # noqa: F401  (a fixture)
    )

from gradscope import Config, analyze
from gradscope.numerics.theory.mean_field import critical_gain, mean_field

SMALL = dict(hidden=8, steps=120, trials=3, transient=20)


def test_mean_field_closed_forms():
    # linear cell: q* = sigma_u^2 / (1 - sigma_w^2), chi = sigma_w^2
    mf = mean_field("identity", 0.64, sigma_u2=0.36)
    assert mf["q"] == pytest.approx(1.0) and mf["chi"] == pytest.approx(0.64)
    # relu: chi = sigma_w^2 / 2 whatever q; the edge of chaos at sigma_w^2 = 2
    assert mean_field("relu", 1.5, 0.2)["chi"] == pytest.approx(0.75)
    assert critical_gain("relu", "normal") == pytest.approx(math.sqrt(2), abs=1e-6)
    # tanh without drive: the transition is at sigma_w = 1
    assert mean_field("tanh", 0.81)["chi"] == pytest.approx(0.81, abs=1e-6)


@pytest.mark.usefixtures("one_thread")
def test_mean_field_is_exact_at_the_edge_of_chaos():
    mf = mean_field("tanh", 1.0)
    assert mf["q"] == 0.0 and abs(mf["chi"] - 1.0) < 1e-12
    assert mean_field("tanh", 0.81)["q"] == 0.0
    assert 0 < mean_field("tanh", 1.21)["q"] < 1 and mean_field("tanh", 1.21)["chi"] > 1
    assert critical_gain("tanh", "normal") == pytest.approx(1.0, abs=1e-7)
    assert critical_gain("tanh", "default") == pytest.approx(math.sqrt(3), abs=1e-7)
    from gradscope.analysis import analyze

    s = analyze(Config(cell="rnn", init="normal", input="zeros", hidden=8, steps=20, trials=1)).summary
    assert s["mean_field_q"] == 0.0 and any("q* = 0 exactly" in n for n in s["notes"])
    assert not any("q* = 0" in w for w in s["warnings"])  # a fact, with nothing to act on


@pytest.mark.parametrize("gain,init", [(1.0, "default"), (0.5, "normal")])
def test_mean_field_predicts_the_measured_rms_rate_at_large_width(gain, init):
    r = analyze(Config(cell="rnn", act="tanh", init=init, gain=gain, hidden=128, steps=150,
                       trials=2, transient=100))
    assert r.summary["rms_growth_rate"] == pytest.approx(r.summary["mean_field_rate"], abs=0.03)


def test_pascanu_bound_holds_and_uses_the_largest_singular_value():
    config = Config(cell="rnn", act="sigmoid", init="normal", gain=3.0, **SMALL)
    r = analyze(config)
    assert r.summary["growth_rate"] <= r.summary["pascanu_rate"]
    # independently: the median over trials of log(sigma_max(W_hh) / 4), not the spectral radius
    from gradscope.model.draws import trial_streams
    from gradscope.model.initialization import build

    cell = build(config.resolved(), trial_streams(config.seed, config.trials))[0]
    w = cell.w.weight_hh
    smax = np.linalg.svd(w.numpy(), compute_uv=False)[:, 0]
    radius = np.abs(np.linalg.eigvals(w.numpy())).max(axis=1)
    assert r.summary["pascanu_rate"] == pytest.approx(float(np.median(np.log(smax / 4))), abs=1e-12)
    assert (smax > radius * 1.05).all()  # the two readings differ for these non-normal W
    assert analyze(Config(cell="lstm", **SMALL)).summary["pascanu_rate"] is None
