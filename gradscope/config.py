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

CELLS = ("rnn", "lstm", "gru", "indrnn", "minimalrnn", "antisymmetric", "cornn")
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
    forget_bias: float = 0.0  # added once to the LSTM forget block of b_ih (minimalrnn: to b)
    step_size: float | None = None  # antisymmetric eps, cornn dt (None: 0.01, 0.042)
    diffusion: float | None = None  # antisymmetric gamma (None: 0.01)
    stiffness: float | None = None  # cornn gamma (None: 2.7)
    damping: float | None = None  # cornn epsilon (None: 4.7)
    input: str = "noise"  # noise | zeros | constant | path to .npy/.csv (steps x input_size)
    input_std: float = 1.0  # standard deviation of `noise`
    input_value: float = 1.0  # value of `constant`
    input_loop: bool = False  # repeat an input file shorter than transient + steps
    h0_std: float | None = None  # initial state ~ N(0, h0_std^2); None: 1, or 0 for a user's network
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
        `all` as the number D; the frame transient only where exponents are asked).

        (With a checkpoint or a custom cell, the cell and sizes come from the network:
        `gradscope.analysis.resolve_model` fills them in.)"""
        h0 = self.h0_std if self.h0_std is not None else (0.0 if self.fixed_weights else 1.0)
        return dataclasses.replace(
            self, input_size=self.n_input, dtype=self.torch_dtype_name, h0_std=h0,
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
        Files are hashed by content (a retrained checkpoint at the same path is another
        run); what a checkpoint or custom cell determines (cell, sizes) is left out, so
        a configuration hashes alike before and after `resolve_model`.
        """
        d = self.resolved().to_dict()
        for name in LATER_FIELDS:
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
        if self.checkpoint is not None:
            parts.append(os.path.basename(self.checkpoint) + (f"[{self.module}]" if self.module else ""))
            if self.layer is not None:
                parts.append(f"layer {self.layer}")
        return " ".join(parts)


_FLOAT_FIELDS = ("gain", "bias_std", "forget_bias", "input_std", "input_value", "h0_std", "eps",
                 "step_size", "diffusion", "stiffness", "damping")
_COUNT_OR_WORD = ("exponents", "qr_every")
#: The papers' symbols of the cell options, for labels.
_SYMBOLS = {("antisymmetric", "step_size"): "eps", ("antisymmetric", "diffusion"): "gamma",
            ("cornn", "step_size"): "dt", ("cornn", "stiffness"): "gamma", ("cornn", "damping"): "eps"}
#: Fields that enter `Config.key()` only away from their default (see there): the cell
#: options, the spectrum's numerics and the user-network options came after the first
#: release.
LATER_FIELDS = ("step_size", "diffusion", "stiffness", "damping", "qr_every", "frame_transient",
                "cell_args", "checkpoint", "module", "layer", "input_loop")
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
#: Largest magnitude of a value that the analysis squares (a variance): its square
#: must fit in a float (1.8e308).
MAX_SQUARED = 1e150


def _squarable(name: str, value: float) -> None:
    if abs(value) > MAX_SQUARED:
        raise ValueError(f"{name} must be at most {MAX_SQUARED:g} in magnitude (its square must fit in a float), "
                         f"got {value!r}")


def _validate(c: Config) -> None:
    if not isinstance(c.cell, str) or (c.cell not in CELLS and ":" not in c.cell):
        _choice("cell", c.cell, CELLS)
    _validate_user_network(c)
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
    if c.h0_std is not None:
        _finite("h0_std", c.h0_std, nonneg=True)
    for name in ("gain", "bias_std", "input_std", "input_value", "h0_std"):
        if getattr(c, name) is not None:
            _squarable(name, getattr(c, name))
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
        if c.exponents > c.state_dim and not c.fixed_weights:  # a user's network: checked when built
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
        base = str if "str" in parts else {"int": int, "float": float, "bool": bool}[parts[0]]
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
