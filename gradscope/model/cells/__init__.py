"""The built-in cells, one module per cell, each implementing the cell contract
(`gradscope.model.contract`), batched over trials, with analytic Jacobians.

Which cells exist is the registry's to say (`gradscope.config.registry`): each record
names its module and class here (`"lstm:LSTMCell"`), and `CELL_CLASSES` is built from
those, so adding a cell is its module and its record. PyTorch's three (`rnn`, `lstm`,
`gru`) share `pytorch`, the research cells `research`.

    from gradscope.model.cells import CELL_CLASSES, make_cell
    cell = CELL_CLASSES["lstm"](weight_ih, weight_hh, bias_ih, bias_hh)

May import: every module of `gradscope.model.cells`, `gradscope.config`.
"""

from __future__ import annotations

import importlib
from typing import Any

from ...config import CELL_SPECS


def _load(path: str) -> type:
    module, name = path.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


#: Cell name -> its class, in the registry's order.
CELL_CLASSES: dict[str, type] = {name: _load(spec.module) for name, spec in CELL_SPECS.items()}
_BY_CLASS_NAME = {cls.__name__: cls for cls in CELL_CLASSES.values()}


def __getattr__(name: str) -> Any:
    """`from gradscope.model.cells import LSTMCell`: every registered class by its name."""
    if name in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
