"""The checks a `Config` passes on construction: every field's type and range, the
options that apply to the cell, the spectrum's numerics and a user's network. Each
failure is a `ValueError` naming the field and what is allowed.

May import: `gradscope.config.choices` (the cell registry's facts come through it; the standard library otherwise; the `Config`
comes in as an argument).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from typing import Any

from .choices import (
    ACTIVATION_NAMES,
    CELL_INITS,
    CELL_OPTIONS,
    CELL_SPECS,
    CELLS,
    CHECKPOINT_SUFFIXES,
    CUSTOM_CELL,
    DEVICES,
    DRAW_FIELDS,
    DTYPES,
    INITS,
    INPUT_KINDS,
    SPECTRAL_MODES,
)


def validate(c: Any) -> None:
    """Raise `ValueError` for the first field of `c` (a `Config`) that is not allowed."""
    _validate(c)


def _defaults(c: Any) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(c)}


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


def _validate_user_network(c: Any) -> None:
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
        defaults = _defaults(c)
        for name in DRAW_FIELDS + (("act", "gate_act") if c.custom else ()):
            if getattr(c, name) != defaults[name]:
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


def _validate(c: Any) -> None:
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
        spec = CELL_SPECS[c.cell]
        why = f" ({spec.inits_note})" if spec.inits_note else ""
        raise ValueError(f"init={c.init!r} does not apply to {c.cell}{why}; use one of: {', '.join(spec.inits)}")
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


def _validate_cell_options(c: Any) -> None:
    """The antisymmetric and coRNN options: positive, finite, and only where they apply."""
    for name, cells in CELL_OPTIONS.items():
        value = getattr(c, name)
        if value is None:
            continue
        if c.cell not in cells:
            raise ValueError(f"{name} applies to {' and '.join(cells)} only, not to {c.cell}")
        _finite(name, value, positive=name == "step_size", nonneg=True)


def _validate_spectrum(c: Any) -> None:
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


def memory_bytes(c: Any, window: bool = True) -> float:
    """The bytes a run's arrays take: the weights of every trial and (`window`: `analyze`,
    not the streamed spectrum) the window's states and inputs, with room for the sweep's
    running products. Sizes are the configuration's."""
    from .choices import GATES

    item = 4 if (c.dtype or "float64") in ("float32", "float16", "bfloat16") else 8
    n, d, i, b = c.hidden, c.state_dim, c.n_input, c.trials
    # fast mode's block of 32 lags, each a running product of every trial, and a few more
    words = b * GATES.get(c.cell, 4) * n * (n + i + 2) + 40 * b * d * d
    if window:
        words += (c.steps + 1) * b * (d + i)
    return float(words * item)


def check_memory(c: Any, window: bool = True) -> None:
    """Refuse, before anything is drawn, a run whose arrays would not fit in this machine's
    memory (`memory_bytes`; a checkpoint's own sizes are checked when it is loaded)."""
    need = memory_bytes(c, window)
    n, b = c.hidden, c.trials
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: nothing to compare with
        return
    if need > 0.9 * physical:
        raise ValueError(
            f"this run needs about {need / 2**30:,.1f} GiB (trials={b}, hidden={n}, steps={c.steps}) "
            f"and this machine has {physical / 2**30:,.1f} GiB: lower --trials, --hidden or --steps")


def plain_name(name: str) -> bool:
    """Whether `name` can name a report folder under `reports/` and nothing else: one
    path component, printable, not empty, `.` or `..`."""
    return (isinstance(name, str) and name not in ("", ".", "..") and os.path.basename(name) == name
            and "/" not in name and "\\" not in name and name.isprintable() and len(name) <= 200)
