"""Trained networks from checkpoint files: read them safely, find the recurrent module,
and tell what it is from its tensors' names and shapes.

Reading never runs code from a file: `.pt`/`.pth`/`.bin`/`.ckpt` go through
`torch.load(..., weights_only=True)` only (plain tensors and containers; anything else
is refused), `.safetensors` through the `safetensors` package (an optional extra).
Nested dictionaries (`{"model": state_dict, "epoch": 3}`) are flattened with dots.

A recurrent module is found by PyTorch's parameter names: `<name>.weight_hh_l<k>`
(`nn.RNN`, `nn.LSTM`, `nn.GRU`, k = layer) or `<name>.weight_hh` (`nn.RNNCell`,
`nn.LSTMCell`, `nn.GRUCell`). The cell follows from the gate blocks of `weight_hh`
(1: rnn, 3: gru, 4: lstm), the sizes from the shapes, the layer count from the names,
`bias=False` from the missing biases. Bidirectional modules and LSTMs with `proj_size`
are refused by name (see `RecurrentModule.refusal`). Every problem is a `ValueError`
that names the file and says what is wrong, in one line.

May import: `gradscope.config`.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

Tensor = torch.Tensor

KINDS = {1: "rnn", 3: "gru", 4: "lstm"}
TORCH_NAMES = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}
_WEIGHT_HH = re.compile(r"^(?:(?P<prefix>.*)\.)?weight_hh(?P<layer>_l\d+)?(?P<reverse>_reverse)?$")
_PARAM = re.compile(r"^(weight|bias)_(ih|hh|hr)(_l\d+)?(_reverse)?$")
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


@dataclass(frozen=True)
class RecurrentModule:
    """One recurrent module of a checkpoint: what it is and its tensors.

    `tensors` maps the module's own parameter names (`weight_ih_l0`, ...) to tensors.
    """

    path: str  # the checkpoint file
    name: str  # prefix in the state dict ("" when the dict is the module's own)
    kind: str  # rnn | lstm | gru
    cell_module: bool  # nn.RNNCell & co (names without _l<k>)
    layers: int
    hidden: int
    input_size: int
    bias: bool
    bidirectional: bool
    proj_size: int
    tensors: Mapping[str, Tensor]

    @property
    def torch_name(self) -> str:
        return TORCH_NAMES[self.kind] + ("Cell" if self.cell_module else "")

    @property
    def shown_name(self) -> str:
        return repr(self.name) if self.name else "(the whole state dict)"

    def describe(self) -> str:
        """e.g. `'encoder' (nn.LSTM, 2 layers, hidden 64, input 3)`."""
        extra = [f"{self.layers} layers"] if self.layers > 1 else []
        extra += [f"hidden {self.hidden}", f"input {self.input_size}"]
        extra += ["no bias"] if not self.bias else []
        extra += ["bidirectional"] if self.bidirectional else []
        extra += [f"proj_size {self.proj_size}"] if self.proj_size else []
        return f"{self.shown_name} ({self.torch_name}, {', '.join(extra)})"

    def refusal(self) -> str | None:
        """Why this module cannot be analysed as one forward recurrence, or None."""
        where = f"checkpoint {self.path!r}: module {self.shown_name}"
        if self.bidirectional:
            return (f"{where} is bidirectional: its reverse direction runs backwards in time, so "
                    "the network is not one forward recurrence; gradscope analyses unidirectional modules")
        if self.proj_size:
            return (f"{where} is an LSTM with proj_size={self.proj_size} (weight_hr_l0): projected LSTMs "
                    "are not supported; wrap it as a custom cell (gradscope.FuncCell)")
        return None

    def layer_weights(self, layer: int) -> dict[str, Tensor]:
        """`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` of one layer (zero biases when
        the module has none)."""
        suffix = "" if self.cell_module else f"_l{layer}"
        w = {k: self.tensors[f"{k}{suffix}"] for k in ("weight_ih", "weight_hh")}
        for k in ("bias_ih", "bias_hh"):
            b = self.tensors.get(f"{k}{suffix}")
            w[k] = b if b is not None else torch.zeros(w["weight_hh"].shape[0], dtype=w["weight_hh"].dtype)
        return w

    def params_count(self) -> int:
        return sum(int(t.numel()) for t in self.tensors.values())


# -- reading a file -------------------------------------------------------------------
def read_state_dict(path: str) -> dict[str, Tensor]:
    """The tensors of a checkpoint file, flattened to `name -> tensor` (dotted names).

    Raises `ValueError` naming the file for anything that is not a readable checkpoint
    of plain tensors. Never unpickles anything but tensors and plain containers.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"checkpoint {path!r} does not exist or is not a file")
    if p.stat().st_size == 0:
        raise ValueError(f"checkpoint {path!r} is empty")
    obj = _read_safetensors(path) if p.suffix.lower() == ".safetensors" else _read_torch(path)
    if not isinstance(obj, Mapping):
        raise ValueError(f"checkpoint {path!r} holds a {type(obj).__name__}, not a state dict "
                         "(save model.state_dict())")
    flat: dict[str, Tensor] = {}
    _flatten(obj, "", flat)
    if not flat:
        raise ValueError(f"checkpoint {path!r} holds no tensors")
    return flat


