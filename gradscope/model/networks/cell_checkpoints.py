"""Checkpoints of others' modules that are one of gradscope's cells: a mambapy Mamba
layer's SSM (s6), mingru-pytorch's minGRU (mingru) and minLSTM (minlstm).

A cell class that declares a `checkpoint_key` is found by that key's last dotted parts in
a state dict (`layers.0.mixer.A_log` -> a Mamba SSM under `layers.0.mixer`); the cell's
`from_checkpoint` maps the module's tensors to its parameters (the key mapping is the
cell's own, in its module). The weights are checked (dense, floating point, finite) and
repeated over the trials; the cell is then analysed as any built-in cell.

May import: `gradscope.model.networks.checkpoints`, `gradscope.model.cells`, `gradscope.config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch

from ...config import CELL_SPECS, Config
from ..cells import CELL_CLASSES
from .checkpoints import pick_module, read_state_dict

Tensor = torch.Tensor


@dataclass(frozen=True)
class CellCheckpoint:
    """One module of a checkpoint that is a built-in cell: its place, kind and parameters."""

    path: str
    name: str  # the prefix in the state dict ("" when the dict is the module's own)
    kind: str  # s6 | mingru | minlstm
    weights: Mapping[str, Tensor]  # the cell's parameters, one network
    tensors: int  # the module's tensors (all, the parts outside the recurrence too)

    @property
    def source(self) -> str:
        return CELL_SPECS[self.kind].checkpoint or self.kind

    def describe(self) -> str:
        return f"{self.name!r} ({self.source})" if self.name else f"(the whole state dict) ({self.source})"

    def cell(self, config: Config, dtype: torch.dtype, device: torch.device) -> Any:
        """The batched cell: these weights repeated over `config.trials`."""
        w = {k: v.to(device=device, dtype=dtype).unsqueeze(0).repeat(config.trials, *([1] * v.ndim))
             for k, v in self.weights.items()}
        return CELL_CLASSES[self.kind](**w)

    def params_count(self) -> int:
        return sum(int(t.numel()) for t in self.weights.values())


def find_cell_checkpoints(state: Mapping[str, Tensor], path: str) -> list[CellCheckpoint]:
    """Every module of a flattened state dict that is a built-in cell (by `checkpoint_key`)."""
    out = []
    for kind, cls in CELL_CLASSES.items():
        key = cls.checkpoint_key
        if not key:
            continue
        for full in state:
            if full != key and not full.endswith("." + key):
                continue
            prefix = full[: -len(key)].rstrip(".")
            lead = f"{prefix}." if prefix else ""
            tensors = {k[len(lead):]: v for k, v in state.items() if k.startswith(lead)}
            where = f"checkpoint {path!r}: module {prefix!r}" if prefix else f"checkpoint {path!r}"
            try:
                weights = cls.from_checkpoint(tensors)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            for name, t in weights.items():
                if t.layout != torch.strided or not t.is_floating_point() or not bool(torch.isfinite(t).all()):
                    raise ValueError(f"{where}: {name} is not dense, finite floating-point weights")
            out.append(CellCheckpoint(path, prefix, kind, weights, len(tensors)))
    return out


def load_cell_checkpoint(path: str, module: str | None = None) -> CellCheckpoint | None:
    """The module `module` of `path` (or its only one) if the file holds built-in cells'
    modules, else None (a PyTorch RNN's checkpoint, or no recurrent module at all)."""
    state = read_state_dict(path)
    found = find_cell_checkpoints(state, path)
    return pick_module(found, module, path) if found else None


def cell_checkpoint_config(config: Config, found: CellCheckpoint, default_hidden: int) -> tuple[Config, dict]:
    """The configuration made the checkpoint's own (cell, sizes, S6's state size) and the
    record of what it is; options that do not fit are a `ValueError` in one line."""
    import dataclasses

    where = f"checkpoint {config.checkpoint!r}"
    if config.cell not in ("rnn", found.kind):  # "rnn" is the default: it cannot be told from no --cell
        raise ValueError(f"cell={config.cell!r}, but {where} holds a {found.source}: drop --cell")
    if config.layer is not None:
        raise ValueError(f"layer={config.layer}: {where} holds one {found.source}, not a stack of layers")
    probe = found.cell(dataclasses.replace(config, trials=1), torch.float64, torch.device("cpu"))
    hidden, inputs, dim = probe.hidden, probe.input_size, probe.state_dim
    if config.hidden not in (default_hidden, hidden):
        raise ValueError(f"hidden={config.hidden}, but the network's hidden size is {hidden}: drop --hidden")
    if config.input_size not in (None, inputs):
        raise ValueError(f"input_size={config.input_size}, but the network takes {inputs} inputs: drop --input-size")
    extra = {}
    if found.kind == "s6":
        if config.state_size not in (None, probe.states):
            raise ValueError(f"state_size={config.state_size}, but the SSM has {probe.states} states: drop --state-size")
        extra["state_size"] = probe.states
    exponents = dim if config.exponents == "all" else int(config.exponents)
    if exponents > dim:
        raise ValueError(f"exponents must be <= the network's state dimension {dim}, got {config.exponents}")
    record = {"path": config.checkpoint, "module": found.name or None, "module_type": found.source,
              "layers": 1, "layer": None, "hidden": hidden, "input_size": inputs, "state_dim": dim,
              "params": found.params_count()}
    resolved = dataclasses.replace(config, cell=found.kind, hidden=hidden, input_size=inputs, exponents=exponents,
                                   **extra).resolved()
    return resolved, record
