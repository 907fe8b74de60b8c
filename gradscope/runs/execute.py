"""Run a grid of configurations through the run cache, on any executor.

    results = run_grid(configs, cache=RunCache())             # one worker per core
    results = run_grid(configs, cache=RunCache(), jobs=1)     # in this process
    results = run_grid(configs, scheduler="tcp://host:8786")  # on a Dask cluster

`run_grid` looks every configuration up in the cache, claims the others one by one
(`RunCache.claim`: a run another sweep on this machine is computing is waited for, not
computed twice), sends them to the executor (`runs.executor`) and stores each result
the moment it comes back (atomically), so an interrupted or killed grid keeps every
finished run and the next call computes only the rest. When a local worker process
dies (killed, out of memory), the runs it took down with its pool are run again one at
a time: the innocent ones finish, and one that kills its worker twice while running
alone is recorded as failed. A configuration that fails
still gets its row: a run that went non-finite is a finished measurement (`status:
nonfinite`); one whose analysis raised becomes an `error` result carrying the message
(not cached, so it is retried next time), and the grid goes on.

May import: `gradscope.analysis` and everything below it, `gradscope.cache`,
`gradscope.runs.executor`.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..cache import Claim, Compute, RunCache, as_cache
from ..config import Config
from ..results import SUMMARY_KEYS, Result, Status
from .cluster import SchedulerLost
from .executor import open_executor
from .task import run_one

#: Seconds between looks at runs that another process is computing.
POLL = 0.5
#: A run whose worker process dies this many times while it runs alone has failed.
ALONE_DEATHS = 2


@dataclass(frozen=True)
class GridEvent:
    """What `run_grid` tells its `progress` callback, before and after each run.

    `stage` is `start` (about to compute; not sent for cached runs) or `done`. The
    counts are over the grid's distinct configurations, this run included.
    """

    index: int  # 0-based position in the grid
    total: int
    config: Config
    stage: str  # start | done
    cached: bool = False
    result: Result | None = None
    seconds: float = 0.0  # the run's own time, measured where it ran
    finished: int = 0  # runs done so far (computed, cached or failed)
    failed: int = 0  # runs whose analysis raised
    from_cache: int = 0  # runs found in the cache (or finished by another sweep)
    left: int = 0  # runs still to compute
    eta: float | None = None  # seconds left at the rate so far (None before the first run)


def failed_result(config: Config, exc: BaseException, why: str | None = None) -> Result:
    """A `Result` with `status: error` for a configuration whose analysis raised."""
    summary: dict[str, Any] = {k: None for k in SUMMARY_KEYS}
    message = f"{type(exc).__name__}: {exc}"
    summary.update(
        status=Status.ERROR.value,
        warnings=[
            f"{why or 'the analysis failed'} ({message}); run this configuration alone with "
            f"`gradscope decay` to see the full error"
        ],
    )
    return Result(config=config, summary=summary, curves={}, provenance={"error": message})


class _Tally:
    """Counts and the time left, for the progress events."""

    def __init__(self, total: int, progress: Callable[[GridEvent], None] | None) -> None:
        self.total, self.progress = total, progress
        self.finished = self.failed = self.from_cache = self.computed = 0
        self.left = 0
        self.began: float | None = None

    def event(self, index: int, config: Config, stage: str, **kw: Any) -> None:
        if self.progress is None:
            return
        eta = None
        if self.computed and self.began is not None:
            eta = (time.perf_counter() - self.began) / self.computed * self.left
        self.progress(GridEvent(index, self.total, config, stage, finished=self.finished, failed=self.failed,
                                from_cache=self.from_cache, left=self.left, eta=eta, **kw))


def run_grid(
    configs: Iterable[Config],
    cache: RunCache | str | os.PathLike | None = None,
    progress: Callable[[GridEvent], None] | None = None,
    compute: Compute | None = None,
    errors: str = "record",
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    executor: Any = None,
    command: str | None = None,
    curves: bool = True,
) -> list[Result]:
    """Run every configuration (reusing cached runs); results in the order given.

    Arguments:
        configs: the configurations (e.g. `expand_grid(...).configs`).
        cache: a `RunCache`, a cache directory, or None (no cache). Each run is stored
            the moment it finishes, so an interruption loses nothing that finished.
        progress: called with a `GridEvent` before and after each run.
        compute: `Config -> Result`; default `runs.executor.run_one` (`analyze` on one
            thread). A custom `compute` runs in this process unless `jobs` or
            `scheduler` is given (it must then be picklable).
        errors: `record` (an exception becomes a `status: error` result, not cached)
            or `raise`. `KeyboardInterrupt` always propagates.
        jobs: local worker processes (default: one per core; 1: this process).
        scheduler: a Dask scheduler address, `tcp://HOST:PORT`, instead of `jobs`.
        executor: an executor already opened with `runs.executor.open_executor`
            (instead of `jobs`/`scheduler`; the caller closes it).
        command: the command line recorded in each new result's provenance (an
            `executor` given brings its own `compute`).
        curves: False drops each result's arrays once it is stored (`Result.curves`
            is `{}`): a sweep of thousands of runs needs only the summaries.

    Returns:
        One `Result` per configuration, in the order given (a configuration repeated
        in `configs` is computed once).
    """
    if errors not in ("record", "raise"):
        raise ValueError(f"errors must be 'record' or 'raise', got {errors!r}")
    configs = list(configs)
    owned = executor is None
    if owned:
        if compute is not None and jobs is None and scheduler is None:
            jobs = 1  # a custom compute may not pickle: run it here
        compute = compute or functools.partial(run_one, command=command)
        executor = open_executor(jobs, scheduler, compute)
    try:
        return _Grid(configs, as_cache(cache), executor, errors, curves, _Tally(len(configs), progress)).run()
    finally:
        if owned:
            executor.close()


class _Grid:
    """One pass of `run_grid`: look-ups, claims, submissions and stores."""

    def __init__(self, configs: list[Config], cache: RunCache | None, executor: Any, errors: str,
                 curves: bool, tally: _Tally) -> None:
        self.configs, self.cache, self.executor = configs, cache, executor
        self.errors, self.curves, self.tally = errors, curves, tally
        self.results: dict[str, Result] = {}
        self.in_flight: dict[Any, tuple[int, Config, Claim | None]] = {}
        self.suspects: collections.deque[tuple[int, Config]] = collections.deque()  # lost with a pool
        self.alone: str | None = None  # the key of a suspect running alone
        self.deaths: collections.Counter[str] = collections.Counter()  # worker deaths while alone

    def run(self) -> list[Result]:
        todo: collections.deque[tuple[int, Config]] = collections.deque()
        keys = [c.key() for c in self.configs]
        seen: set[str] = set()
        for i, (config, key) in enumerate(zip(self.configs, keys)):
            if key in seen:
                continue
            seen.add(key)
            hit = self.cache.get(config, curves=self.curves) if self.cache is not None else None
            if hit is not None:
                self._record(i, config, hit, cached=True)
            else:
                todo.append((i, config))
        self.tally.left = len(todo)
        self.executor.start(len(todo))
        try:
            self._loop(todo)
        except BaseException:
            self.executor.cancel(list(self.in_flight))
            raise
        finally:
            for _, _, claim in self.in_flight.values():
                if claim is not None:
                    claim.release()
        return [self.results[k] for k in keys]

    def _loop(self, todo: collections.deque[tuple[int, Config]]) -> None:
        waiting: list[tuple[int, Config]] = []
        while todo or waiting or self.in_flight or self.suspects:
            if self.suspects and not self.in_flight:  # one at a time, to find the culprit
                index, config = self.suspects.popleft()
                self.alone = config.key()
                self._submit(index, config, waiting)
                if not self.in_flight:  # cached or claimed elsewhere meanwhile
                    self.alone = None
            while todo and not self.suspects and self.alone is None and len(self.in_flight) < self.executor.capacity:
                self._submit(*todo.popleft(), waiting)
            if self.in_flight:
                done = self.executor.wait(list(self.in_flight), POLL if waiting else None)
                for handle in sorted(done, key=lambda h: self.in_flight[h][0]):
                    self._finish(handle, todo)
            elif waiting:
                time.sleep(POLL)
            todo.extendleft(reversed(waiting))  # claimed elsewhere: look again
            waiting.clear()

    def _submit(self, index: int, config: Config, waiting: list[tuple[int, Config]]) -> None:
        claim = None
        if self.cache is not None:
            claim = self.cache.claim(config)
            if claim is None:  # another process is computing it
                waiting.append((index, config))
                return
            hit = self.cache.get(config, curves=self.curves)  # it may have finished it just now
            if hit is not None:
                claim.release()
                self.tally.left -= 1
                self._record(index, config, hit, cached=True)
                return
        if self.tally.began is None:
            self.tally.began = time.perf_counter()
        self.tally.event(index, config, "start")
        try:
            handle = self.executor.submit(config)
        except BaseException:
            if claim is not None:
                claim.release()
            raise
        self.in_flight[handle] = (index, config, claim)

    def _finish(self, handle: Any, todo: collections.deque[tuple[int, Config]]) -> None:
        index, config, claim = self.in_flight.pop(handle)
        try:
            try:
                result, seconds = self.executor.outcome(handle)
            except SchedulerLost:
                raise  # nothing more will come back: the grid ends here, what finished is stored
            except Exception as exc:
                alone, self.alone = self.alone == config.key(), None
                lost = self.executor.lost(exc)
                if lost:
                    self.executor.restart(handle)  # a new pool for the next submission
                    self.deaths[config.key()] += alone
                    if not alone:  # one of the runs in that pool killed it: which?
                        self.suspects.append((index, config))
                        return
                    if self.deaths[config.key()] < ALONE_DEATHS:
                        self.suspects.appendleft((index, config))
                        return
                if self.errors == "raise":
                    raise
                why = f"its worker process died {ALONE_DEATHS} times while computing it alone (out of memory?)" if lost else None
                result, seconds = failed_result(config, exc, why), 0.0
                self.tally.failed += 1
            else:
                self.alone = None
                if self.cache is not None:
                    self.cache.put(result)
                if not self.curves:
                    result = dataclasses.replace(result, curves={})
        finally:
            if claim is not None:
                claim.release()
        self.tally.left -= 1
        self.tally.computed += 1
        self._record(index, config, result, seconds=seconds)

    def _record(self, index: int, config: Config, result: Result, cached: bool = False,
                seconds: float = 0.0) -> None:
        self.results[config.key()] = result
        self.tally.finished += 1
        self.tally.from_cache += cached
        self.tally.event(index, config, "done", cached=cached, result=result, seconds=seconds)


def run_experiment(
    path: str | os.PathLike,
    overrides: dict[str, Any] | None = None,
    cache: RunCache | str | os.PathLike | None = None,
    progress: Callable[[GridEvent], None] | None = None,
) -> tuple[Any, list[Result]]:
    """Run the experiment file `path` (`runs.grid.experiment_grid`), as
    `gradscope compare --config` does: `overrides` (field -> values) win over the
    file, as command-line values do.

    Returns:
        `(expansion, results)`: the `Expansion` (configs and skip notes) and one
        `Result` per config.
    """
    from .grid import experiment_grid

    _, expansion = experiment_grid(path, overrides=overrides)
    if not expansion.configs:
        raise ValueError(f"{path}: no valid configuration: " + "; ".join(expansion.notes[:3]))
    return expansion, run_grid(expansion.configs, cache=cache, progress=progress)