def _read_torch(path: str) -> Any:
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on stderr
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a file that is not its own
        found = _GLOBAL.search(str(exc))
        if found:
            raise ValueError(
                f"checkpoint {path!r} holds pickled Python objects ({found.group(1)}), which "
                "gradscope never loads (loading them can run code): save model.state_dict(), "
                "or use .safetensors"
            ) from None
        raise ValueError(f"checkpoint {path!r} is not a PyTorch checkpoint of tensors "
                         "(torch.load with weights_only=True cannot read it)") from None


def _read_safetensors(path: str) -> Any:
    try:
        from safetensors import SafetensorError
        from safetensors.torch import load_file
    except ImportError:
        raise ValueError(f"checkpoint {path!r}: reading .safetensors needs the safetensors "
                         "package: pip install 'gradscope[safetensors]'") from None
    try:
        return load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"checkpoint {path!r} is not a safetensors file ({first})") from None


def _flatten(obj: Any, prefix: str, out: dict[str, Tensor]) -> None:
    if isinstance(obj, Tensor):
        out[prefix] = obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)


# -- finding the recurrent modules ----------------------------------------------------
def find_modules(state: Mapping[str, Tensor], path: str) -> list[RecurrentModule]:
    """Every recurrent module in a flattened state dict, in the order of its names."""
    groups: dict[str, bool] = {}
    for key in state:
        m = _WEIGHT_HH.match(key)
        if m:
            prefix, cell = m.group("prefix") or "", m.group("layer") is None
            if groups.setdefault(prefix, cell) != cell:  # weight_hh and weight_hh_l0 side by side
                where = repr(prefix) if prefix else "(the whole state dict)"
                raise ValueError(f"checkpoint {path!r}: module {where} holds both a cell's weight_hh and "
                                 "a module's weight_hh_l0: save one module's state_dict()")
    return [_module(state, path, prefix, cell) for prefix, cell in groups.items()]


