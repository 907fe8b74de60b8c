"""A user's own cell, named `package.module:Name` (`--cell`, `Config.cell`).

Importing it runs the user's code, so it happens only when a configuration names one.
`Name` is an `nn.Module` class or a factory (called with `cell_args` as keyword
arguments, after `torch.manual_seed(seed)` so that its draws repeat), or a module or
`FuncCell` object (used as it is). A module is called as PyTorch's cells are,
`module(x, state)`, and declares `state_size` (or `hidden_size`) and `input_size`. The
current directory is searched first, so `--cell mycells:MyCell` finds `./mycells.py`.

May import: `gradscope.model.networks.funccell`, `gradscope.model.networks.checkpoints`, `gradscope.config`.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import torch

from ...config import Config, parse_cell_args
from .checkpoints import read_state_dict
from .funccell import FuncCell

#: PyTorch's fused cells: `torch.func` cannot batch their kernels.
FUSED = (torch.nn.RNNCell, torch.nn.LSTMCell, torch.nn.GRUCell, torch.nn.RNNBase)


def import_object(spec: str) -> Any:
    """The object `package.module:Name` names (`Name` may be dotted: `Outer.Inner`)."""
    module_name, _, attr = spec.partition(":")
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # the user's module: any error while importing it
        raise ValueError(f"cell={spec!r}: cannot import {module_name} ({type(exc).__name__}: "
                         f"{_first_line(exc)})") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"cell={spec!r}: {module_name} has no {attr}")
        obj = getattr(obj, part)
    return obj


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""


def custom_cell(config: Config) -> tuple[FuncCell, dict[str, Any]]:
    """The `FuncCell` of `config.cell` for `config.trials` trials, and what it is.

    With `config.checkpoint`, the module's weights are loaded from it (its
    `state_dict()`, or the part under `config.module`).
    """
    obj = import_object(config.cell)
    args = parse_cell_args(config.cell_args)
    if isinstance(obj, (torch.nn.Module, FuncCell)):
        if args:
            raise ValueError(f"cell={config.cell!r} is an object, not a class or factory: it takes no cell_args")
        made = obj
    elif callable(obj):
        try:
            with torch.random.fork_rng():  # seeded draws, the caller's generator left as it was
                torch.manual_seed(config.seed)
                made = obj(**args)
        except Exception as exc:  # the user's constructor
            raise ValueError(f"cell={config.cell!r}: {config.cell}(**{args}) raised "
                             f"{type(exc).__name__}: {_first_line(exc)}") from None
    else:
        raise ValueError(f"cell={config.cell!r} is a {type(obj).__name__}, not an nn.Module, a FuncCell or a factory")
    if isinstance(made, FUSED):
        raise ValueError(f"cell={config.cell!r} is PyTorch's {type(made).__name__}, whose fused kernel torch.func "
                         "cannot batch: save its state_dict() and use --checkpoint (analytic cells)")
    if config.checkpoint is not None:
        if not isinstance(made, torch.nn.Module):
            raise ValueError(f"checkpoint: cell={config.cell!r} is no nn.Module, so it has no weights to load")
        _load_weights(made, config)
    if isinstance(made, torch.nn.Module):
        cell = FuncCell.from_module(made, trials=config.trials)
    elif isinstance(made, FuncCell):
        cell = made
        cell.trials = config.trials
    else:
        raise ValueError(f"cell={config.cell!r} made a {type(made).__name__}, not an nn.Module or a FuncCell")
    cell.check(getattr(torch, config.torch_dtype_name), config.device)
    record = {"cell": config.cell, "cell_args": args, "state_dim": cell.state_dim,
              "hidden": cell.hidden, "input_size": cell.input_size, "params": cell.params_count(),
              "recurrent": list(cell.recurrent)}
    return cell, record


def _load_weights(module: torch.nn.Module, config: Config) -> None:
    state = read_state_dict(config.checkpoint)
    if config.module:
        lead = config.module.rstrip(".") + "."
        state = {k[len(lead):]: v for k, v in state.items() if k.startswith(lead)}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"checkpoint {config.checkpoint!r} does not fit cell={config.cell!r}: "
                         f"{' '.join(str(exc).split())[:300]}") from None
