"""Where `compare` and `sweep` compute their runs: `--jobs N` local workers or a Dask
cluster (`--scheduler tcp://HOST:PORT`), opened before anything runs so that a bad
address or an unreachable scheduler is a one-line error.

May import: `gradscope.cli.options`, and (inside functions) `gradscope.runs`.
"""

from __future__ import annotations

from typing import Any, Callable

import click

from .options import GroupedOption, threads_option


def execution_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--jobs N`, `--scheduler tcp://HOST:PORT` and `--threads N` (per run)."""
    opts = [
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Local worker processes, one thread each [default: one per core].",
                     cls=GroupedOption, group="Grid"),
        click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
                     help="Run on a Dask cluster instead (pip install 'gradscope[dask]'); "
                          "finished runs come back here and are cached here.",
                     cls=GroupedOption, group="Grid"),
        threads_option(per_run=True),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def open_executor(jobs: int | None, scheduler: str | None, command: str | None = None,
                  threads: int = 1) -> Any:
    """`runs.executor.open_executor` for `run_one` (recording `command` in each new
    result, on `threads` torch threads per run), with its errors as one-line CLI errors: a bad value exits 2, an
    unreachable scheduler or a missing Dask exits 1."""
    import functools

    from ..runs.executor import open_executor as open_
    from ..runs.task import run_one

    if jobs is not None and scheduler is not None:
        raise click.UsageError("give --jobs or --scheduler, not both (the cluster decides the parallelism)")
    try:
        return open_(jobs, scheduler, functools.partial(run_one, command=command, threads=threads))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--scheduler'") from None
    except (ConnectionError, RuntimeError, OSError) as exc:
        raise click.ClickException(str(exc).replace("\n", " ")) from None
