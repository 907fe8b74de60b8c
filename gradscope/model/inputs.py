"""Input drives, produced chunk by chunk: noise, zeros, constant, or a file.

A drive yields `(C, B, I)` blocks in step order, so a 10^5-step run never holds its
transient inputs. Noise is drawn per trial from the trial's own stream in float64
(chunked draws continue one stream, so the numbers do not depend on the chunk size).
Files (`.npy` or `.csv`, shape `(steps, I)` shared by all trials, `(steps,)` when I = 1,
or `(steps, B, I)`) are read without pickles and must cover transient + steps.

May import: `gradscope.config`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import Config

MAX_FILE_BYTES = 2 * 1024**3


def load_input_file(path: str, needed_steps: int, trials: int, input_size: int) -> np.ndarray:
    """Read an input file as `(steps, B, I)` float64; `ValueError` says what is wrong."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"input file {path!r} does not exist or is not a file")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"input file {path!r} is larger than 2 GiB")
    try:
        if p.suffix.lower() == ".npy":
            arr = np.load(p, allow_pickle=False, mmap_mode="r")
        else:
            arr = np.loadtxt(p, delimiter=",", dtype=np.float64, ndmin=1)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot read input file {path!r}: {first}") from None
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"input file {path!r} holds {arr.dtype}, not numbers")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1 and input_size == 1:
        arr = arr[:, None]
    if arr.ndim == 2:
        if arr.shape[1] != input_size:
            raise ValueError(
                f"input file {path!r} has {arr.shape[1]} columns; input_size is {input_size}"
            )
        arr = np.broadcast_to(arr[:, None, :], (arr.shape[0], trials, input_size))
    elif arr.ndim != 3 or arr.shape[1:] != (trials, input_size):
        raise ValueError(
            f"input file {path!r} has shape {arr.shape}; expected (steps, {input_size}) "
            f"or (steps, {trials}, {input_size})"
        )
    if arr.shape[0] < needed_steps:
        raise ValueError(
            f"input file {path!r} has {arr.shape[0]} steps; transient + steps = {needed_steps}"
        )
    if not np.isfinite(arr[:needed_steps]).all():
        raise ValueError(f"input file {path!r} contains non-finite values")
    return arr


class InputDrive:
    """Blocks of inputs `(C, B, I)` (float64 numpy) for consecutive steps."""

    def __init__(self, config: Config, rngs: list[np.random.Generator]) -> None:
        self.kind = config.input
        self.trials, self.size = config.trials, config.n_input
        self.std, self.value = config.input_std, config.input_value
        self.rngs = rngs
        self.position = 0
        self.data = None
        if self.kind not in ("noise", "zeros", "constant"):
            needed = config.transient + config.steps
            self.data = load_input_file(self.kind, needed, self.trials, self.size)[:needed]

    def next(self, count: int) -> np.ndarray:
        start, self.position = self.position, self.position + count
        shape = (count, self.trials, self.size)
        if self.kind == "noise":
            draws = [rng.standard_normal((count, self.size)) for rng in self.rngs]
            return np.stack(draws, axis=1) * self.std
        if self.kind == "zeros":
            return np.zeros(shape)
        if self.kind == "constant":
            return np.full(shape, self.value)
        return np.ascontiguousarray(self.data[start : start + count])

    def mean_square(self) -> float:
        """E[x^2] of one input coordinate (the mean-field input variance uses it)."""
        if self.data is None:
            return config_mean_square(self.kind, self.std, self.value)
        return float(np.mean(np.square(self.data)))


def config_mean_square(kind: str, std: float, value: float) -> float | None:
    """E[x^2] of a generated drive (`noise`, `zeros`, `constant`); None for a file, whose
    inputs only a run knows."""
    return {"noise": std**2, "zeros": 0.0, "constant": value**2}.get(kind)
