"""Synthetic results for the tests of presentation (figures, tables, reports), built from
`config` and `results` alone (no numerics), so they run in milliseconds:

- `synthetic(config, rate)`: a run whose median log gain falls (or grows) `rate` per step,
  trials spread around it; `report_results(n)` and `sweep_results(n)` are reports of 1, 9
  or 30 of them (the layout tests draw every figure for each).
- `report_result(cell, act, rate)`: a run whose log spectral gain falls exactly `rate`
  per step; `report_grid(make)` the five runs of the report the report tests write.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from gradscope.config import Config
from gradscope.results import ENGINE_VERSION, SUMMARY_KEYS, Result

LOG_EPS = math.log(1e-6)


def synthetic(config: Config, rate: float, steps: int = 240, trials: int = 4, stop: int | None = None,
              seed: int = 0) -> Result:
    """A run whose median log spectral gain falls (or grows) `rate` per step, trials
    spread around it, every summary key consistent with the curves as `analyze` fills
    them; `stop`: the state became non-finite after that many lags."""
    config = Config(**{**config.to_dict(), "steps": steps, "trials": trials}).resolved()
    rng = np.random.default_rng(seed)
    lag = np.arange(steps + 1, dtype=np.float64)
    slopes = rate * (1 + 0.05 * np.linspace(-1, 1, trials))[:, None]
    spectral = slopes * lag + 0.2 * rng.standard_normal((trials, steps + 1)).cumsum(axis=1) / 10
    spectral[:, 0] = 0.0
    curves = {"lag": lag, "log_spectral": spectral, "log_rms": spectral - 0.3 - 0.02 * lag * (rate < 0),
              "log_loss_grad": spectral - 0.4, "log_input_sensitivity": spectral - 1.0,
              "log_weight_grad": spectral - 0.7,
              "log_step_gain": rate + 0.05 * rng.standard_normal((trials, steps)),
              "log_step_rms": rate - 0.2 + 0.05 * rng.standard_normal((trials, steps))}
    for key in ("log_input_sensitivity", "log_weight_grad"):
        curves[key][:, -1] = np.nan
    if stop is not None:
        for key in ("log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity", "log_weight_grad"):
            curves[key][:, stop + 1:] = np.nan
        curves["log_step_gain"][:, stop:] = np.nan
    median = np.median(curves["log_spectral"], axis=0)
    below, above = np.flatnonzero(median < LOG_EPS), np.flatnonzero(median > -LOG_EPS)
    regime = "vanishing" if rate < -1e-3 else ("exploding" if rate > 1e-3 else "marginal")
    summary: dict[str, Any] = {k: None for k in SUMMARY_KEYS}
    summary.update(
        status="ok" if stop is None else "nonfinite", growth_rate=rate, growth_rate_q10=rate * 1.04,
        growth_rate_q90=rate * 0.96, growth_rate_se=0.01, rms_growth_rate=rate - 0.02, loss_grad_rate=rate,
        factor_per_step=math.exp(rate), horizon=int(below[0]) if below.size else None,
        horizon_censored=not below.size and not above.size and regime != "exploding",
        explosion_lag=int(above[0]) if above.size else None,
        analysed_lags=steps if stop is None else stop, regime=regime, annealed_rate=rate + 0.05,
        gamma=0.25 if config.act == "sigmoid" else 1.0, sigma_max_whh=1.2, params=1000, warnings=[],
        half_life=math.log(2) / -rate if rate < 0 else None, doubling_time=math.log(2) / rate if rate > 0 else None,
    )
    if config.cell == "rnn":
        summary.update(pascanu_rate=math.log(summary["gamma"] * 1.2) + abs(rate) / 2,
                       mean_field_rate=rate * 1.05, mean_field_chi=math.exp(2 * rate), mean_field_q=0.5)
    if stop is not None:
        summary.update(nonfinite_step=config.transient + stop + 1)
    return Result(config=config, summary=summary, curves=curves, provenance={"gradscope": "test"})


_RATES = {("rnn", "sigmoid"): -1.9, ("rnn", "tanh"): -0.6, ("rnn", "relu"): -0.35, ("lstm", "sigmoid"): -0.5,
          ("lstm", "tanh"): -0.3, ("lstm", "relu"): -0.1, ("gru", "sigmoid"): -0.6, ("gru", "tanh"): -0.45,
          ("gru", "relu"): -0.2}


def report_results(n: int) -> list[Result]:
    """1 (an LSTM), 9 (3 cells x 3 activations) or 30 (3 cells x 2 activations x 5
    gains, some censored, some exploding) synthetic configurations."""
    if n == 1:
        return [synthetic(Config(cell="lstm", act="tanh"), -0.3)]
    if n == 9:
        return [synthetic(Config(cell=c, act=a), _RATES[c, a]) for c in ("rnn", "lstm", "gru")
                for a in ("sigmoid", "tanh", "relu")]
    out = []
    for c in ("rnn", "lstm", "gru"):
        for a in ("tanh", "relu"):
            for g in (0.5, 1.0, 1.5, 2.0, 3.0):
                rate = _RATES[c, a] + 0.45 * math.log(g) + (0.004 if g == 1.5 else 0.0)
                out.append(synthetic(Config(cell=c, act=a, init="normal", gain=g), rate,
                                     stop=150 if rate > 0.2 else None))
    return out


def sweep_results(n: int) -> list[Result]:
    """A gain sweep of a tanh RNN: 1 run (no sweep), 9 gains, or 15 gains at two hidden
    sizes (30)."""
    if n == 1:
        return report_results(1)
    gains = np.linspace(0.5, 3.0, 9 if n == 9 else 15)
    sizes = (64,) if n == 9 else (64, 256)
    return [synthetic(Config(cell="rnn", act="tanh", init="normal", gain=float(g), hidden=h),
                      -0.7 + 0.55 * math.log(g) * (1 + 0.1 * (h == 256)), stop=None, seed=h)
            for h in sizes for g in gains]


def report_result(
    cell: str = "rnn",
    act: str = "tanh",
    rate: float = -0.1,
    steps: int = 120,
    trials: int = 4,
    status: str = "ok",
    stop: int | None = None,
    config: Config | None = None,
    **fields: Any,
) -> Result:
    """A synthetic run whose log spectral gain falls exactly `rate` per step (per-trial
    slopes spread by 0.01), with every summary key filled in consistently; `config`
    (if given) replaces cell, act, steps, trials and fields."""
    if config is None:
        config = Config(**{"cell": cell, "act": act, "hidden": 8, "steps": steps, "trials": trials,
                           "transient": 10, **fields})
    config = config.resolved()
    cell, act, steps, trials = config.cell, config.act, config.steps, config.trials
    rng = np.random.default_rng(abs(hash((cell, act, rate, steps))) % 2**32)
    lag = np.arange(steps + 1, dtype=np.float64)
    slopes = rate + 0.01 * np.linspace(-1, 1, trials)[:, None]
    spectral = slopes * lag
    curves = {
        "lag": lag,
        "log_spectral": spectral,
        "log_rms": spectral - 0.2,
        "log_loss_grad": spectral - 0.5,
        "log_input_sensitivity": spectral - 1.0,
        "log_weight_grad": spectral - 0.7,
        "log_step_gain": rate + 0.01 * rng.standard_normal((trials, steps)),
        "log_step_rms": rate - 0.2 + 0.01 * rng.standard_normal((trials, steps)),
    }
    if stop is not None:
        for key in ("log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity", "log_weight_grad"):
            curves[key][:, stop + 1:] = np.nan
        curves["log_step_gain"][:, stop:] = np.nan
    median = np.median(spectral, axis=0)
    below = np.flatnonzero(median < LOG_EPS)
    above = np.flatnonzero(median > -LOG_EPS)
    summary: dict[str, Any] = {k: None for k in SUMMARY_KEYS}
    summary.update(
        status=status,
        growth_rate=rate,
        growth_rate_q10=float(np.quantile(slopes, 0.1)),
        growth_rate_q90=float(np.quantile(slopes, 0.9)),
        growth_rate_se=0.005,
        rms_growth_rate=rate,
        loss_grad_rate=rate,
        factor_per_step=math.exp(rate),
        half_life=math.log(2) / -rate if rate < 0 else None,
        doubling_time=math.log(2) / rate if rate > 0 else None,
        horizon=int(below[0]) if below.size else None,
        horizon_censored=not below.size and not above.size and rate <= 1e-3,
        explosion_lag=int(above[0]) if above.size else None,
        analysed_lags=steps if stop is None else stop,
        regime="vanishing" if rate < -1e-3 else ("exploding" if rate > 1e-3 else "marginal"),
        annealed_rate=rate + 0.05,
        gamma=0.25 if act == "sigmoid" else 1.0,
        sigma_max_whh=1.2,
        params=4 * 8 * 17 * 2 if cell == "lstm" else (3 * 8 * 17 * 2 if cell == "gru" else 8 * 17 * 2),
        warnings=[],
    )
    if cell == "rnn":
        summary.update(pascanu_rate=math.log(summary["gamma"] * 1.2) + abs(rate), mean_field_rate=rate * 1.02)
    if status == "nonfinite":
        summary.update(nonfinite_step=config.transient + (stop or 0) + 1,
                       warnings=["the state became non-finite at step 71: lower --gain or --steps"])
    return Result(config=config, summary=summary, curves=curves, provenance={"gradscope": "test", "engine": ENGINE_VERSION})


def report_grid(make: Callable[..., Result]) -> list[Result]:
    return [
        make("rnn", "sigmoid", rate=-1.2),
        make("rnn", "tanh", rate=-0.15),
        make("lstm", "tanh", rate=-0.02),  # censored: -2.4 > log(1e-6) within 120 steps
        make("gru", "tanh", rate=-0.05),
        make("rnn", "leaky_relu", rate=0.3, status="nonfinite", stop=60),
    ]
