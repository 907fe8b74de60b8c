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
from dataclasses import dataclass
from typing import Any, Iterable

CELLS = ("rnn", "lstm", "gru")
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
    h0_std: float = 1.0  # initial state ~ N(0, h0_std^2), h and c alike
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
        """The same configuration with every `None` default made explicit."""
        return dataclasses.replace(
            self, input_size=self.n_input, dtype=self.torch_dtype_name
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
        """Stable hash of the resolved configuration (cache key, report ids)."""
        blob = json.dumps(self.resolved().to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def label(self) -> str:
        """Short human label, e.g. `lstm tanh N=64 g=1`."""
        parts = [self.cell, self.act]
        if self.cell != "rnn" and self.gate_act != "sigmoid":
            parts.append(f"gates={self.gate_act}")
        parts.append(f"N={self.hidden}")
        if self.init != "default":
            parts.append(self.init)
        if self.gain != 1.0:
            parts.append(f"g={self.gain:g}")
        return " ".join(parts)


_FLOAT_FIELDS = ("gain", "bias_std", "forget_bias", "input_std", "input_value", "h0_std", "eps")


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


#: Largest magnitude of a value that the analysis squares (a variance): its square
#: must fit in a float (1.8e308).
MAX_SQUARED = 1e150


def _squarable(name: str, value: float) -> None:
    if abs(value) > MAX_SQUARED:
        raise ValueError(f"{name} must be at most {MAX_SQUARED:g} in magnitude (its square must fit in a float), "
                         f"got {value!r}")


def _validate(c: Config) -> None:
    _choice("cell", c.cell, CELLS)
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
    for name in ("gain", "bias_std", "input_std", "input_value"):
        if getattr(c, name) is not None:
            _squarable(name, getattr(c, name))
    _finite("h0_std", c.h0_std, nonneg=True)
    _finite("eps", c.eps, positive=True)
    if c.eps >= 1:
        raise ValueError(f"eps must be in (0, 1), got {c.eps!r}")
    _choice("spectral", c.spectral, SPECTRAL_MODES)
    _positive_int("exponents", c.exponents, minimum=0)
    if c.exponents > c.state_dim:
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
        base = {"int": int, "float": float, "str": str}[parts[0]]
        kinds[f.name] = (base, "None" in parts)
    return kinds


#: Every `Config` field with its value type and whether it may be `None`.
FIELD_KINDS: dict[str, tuple[type, bool]] = _field_kinds()


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
