"""Configuration of one measurement: a frozen, validated dataclass.

A `Config` names everything that determines a run (cell, sizes, initialisation, inputs,
horizon, numerics). It is validated on construction: a bad value raises `ValueError`
naming the field and what is allowed. It round-trips through plain dicts (JSON, TOML)
and hashes to a stable key for the cache.

`registry` holds one record per cell (and the activations' constants), `choices` the
names a configuration may use, `checks` the validation.

May import: `gradscope.config.registry`, `gradscope.config.naming`, `gradscope.config.choices`,
`gradscope.config.checks` (the standard
library otherwise, so that validating a configuration and `gradscope --help` never
import torch).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from .checks import MAX_SQUARED, parse_cell_args, validate  # noqa: F401  (public here)
from .choices import (  # noqa: F401  (the names of a configuration, public here)
    ACTIVATION_NAMES,
    CELL_INITS,
    CELL_OPTIONS,
    CELL_SPECS,
    CELLS,
    CHECKPOINT_SUFFIXES,
    COUNT_OR_WORD,
    CUSTOM_CELL,
    DEVICES,
    DRAW_FIELDS,
    DTYPES,
    FLOAT_FIELDS,
    GATED_CELLS,
    GATES,
    INITS,
    INPUT_KINDS,
    LATER_FIELDS,
    PAIR_STATE_CELLS,
    SPECTRAL_MODES,
    SPECTRUM_CAP,
)
from .naming import label as naming_label
from .naming import varied_fields  # noqa: F401  (public here)
from .registry import ACTIVATION_SPECS, MEAN_FIELD, PASCANU, CellSpec, cell_spec  # noqa: F401  (public here)


def count_or_word(value: Any) -> Any:
    """A count or a word (`exponents`, `qr_every`: "all", "auto"), as `Config` stores it:
    "16" from an option or a grid is 16, a word is lower case; anything else as given."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, str):
        return value.strip().lower()
    return value


@dataclass(frozen=True)
class Config:
    """What to measure. Defaults make the bare `gradscope decay` run in seconds."""

    cell: str = "rnn"  # a cell of the registry (`config.registry.CELLS`), or package.module:Name
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
    # -- the options of the modern cells (None: the cell's own default, as the registry says) --
    r_min: float | None = None  # lru: smallest |lambda| of the ring init (None: 0)
    r_max: float | None = None  # lru: largest |lambda| of the ring init (None: 1)
    max_phase: float | None = None  # lru: phases of lambda drawn in [0, max_phase) (None: 6.28)
    state_size: int | None = None  # s6: SSM states per channel, D = N x state_size (None: 16)
    heads: int | None = None  # slstm: heads of the block-diagonal R (None: 4, or gcd(4, N))

    def __post_init__(self) -> None:
        # 1 and 1.0 are the same gain: store floats so equal configs hash alike
        for name in FLOAT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))
        for name in COUNT_OR_WORD:
            object.__setattr__(self, name, count_or_word(getattr(self, name)))
        validate(self)

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
        spec = CELL_SPECS.get(self.cell)
        if spec is None:
            return self.hidden
        return spec.state_dim(self.hidden, {k: getattr(self, k) for k in spec.options if k in CELL_OPTIONS})

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
            default = CELL_OPTIONS[name].get(self.cell)
            return default(self.hidden) if callable(default) else default
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
        from .checks import did_you_mean

        names = sorted(f.name for f in dataclasses.fields(cls))
        unknown = [k for k in data if k not in names]
        if unknown:
            raise ValueError(
                f"unknown configuration key{'s' * (len(unknown) > 1)} "
                + ", ".join(f"{k!r}{did_you_mean(k, names)}" for k in unknown) + f"; allowed: {', '.join(names)}"
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
        """Short human label, e.g. `lstm tanh N=64 g=1`, `gru tanh N=64 trained.pt`
        (`config.naming.label`, the one place that names a configuration)."""
        return naming_label(self)


def _file_digest(path: str) -> str | None:
    """sha256 of a file's bytes (None when it cannot be read: the run will say why)."""
    try:
        if not os.path.isfile(path):  # a device, a FIFO (/dev/zero never ends): the run will say why
            return None
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except (OSError, ValueError):
        return None


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
