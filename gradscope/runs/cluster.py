"""The runs of a grid on a Dask distributed cluster (`--scheduler tcp://HOST:PORT`): the
executor, the check that every worker runs this gradscope, and the one-line errors for a
scheduler that does not answer or goes away.

May import: `gradscope.runs.task`, `gradscope.results`, `gradscope.config` (and `distributed`,
inside `DaskExecutor`).
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import time
from typing import Any, Callable, Iterable

from ..config import Config
from .task import check_picklable, run_one, timed_call

#: Runs kept submitted per worker thread (so a worker never waits for the next run).
DASK_QUEUE_PER_THREAD = 2
#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT = 10.0
_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx)://(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d{1,5})/?$")


def check_scheduler_address(address: str) -> str:
    """`address` if it reads `tcp://HOST:PORT` (or tls, ws, wss, ucx), else ValueError."""
    m = _ADDRESS.match(address.strip())
    if not m or not 0 < int(m.group(3)) < 65536:
        raise ValueError(
            f"scheduler {address!r} is not an address like tcp://HOST:PORT "
            f"(the address `dask scheduler` prints)"
        )
    return address.strip()


# -- a Dask cluster --------------------------------------------------------------------
class SchedulerLost(ConnectionError):
    """The Dask scheduler went away (or closed the connection) during a grid: the runs
    still out there are lost, the finished ones were stored as they came back."""


class WorkerMismatch(RuntimeError):
    """A Dask worker runs another gradscope than this process (or none at all)."""


def worker_identity() -> dict[str, Any]:
    """What a worker runs: gradscope's version and engine (run on each Dask worker)."""
    from .. import __version__
    from ..results import ENGINE_VERSION

    return {"version": __version__, "engine": ENGINE_VERSION}


class DaskExecutor:
    """Sends runs to a Dask distributed scheduler (the `dask` extra).

    Results come back to this process, which stores them, so the workers need this
    project installed (the same version: checked when connecting) but no shared disk. A
    worker that dies is Dask's to handle: its runs are recomputed on the other workers
    (a run that kills three workers fails with `KilledWorker` and is recorded as an
    error). A scheduler that goes away ends the grid with `SchedulerLost`: what
    finished is in the cache, and the same command resumes.
    """

    def __init__(self, address: str, compute: Callable[[Config], Any] | None = None,
                 timeout: float = CONNECT_TIMEOUT) -> None:
        address = check_scheduler_address(address)
        try:
            from distributed import Client
        except ImportError:
            raise RuntimeError(
                "--scheduler needs Dask: install this project with its dask extra "
                "(python3 -m pip install -e '.[dask]' in the checkout)"
            ) from None
        self.compute = compute or run_one
        check_picklable(self.compute)
        self.address = address
        _probe(address, timeout)
        import logging

        # a scheduler that goes away is said once, as `SchedulerLost`, not by the logs of
        # Dask's client and of its connection too ("Error in batched write" with a traceback,
        # when the scheduler dies during a write: seen once in a full suite)
        for name in ("distributed.client", "distributed.batched"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        try:
            self.client = Client(address, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            self.check_workers()
        except BaseException:
            self.close()
            raise
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

    def check_workers(self) -> None:
        """Every worker runs the gradscope of this process (version and engine), else
        `WorkerMismatch` naming the first that does not: a worker that imports another
        package called gradscope (an unrelated one is on the public index) or an older
        checkout would compute other numbers, or fail in a way nobody understands."""
        mine = worker_identity()
        try:
            theirs = self.client.run(worker_identity, on_error="return")
        except Exception as exc:  # pragma: no cover - the scheduler went away just now
            raise ConnectionError(f"cannot ask the Dask workers at {self.address}: {exc}") from None
        for worker, found in sorted(theirs.items()):
            if isinstance(found, BaseException):
                raise WorkerMismatch(
                    f"Dask worker {worker} cannot run this project's code ({type(found).__name__}: "
                    f"{str(found).splitlines()[0] if str(found) else ''}): install this checkout there "
                    "(see the README, 'Installing on other machines')")
            if found != mine:
                raise WorkerMismatch(
                    f"Dask worker {worker} runs gradscope {found.get('version')} (engine {found.get('engine')}), "
                    f"this process {mine['version']} (engine {mine['engine']}): install this checkout there "
                    "(see the README, 'Installing on other machines')")

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
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # asyncio's CancelledError is no Exception
            if self.gone(exc):
                raise SchedulerLost(f"the Dask scheduler at {self.address} went away") from None
            raise
        finally:
            with contextlib.suppress(Exception):
                handle.release()

    def gone(self, exc: BaseException) -> bool:
        """Whether `exc` (from a run's future) says the scheduler or the connection to
        it is gone, rather than that the run failed."""
        import asyncio
        import concurrent.futures

        names = {type(e).__name__ for e in (exc, exc.__cause__, exc.__context__) if e is not None}
        if names & {"ClosedClientError", "CommClosedError", "FutureCancelledError"}:
            return True
        if isinstance(exc, (asyncio.CancelledError, concurrent.futures.CancelledError, OSError)):
            return True
        return getattr(self.client, "status", "running") not in ("running", "connecting")

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
