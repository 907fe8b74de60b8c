"""The task every executor runs, and what running it elsewhere needs: `run_one` (one
configuration, analysed on one thread: pure and picklable), `timed_call` (timed where it
runs), `check_picklable` (a task that can go to another process).

May import: `gradscope.analysis`, `gradscope.config`, `gradscope.results`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from ..config import Config

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Result


def run_one(config: Config, command: str | None = None, threads: int = 1) -> Result:
    """Analyse one configuration on one torch thread: the task every executor runs.

    Pure (a `Config` in, a `Result` out, nothing written) and picklable (a module-level
    function), so it runs as it is in a process pool or on a Dask worker. `analyze` runs
    on `threads` torch threads (one: the parallelism is across runs) and restores the
    caller's setting afterwards.

    Arguments:
        config: what to run.
        command: the command line recorded in the result's provenance.
        threads: torch threads for the run (`--threads` of compare and sweep).
    """
    from ..analysis import analyze

    return analyze(config, strict=False, command=command, threads=threads)


def timed_call(compute: Callable[[Config], Any], config: Config) -> tuple[Any, float]:
    """`(compute(config), seconds)`, timed where it runs (on the worker)."""
    start = time.perf_counter()
    result = compute(config)
    return result, time.perf_counter() - start


def check_picklable(compute: Callable[[Config], Any]) -> None:
    import pickle

    try:
        pickle.dumps(compute)
    except Exception:
        raise ValueError(
            "compute must be picklable (a module-level function) to run in worker "
            "processes or on Dask; pass jobs=1 to run it in this process"
        ) from None
