"""Run a grid of configurations, reusing cached runs.

    results = run_grid(configs, cache=RunCache())          # reuses finished runs

`run_grid` stores each finished run in the cache the moment it finishes, so an
interrupted grid (Ctrl-C) keeps every finished run and the next call computes only
the rest. A configuration that fails still gets its row: a run that went non-finite
is a finished measurement (`status: nonfinite`); one whose analysis raised becomes an
`error` result carrying the message (and is not cached).

May import: `gradscope.analysis` and everything below it, `gradscope.cache`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..cache import Compute, RunCache, as_cache, lookup
from ..config import Config
from ..results import SUMMARY_KEYS, Result


@dataclass(frozen=True)
class GridEvent:
    """What `run_grid` tells its `progress` callback, before and after each run.

    `stage` is `start` (about to compute; not sent for cached runs) or `done`.
    """

    index: int  # 0-based position in the grid
    total: int
    config: Config
    stage: str  # start | done
    cached: bool = False
    result: Result | None = None
    seconds: float = 0.0


def failed_result(config: Config, exc: BaseException) -> Result:
    """A `Result` with `status: error` for a configuration whose analysis raised."""
    summary: dict[str, Any] = {k: None for k in SUMMARY_KEYS}
    message = f"{type(exc).__name__}: {exc}"
    summary.update(
        status="error",
        warnings=[
            f"the analysis failed ({message}); run this configuration alone with "
            f"`gradscope decay` to see the full error"
        ],
    )
    return Result(config=config, summary=summary, curves={}, provenance={"error": message})


def _default_compute() -> Compute:
    from ..analysis import analyze

    return analyze


def run_grid(
    configs: Iterable[Config],
    cache: RunCache | str | os.PathLike | None = None,
    progress: Callable[[GridEvent], None] | None = None,
    compute: Compute | None = None,
    errors: str = "record",
) -> list[Result]:
    """Run every configuration (reusing cached runs), in order.

    Arguments:
        configs: the configurations (e.g. `expand_grid(...).configs`).
        cache: a `RunCache`, a cache directory, or None (no cache). Each run is stored
            the moment it finishes, so an interruption loses nothing that finished.
        progress: called with a `GridEvent` before and after each run.
        compute: `Config -> Result`; default `gradscope.analysis.analyze`.
        errors: `record` (an exception becomes a `status: error` result, not cached)
            or `raise`. `KeyboardInterrupt` always propagates.

    Returns:
        One `Result` per configuration, in the order given (a configuration repeated
        in `configs` is computed once).
    """
    if errors not in ("record", "raise"):
        raise ValueError(f"errors must be 'record' or 'raise', got {errors!r}")
    configs = list(configs)
    compute = compute or _default_compute()
    cache = as_cache(cache)
    done: dict[str, Result] = {}
    results: list[Result] = []
    for i, config in enumerate(configs):
        key = config.key()
        if key in done:
            results.append(done[key])
            continue
        hit = cache.get(config) if cache is not None else None
        if hit is not None:
            result, cached, seconds = hit, True, 0.0
        else:
            if progress:
                progress(GridEvent(i, len(configs), config, "start"))
            start = time.perf_counter()
            try:
                result, cached = lookup(config, cache, compute)
            except Exception as exc:
                if errors == "raise":
                    raise
                result, cached = failed_result(config, exc), False
            seconds = time.perf_counter() - start
        done[key] = result
        results.append(result)
        if progress:
            progress(GridEvent(i, len(configs), config, "done", cached, result, seconds))
    return results


def run_experiment(
    path: str | os.PathLike,
    overrides: dict[str, Any] | None = None,
    cache: RunCache | str | os.PathLike | None = None,
    progress: Callable[[GridEvent], None] | None = None,
) -> tuple[Any, list[Result]]:
    """Run the experiment file `path` (`gradscope.grid.experiment_grid`), as
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
