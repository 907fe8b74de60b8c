"""Shared fixtures: synthetic `Result`s that look like real runs, for presentation tests.

They are built from `config.py` and `results.py` alone (no numerics), so figure, table
and CLI tests do not depend on the engine and run in milliseconds.

Thread policy: the suite's matrices are small, where one torch thread is fastest and,
on a machine busy with other work, two threads spin against each other (10x slower).
So the suite runs on one thread (also in the subprocesses it starts), unless
OMP_NUM_THREADS is set; `analyze` still chooses for itself where a test asks it to.
"""

from __future__ import annotations

import math
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is first imported
from typing import Any

import numpy as np
import pytest

from gradscope.config import Config
from gradscope.results import SUMMARY_KEYS, Result


def make_synthetic_result(kind: str = "vanishing", steps: int = 300, trials: int = 4) -> Result:
    """A fake `Result` of a given kind: vanishing | exploding | marginal | nonfinite | zero | lstm."""
    cell = "lstm" if kind == "lstm" else "rnn"
    act = {"vanishing": "sigmoid", "nonfinite": "relu", "zero": "relu"}.get(kind, "tanh")
    config = Config(cell=cell, act=act, hidden=8, steps=steps, trials=trials, seed=0).resolved()
    rng = np.random.default_rng(0)
    rate = {"vanishing": -1.95, "exploding": 0.3, "marginal": -0.0004, "nonfinite": 0.4,
            "zero": -0.5, "lstm": -0.02}[kind]
    lag = np.arange(steps + 1, dtype=np.float64)
    slopes = rate + 0.02 * rng.standard_normal((trials, 1))
    noise = 0.3 * rng.standard_normal((trials, steps + 1)).cumsum(axis=1) / math.sqrt(steps)
    spectral = slopes * lag + noise
    spectral[:, 0] = 0.0
    rms = spectral - 0.8 * np.minimum(lag, 3) / 3 - 0.05 * lag * (kind == "vanishing")
    loss = spectral - 0.5
    step_gain = rate + 0.1 * rng.standard_normal((trials, steps))
    inp = spectral[:, :] - 1.0
    inp[:, -1] = np.nan
    weight = loss.copy()
    weight[:, -1] = np.nan
    summary: dict[str, Any] = {k: None for k in SUMMARY_KEYS}
    summary.update(
        status="ok", growth_rate=rate, growth_rate_q10=rate - 0.03, growth_rate_q90=rate + 0.03,
        growth_rate_se=0.01, rms_growth_rate=rate - 0.05, loss_grad_rate=rate,
        factor_per_step=math.exp(rate), horizon_censored=False, analysed_lags=steps,
        regime="vanishing" if rate < 0 else "exploding", gamma=0.25 if act == "sigmoid" else 1.0,
        sigma_max_whh=1.15, annealed_rate=rate + 0.1, params=2 * 8 * 16 + 0 if cell == "rnn" else 4 * 8 * 16 + 8 * 8,
        warnings=[],
    )
    if cell == "rnn":
        sigma = 1.15 if rate < 0.1 else 1.6
        summary.update(sigma_max_whh=sigma, pascanu_rate=math.log(summary["gamma"] * sigma), mean_field_rate=rate - 0.1,
                       mean_field_chi=math.exp(2 * (rate - 0.1)), mean_field_q=0.4)
    if rate < 0:
        summary["half_life"] = math.log(2) / -rate
        k = int(math.ceil(math.log(1e-6) / rate))
        if k <= steps:
            summary["horizon"] = k
        else:
            summary["horizon_censored"] = True
    else:
        summary["doubling_time"] = math.log(2) / rate
        summary["explosion_lag"] = int(math.ceil(math.log(1e6) / rate))
    if kind == "marginal":
        summary.update(regime="marginal", half_life=None, horizon=None, horizon_censored=True)
    if kind == "nonfinite":
        stop = steps // 2
        for a in (spectral, rms, loss, inp, weight):
            a[:, stop + 1:] = np.nan
        step_gain[:, stop:] = np.nan
        summary.update(status="nonfinite", nonfinite_step=config.transient + stop + 1,
                       analysed_lags=stop,
                       warnings=[f"the state became non-finite at step {config.transient + stop + 1}: "
                                 "lower --gain or --steps"])
    if kind == "zero":
        for a in (spectral, rms, loss, inp):
            a[:, 40:] = -np.inf
        step_gain[:, 39:] = -np.inf
        summary.update(growth_rate=None, factor_per_step=None, half_life=None, horizon=14,
                       analysed_lags=39, warnings=["the gain is exactly 0 from lag 40 (every relu unit is off)"])
    curves = {
        "lag": lag, "log_spectral": spectral, "log_rms": rms, "log_loss_grad": loss,
        "log_input_sensitivity": inp, "log_weight_grad": weight, "log_step_gain": step_gain,
        "log_step_rms": step_gain - 0.3,
    }
    provenance = {"gradscope": "0.1.0", "time": "2024-01-01T00:00:00Z", "command": "test"}
    return Result(config=config, summary=summary, curves=curves, provenance=provenance)


def pytest_configure(config: pytest.Config) -> None:
    if "torch" in sys.modules:  # imported before this file (a plugin): set it directly
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture
def synthetic_result() -> Result:
    return make_synthetic_result("vanishing")


@pytest.fixture(params=["vanishing", "exploding", "marginal", "nonfinite", "zero", "lstm"])
def synthetic_result_kind(request: pytest.FixtureRequest) -> Result:
    return make_synthetic_result(request.param)
