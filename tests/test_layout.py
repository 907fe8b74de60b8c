"""Every figure fits its page: each figure kind, at the five advertised widths, in both
styles, for every cell and for reports of 1, 9 and 30 configurations, drawn on an Agg
canvas (no file written) and measured by `gradscope.figures.layout`: no text or legend
leaves the canvas, overlaps another text, or covers a curve.

To add a figure kind, add one line to `RUN_FIGURES` (one `Result`) or `REPORT_FIGURES`
(a list of them); the spectrum figure and a sweep's phase figures are drawn from real tiny
runs at the end. `GRADSCOPE_LAYOUT_PNG=DIR pytest tests/test_layout.py` also writes
each figure as a PNG into DIR, to look at.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from gradscope.config import Config
from gradscope.figures.along import sweep_figure
from gradscope.figures.comparison import (
    horizon_figure,
    overlay_figure,
    small_multiples_figure,
)
from gradscope.figures.decay_figure import decay_figure
from gradscope.figures.layout import layout_problems
from gradscope.results import SUMMARY_KEYS, Result

WIDTHS = (3.25, 3.5, 5.5, 6.75, 7.16)  # the venues; 3.25 is also the narrowest allowed (MIN_WIDTH)
STYLES = ("paper", "screen")
LOG_EPS = math.log(1e-6)

#: Figures of one run: name -> builder(result, width, style) -> Figure.
RUN_FIGURES: dict[str, Callable[..., Any]] = {
    "decay": lambda r, w, s: decay_figure(r, width=w, style=s),
}
#: Figures of a report: name -> builder(results, width, style) -> Figure (or None: n/a).
REPORT_FIGURES: dict[str, Callable[..., Any]] = {
    "overlay": lambda rs, w, s: overlay_figure(rs, width=w, style=s),
    "small_multiples": lambda rs, w, s: small_multiples_figure(rs, width=w, style=s),
    "horizon": lambda rs, w, s: horizon_figure(rs, width=w, style=s),
    "sweep": lambda rs, w, s: sweep_figure(rs, width=w, style=s),
}


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


#: One run per cell (and the exploding relu run whose state overflows).
RUNS = {
    "rnn": lambda: synthetic(Config(cell="rnn", act="sigmoid"), -1.9),
    "lstm": lambda: synthetic(Config(cell="lstm", act="tanh"), -0.3),
    "gru": lambda: synthetic(Config(cell="gru", act="tanh"), -0.45),
    "rnn-exploding": lambda: synthetic(Config(cell="rnn", act="relu", init="normal", gain=6.0), 1.4, stop=120),
}
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


#: The configurations each report figure is drawn for, by size.
REPORT_SETS: dict[str, Callable[[int], list[Result]]] = {"sweep": sweep_results}

_CACHE: dict[Any, Any] = {}


def _cached(key: Any, make: Callable[[], Any]) -> Any:
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def _check(fig: Any, name: str) -> None:
    folder = os.environ.get("GRADSCOPE_LAYOUT_PNG")
    if folder:
        from gradscope.figures.style import save_figure

        Path(folder).mkdir(parents=True, exist_ok=True)
        save_figure(fig, Path(folder) / name, formats=("png",), dpi=110)
    problems = layout_problems(fig)
    assert problems == [], f"{name}: " + "; ".join(problems)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("run", sorted(RUNS))
@pytest.mark.parametrize("kind", sorted(RUN_FIGURES))
def test_run_figure_fits(kind: str, run: str, width: float, style: str) -> None:
    result = _cached(run, RUNS[run])
    fig = RUN_FIGURES[kind](result, width, style)
    assert tuple(fig.get_size_inches())[0] == width
    _check(fig, f"{kind}-{run}-{width}-{style}")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("size", (1, 9, 30))
@pytest.mark.parametrize("kind", sorted(REPORT_FIGURES))
def test_report_figure_fits(kind: str, size: int, width: float, style: str) -> None:
    make = REPORT_SETS.get(kind, report_results)
    results = _cached((make, size), lambda: make(size))
    fig = REPORT_FIGURES[kind](results, width, style)
    if fig is None:  # the figure does not apply to these configurations (a sweep needs three values)
        assert kind == "sweep" and size == 1
        return
    assert tuple(fig.get_size_inches())[0] == width
    _check(fig, f"{kind}-{size}-{width}-{style}")


# -- the spectrum figure and a sweep's phase figures: drawn from real (tiny) runs -------
def _spectrum_run() -> Result:
    from gradscope.analysis import spectrum

    return spectrum(Config(cell="rnn", act="tanh", hidden=8, steps=300, trials=2, transient=20,
                           exponents="all", seed=0))


def _phase_runs() -> list[Result]:
    from gradscope.runs.executor import run_one

    return [run_one(Config(cell="rnn", act="tanh", init="normal", input="zeros", gain=g, bias_std=b,
                           hidden=8, steps=80, trials=1, transient=20, exponents=1, seed=0))
            for g in (0.5, 1.0, 1.5, 2.5) for b in (0.0, 0.5, 1.0)]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
def test_spectrum_figure_fits(width: float, style: str) -> None:
    from gradscope.figures.spectrum_figure import spectrum_figure

    fig = spectrum_figure(_cached("spectrum", _spectrum_run), width=width, style=style)
    assert tuple(fig.get_size_inches())[0] == width
    _check(fig, f"spectrum-{width}-{style}")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("axes", (1, 2))
def test_phase_figures_fit(axes: int, width: float, style: str) -> None:
    """A sweep's heatmaps (two swept numbers) and line plots (one), for two measures."""
    from gradscope.report.sweep_report import phase_figures

    runs = _cached("phase", _phase_runs)
    if axes == 1:
        runs = [r for r in runs if r.config.bias_std == 0.5]
    drawn = phase_figures(("growth_rate", "lambda_1"))(runs, width=width, style=style)
    assert len(drawn) == 2 and all(name.startswith("phase_" if axes == 2 else "line_") for name in drawn)
    for name, (fig, _) in drawn.items():
        assert tuple(fig.get_size_inches())[0] == width
        _check(fig, f"{name}-{axes}-{width}-{style}")
