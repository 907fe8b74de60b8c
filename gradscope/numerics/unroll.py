"""Run a cell over transient + T steps for B networks, keeping the analysed window.

The window's states `s_0..s_T` (`(T+1, B, D)`; `s_0` is the state after the transient)
and inputs `x_1..x_T` (`(T, B, I)`; `x_t` drives the step `s_{t-1} -> s_t`) are kept; the
Jacobians are recomputed from them later, chunk by chunk, never stored. A state that
becomes non-finite stops the run at that step: everything before it is kept.

May import: `gradscope.model.inputs` (cells come in as arguments).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..model.inputs import InputDrive

Progress = Callable[[str, int, int], None]
CHUNK = 512


@dataclass
class Trajectory:
    states: torch.Tensor  # (T'+1, B, D): s_0..s_T' of the analysed window
    inputs: torch.Tensor  # (T', B, I): x_1..x_T'
    steps: int  # T' (< T when the run stopped early)
    nonfinite_step: int | None  # step (counted from 1, transient included) that went non-finite


def unroll(
    cell,
    s0: torch.Tensor,
    drive: InputDrive,
    transient: int,
    steps: int,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> Trajectory:
    """Step `cell` from `s0` `(B, D)` through `transient + steps` inputs of `drive`.

    Returns:
        A `Trajectory` of the last `steps` steps (fewer if a state became non-finite).
    """
    dtype, device = s0.dtype, s0.device
    total = transient + steps
    states = torch.empty((steps + 1, *s0.shape), dtype=dtype, device=device)
    inputs = torch.empty((steps, s0.shape[0], cell.input_size), dtype=dtype, device=device)
    s = s0
    done = 0
    if transient == 0:
        states[0] = s
    while done < total:
        count = min(chunk, total - done)
        x = torch.as_tensor(drive.next(count), dtype=dtype, device=device)
        block = torch.empty((count, *s.shape), dtype=dtype, device=device)
        for j in range(count):
            s = cell.step(s, x[j])
            block[j] = s
        bad = ~torch.isfinite(block).all(dim=(1, 2))
        first_bad = int(torch.argmax(bad.to(torch.int8))) if bool(bad.any()) else None
        good = count if first_bad is None else first_bad
        # place the finite part of this block into the window (steps done+1 .. done+good)
        _store(states, inputs, block[:good], x[:good], done, transient)
        done += good
        if progress is not None:
            progress("unroll", done, total)
        if first_bad is not None:
            kept = max(done - transient, 0)
            if done < transient:  # nothing of the window was reached
                return Trajectory(states[:0], inputs[:0], 0, done + 1)
            return Trajectory(states[: kept + 1], inputs[:kept], kept, done + 1)
    return Trajectory(states, inputs, steps, None)


def _store(states, inputs, block, x, done: int, transient: int) -> None:
    """Copy the steps `done+1 .. done+len(block)` that fall in the window."""
    n = block.shape[0]
    if transient > 0 and done < transient <= done + n:
        states[0] = block[transient - done - 1]
    lo = max(transient - done, 0)  # first block index inside the window (after s_0)
    if lo >= n:
        return
    w0 = done + lo - transient  # window index of the step before block[lo]
    states[w0 + 1 : w0 + 1 + n - lo] = block[lo:]
    inputs[w0 : w0 + n - lo] = x[lo:]

