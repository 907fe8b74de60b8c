"""Configuration of one measurement: a frozen, validated dataclass.

A `Config` names everything that determines a run (cell, sizes, initialisation, inputs,
horizon, numerics). It is validated on construction: a bad value raises `ValueError`
naming the field and what is allowed. It round-trips through plain dicts (JSON, TOML)
and hashes to a stable key for the cache.

May import: nothing of gradscope's (the standard library only, so that validating
a configuration and `gradscope --help` never import torch).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable

CELLS = ("rnn", "lstm", "gru")
#: A custom cell: `package.module:Name` (imported only when asked: it runs the user's code).
CUSTOM_CELL = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
#: Files `checkpoint` reads: torch's own format (weights only) or safetensors.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".safetensors")
INITS = ("default", "xavier", "orthogonal", "identity", "normal")
INPUT_KINDS = ("noise", "zeros", "constant")
SPECTRAL_MODES = ("fast", "exact")
DTYPES = ("float64", "float32")
DEVICES = ("cpu", "cuda")
#: Names of `gradscope.activations.ACTIVATIONS`, kept here so that validating a Config
#: (and `gradscope --help`) never imports torch.
ACTIVATION_NAMES = (
    "sigmoid", "tanh", "relu", "identity", "leaky_relu", "elu",
    "gelu", "silu", "softplus", "softsign", "hardtanh",
)

#: Gate blocks of W_hh per cell, in PyTorch's order.
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


@dataclass(frozen=True)
class Config:
    """What to measure. Defaults make the bare `gradscope decay` run in seconds."""

    cell: str = "rnn"  # rnn | lstm | gru (PyTorch formulas, gate order and names)
    act: str = "tanh"  # rnn: phi; lstm/gru: the candidate's (and LSTM cell output's) tanh
    gate_act: str = "sigmoid"  # lstm/gru gates
    # -- a network of the user's instead of a drawn one (the weights are then fixed) ---
    cell_args: str | None = None  # custom cell (cell = "package.module:Name"): "key=value;key=value"
    checkpoint: str | None = None  # .pt/.pth/.safetensors state dict; cell and sizes are read from it
    module: str | None = None  # the recurrent submodule of the checkpoint (when it holds several)
    layer: int | None = None  # one layer of a stacked module, driven by the layers below (None: all)
    hidden: int = 64  # N; the state is N (rnn, gru) or 2N (lstm: [h; c])
    input_size: int | None = None  # None -> hidden
    steps: int = 1000  # T, analysed steps (lags 0..T)
    transient: int = 200  # burn-in steps run first and dropped
    trials: int = 8  # B independent networks in one batched computation
    seed: int = 0  # root of numpy.random.SeedSequence(seed).spawn(trials)
    init: str = "default"  # W_hh gate blocks: default | xavier | orthogonal | identity | normal
    gain: float = 1.0  # g, see the README's initialisation table
    bias_std: float | None = None  # None: PyTorch biases for `default`, zeros otherwise
    forget_bias: float = 0.0  # added once to the LSTM forget block of b_ih
    input: str = "noise"  # noise | zeros | constant | path to .npy/.csv (steps x input_size)
    input_std: float = 1.0  # standard deviation of `noise`
    input_value: float = 1.0  # value of `constant`
    input_loop: bool = False  # repeat an input file shorter than transient + steps
    h0_std: float | None = None  # initial state ~ N(0, h0_std^2); None: 1, or 0 for a user's network
    eps: float = 1e-6  # horizon threshold: first lag with median gain < eps
    spectral: str = "fast"  # fast (SVD 32 lags, then warm-started block power) | exact
    exponents: int = 0  # Lyapunov exponents to estimate (0: none)
    dtype: str | None = None  # None -> float64 on cpu, float32 on cuda
    device: str = "cpu"  # cpu | cuda

    def __post_init__(self) -> None:
        # 1 and 1.0 are the same gain: store floats so equal configs hash alike
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))
        _validate(self)

    # -- derived ---------------------------------------------------------------------
    @property
    def custom(self) -> bool:
        """Whether `cell` names a user's cell (`package.module:Name`)."""
        return ":" in self.cell

    @property
    def fixed_weights(self) -> bool:
        """A checkpoint or a custom cell: the weights are the user's, not drawn per trial."""
        return self.checkpoint is not None or self.custom

    @property
    def n_input(self) -> int:
        return self.hidden if self.input_size is None else self.input_size

    @property
    def state_dim(self) -> int:
        return 2 * self.hidden if self.cell == "lstm" else self.hidden

    @property
    def torch_dtype_name(self) -> str:
        if self.dtype is not None:
            return self.dtype
        return "float32" if self.device == "cuda" else "float64"

    def resolved(self) -> Config:
        """The same configuration with every `None` default made explicit.

        (With a checkpoint or a custom cell, the cell and sizes come from the network:
        `gradscope.analysis.resolve_model` fills them in.)"""
        h0 = self.h0_std if self.h0_std is not None else (0.0 if self.fixed_weights else 1.0)
        return dataclasses.replace(
            self, input_size=self.n_input, dtype=self.torch_dtype_name, h0_std=h0
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Build from a plain mapping (JSON, TOML); unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"unknown configuration key(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(names))}"
            )
        return cls(**{k: v for k, v in data.items()})

    def key(self) -> str:
        """Stable hash of the resolved configuration (cache key, report ids).

        Files are hashed by content (a retrained checkpoint at the same path is another
        run); what a checkpoint or custom cell determines (cell, sizes) is left out, so
        a configuration hashes alike before and after `resolve_model`; the options of
        user networks are left out at their defaults, so older keys stay valid.
        """
        d = self.resolved().to_dict()
        for name in _USER_NETWORK_FIELDS:
            if d[name] == _DEFAULT_VALUES[name]:
                del d[name]
        if self.fixed_weights:
            d.pop("hidden")
            d.pop("input_size")
        if self.checkpoint is not None:
            d.pop("cell")
            d["checkpoint_sha256"] = _file_digest(self.checkpoint)
        if self.input not in INPUT_KINDS:
            d["input_sha256"] = _file_digest(self.input)
        blob = json.dumps(d, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def label(self) -> str:
        """Short human label, e.g. `lstm tanh N=64 g=1`, `gru tanh N=64 trained.pt`."""
        if self.custom:
            return " ".join([self.cell, f"N={self.hidden}", *(self.cell_args or "").split(";")]).strip()
        parts = [self.cell, self.act]
        if self.cell != "rnn" and self.gate_act != "sigmoid":
            parts.append(f"gates={self.gate_act}")
        parts.append(f"N={self.hidden}")
        if self.init != "default":
            parts.append(self.init)
        if self.gain != 1.0:
            parts.append(f"g={self.gain:g}")
        if self.checkpoint is not None:
            parts.append(os.path.basename(self.checkpoint) + (f"[{self.module}]" if self.module else ""))
            if self.layer is not None:
                parts.append(f"layer {self.layer}")
        return " ".join(parts)


_FLOAT_FIELDS = ("gain", "bias_std", "forget_bias", "input_std", "input_value", "h0_std", "eps")
_USER_NETWORK_FIELDS = ("cell_args", "checkpoint", "module", "layer", "input_loop")
#: What a checkpoint or a custom cell fixes: these options must keep their defaults.
_DRAW_FIELDS = ("init", "gain", "bias_std", "forget_bias")


def _file_digest(path: str) -> str | None:
    """sha256 of a file's bytes (None when it cannot be read: the run will say why)."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def parse_cell_args(text: str | None) -> dict[str, Any]:
    """`"hidden=32;act=relu;bias=true"` -> `{"hidden": 32, "act": "relu", "bias": True}`
    (pairs separated by `;` or `,`).

    Values are read as int, float, true/false/none, else kept as text. Raises
    `ValueError` naming `cell_args` and the bad pair.
    """
    out: dict[str, Any] = {}
    for pair in re.split(r"[;,]", text or ""):
        if not pair.strip():
            continue
        key, sep, value = (p.strip() for p in pair.partition("="))
        if not sep or not key.isidentifier():
            raise ValueError(f"cell_args: {pair.strip()!r} is not key=value (e.g. --cell-arg hidden=32)")
        lowered = value.lower()
        if lowered in ("true", "false", "none"):
            out[key] = {"true": True, "false": False, "none": None}[lowered]
            continue
        for kind in (int, float):
            try:
                out[key] = kind(value)
                break
            except ValueError:
                continue
        else:
            out[key] = value
    return out


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of: {', '.join(allowed)}")


def _positive_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _finite(name: str, value: Any, positive: bool = False, nonneg: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonneg and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def _validate_user_network(c: Config) -> None:
    """A checkpoint or a custom cell brings its own weights: the draw options must keep
    their defaults, and the checkpoint options need a checkpoint."""
    if c.custom:
        if not CUSTOM_CELL.match(c.cell):
            raise ValueError(f"cell={c.cell!r} is neither one of {', '.join(CELLS)} nor package.module:Name")
        parse_cell_args(c.cell_args)
    elif c.cell_args is not None:
        raise ValueError(f"cell_args is for a custom cell (--cell package.module:Name), not cell={c.cell!r}")
    if c.checkpoint is not None:
        if not isinstance(c.checkpoint, str) or not c.checkpoint.lower().endswith(CHECKPOINT_SUFFIXES):
            raise ValueError(f"checkpoint={c.checkpoint!r} must be a {', '.join(CHECKPOINT_SUFFIXES)} file")
    else:
        for name in ("module", "layer"):
            if getattr(c, name) is not None:
                raise ValueError(f"{name} picks part of a checkpoint: give --checkpoint too")
    if c.layer is not None:
        _positive_int("layer", c.layer, minimum=0)
    if c.module is not None and (not isinstance(c.module, str) or not c.module):
        raise ValueError(f"module must be a name in the checkpoint, got {c.module!r}")
    if c.fixed_weights:
        what = "--checkpoint: its weights are fixed" if c.checkpoint else "a custom cell: its constructor makes the weights (--cell-arg)"
        for name in _DRAW_FIELDS + (("act", "gate_act") if c.custom else ()):
            if getattr(c, name) != _DEFAULT_VALUES[name]:
                raise ValueError(f"{name}={getattr(c, name)!r} has no effect with {what}; drop it")
    if not isinstance(c.input_loop, bool):
        raise ValueError(f"input_loop must be true or false, got {c.input_loop!r}")
    if c.input_loop and c.input in INPUT_KINDS:
        raise ValueError(f"input_loop repeats an input file; input={c.input!r} is generated")


def _validate(c: Config) -> None:
    if not isinstance(c.cell, str) or (c.cell not in CELLS and ":" not in c.cell):
        _choice("cell", c.cell, CELLS)
    _validate_user_network(c)
    _choice("act", c.act, ACTIVATION_NAMES)
    _choice("gate_act", c.gate_act, ACTIVATION_NAMES)
    _positive_int("hidden", c.hidden)
    if c.hidden > 8192:
        raise ValueError(f"hidden must be <= 8192, got {c.hidden} (the state Jacobian is hidden^2)")
    if c.input_size is not None:
        _positive_int("input_size", c.input_size)
    _positive_int("steps", c.steps)
    _positive_int("transient", c.transient, minimum=0)
    _positive_int("trials", c.trials)
    _positive_int("seed", c.seed, minimum=0)
    _choice("init", c.init, INITS)
    _finite("gain", c.gain, nonneg=True)
    if c.bias_std is not None:
        _finite("bias_std", c.bias_std, nonneg=True)
    _finite("forget_bias", c.forget_bias)
    if not isinstance(c.input, str) or not c.input:
        raise ValueError(f"input must be one of {', '.join(INPUT_KINDS)} or a .npy/.csv path")
    if c.input not in INPUT_KINDS and not c.input.lower().endswith((".npy", ".csv")):
        raise ValueError(
            f"input={c.input!r} is not one of: {', '.join(INPUT_KINDS)}, or a .npy/.csv path"
        )
    _finite("input_std", c.input_std, nonneg=True)
    _finite("input_value", c.input_value)
    if c.h0_std is not None:
        _finite("h0_std", c.h0_std, nonneg=True)
    _finite("eps", c.eps, positive=True)
    if c.eps >= 1:
        raise ValueError(f"eps must be in (0, 1), got {c.eps!r}")
    _choice("spectral", c.spectral, SPECTRAL_MODES)
    _positive_int("exponents", c.exponents, minimum=0)
    if c.exponents > c.state_dim and not c.fixed_weights:  # a user's network: checked when it is built
        raise ValueError(
            f"exponents must be <= the state dimension {c.state_dim}, got {c.exponents}"
        )
    if c.dtype is not None:
        _choice("dtype", c.dtype, DTYPES)
    _choice("device", c.device, DEVICES)


# -- fields as data (grids, labels) ---------------------------------------------------
def _field_kinds() -> dict[str, tuple[type, bool]]:
    """`Config` field -> (scalar type, whether `None` is allowed)."""
    kinds: dict[str, tuple[type, bool]] = {}
    for f in dataclasses.fields(Config):
        text = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        parts = [p.strip() for p in text.split("|")]
        base = {"int": int, "float": float, "str": str, "bool": bool}[parts[0]]
        kinds[f.name] = (base, "None" in parts)
    return kinds


#: Every `Config` field with its value type and whether it may be `None`.
FIELD_KINDS: dict[str, tuple[type, bool]] = _field_kinds()
_DEFAULT_VALUES = {f.name: f.default for f in dataclasses.fields(Config)}


def varied_fields(configs: Iterable[Config]) -> list[str]:
    """The `Config` fields whose values differ between `configs`, in `Config` order."""
    dicts = [c.to_dict() for c in configs]
    if not dicts:
        return []
    return [
        f.name
        for f in dataclasses.fields(Config)
        if len({repr(d[f.name]) for d in dicts}) > 1
    ]
