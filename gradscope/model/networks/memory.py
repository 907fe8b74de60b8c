"""Networks in memory: a live `torch.nn` module found and described as a checkpoint of
it would be, without a file (`analysis.analyze_module`, the training monitor).

    found = find_recurrent(model)            # the one nn.RNN/LSTM/GRU (or *Cell) in it
    found = find_recurrent(model, "encoder") # or the one named
    state = found.state()                    # its weights: what a checkpoint of it holds

A module is PyTorch's (`nn.RNN/LSTM/GRU`, stacked or not, their `*Cell`, or a model
holding exactly one of them, or the one `name` picks), read through its `state_dict()`
exactly as `model.networks.checkpoints` reads a file; or a cell module of the user's,
called as PyTorch's cells are (`module(x, state)`, with `input_size` and `state_size`
or `hidden_size`), analysed by `torch.func` (`FuncCell`). Anything else is refused in
one line that says what would do.

May import: `gradscope.model.networks.checkpoints`, `gradscope.model.networks.funccell`,
`gradscope.config`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .checkpoints import find_modules

#: What a module in memory is called where a configuration names a checkpoint file.
MEMORY = "memory:"
RECURRENT = (torch.nn.RNNBase, torch.nn.RNNCellBase)
WHAT_WORKS = ("give nn.RNN, nn.LSTM or nn.GRU (stacked or not), their *Cell, a model holding one of "
              "them, or a cell module called as module(x, state) with input_size and state_size")


@dataclass(frozen=True)
class FoundModule:
    """The recurrent module of what the user gave: `module` itself, its `name` in the
    model given ("" for the model itself), and what it is."""

    module: torch.nn.Module
    name: str
    kind: str  # pytorch | custom
    act: str  # the nonlinearity nn.RNN computes with (tanh for the others)
    batch_first: bool

    @property
    def type_name(self) -> str:
        return type(self.module).__name__

    @property
    def path(self) -> str:
        """The name a configuration gives it: `memory:LSTM.pt`."""
        return f"{MEMORY}{self.type_name}.pt"

    @property
    def cell_spec(self) -> str:
        """`package.module:Name` of a cell module of the user's."""
        cls = type(self.module)
        return f"{cls.__module__}:{cls.__qualname__ if '<' not in cls.__qualname__ else cls.__name__}"

    def state(self) -> dict[str, torch.Tensor]:
        """The module's own state dict (names without the model's prefix), detached: what
        a checkpoint of it holds."""
        return {k: v.detach() for k, v in self.module.state_dict().items()}

    def recurrent(self) -> Any:
        """`checkpoints.RecurrentModule` of PyTorch's module, read from its state dict;
        a bidirectional or projected LSTM is refused by name (`ValueError`)."""
        modules = find_modules(self.state(), self.path)
        if len(modules) != 1:  # pragma: no cover - a PyTorch module holds its own weights only
            raise ValueError(f"{self.type_name}: expected one recurrent module in its state dict")
        refusal = modules[0].refusal()
        if refusal is not None:
            raise ValueError(refusal)
        return modules[0]

    def func_cell(self, trials: int) -> Any:
        """A cell module of the user's as a `FuncCell` (its parameters shared by the trials)."""
        from .funccell import FuncCell

        return FuncCell.from_module(self.module, trials=trials)


def find_recurrent(obj: Any, name: str | None = None) -> FoundModule:
    """The recurrent module of `obj` (see the module docstring); `name` picks one of
    several by its name in `obj` (as `--module` picks one in a checkpoint).

    Raises `ValueError` in one line: `obj` is not a module, holds no recurrent module (an
    `nn.Linear`), holds several and no `name`, or `name` is not one of them."""
    if not isinstance(obj, torch.nn.Module):
        raise ValueError(f"a {type(obj).__name__} is not a torch.nn.Module: {WHAT_WORKS}")
    found = [(n, m) for n, m in obj.named_modules() if isinstance(m, RECURRENT)]
    listed = ", ".join(f"{n!r} ({type(m).__name__})" for n, m in found)
    if name is not None:
        for n, m in found:
            if n == name:
                return _found(m, n)
        raise ValueError(f"module={name!r} is not a recurrent module of {type(obj).__name__}"
                         + (f"; it holds: {listed}" if found else "; it holds none"))
    if len(found) > 1:
        raise ValueError(f"{type(obj).__name__} holds {len(found)} recurrent modules: {listed}; choose one "
                         "with module=NAME")
    if found:
        return _found(found[0][1], found[0][0])
    if hasattr(obj, "input_size") and (hasattr(obj, "state_size") or hasattr(obj, "hidden_size")):
        return FoundModule(obj, "", "custom", "tanh", False)
    raise ValueError(f"{type(obj).__name__} is not recurrent (it holds no nn.RNN, nn.LSTM or nn.GRU and is "
                     f"no cell module): {WHAT_WORKS}")


def _found(module: torch.nn.Module, name: str) -> FoundModule:
    act = getattr(module, "nonlinearity", "tanh")
    return FoundModule(module, name, "pytorch", act, bool(getattr(module, "batch_first", False)))


def state_digest(state: dict[str, Any]) -> str:
    """sha256 over a state dict's names, dtypes, shapes and bytes (in name order): the
    fingerprint of weights that are in no file."""
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key]
        arr = np.ascontiguousarray(t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t))
        h.update(f"{key}:{arr.dtype.str}:{arr.shape};".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def batch_streams(batch: Any, trials: int, batch_first: bool = False) -> np.ndarray:
    """A batch of training sequences as the input streams of `trials` trials.

    Arguments:
        batch: `(T, N, I)` sequences (`(N, T, I)` when `batch_first`), or one sequence
            `(T, I)`; a tensor or an array.
        trials: B.
        batch_first: the batch's layout (`nn.LSTM(batch_first=True)`).

    Returns:
        `(T * (N // B), B, I)` float64: trial j runs sequences j, j + B, j + 2B, ... one
        after another; with fewer sequences than trials, `(T * N, 1, I)`: every trial
        runs all of them (they then differ only in their readouts).
    """
    x = batch.detach().to("cpu", torch.float64).numpy() if isinstance(batch, torch.Tensor) else np.asarray(batch)
    if x.dtype.kind not in "fiub":
        raise ValueError(f"inputs hold {x.dtype}, not numbers")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        return x[:, None, :]
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"inputs have shape {tuple(x.shape)}: give a batch of sequences (steps, batch, inputs)"
                         + (", batch first" if batch_first else "") + ", or one sequence (steps, inputs)")
    if batch_first:
        x = x.transpose(1, 0, 2)
    steps, n, size = x.shape
    if n < trials:
        return x.transpose(1, 0, 2).reshape(n * steps, 1, size)
    per = n // trials
    x = x[:, : per * trials].reshape(steps, per, trials, size)  # sequence j + B m is trial j's m-th
    return x.transpose(1, 0, 2, 3).reshape(per * steps, trials, size)
