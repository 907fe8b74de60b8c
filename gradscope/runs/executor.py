"""Where the runs of a grid are computed: in this process, a local process pool, or a
Dask cluster. `run_grid` (`runs.execute`) drives any of them the same way.

    run_one(config)                         # one run, on one thread: a pure, picklable task
    executor = open_executor(jobs=4)        # a local pool of 4 processes, 1 thread each
    executor = open_executor(scheduler="tcp://10.0.0.5:8786")   # a Dask cluster

Every executor takes `submit(config) -> handle`, `wait(handles, timeout) -> done`,
`outcome(handle) -> (result, seconds)` (raising the run's exception) and `close()`.
A run gets one torch thread wherever it runs, so its numbers are identical to the last
bit whatever the number of workers (small BLAS calls on several threads change the
order of sums, and spin against each other on a shared machine).

The Dask executor lives in `runs.cluster`.

May import: `gradscope.analysis`, `gradscope.numerics.threads`, `gradscope.cache`,
`gradscope.config`, `gradscope.results`, `gradscope.runs.cluster` (inside `open_executor`).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from ..config import Config
from .task import check_picklable, run_one, timed_call

if TYPE_CHECKING:  # pragma: no cover
    pass

#: Thread settings for a worker process, applied before torch or numpy load there.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def default_jobs() -> int:
    """One worker per core this process may run on (`numerics.threads.available_cores`)."""
    from ..numerics.threads import available_cores

    return available_cores()


# -- in this process and a local pool --------------------------------------------------
def detach_worker(parent: int) -> None:
    """Set up a worker process (a pool's, or the training monitor's): one thread (set
    before torch loads there), Ctrl-C left to the parent, and exit as soon as the parent
    is gone (a sweep or a training script killed with SIGKILL must not leave workers
    running)."""
    import signal

    os.environ.update(THREAD_ENV)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="gradscope-parent-watch", daemon=True).start()


class LocalExecutor:
    """Runs in this process (`jobs=1`, or one run to compute) or in a pool of `jobs`
    worker processes (started with `spawn`: a fresh interpreter, one thread each).

    A worker that dies (killed, out of memory) breaks the pool: `lost(exc)` is true
    for that error, and `restart()` makes a new pool so its runs can be retried.
    """

    def __init__(self, jobs: int | None = None, compute: Callable[[Config], Any] | None = None) -> None:
        self.jobs = default_jobs() if jobs is None else int(jobs)
        if self.jobs < 1:
            raise ValueError(f"jobs must be >= 1, got {jobs}")
        self.compute = compute or run_one
        self._pool: cf.ProcessPoolExecutor | None = None
        self.parallel = False

    def __repr__(self) -> str:
        return f"LocalExecutor(jobs={self.jobs})"

    @property
    def workers(self) -> int:
        """How many runs compute at once (in a pool; one when run here)."""
        return self.jobs

    @property
    def parallelism(self) -> int:
        """How many runs make progress at once: the workers, at most one per core."""
        return min(self.jobs, default_jobs())

    @property
    def capacity(self) -> int:
        """How many runs to keep submitted (one queued behind each busy worker)."""
        return self.jobs + 1 if self.parallel else 1

    def describe(self) -> str:
        if self.jobs > default_jobs():
            return f"{self.jobs} local workers on {default_jobs()} cores"
        return f"{self.jobs} local workers" if self.jobs > 1 else "this process"

    def start(self, runs: int) -> None:
        """Get ready for `runs` runs: a pool when there are several runs and jobs."""
        self.parallel = self.jobs > 1 and runs > 1
        if self.parallel:
            check_picklable(self.compute)

    def submit(self, config: Config) -> cf.Future:
        if not self.parallel:  # compute now: the future is already done
            future: cf.Future = cf.Future()
            try:
                future.set_result(timed_call(self.compute, config))
            except Exception as exc:
                future.set_exception(exc)
            return future
        if self._pool is None:
            import multiprocessing

            self._pool = cf.ProcessPoolExecutor(
                self.jobs, mp_context=multiprocessing.get_context("spawn"),
                initializer=detach_worker, initargs=(os.getpid(),),
            )
        from concurrent.futures.process import BrokenProcessPool

        try:
            with _main_hidden(self.compute):  # workers start (on demand) inside submit
                future = self._pool.submit(timed_call, self.compute, config)
        except BrokenProcessPool as exc:  # a worker died since the last submission
            future = cf.Future()
            future.set_exception(exc)
        future.pool = self._pool  # type: ignore[attr-defined]  (which pool, for `restart`)
        return future

    def wait(self, handles: Iterable[cf.Future], timeout: float | None) -> set[cf.Future]:
        done, _ = cf.wait(list(handles), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def outcome(self, handle: cf.Future) -> tuple[Any, float]:
        return handle.result()

    @staticmethod
    def lost(exc: BaseException) -> bool:
        """Whether `exc` says the run was lost with its pool: a worker died, or the
        broken pool was shut down before the run started (the run itself may be fine)."""
        from concurrent.futures.process import BrokenProcessPool

        return isinstance(exc, (BrokenProcessPool, cf.CancelledError))

    def restart(self, handle: cf.Future) -> None:
        """After `handle` was lost with its pool: a new pool for the next submission
        (once per broken pool, however many of its runs report it)."""
        if getattr(handle, "pool", None) is self._pool:
            self.close()

    def cancel(self, handles: Iterable[cf.Future]) -> None:
        """Give up the runs of `handles` (an interruption or an error): stop the pool."""
        self.close()

    def close(self) -> None:
        """Stop the pool: cancel queued runs and end the worker processes."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            with contextlib.suppress(Exception):
                p.terminate()
        for p in processes:
            with contextlib.suppress(Exception):
                p.join(5)


@contextlib.contextmanager
def _main_hidden(compute: Callable[[Config], Any]) -> Iterator[None]:
    """Start workers without re-running the caller's script.

    A `spawn` worker imports the parent's `__main__` (to find functions defined there),
    which runs a script that calls `run_grid` at its top level again in every worker.
    gradscope's tasks live in gradscope, so workers are started while `__main__` reads
    as an empty module; a `compute` defined in `__main__` itself keeps it.
    """
    func = getattr(compute, "func", compute)  # a functools.partial's function
    if getattr(func, "__module__", None) == "__main__":
        yield
        return
    import sys
    import types

    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def open_executor(jobs: int | None = None, scheduler: str | None = None,
                  compute: Callable[[Config], Any] | None = None) -> Any:
    """The executor for `jobs` local workers (default: one per core) or, with
    `scheduler`, for a Dask cluster. Raises ValueError for a bad `jobs` or address,
    ConnectionError when the scheduler does not answer, RuntimeError without Dask."""
    if scheduler is not None:
        if jobs is not None:
            raise ValueError("give jobs or scheduler, not both: the cluster's workers decide the parallelism")
        from .cluster import DaskExecutor

        return DaskExecutor(scheduler, compute)
    return LocalExecutor(jobs, compute)
