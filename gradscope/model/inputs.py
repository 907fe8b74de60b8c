"""Input drives, produced chunk by chunk: noise, zeros, constant, or a file.

A drive yields `(C, B, I)` blocks in step order, so a 10^5-step run never holds its
transient inputs. Noise is drawn per trial from the trial's own stream in float64
(chunked draws continue one stream, so the numbers do not depend on the chunk size).
Files (`.npy` or `.csv`, shape `(steps, I)` shared by all trials, `(steps,)` when I = 1,
or `(steps, B, I)`) must cover transient + steps (or be repeated, `input_loop`). A file
that is wrong says what is wrong in one line naming it: empty, not numbers, a pickled
or object `.npy` (refused, never unpickled), the wrong width, too short, NaN or inf.

May import: `gradscope.config`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..config import Config

MAX_FILE_BYTES = 2 * 1024**3


def _read_npy(p: Path, name: str) -> np.ndarray:
    """A numeric `.npy` array (memory-mapped); its header is read first, so that an
    object array is refused before anything could be unpickled."""
    fmt = np.lib.format
    with open(p, "rb") as fh:
        try:
            version = fmt.read_magic(fh)
        except ValueError:
            raise ValueError(f"input file {name} is not a NumPy .npy file (it does not start with "
                             "the .npy signature): save it with numpy.save, or use .csv") from None
        try:
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = read_header(fh)
        except (ValueError, SyntaxError):
            raise ValueError(f"input file {name} has a damaged .npy header") from None
    if dtype.hasobject:
        raise ValueError(f"input file {name} holds Python objects (dtype object), which gradscope "
                         "never unpickles: save a numeric array, e.g. numpy.save(path, x.astype(float))")
    if dtype.kind not in "fiub":
        raise ValueError(f"input file {name} holds {dtype}, not real numbers")
    if 0 in shape:
        raise ValueError(f"input file {name} is empty (shape {shape})")
    try:
        return np.load(p, allow_pickle=False, mmap_mode="r")
    except ValueError:
        raise ValueError(f"input file {name} is shorter than its header says (shape {shape}): "
                         "it is truncated") from None


_BAD_VALUE = re.compile(r"could not convert string '(.*)' to \w+ at row (\d+), column (\d+)")
_RAGGED = re.compile(r"changed from (\d+) to (\d+) at row (\d+)")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _read_csv(p: Path, name: str) -> tuple[np.ndarray, int]:
    """A comma-separated table of numbers, one line a step and one column an input (so a
    file of one line is one step, never read as a column), and the number of header lines
    skipped (a first line that is not all numbers, such as `time,temperature`, is a header)."""
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"input file {name} is not a text table (it is not UTF-8): "
                         "a .csv input holds comma-separated numbers") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"input file {name} is empty")
    header = 0 if all(_is_number(v) for v in lines[0].split(",")) else 1
    if header and len(lines) == 1:
        raise ValueError(f"input file {name} has a header line and no numbers")
    try:
        arr = np.loadtxt(lines[header:], delimiter=",", dtype=np.float64, ndmin=2)  # a line is a step
    except ValueError as exc:
        msg = str(exc)
        bad, ragged = _BAD_VALUE.search(msg), _RAGGED.search(msg)
        if bad:
            value, row, col = bad.group(1), int(bad.group(2)), int(bad.group(3))
            raise ValueError(f"input file {name} is not a table of numbers: line {row + 1 + header} "
                             f"(column {col}) holds {value!r}") from None
        if ragged:
            was, now, row = ragged.groups()
            raise ValueError(f"input file {name} is not a table: line {int(row) + header} has {now} "
                             f"values where the lines before have {was}") from None
        raise ValueError(f"input file {name} is not a table of numbers: {msg.splitlines()[0]}") from None
    return arr, header


def load_input_file(path: str, needed_steps: int, trials: int, input_size: int,
                    loop: bool = False) -> np.ndarray:
    """Read an input file as `(steps, B, I)` float64 covering `needed_steps` steps.

    Arguments:
        path: a `.npy` or `.csv` file, `(steps, I)`, `(steps,)` when I = 1, or `(steps, B, I)`.
        needed_steps: transient + steps.
        trials, input_size: B and I of the network.
        loop: repeat the file from its start when it is shorter than `needed_steps`.

    Raises:
        `ValueError` naming the file and what is wrong with it, in one line.
    """
    p = Path(path)
    name = repr(str(path))
    if not p.is_file():
        raise ValueError(f"input file {name} does not exist or is not a file")
    size = p.stat().st_size
    if size == 0:
        raise ValueError(f"input file {name} is empty")
    if size > MAX_FILE_BYTES:
        raise ValueError(f"input file {name} is larger than 2 GiB")
    header = 0
    if p.suffix.lower() == ".npy":
        arr = _read_npy(p, name)
    else:
        arr, header = _read_csv(p, name)
    return shape_inputs(arr, f"input file {name}", needed_steps, trials, input_size, loop,
                        row_name=(lambda row: f"row {row}") if p.suffix.lower() == ".npy"
                        else (lambda row: f"line {row + 1 + header}"))


def shape_inputs(arr, name: str, needed_steps: int, trials: int, input_size: int, loop: bool = False,
                 row_name=lambda row: f"row {row}") -> np.ndarray:
    """Inputs `(steps,)`, `(steps, I)` or `(steps, B, I)` (a file's, or an array in memory)
    checked and shaped as `(needed_steps, B, I)` float64: the rest of `load_input_file`.
    `name` begins each message (`input file 'x.npy'`)."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiub" or arr.size == 0:
        raise ValueError(f"{name} is {'empty' if arr.size == 0 else f'of {arr.dtype}, not real numbers'}")
    if arr.ndim == 1 and input_size == 1:
        arr = arr[:, None]
    if arr.ndim == 2:
        if arr.shape[1] != input_size:
            raise ValueError(f"{name} has {arr.shape[1]} column{'s' * (arr.shape[1] != 1)}; "
                             f"the network takes {input_size} input{'s' * (input_size != 1)} per step")
        arr = arr[:, None, :]
    elif arr.ndim != 3 or arr.shape[1:] not in ((trials, input_size), (1, input_size)):
        raise ValueError(f"{name} has shape {arr.shape}; the network takes (steps, {input_size}) "
                         f"or (steps, {trials}, {input_size}) (steps x trials x inputs)")
    steps = arr.shape[0]
    if steps < needed_steps and not loop:
        raise ValueError(f"{name} has {steps} step{'s' * (steps != 1)}; transient + steps = {needed_steps}: "
                         "lower --steps or --transient, or repeat the file with --input-loop")
    used = arr[:needed_steps] if steps >= needed_steps else arr
    finite = np.isfinite(used).reshape(used.shape[0], -1).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        bad = used[row].ravel()[~np.isfinite(used[row].ravel())][0]
        raise ValueError(f"{name} holds {bad} at {row_name(row)} (step {row + 1}): "
                         "inputs must be finite numbers")
    reps = -(-needed_steps // steps)
    out = np.asarray(used if reps == 1 else np.concatenate([used] * reps)[:needed_steps], dtype=np.float64)
    return np.broadcast_to(out, (needed_steps, trials, input_size))


class InputDrive:
    """Blocks of inputs `(C, B, I)` (float64 numpy) for consecutive steps."""

    def __init__(self, config: Config, rngs: list[np.random.Generator], data: np.ndarray | None = None) -> None:
        self.kind = config.input
        self.trials, self.size = config.trials, config.n_input
        self.std, self.value = config.input_std, config.input_value
        self.rngs = rngs
        self.position = 0
        self.data = None
        if data is not None:  # inputs in memory (`analysis.analyze_module`), shaped by `shape_inputs`
            self.data = data
        elif self.kind not in ("noise", "zeros", "constant"):
            needed = config.transient + config.steps
            self.data = load_input_file(self.kind, needed, self.trials, self.size, config.input_loop)

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
        return self.data[start : start + count].copy()  # writable and contiguous

    def mean_square(self) -> float:
        """E[x^2] of one input coordinate (the mean-field input variance uses it)."""
        if self.data is None:
            return config_mean_square(self.kind, self.std, self.value)
        with np.errstate(over="ignore"):  # inputs near 1e308: their square is inf, and says so
            return float(np.mean(np.square(self.data)))


class ReplayDrive:
    """A drive that replays stored inputs `(T, B, I)` (a tensor or array) from the start:
    for `unroll(cell, s0, ReplayDrive(traj.inputs), 0, T)` on another cell."""

    def __init__(self, inputs) -> None:
        self.inputs = np.asarray(inputs.detach().cpu() if hasattr(inputs, "detach") else inputs, dtype=np.float64)
        self.position = 0

    def next(self, count: int) -> np.ndarray:
        start, self.position = self.position, self.position + count
        return self.inputs[start : start + count]

    def mean_square(self) -> float:
        return float(np.mean(np.square(self.inputs)))


def config_mean_square(kind: str, std: float, value: float) -> float | None:
    """E[x^2] of a generated drive (`noise`, `zeros`, `constant`); None for a file, whose
    inputs only a run knows."""
    return {"noise": std**2, "zeros": 0.0, "constant": value**2}.get(kind)
