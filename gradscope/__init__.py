"""gradscope: see gradient dynamics through time in recurrent networks.

The public API, the only import most users need:

- `Config`, `analyze`, `Result`, `NonFiniteStateError`: one measurement;
- `simulate`, `unroll`, `transport`, `lyapunov_spectrum`, `RNNCell`, `LSTMCell`,
  `GRUCell`: the low-level pieces, for people who bring their own loop or weights;
- `run_grid`, `run_experiment`, `write_report`, `replot`, `decay_figure`, `plot_decay`:
  what `gradscope compare` and `gradscope replot` do; `run_one` (the task of every
  worker) and `write_sweep_report`: what `gradscope sweep` adds.

Heavy modules (torch, matplotlib) load on first use of a name, so `import gradscope`
is cheap. The folders are the layers of the data flow (see the README's map):
`model` -> `numerics` -> `analysis` -> `figures` -> `report` -> `runs` -> `cli`.

May import: `gradscope.config` at import time; every other module lazily, by name.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config  # noqa: E402  (torch-free)

#: Public name -> the module that defines it (imported on first use).
_LAZY = {
    "Result": "results",
    "analyze": "analysis",
    "simulate": "analysis",
    "NonFiniteStateError": "analysis",
    "transport": "numerics.transport",
    "lyapunov_spectrum": "numerics.lyapunov",
    "unroll": "numerics.unroll",
    "RNNCell": "model.cells",
    "LSTMCell": "model.cells",
    "GRUCell": "model.cells",
    "run_grid": "runs.execute",
    "run_experiment": "runs.execute",
    "run_one": "runs.executor",
    "write_report": "report.write",
    "write_sweep_report": "report.phase_report",
    "replot": "report.replot",
    "decay_figure": "figures.decay",
    "plot_decay": "figures.decay",
}

__all__ = ["Config", *_LAZY, "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'gradscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
