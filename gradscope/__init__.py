"""gradscope: see gradient dynamics through time in recurrent networks.

The public API, the only import most users need:

- `Config`, `analyze`, `Result`, `NonFiniteStateError`: one measurement;
- `spectrum`: the Lyapunov spectrum of one configuration (`gradscope spectrum`);
- `simulate`, `unroll`, `transport`, `lyapunov_spectrum`, `SpectrumStream`, `RNNCell`,
  `LSTMCell`, `GRUCell`, `IndRNNCell`, `MinimalRNNCell`, `AntisymmetricCell`,
  `CoRNNCell`: the low-level pieces, for people who bring their own loop or weights;
- `FuncCell` (any step function or module, by torch.func), `StackedCell` (layers),
  `load_checkpoint`, `resolve_model`: the user's own networks; `ReplayDrive` (stored
  inputs as a drive for `unroll`); `analyze_module`: a network in memory (a live
  `nn.LSTM`, on a batch of its training inputs), analysed with no file;
- `Monitor`: gradient flow watched while a model trains (`gradscope.monitor`; its
  Lightning callback and `track` live there too);
- `run_grid`, `run_experiment`, `write_report`, `replot`, `decay_figure`, `plot_decay`:
  what `gradscope compare` and `gradscope replot` do; `spectrum_figure`,
  `plot_spectrum`, `plot_convergence`: the spectrum figure and its panels; `run_one`
  (the task of every worker) and `write_sweep_report`: what `gradscope sweep` adds.

Heavy modules (torch, matplotlib) load on first use of a name, so `import gradscope`
is cheap. The folders are the layers of the data flow (ARCHITECTURE.md walks them):
`config` -> `model` -> `numerics` -> `analysis` -> `figures` / `text` -> `report` ->
`runs` -> `monitor` -> `cli`.

May import: `gradscope.config` at import time; every other module lazily, by name.
"""

from __future__ import annotations

__version__ = "0.2.0"

from .config import Config  # noqa: E402  (torch-free)

#: Public name -> the module that defines it (imported on first use).
_LAZY = {
    "Result": "results",
    "analyze": "analysis",
    "simulate": "analysis",
    "spectrum": "analysis",
    "NonFiniteStateError": "analysis",
    "transport": "numerics.transport",
    "lyapunov_spectrum": "numerics.spectrum",
    "SpectrumStream": "numerics.spectrum",
    "unroll": "numerics.unroll",
    "RNNCell": "model.cells",
    "LSTMCell": "model.cells",
    "GRUCell": "model.cells",
    "FuncCell": "model.networks.funccell",
    "ReplayDrive": "model.inputs",
    "StackedCell": "model.networks.stacked",
    "load_checkpoint": "model.networks.checkpoints",
    "resolve_model": "analysis",
    "analyze_module": "analysis.module",
    "Monitor": "monitor.loop",
    "IndRNNCell": "model.cells",
    "MinimalRNNCell": "model.cells",
    "AntisymmetricCell": "model.cells",
    "CoRNNCell": "model.cells",
    "run_grid": "runs.execute",
    "run_experiment": "runs.execute",
    "run_one": "runs.task",
    "write_report": "runs.reports",
    "write_sweep_report": "runs.reports",
    "replot": "runs.reports",
    "decay_figure": "figures.decay_figure",
    "plot_decay": "figures.decay_figure",
    "spectrum_figure": "figures.spectrum_figure",
    "plot_spectrum": "figures.spectrum_figure",
    "plot_convergence": "figures.spectrum_figure",
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
