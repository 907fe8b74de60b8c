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

CELLS = ("rnn", "lstm", "gru", "indrnn", "minimalrnn", "antisymmetric", "cornn")
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

#: Gate blocks of W_hh per cell, in PyTorch's order (the research cells' W_hh is one
#: block: see `gradscope.model.research_cells` for what W_hh means for each).
GATES = {"rnn": 1, "lstm": 4, "gru": 3, "indrnn": 1, "minimalrnn": 1, "antisymmetric": 1, "cornn": 1}
#: Cells whose state holds two N-vectors (LSTM `[h; c]`, coRNN `[y; z]`): D = 2N.
PAIR_STATE_CELLS = ("lstm", "cornn")
#: Cells with gates, where `--gate-act` applies.
GATED_CELLS = ("lstm", "gru", "minimalrnn")
#: Initialisations that apply to each cell (IndRNN's recurrent weight is a vector u).
CELL_INITS = {"indrnn": ("default", "normal", "orthogonal", "identity")}
#: The cell options beside the shared ones, with the cells they apply to and their
#: defaults there: antisymmetric (Chang et al. 2019, h' = h + eps phi((W - W^T - gamma I) h
#: + V x + b)) and coRNN (Rusch & Mishra 2021; the sMNIST values of the paper).
CELL_OPTIONS = {
    "step_size": {"antisymmetric": 0.01, "cornn": 0.042},  # eps / dt
    "diffusion": {"antisymmetric": 0.01},  # gamma of the antisymmetric cell
    "stiffness": {"cornn": 2.7},  # coRNN's gamma (the oscillators' restoring force)
    "damping": {"cornn": 4.7},  # coRNN's epsilon
}
#: `gradscope spectrum` without `--exponents`: every exponent up to this many.
SPECTRUM_CAP = 64


