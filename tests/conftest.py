"""Shared fixtures, found by the tests of every folder: synthetic `Result`s that look like
real runs, for presentation tests (`synthetic_result`, `make_result`), the report the
report tests read (`report`, written once), and the engine replaced by a synthetic
result for the command line (`fake_analyze`), and a module of custom cells in the
current directory (`cells_module`).

They are built from `config` and `results` alone (no numerics), so figure, table and
CLI tests do not depend on the engine and run in milliseconds. (Helpers that are not
fixtures live in `helpers.py`, `synthetic_reports.py` and `cli_helpers.py`.)

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
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from synthetic_reports import report_grid, report_result

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


@pytest.fixture
def make_result() -> Callable[..., Result]:
    """Factory of synthetic results: `make_result(cell, act, rate, steps, ...)`
    (`synthetic_reports.report_result`; test_cache.py and config/test_naming.py have
    factories of their own, which win there)."""
    return report_result


@pytest.fixture(scope="session")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], list[Result]]:
    """A comparison report of five runs (`report_grid`), written once: its folder, its
    manifest and the results. Tests copy it before they change anything."""
    from gradscope.report.write import write_report

    results = report_grid(report_result)
    out = tmp_path_factory.mktemp("report") / "cells"
    manifest = write_report(
        results, out, name="cells", title="Cells & activations",
        command=["gradscope", "compare", "--cell", "rnn,lstm,gru"], notes=["skipped rnn exponents=100"],
    )
    return out, manifest, results


@pytest.fixture
def fake_analyze(monkeypatch):
    """Replace the engine by a synthetic result (for tests of presentation only)."""
    import gradscope.analysis as analysis

    calls = []

    def fake(config, progress=None, strict=False, command=None, threads=None, network=None):
        calls.append(config)
        if progress is not None:
            progress("unroll", 1, 1)
        return make_synthetic_result("vanishing", steps=50, trials=2)

    monkeypatch.setattr(analysis, "analyze", fake)
    return calls


@pytest.fixture
def cells_module(tmp_path, monkeypatch):
    """The name of a module of custom cells (`helpers.GRU_MODULE`) in the current directory."""
    import textwrap

    from helpers import GRU_MODULE

    (tmp_path / "gs_test_cells.py").write_text(textwrap.dedent(GRU_MODULE))
    monkeypatch.chdir(tmp_path)  # --cell finds modules in the current directory
    yield "gs_test_cells"
    sys.modules.pop("gs_test_cells", None)


@pytest.fixture(autouse=True)
def ctrl_c_left_as_it_was():
    """No test leaves Ctrl-C changed: a handler left behind (a command's `interrupted`
    once left SIGINT ignored) is inherited by every process the suite starts later, and a
    test of what Ctrl-C does to a training script then hangs."""
    import signal

    before, masked = signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, [])
    ignored = _ignored_signals()
    yield
    after, masked_after = signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, [])
    ignored_after = _ignored_signals()
    signal.signal(signal.SIGINT, before)
    signal.pthread_sigmask(signal.SIG_SETMASK, masked)
    assert after is before, f"the test left SIGINT's handler as {after!r}"
    assert masked_after == masked, f"the test left the signals {sorted(masked_after - masked)} blocked"
    # what the kernel holds (a library may ignore a signal behind Python's back)
    assert ignored_after == ignored, f"the test left the signals {sorted(ignored_after ^ ignored)} ignored"


def _ignored_signals() -> set[int]:
    """The signals this process ignores, as the kernel says (Linux; empty elsewhere)."""
    try:
        line = next(x for x in open("/proc/self/status").read().splitlines() if x.startswith("SigIgn:"))
    except (OSError, StopIteration):
        return set()
    bits = int(line.split()[1], 16)
    return {n + 1 for n in range(64) if bits >> n & 1}
