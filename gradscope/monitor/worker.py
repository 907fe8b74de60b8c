"""The monitor's background worker: one process, one torch thread, that analyses the
snapshots the training loop hands over in a queue (`analyst.Analyst`), so that the
analysis runs beside training and never in it.

    worker = Worker(analyst_args)     # spawned at once; it loads torch while training runs
    worker.send(("snapshot", snap))   # never blocks
    worker.replies()                  # what came back so far, never blocks
    worker.finish(timeout=60)         # let it finish what is queued, then end it
    worker.cancel()                   # end it now

The worker is started with `spawn` (a fresh interpreter: no copy of the training
process's memory, threads or CUDA state), with the training script hidden from it (a
script without an `if __name__ == "__main__"` guard is not run again), at a lower
priority (`nice`), with Ctrl-C ignored (the training process decides), and it ends
itself as soon as its parent is gone, even when the parent was killed with SIGKILL.

May import: `gradscope.monitor.analyst`, `gradscope.runs.executor`.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sys
import threading
import time
import types
from typing import Any, Iterator

#: How much lower the worker's priority is than training's.
NICE = 10


def worker_main(parent: int, jobs: Any, replies: Any, analyst_args: dict[str, Any]) -> None:
    """The worker process: watch the parent, then analyse what comes until `None`."""
    from ..runs.executor import detach_worker

    detach_worker(parent)  # one thread (before torch loads here), no Ctrl-C, ends with its parent
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICE)
    from .analyst import Analyst

    analyst = Analyst(**analyst_args)
    replies.put(("ready", os.getpid()))
    try:
        while True:
            message = jobs.get()
            if message is None:
                break
            try:
                out = analyst.handle(message)
            except Exception as exc:  # a bug of ours must not end the monitoring silently
                out = [("failed", getattr(message[1], "step", None), f"{type(exc).__name__}: {exc}")]
            for reply in out:
                replies.put(reply)
    finally:
        analyst.close()
        replies.put(("closed",))


@contextlib.contextmanager
def _script_hidden() -> Iterator[None]:
    """Start the worker without running the training script again there: a `spawn`
    child imports the parent's `__main__` unless it looks like an empty module."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ctrl-C ignored while the worker starts, so that it is ignored there from its first
    instruction (a child keeps an ignored SIGINT); only the main thread can set it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Worker:
    """The worker process and its two queues (see the module docstring)."""

    def __init__(self, analyst_args: dict[str, Any]) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.jobs, self._replies = ctx.Queue(), ctx.Queue()
        self.process = ctx.Process(target=worker_main, name="gradscope-monitor", daemon=True,
                                   args=(os.getpid(), self.jobs, self._replies, analyst_args))
        with _script_hidden(), _ctrl_c_ignored():
            self.process.start()
        self.pid = self.process.pid
        self.closed = False
        self.send(("metrics", []))  # starts the queue's feeder thread now, not in the first hand-over

    def send(self, message: tuple) -> None:
        """Queue `message` for the worker (never blocks: a feeder thread sends it)."""
        self.jobs.put(message)

    def replies(self) -> list[tuple]:
        """Every reply that has come back, without waiting."""
        out = []
        while True:
            try:
                out.append(self._replies.get_nowait())
            except (queue.Empty, OSError, ValueError, EOFError):
                return out

    def alive(self) -> bool:
        return self.process.is_alive()

    def finish(self, timeout: float | None) -> tuple[list[tuple], str]:
        """Let the worker finish what is queued, then end it: `(replies, how)`, `how`
        "finished", "timeout" (`timeout` seconds passed first; it is then ended) or
        "ended" (the worker process ended before it finished)."""
        self.send(None)
        out: list[tuple] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            try:
                reply = self._replies.get(timeout=0.2 if left is None else min(0.2, left))
            except queue.Empty:
                if not self.process.is_alive():
                    out += self.replies()
                    how = "finished" if out and out[-1][0] == "closed" else "ended"
                    self._stop()
                    return [r for r in out if r[0] != "closed"], how
                continue
            except (OSError, ValueError, EOFError):
                self._stop()
                return out, "ended"
            if reply[0] == "closed":
                self._stop(wait=5.0)
                return out, "finished"
            out.append(reply)
        self._stop()
        return out, "timeout"

    def cancel(self) -> None:
        """End the worker now; what it was doing is given up."""
        self._stop()

    def _stop(self, wait: float = 0.0) -> None:
        if self.closed:
            return
        self.closed = True
        if wait:
            self.process.join(wait)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
            if self.process.is_alive():  # pragma: no cover - a worker stuck in a system call
                self.process.kill()
                self.process.join(5)
        for q in (self.jobs, self._replies):
            q.cancel_join_thread()  # an unread message must not hold this process at exit
            q.close()
