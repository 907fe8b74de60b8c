"""gradscope: see gradient dynamics through time in recurrent networks.

The public API: `Config`, `analyze`, `Result`, and the low-level pieces for people who
bring their own loop (`transport`, `lyapunov_spectrum`, `unroll`, the cells).
Heavy modules (torch, matplotlib) load on first use, so `import gradscope` is cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config  # noqa: E402  (torch-free)

__all__ = [
    "Config",
    "Result",
    "analyze",
    "simulate",
    "NonFiniteStateError",
    "transport",
    "lyapunov_spectrum",
    "unroll",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "__version__",
]

_LAZY = {
    "Result": "results",
    "analyze": "analysis",
    "simulate": "analysis",
    "NonFiniteStateError": "analysis",
    "transport": "products",
    "lyapunov_spectrum": "products",
    "unroll": "unroll",
    "RNNCell": "cells",
    "LSTMCell": "cells",
    "GRUCell": "cells",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'gradscope' has no attribute {name!r}")
