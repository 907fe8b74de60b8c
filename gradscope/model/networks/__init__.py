"""A network of the user's, ready to run: a checkpoint (`nn.RNN/LSTM/GRU` or their
`*Cell`) or a custom cell, with the configuration made its own (cell, sizes) and a
record of what it is. The room of the user's networks: `checkpoints` (state dicts read
safely, the recurrent module found and described), `stacked` (layers as one cell),
`funccell` (any step function or module, by torch.func), `custom` (`package.module:Name`).

The weights are fixed: every trial runs the same network, and trials differ only in
their inputs, initial state (zero unless `h0_std` says otherwise) and readout. A
multi-layer module is analysed over its whole stacked state (`model.networks.stacked`), or one
layer (`layer`) driven by the outputs of the layers below it. A checkpoint of a module
that is one of gradscope's own cells (a Mamba SSM, a minGRU: `cell_checkpoints`) is
analysed as that cell.

May import: `gradscope.model.networks.*`, `gradscope.model.cells`, `gradscope.model.draws`,
`gradscope.config`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ...config import Config
from ..cells import CELL_CLASSES
from ..draws import draw_states_and_readouts
from .cell_checkpoints import cell_checkpoint_config, load_cell_checkpoint
from .checkpoints import RecurrentModule, load_checkpoint
from .custom import custom_cell
from .stacked import LayerDrive, StackedCell

_DEFAULT_HIDDEN = Config().hidden
#: The nonlinearities PyTorch's modules compute with.
_MODULE_ACTS = {"rnn": ("tanh", "relu"), "lstm": ("tanh",), "gru": ("tanh",)}


@dataclass
class UserNetwork:
    """A checkpoint or custom cell, loaded: its resolved configuration (cell, hidden,
    input_size its own), a record of what it is, and what `build` needs."""

    config: Config
    record: dict[str, Any]
    module: RecurrentModule | None = None
    custom: Any = field(default=None, repr=False)  # the FuncCell
    inputs: np.ndarray | None = field(default=None, repr=False)  # inputs in memory `(T, B, I)`, else config.input

    @property
    def state_dim(self) -> int:
        return self.record["state_dim"]


def user_network(config: Config) -> UserNetwork:
    """Load the network `config` names (a checkpoint or a custom cell) and check that the
    options fit it. Raises `ValueError` naming the option and the fix, in one line."""
    if config.custom:
        cell, record = custom_cell(config.resolved())
        if config.checkpoint is not None:
            record["checkpoint"] = config.checkpoint
            record["module"] = config.module
        _check_sizes(config, cell.hidden, cell.input_size, record["state_dim"])
        resolved = dataclasses.replace(config, hidden=cell.hidden, input_size=cell.input_size,
                                       exponents=_exponents(config, record["state_dim"])).resolved()
        return UserNetwork(resolved, record, custom=cell)
    found = load_cell_checkpoint(config.checkpoint, config.module)  # a Mamba SSM, a minGRU, ...
    if found is not None:
        resolved, record = cell_checkpoint_config(config, found, _DEFAULT_HIDDEN)
        cell = found.cell(resolved, getattr(torch, resolved.torch_dtype_name), torch.device(resolved.device))
        return UserNetwork(resolved, record, custom=cell)
    return module_network(config, load_checkpoint(config.checkpoint, config.module))


def module_network(config: Config, m: RecurrentModule, record: dict[str, Any] | None = None) -> UserNetwork:
    """The network of a recurrent module (read from `config.checkpoint`, or found in a
    module in memory: `model.networks.memory`), its options checked against it; `record`
    adds to (and overrides) what is recorded of it."""
    where = f"checkpoint {config.checkpoint!r}"
    if config.layer is not None and config.layer >= m.layers:
        raise ValueError(f"layer={config.layer}, but module {m.shown_name} of {where} has {m.layers} "
                         f"layer{'s' * (m.layers != 1)} (0..{m.layers - 1})")
    if config.cell not in ("rnn", m.kind):  # "rnn" is the default: it cannot be told from no --cell
        raise ValueError(f"cell={config.cell!r}, but {where} holds {m.torch_name}: drop --cell")
    if config.act not in _MODULE_ACTS[m.kind]:
        raise ValueError(f"act={config.act!r}: {m.torch_name} computes with "
                         f"{' or '.join(_MODULE_ACTS[m.kind])}; a checkpoint is analysed as it was trained")
    if m.kind != "rnn" and config.gate_act != "sigmoid":
        raise ValueError(f"gate_act={config.gate_act!r}: {m.torch_name}'s gates are sigmoid")
    per_layer = 2 * m.hidden if m.kind == "lstm" else m.hidden
    dim = per_layer * (m.layers if config.layer is None else 1)
    _check_sizes(config, m.hidden, m.input_size, dim)
    record = {
        "path": config.checkpoint, "module": m.name or None, "module_type": m.torch_name,
        "layers": m.layers, "layer": config.layer, "bias": m.bias, "hidden": m.hidden,
        "input_size": m.input_size, "state_dim": dim, "params": m.params_count(),
        "act": config.act + (" (as given: nn.RNN state dicts do not store it)" if m.kind == "rnn" else ""),
        **(record or {}),
    }
    resolved = dataclasses.replace(config, cell=m.kind, hidden=m.hidden, input_size=m.input_size,
                                   exponents=_exponents(config, dim)).resolved()
    return UserNetwork(resolved, record, module=m)


def _check_sizes(config: Config, hidden: int, input_size: int, state_dim: int) -> None:
    """Sizes given explicitly must be the network's (the default hidden size cannot be
    told from no --hidden, so it gives way)."""
    if config.hidden not in (_DEFAULT_HIDDEN, hidden):
        raise ValueError(f"hidden={config.hidden}, but the network's hidden size is {hidden}: drop --hidden")
    if config.input_size not in (None, input_size):
        raise ValueError(f"input_size={config.input_size}, but the network takes {input_size} inputs: "
                         "drop --input-size")
    if _exponents(config, state_dim) > state_dim:
        raise ValueError(f"exponents must be <= the network's state dimension {state_dim}, got {config.exponents}")


def _exponents(config: Config, state_dim: int) -> int:
    """The exponents asked for, as a number: `all` is the network's own state dimension
    (a stacked network's or a custom cell's, which the configuration cannot know)."""
    return state_dim if config.exponents == "all" else int(config.exponents)


def build_user_network(net: UserNetwork, streams: list[dict[str, np.random.Generator]], drive: Any) -> tuple:
    """The batched cell, initial states `(B, D)`, unit readouts `(B, N)` and the drive
    (for one layer: the outputs of the layers below, run on `drive`)."""
    config = net.config
    dtype, device = getattr(torch, config.torch_dtype_name), torch.device(config.device)

    def tensor(arrays: list[np.ndarray]) -> torch.Tensor:
        return torch.as_tensor(np.stack(arrays), dtype=dtype, device=device)

    if net.custom is not None:
        cell = net.custom
        h0, readouts = draw_states_and_readouts(streams, cell.state_dim, cell.hidden, config.h0_std)
        return cell, tensor(h0), tensor(readouts), drive
    m = net.module
    layers = [_layer_cell(m, layer, config, dtype, device) for layer in range(m.layers)]
    stack = StackedCell(layers)
    top = layers[-1] if config.layer is None else layers[config.layer]
    h0_all, readouts = draw_states_and_readouts(streams, stack.state_dim, top.hidden, config.h0_std)
    h0 = tensor(h0_all)  # the whole stack's initial state, so that one layer starts as in the stack
    if config.layer is None:
        cell = layers[0] if m.layers == 1 else stack
        return cell, h0, tensor(readouts), drive
    below = StackedCell(layers[: config.layer]) if config.layer > 0 else None
    if below is not None:
        drive = LayerDrive(drive, below, below.join([stack.part(h0, i) for i in range(config.layer)]))
    return top, stack.part(h0, config.layer).contiguous(), tensor(readouts), drive


def _layer_cell(m: RecurrentModule, layer: int, config: Config, dtype: torch.dtype, device: torch.device) -> Any:
    """One layer as a built-in cell, its weights repeated over the trials."""
    w = m.layer_weights(layer)
    batched = [w[k].to(device=device, dtype=dtype).unsqueeze(0).repeat(config.trials, *([1] * w[k].ndim))
               for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    return CELL_CLASSES[m.kind](*batched, act=config.act, gate_act=config.gate_act)
