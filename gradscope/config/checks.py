"""The checks a `Config` passes on construction: every field's type and range, the
options that apply to the cell, the spectrum's numerics and a user's network. Each
failure is a `ValueError` naming the field and what is allowed.

May import: `gradscope.config.choices` (the cell registry's facts come through it; the standard library otherwise; the `Config`
comes in as an argument).
"""

from __future__ import annotations

import dataclasses
import math
import operator
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


#: Names people reach for, and the key gradscope calls it.
KEY_ALIASES = {"activation": "act", "gate_activation": "gate_act", "hidden_size": "hidden", "n_hidden": "hidden",
               "input_dim": "input_size", "seq_len": "steps", "timesteps": "steps", "length": "steps",
               "batch": "trials", "batch_size": "trials", "burn_in": "transient", "warmup": "transient",
               "initialization": "init", "noise_std": "input_std", "epsilon": "eps"}


def did_you_mean(name: str, known: Any) -> str:
    """` (did you mean steps?)` for a misspelt or aliased key, `` when nothing is close."""
    import difflib

    known = list(known)
    if KEY_ALIASES.get(name) in known:
        return f" (did you mean {KEY_ALIASES[name]}?)"
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""


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
        if key in out:
            raise ValueError(f"cell_args: {key} is given twice; give each --cell-arg once")
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


#: Cell options that are counts (the others are non-negative numbers).
COUNT_OPTIONS = ("state_size", "heads")


def _validate_cell_options(c: Any) -> None:
    """The cells' own options: in range, and only where they apply; `--act` and the draw
    options only for cells that have what they set (the registry says why not)."""
    for name, cells in CELL_OPTIONS.items():
        value = getattr(c, name)
        if value is None:
            continue
        if c.cell not in cells:
            raise ValueError(f"{name} applies to {' and '.join(cells)} only, not to {c.cell}")
        if name in COUNT_OPTIONS:
            _positive_int(name, value)
        else:
            _finite(name, value, positive=name == "step_size", nonneg=True)
    spec = CELL_SPECS.get(c.cell)
    if spec is None:
        return
    if not spec.act and c.act != "tanh":
        raise ValueError(f"act={c.act!r} does not apply to {c.cell} ({spec.act_note}): drop --act")
    defaults = _defaults(c)
    for name in spec.fixed:
        if getattr(c, name) != defaults[name]:
            raise ValueError(f"{name}={getattr(c, name)!r} does not apply to {c.cell} ({spec.inits_note}): drop it")
    _validate_ring(c)
    if c.heads is not None and isinstance(c.hidden, int) and c.hidden % c.heads:
        raise ValueError(f"heads={c.heads} must divide hidden={c.hidden} (the heads split h into equal blocks)")


def _validate_ring(c: Any) -> None:
    """LRU's ring: 0 <= r_min < r_max <= 1 (radii of |lambda|), a finite max_phase."""
    r_min, r_max = c.cell_option("r_min"), c.cell_option("r_max")
    if r_min is None:
        return
    if not r_max <= 1 or r_max <= 0:
        raise ValueError(f"r_max must be in (0, 1] (the largest |lambda| of a stable LRU), got {r_max!r}")
    if not r_min < 1:
        raise ValueError(f"r_min must be in [0, 1) (the smallest |lambda|), got {r_min!r}")
    if r_min >= r_max:
        raise ValueError(f"r_min={r_min!r} must be below r_max={r_max!r} (the ring r_min <= |lambda| <= r_max)")


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
    # (a diagonal cell carries no product: a chunk of input Jacobians at most)
    spec = CELL_SPECS.get(c.cell)
    per = max(i, 16) if spec is not None and spec.structure == "diagonal" else d
    words = b * GATES.get(c.cell, 4) * n * (n + i + 2) + 40 * b * d * per
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


def check_lags(lags: Any) -> tuple[int, ...] | None:
    """The lags at which a run reports its gains (`analyze(lags=...)`, `decay --at-lag`):
    a whole number or several, each >= 1, sorted and without repeats (None: none asked).
    Raises `ValueError` naming the bad value."""
    if lags is None:
        return None
    items = [lags] if isinstance(lags, (int, str)) else lags
    try:
        items = list(items)
    except TypeError:
        raise ValueError(f"lags must be whole numbers >= 1, got {lags!r}") from None
    out = []
    for item in items:
        value = None
        if isinstance(item, str) and item.strip().isdigit():
            value = int(item)
        elif isinstance(item, float) and item.is_integer():
            value = int(item)
        elif not isinstance(item, (bool, str, float)):
            try:
                value = operator.index(item)  # int, numpy integers
            except TypeError:
                value = None
        if value is None or value < 1:
            raise ValueError(f"lags must be whole numbers >= 1, got {item!r}")
        out.append(int(value))
    if not out:
        raise ValueError("lags is empty: give at least one lag >= 1, or None")
    return tuple(sorted(set(out)))