@dataclass(frozen=True)
class Config:
    """What to measure. Defaults make the bare `gradscope decay` run in seconds."""

    cell: str = "rnn"  # rnn | lstm | gru (PyTorch's) | indrnn | minimalrnn | antisymmetric | cornn
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
    forget_bias: float = 0.0  # added once to the LSTM forget block of b_ih (minimalrnn: to b)
    step_size: float | None = None  # antisymmetric eps, cornn dt (None: 0.01, 0.042)
    diffusion: float | None = None  # antisymmetric gamma (None: 0.01)
    stiffness: float | None = None  # cornn gamma (None: 2.7)
    damping: float | None = None  # cornn epsilon (None: 4.7)
    input: str = "noise"  # noise | zeros | constant | path to .npy/.csv (steps x input_size)
    input_std: float = 1.0  # standard deviation of `noise`
    input_value: float = 1.0  # value of `constant`
    h0_std: float = 1.0  # initial state ~ N(0, h0_std^2), h and c alike
    eps: float = 1e-6  # horizon threshold: first lag with median gain < eps
    spectral: str = "fast"  # fast (SVD 32 lags, then warm-started block power) | exact
    exponents: int | str = 0  # Lyapunov exponents: 0 none, K the top K, "all" every one (D)
    qr_every: int | str = "auto"  # steps between QRs: M, or auto (frame spread kept inside the dtype)
    frame_transient: int | None = None  # steps aligning the QR frame first (None: steps // 10)
    dtype: str | None = None  # None -> float64 on cpu, float32 on cuda
    device: str = "cpu"  # cpu | cuda

    def __post_init__(self) -> None:
        # 1 and 1.0 are the same gain: store floats so equal configs hash alike
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))
        # a count or a word ("all", "auto"): "16" from an option or a grid is 16
        for name in _COUNT_OR_WORD:
            value = getattr(self, name)
            if isinstance(value, str) and value.strip().isdigit():
                object.__setattr__(self, name, int(value))
            elif isinstance(value, str):
                object.__setattr__(self, name, value.strip().lower())
        _validate(self)

    # -- derived ---------------------------------------------------------------------
    @property
    def n_input(self) -> int:
        return self.hidden if self.input_size is None else self.input_size

    @property
    def state_dim(self) -> int:
        return 2 * self.hidden if self.cell in PAIR_STATE_CELLS else self.hidden

    @property
    def n_exponents(self) -> int:
        """How many Lyapunov exponents `exponents` asks for (`all`: D; 0: none)."""
        return self.state_dim if self.exponents == "all" else int(self.exponents)

    @property
    def n_frame_transient(self) -> int:
        """Steps that align the QR frame before exponents are accumulated."""
        return self.steps // 10 if self.frame_transient is None else self.frame_transient

    def cell_option(self, name: str) -> float | None:
        """The value of a cell option of `CELL_OPTIONS` for this cell (its default if
        unset; None where it does not apply)."""
        value = getattr(self, name)
        if value is None:
            return CELL_OPTIONS[name].get(self.cell)
        return value

    @property
    def torch_dtype_name(self) -> str:
        if self.dtype is not None:
            return self.dtype
        return "float32" if self.device == "cuda" else "float64"

    def resolved(self) -> Config:
        """The same configuration with every `None` default made explicit (`exponents`
        `all` as the number D; the frame transient only where exponents are asked)."""
        return dataclasses.replace(
            self, input_size=self.n_input, dtype=self.torch_dtype_name,
            exponents=self.n_exponents,
            frame_transient=self.n_frame_transient if self.n_exponents else self.frame_transient,
            **{name: self.cell_option(name) for name in CELL_OPTIONS},
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

        Fields added after the first release (`LATER_FIELDS`) enter the hash only when
        they differ from their default, so runs cached before they existed keep their keys.
        """
        data = self.resolved().to_dict()
        for name in LATER_FIELDS:
            if data[name] == _DEFAULTS[name]:
                del data[name]
        blob = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def label(self) -> str:
        """Short human label, e.g. `lstm tanh N=64 g=1`."""
        parts = [self.cell, self.act]
        if self.cell in GATED_CELLS and self.gate_act != "sigmoid":
            parts.append(f"gates={self.gate_act}")
        parts.append(f"N={self.hidden}")
        if self.init != "default":
            parts.append(self.init)
        if self.gain != 1.0:
            parts.append(f"g={self.gain:g}")
        for name in CELL_OPTIONS:
            if getattr(self, name) is not None:
                parts.append(f"{_SYMBOLS.get((self.cell, name), name)}={getattr(self, name):g}")
        return " ".join(parts)


_FLOAT_FIELDS = ("gain", "bias_std", "forget_bias", "input_std", "input_value", "h0_std", "eps",
                 "step_size", "diffusion", "stiffness", "damping")
_COUNT_OR_WORD = ("exponents", "qr_every")
#: The papers' symbols of the cell options, for labels.
_SYMBOLS = {("antisymmetric", "step_size"): "eps", ("antisymmetric", "diffusion"): "gamma",
            ("cornn", "step_size"): "dt", ("cornn", "stiffness"): "gamma", ("cornn", "damping"): "eps"}
#: Fields that enter `Config.key()` only away from their default (see there).
LATER_FIELDS = ("step_size", "diffusion", "stiffness", "damping", "qr_every", "frame_transient")


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


def _validate(c: Config) -> None:
    _choice("cell", c.cell, CELLS)
    _choice("act", c.act, ACTIVATION_NAMES)
    _validate_cell_options(c)
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
    if c.init not in CELL_INITS.get(c.cell, INITS):
        raise ValueError(
            f"init={c.init!r} does not apply to {c.cell} (its recurrent weight is a vector u); "
            f"use one of: {', '.join(CELL_INITS[c.cell])}"
        )
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
    _finite("h0_std", c.h0_std, nonneg=True)
    _finite("eps", c.eps, positive=True)
    if c.eps >= 1:
        raise ValueError(f"eps must be in (0, 1), got {c.eps!r}")
    _choice("spectral", c.spectral, SPECTRAL_MODES)
    _validate_spectrum(c)
    if c.dtype is not None:
        _choice("dtype", c.dtype, DTYPES)
    _choice("device", c.device, DEVICES)


def _validate_cell_options(c: Config) -> None:
    """The antisymmetric and coRNN options: positive, finite, and only where they apply."""
    for name, cells in CELL_OPTIONS.items():
        value = getattr(c, name)
        if value is None:
            continue
        if c.cell not in cells:
            raise ValueError(f"{name} applies to {' and '.join(cells)} only, not to {c.cell}")
        _finite(name, value, positive=name == "step_size", nonneg=True)


def _validate_spectrum(c: Config) -> None:
    if c.exponents != "all":
        if isinstance(c.exponents, str):
            raise ValueError(f"exponents must be an integer >= 0 or all, got {c.exponents!r}")
        _positive_int("exponents", c.exponents, minimum=0)
        if c.exponents > c.state_dim:
            raise ValueError(
                f"exponents must be <= the state dimension {c.state_dim} (or all), got {c.exponents}"
            )
    if c.qr_every != "auto":
        if isinstance(c.qr_every, str):
            raise ValueError(f"qr_every must be an integer >= 1 or auto, got {c.qr_every!r}")
        _positive_int("qr_every", c.qr_every)
    if c.frame_transient is not None:
        _positive_int("frame_transient", c.frame_transient, minimum=0)
        if c.frame_transient >= c.steps:
            raise ValueError(
                f"frame_transient must be < steps ({c.steps}): exponents are accumulated over "
                f"the steps after it, got {c.frame_transient}"
            )


# -- fields as data (grids, labels) ---------------------------------------------------
def _field_kinds() -> dict[str, tuple[type, bool]]:
    """`Config` field -> (scalar type, whether `None` is allowed). A field that takes a
    count or a word (`exponents`: 16 or all) is text; `Config` reads its numbers."""
    kinds: dict[str, tuple[type, bool]] = {}
    for f in dataclasses.fields(Config):
        text = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        parts = [p.strip() for p in text.split("|")]
        base = str if "str" in parts else {"int": int, "float": float}[parts[0]]
        kinds[f.name] = (base, "None" in parts)
    return kinds


#: Every `Config` field with its value type and whether it may be `None`.
FIELD_KINDS: dict[str, tuple[type, bool]] = _field_kinds()
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Config)}


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
