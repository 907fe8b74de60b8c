"""How many torch threads a piece of work gets, and a context manager that sets them.

torch's default (one intra-op thread per core) is wrong for most of gradscope's work:
the calls are many and small (N x N products at N <= 128, small LAPACK calls, vector
updates), and each parallel region costs a fork and a join. On a machine that also runs
another busy process it is far worse: a join waits for a thread that the scheduler has
just taken off its core, and a 256 x 256 product on 2 threads took 40 ms instead of
0.35 ms. So the engine chooses: one thread unless the work's matrices are large (at
least `PARALLEL_DIM` = 256 rows: one product is then ~10^7 multiply-adds), and then more
threads only when a quick probe (a few of its products timed on one thread and on all
cores, a few milliseconds) finds that they pay on the machine as it is now; and
`ThreadWatch` drops back to one thread in the middle of a run when the machine gets
busy. `analyze(..., threads=N)` and `--threads N` override the choice.

    with torch_threads(1):      # sets torch's intra-op threads, restores them on exit
        result = analyze(config)

May import: nothing of gradscope's (torch only).
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import torch

#: Matrix size from which more threads may pay for their fork and join (below it, and
#: for a batch of small matrices, one thread was never slower on the machines measured).
PARALLEL_DIM = 256


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def choose_threads(dim: int, trials: int = 1, device: str = "cpu", dtype: torch.dtype = torch.float32) -> int:
    """Threads for work whose largest calls are `trials` products of `dim x dim` matrices.

    One below `PARALLEL_DIM` (small calls: the join costs more than the second core
    gives); else the available cores if `parallel_pays` finds them faster now, else one.
    On a GPU the host thread count hardly matters: 1.
    """
    cores = available_cores()
    if device != "cpu" or dim < PARALLEL_DIM or cores == 1:
        return 1
    return cores if parallel_pays(dim, cores, dtype, trials) else 1


def parallel_pays(dim: int, cores: int, dtype: torch.dtype = torch.float32, trials: int = 1,
                  gain: float = 1.25) -> bool:
    """Whether `trials` products of `dim x dim` matrices run at least `gain` times faster
    on `cores` threads than on one, timed now (best of 3 each, interleaved; a few
    milliseconds, cut short when the threaded product is already much slower, as on a
    busy machine)."""
    import time

    a = torch.randn(min(trials, 8), dim, dim, dtype=dtype)
    out = torch.empty_like(a)
    best = {1: float("inf"), cores: float("inf")}
    with torch_threads(1):
        torch.bmm(a, a, out=out)  # warm up
    for _ in range(3):
        for n in (1, cores):
            with torch_threads(n):
                t0 = time.perf_counter()
                torch.bmm(a, a, out=out)
                best[n] = min(best[n], time.perf_counter() - t0)
        if best[cores] > 2 * best[1]:
            break
    return best[cores] * gain <= best[1]


class ThreadWatch:
    """Drops torch to one thread in the middle of a run when the machine gets busy.

    `tick(seconds, lags)` after each chunk: a run on more than one thread whose chunk
    took over `slower` times the best time per lag so far is set to one thread (the
    caller's `torch_threads` restores the setting afterwards); `dropped` says at which
    tick. The chunks of a sweep do the same work per lag, so a jump is the machine.
    """

    def __init__(self, slower: float = 2.0) -> None:
        self.best, self.slower, self.ticks, self.dropped = float("inf"), slower, 0, None

    def tick(self, seconds: float, lags: int) -> None:
        self.ticks += 1
        if torch.get_num_threads() == 1 or lags <= 0:
            return
        rate = seconds / lags
        if self.ticks > 1 and rate > self.slower * self.best:  # the first chunk warms up
            torch.set_num_threads(1)
            self.dropped = self.ticks
        self.best = min(self.best, rate)


def check_threads(threads: int | None) -> int | None:
    """`threads` if it is None or a positive integer, else a `ValueError` naming the fix."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer (or None: the engine chooses), got {threads!r}")
    cores = os.cpu_count() or 1
    if threads > 4 * cores:  # more only oversubscribe the cores (and can exhaust the OS's threads)
        raise ValueError(f"threads={threads}: this machine has {cores} cores; use at most {4 * cores}")
    return threads


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[int]:
    """Run the block with torch's intra-op threads set to `n`; restore them afterwards.

    Yields `n`. The setting is process-wide (torch has no per-thread setting), so use
    it around whole pieces of work, not from several Python threads at once.
    """
    n = check_threads(n)
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
