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

May import: `gradscope.analysis`, `gradscope.cache`, `gradscope.config`,
`gradscope.results` (and `distributed`, inside `DaskExecutor`).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import os
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from ..config import Config

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Result

#: Thread settings for a worker process, applied before torch or numpy load there.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
#: Most runs a Dask sweep keeps submitted at once, per worker thread of the cluster
#: (each holds a claim and, once finished, its result in the cluster's memory).
DASK_QUEUE_PER_THREAD = 2
#: Seconds to wait for a Dask scheduler to answer before giving up.
CONNECT_TIMEOUT = 10.0
_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx)://(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d{1,5})/?$")


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


def default_jobs() -> int:
    """One worker per core this process may run on (`numerics.threads.available_cores`)."""
    from ..numerics.threads import available_cores

    return available_cores()


def check_scheduler_address(address: str) -> str:
    """`address` if it reads `tcp://HOST:PORT` (or tls, ws, wss, ucx), else ValueError."""
    m = _ADDRESS.match(address.strip())
    if not m or not 0 < int(m.group(3)) < 65536:
        raise ValueError(
            f"scheduler {address!r} is not an address like tcp://HOST:PORT "
            f"(the address `dask scheduler` prints)"
        )
    return address.strip()


# -- in this process and a local pool --------------------------------------------------
def _worker_init(parent: int) -> None:
    """Set up a pool worker: one thread (set before torch loads there; `run_one` sets it
    again), Ctrl-C left to the parent, and exit as soon as the parent is gone (a sweep
    killed with SIGKILL must not leave workers running)."""
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
            _check_picklable(self.compute)

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
                initializer=_worker_init, initargs=(os.getpid(),),
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


def _check_picklable(compute: Callable[[Config], Any]) -> None:
    import pickle

    try:
        pickle.dumps(compute)
    except Exception:
        raise ValueError(
            "compute must be picklable (a module-level function) to run in worker "
            "processes or on Dask; pass jobs=1 to run it in this process"
        ) from None


# -- a Dask cluster --------------------------------------------------------------------
class DaskExecutor:
    """Sends runs to a Dask distributed scheduler (`gradscope[dask]`).

    Results come back to this process, which stores them, so the workers need
    gradscope installed but no shared disk. A worker that dies is Dask's to handle: its
    runs are recomputed on the other workers (a run that kills three workers fails with
    `KilledWorker` and is recorded as an error).
    """

    def __init__(self, address: str, compute: Callable[[Config], Any] | None = None,
                 timeout: float = CONNECT_TIMEOUT) -> None:
        address = check_scheduler_address(address)
        try:
            from distributed import Client
        except ImportError:
            raise RuntimeError(
                "--scheduler needs Dask: pip install 'gradscope[dask]'"
            ) from None
        self.compute = compute or run_one
        _check_picklable(self.compute)
        self.address = address
        _probe(address, timeout)
        try:
            self.client = Client(address, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.parallel = True
        self._changed = threading.Event()  # set by each future as it finishes
        self._asked = (-math.inf, 1)  # (when, worker threads)

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address!r})"

    @property
    def workers(self) -> int:
        """The cluster's worker threads (asked at most every few seconds: it may scale)."""
        now = time.monotonic()
        if now - self._asked[0] > 5.0:
            try:
                self._asked = (now, max(1, sum(self.client.nthreads().values())))
            except Exception:  # pragma: no cover - a scheduler gone away: wait reports it
                self._asked = (now, 1)
        return self._asked[1]

    @property
    def parallelism(self) -> int:
        return self.workers

    @property
    def capacity(self) -> int:
        return max(4, DASK_QUEUE_PER_THREAD * self.workers)

    def describe(self) -> str:
        return f"the Dask cluster at {self.address} ({self.workers} worker threads)"

    def start(self, runs: int) -> None:
        pass

    def submit(self, config: Config) -> Any:
        future = self.client.submit(timed_call, self.compute, config, key=f"gradscope-run-{config.key()}",
                                    pure=False)
        future.add_done_callback(lambda _: self._changed.set())
        return future

    def wait(self, handles: Iterable[Any], timeout: float | None) -> set[Any]:
        """The finished ones of `handles`, waiting up to `timeout` seconds for one."""
        handles = list(handles)
        while True:
            self._changed.clear()
            done = {h for h in handles if h.done()}
            if done or not self._changed.wait(timeout):
                return done

    def outcome(self, handle: Any) -> tuple[Any, float]:
        try:
            return handle.result()
        finally:
            handle.release()

    @staticmethod
    def lost(exc: BaseException) -> bool:
        return False  # Dask retries runs of lost workers itself

    def restart(self, handle: Any) -> None:  # pragma: no cover - never lost, see `lost`
        pass

    def cancel(self, handles: Iterable[Any]) -> None:
        with contextlib.suppress(Exception):
            self.client.cancel(list(handles))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()


def _probe(address: str, timeout: float) -> None:
    """Fail fast with one sentence when nothing listens at `address` (Dask's own client
    retries until its timeout and then raises a long message)."""
    import socket

    m = _ADDRESS.match(address)
    assert m is not None
    host, port = m.group(2).strip("[]"), int(m.group(3))
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 5.0)):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {address} ({reason.lower()}): start one with "
            f"`dask scheduler` or check the address"
        ) from None


def open_executor(jobs: int | None = None, scheduler: str | None = None,
                  compute: Callable[[Config], Any] | None = None) -> LocalExecutor | DaskExecutor:
    """The executor for `jobs` local workers (default: one per core) or, with
    `scheduler`, for a Dask cluster. Raises ValueError for a bad `jobs` or address,
    ConnectionError when the scheduler does not answer, RuntimeError without Dask."""
    if scheduler is not None:
        if jobs is not None:
            raise ValueError("give jobs or scheduler, not both: the cluster's workers decide the parallelism")
        return DaskExecutor(scheduler, compute)
    return LocalExecutor(jobs, compute)
