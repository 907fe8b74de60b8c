"""How many torch threads a piece of work gets, and a context manager that sets them.

torch's default (one intra-op thread per core) is wrong for most of gradscope's work:
the calls are many and small (N x N products at N <= 128, small LAPACK calls, vector
updates), and each parallel region costs a fork and a join. On a machine that also runs
another busy process it is far worse: a join waits for a thread that the scheduler has
just taken off its core, and a 256 x 256 product on 2 threads took 40 ms instead of
0.35 ms. So the engine chooses: one thread unless one call of the work is a large
matrix product (at least `PARALLEL_WORK` multiply-adds, e.g. one 256 x 256 product),
and then more threads only when a quick probe (a few such products timed on one thread
and on all cores, a few milliseconds) finds that they pay on the machine as it is now.
`analyze(..., threads=N)` and `--threads N` override the choice.

    with torch_threads(1):      # sets torch's intra-op threads, restores them on exit
        result = analyze(config)

May import: nothing of gradscope's (torch only).
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import torch

#: Multiply-adds of one call above which a second thread pays for its fork and join
#: (a 256 x 256 x 256 product; measured in `benchmarks/bench_threads.py`).
PARALLEL_WORK = 256**3


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def choose_threads(work: int, device: str = "cpu", dtype: torch.dtype = torch.float32) -> int:
    """Threads for work whose largest single call is `work` multiply-adds.

    One below `PARALLEL_WORK` (small calls: the join costs more than the second core
    gives); else the available cores if `parallel_pays` finds them faster now, else
    one. On a GPU the host thread count hardly matters: 1.
    """
    cores = available_cores()
    if device != "cpu" or work < PARALLEL_WORK or cores == 1:
        return 1
    dim = int(round(min(work, 512**3) ** (1 / 3)))
    return cores if parallel_pays(dim, cores, dtype) else 1


def parallel_pays(dim: int, cores: int, dtype: torch.dtype = torch.float32, gain: float = 1.25) -> bool:
    """Whether a `dim x dim` product runs at least `gain` times faster on `cores`
    threads than on one, timed now (best of 3 each, interleaved; a few milliseconds,
    cut short when the threaded product is already much slower, as on a busy machine)."""
    import time

    a = torch.randn(dim, dim, dtype=dtype)
    out = torch.empty_like(a)
    best = {1: float("inf"), cores: float("inf")}
    with torch_threads(1):
        torch.mm(a, a, out=out)  # warm up
    for _ in range(3):
        for n in (1, cores):
            with torch_threads(n):
                t0 = time.perf_counter()
                torch.mm(a, a, out=out)
                best[n] = min(best[n], time.perf_counter() - t0)
        if best[cores] > 2 * best[1]:
            break
    return best[cores] * gain <= best[1]


def check_threads(threads: int | None) -> int | None:
    """`threads` if it is None or a positive integer, else a `ValueError` naming the fix."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer (or None: the engine chooses), got {threads!r}")
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