def _module(state: Mapping[str, Tensor], path: str, prefix: str, cell_module: bool) -> RecurrentModule:
    lead = f"{prefix}." if prefix else ""
    tensors = {k[len(lead):]: v for k, v in state.items() if k.startswith(lead) and _PARAM.match(k[len(lead):])}
    where = f"checkpoint {path!r}: module {repr(prefix) if prefix else '(the whole state dict)'}"
    layers = 1
    if not cell_module:
        while f"weight_hh_l{layers}" in tensors:
            layers += 1
    suffix = "" if cell_module else "_l0"
    for name, t in tensors.items():
        if t.layout != torch.strided or t.device.type == "meta":
            raise ValueError(f"{where}: {name} is a {t.layout} tensor on {t.device.type}, not dense weights")
        if not t.is_floating_point():
            raise ValueError(f"{where}: {name} holds {t.dtype}, not floating-point weights")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{where}: {name} holds NaN or inf: the checkpoint is damaged")
    whh, wih = tensors.get(f"weight_hh{suffix}"), tensors.get(f"weight_ih{suffix}")
    if whh is None:  # e.g. weight_hh_l1 without weight_hh_l0
        raise ValueError(f"{where}: weight_hh{suffix} is missing (the layers found start later)")
    if wih is None or whh.ndim != 2 or wih.ndim != 2:
        raise ValueError(f"{where}: weight_hh{suffix} without a 2-d weight_ih{suffix} beside it")
    proj = tensors.get("weight_hr_l0")
    hidden = proj.shape[1] if proj is not None else whh.shape[1]
    if hidden == 0 or whh.shape[0] == 0:
        raise ValueError(f"{where}: weight_hh{suffix} has shape {tuple(whh.shape)}: a network of no units")
    gates = whh.shape[0] // hidden
    if whh.shape[0] % hidden or gates not in KINDS:
        raise ValueError(f"{where}: weight_hh{suffix} has shape {tuple(whh.shape)}, which is "
                         "no RNN, GRU or LSTM (1, 3 or 4 blocks of hidden x hidden)")
    module = RecurrentModule(
        path=path, name=prefix, kind=KINDS[gates], cell_module=cell_module, layers=layers,
        hidden=hidden, input_size=wih.shape[1], bias=f"bias_ih{suffix}" in tensors,
        bidirectional=f"weight_hh{suffix}_reverse" in tensors,
        proj_size=proj.shape[0] if proj is not None else 0, tensors=tensors,
    )
    if module.refusal() is None:
        _check_shapes(module, where)
    return module


def _check_shapes(m: RecurrentModule, where: str) -> None:
    rows = {"rnn": 1, "gru": 3, "lstm": 4}[m.kind] * m.hidden
    for layer in range(m.layers):
        want = {"weight_ih": (rows, m.input_size if layer == 0 else m.hidden), "weight_hh": (rows, m.hidden)}
        if m.bias:
            want.update(bias_ih=(rows,), bias_hh=(rows,))
        suffix = "" if m.cell_module else f"_l{layer}"
        for name, shape in want.items():
            t = m.tensors.get(name + suffix)
            if t is None or tuple(t.shape) != shape:
                got = "missing" if t is None else f"of shape {tuple(t.shape)}"
                raise ValueError(f"{where}: {name}{suffix} is {got}, expected {shape}")


def pick_module(found: list[Any], name: str | None, path: str) -> Any:
    """The module named `name` among `found` (anything with `name` and `describe()`;
    None where `name` names none), or without a name the only one: several are a
    ValueError listing them."""
    if name is None:
        if len(found) > 1:
            listed = "; ".join(m.describe() for m in found)
            raise ValueError(f"checkpoint {path!r} holds {len(found)} recurrent modules: {listed}; "
                             "choose one with --module NAME")
        return found[0]
    return next((m for m in found if m.name == name.rstrip(".")), None)


def select_module(modules: list[RecurrentModule], name: str | None, path: str, count: int) -> RecurrentModule:
    """The module `name` (or the only one); the error lists the candidates."""
    if not modules:
        raise ValueError(f"checkpoint {path!r} holds no recurrent module (no weight_hh or "
                         f"weight_hh_l0 among its {count} tensors)")
    found = pick_module(modules, name, path)
    if found is None:
        listed = "; ".join(m.describe() for m in modules)
        raise ValueError(f"module={name!r} is not a recurrent module of checkpoint {path!r}; it holds: {listed}")
    return found


def load_checkpoint(path: str, module: str | None = None) -> RecurrentModule:
    """Read `path` and return its recurrent module `module` (or its only one).

    Raises `ValueError` (one line, naming the file) when the file is no checkpoint, holds
    no recurrent module or several without `module`, or holds one gradscope refuses.
    """
    state = read_state_dict(path)
    chosen = select_module(find_modules(state, path), module, path, len(state))
    refusal = chosen.refusal()
    if refusal is not None:
        raise ValueError(refusal)
    return chosen
