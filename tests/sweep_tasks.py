"""Tasks for the executor tests, in a module of their own so that spawned workers can
unpickle them without importing a test module (and pytest with it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from gradscope.config import Config
from gradscope.results import ENGINE_VERSION, SUMMARY_KEYS, Result


def fake_result(config: Config, rate: float = -0.1) -> Result:
    """A minimal finished run with growth rate `rate` (no numerics)."""
    config = config.resolved()
    summary: dict[str, Any] = {k: None for k in SUMMARY_KEYS}
    summary.update(status="ok", growth_rate=rate, warnings=[])
    lag = np.arange(config.steps + 1, dtype=float)
    return Result(config, summary, {"lag": lag, "log_spectral": np.tile(rate * lag, (config.trials, 1))},
                  {"engine": ENGINE_VERSION})


def dies_once_then_works(config: Config) -> Result:
    """Gain 2 kills its worker on the first attempt (a marker file remembers), gain 3
    every time, gain 4 raises; the rest return a result with rate -gain."""
    marker = Path(os.environ["GRADSCOPE_TEST_MARKER"])
    if config.gain == 2.0 and not marker.exists():
        marker.write_text("died")
        os._exit(1)
    if config.gain == 3.0:
        os._exit(1)
    if config.gain == 4.0:
        raise RuntimeError("boom")
    return fake_result(config, rate=-config.gain)
