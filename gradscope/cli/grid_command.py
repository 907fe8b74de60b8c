"""What `compare` and `sweep` share, written once: the report's default name, one line
per finished run, running the grid (Ctrl-C keeps what finished), writing the report (a
write interrupted or refused leaves the folder as it was), and printing the outcome.

May import: `gradscope.cli.common`, `gradscope.cli.execution`, and (inside functions) the
library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from ..config import Config
from .common import interrupted


def grid_name(configs: Sequence[Config]) -> str:
    """A folder name from what the grid varies, e.g. `cell-rnn-lstm_act-tanh-relu`."""
    import re

    from ..config import varied_fields

    parts = []
    for name in varied_fields(configs)[:3]:
        values = list(dict.fromkeys(f"{getattr(c, name)}" for c in configs))
        shown = values if len(values) <= 4 else [values[0], values[-1]]
        parts.append("-".join([name.replace("_", "")] + shown))
    text = "_".join(parts) or f"{configs[0].cell}-{configs[0].act}"
    return re.sub(r"[^A-Za-z0-9._-]+", "", text)[:80] or "compare"


class GridProgress:
    """`run_grid` events as one line per finished run on stderr: the configuration (its
    label, or with `fields` only the values of those), its status and time; with
    `tally`, the runs failed and cached so far and the time left."""

    def __init__(self, show: bool, fields: Sequence[str] = (), tally: bool = False) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.show, self.fields, self.tally = show, list(fields), tally

    def __call__(self, event: Any) -> None:
        if event.stage != "done" or not self.show:
            return
        how = "cached" if event.cached else f"{event.seconds:.1f} s"
        what = " ".join(f"{f}={getattr(event.config, f)}" for f in self.fields) or event.config.label()
        if not self.tally:
            self.console.print(f"[{event.index + 1}/{event.total}] {what}: {event.result.status} ({how})")
            return
        from ..runs.estimate import about_text

        left = f", {about_text(event.eta)} left" if event.eta is not None and event.left else ""
        self.console.print(f"[{event.finished}/{event.total}] {what}: {event.result.status} ({how})"
                           f"  | failed {event.failed}, cached {event.from_cache}{left}", soft_wrap=True)


def run_grid_command(ctx: click.Context, configs: Sequence[Config], cache_dir: Path | None, no_cache: bool,
                     jobs: int | None, scheduler: str | None, threads: Any, progress: Any) -> tuple[list[Any], bool]:
    """`run_configs` on the executor the options name, with the run cache unless
    `no_cache`; the executor is closed whatever happens. Returns the results and whether
    they were cached."""
    from ..cache import RunCache
    from .common import command_line
    from .execution import open_executor

    cache = None if no_cache else RunCache(cache_dir)
    executor = open_executor(jobs, scheduler, command_line(ctx), threads)
    try:
        return run_configs(ctx, configs, executor, cache, progress), cache is not None
    finally:
        executor.close()


def run_configs(ctx: click.Context, configs: Sequence[Config], executor: Any, cache: Any, progress: Any,
                curves: bool = True) -> list[Any]:
    """`run_grid` on `executor`; Ctrl-C says what was kept and exits 130, a cache that
    cannot be written is one line."""
    from ..runs.cluster import SchedulerLost
    from ..runs.execute import run_grid

    try:
        return run_grid(configs, cache=cache, progress=progress, executor=executor, curves=curves)
    except SchedulerLost as exc:
        kept = ("the runs that finished are in the cache: start a scheduler and run the same command "
                "to resume" if cache is not None else "nothing was kept (--no-cache)")
        raise click.ClickException(f"{exc} during the grid; {kept}") from None
    except KeyboardInterrupt:
        interrupted(ctx, "finished runs are in the cache; run the same command to resume." if cache is not None
                    else "nothing was kept (--no-cache); the same command starts over.")
    except OSError as exc:
        raise click.ClickException(f"cannot store a run in the cache: {exc.strerror or exc}") from None
    return []  # pragma: no cover - ctx.exit raises


def write_grid_report(ctx: click.Context, out: Path, cached: bool, write: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`write()` (the report writer, its arguments bound) with one-line errors: Ctrl-C or
    a refusal leaves `out` as it was."""
    try:
        return write()
    except KeyboardInterrupt:
        interrupted(ctx, f"the report was not written; {out} is as it was."
                    + (" The runs are in the cache: the same command writes it at once." if cached else ""))
    except ValueError as exc:  # the folder changed under us since the check
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write the report to {str(out)!r}: {exc.strerror or exc}") from None
    return {}  # pragma: no cover - ctx.exit raises


def finish_grid(ctx: click.Context, results: Sequence[Any], out: Path, manifest: dict[str, Any], as_json: bool,
                quiet: bool, strict: bool, show: Callable[[], None]) -> None:
    """`--json` (the report's path, manifest and summary rows), `--quiet` (the path of
    report.md) or `show()`; then exit 3 under `--strict` when a run did not finish ok."""
    from ..report.files import summary_rows
    from ..results import Status
    from .options import EXIT_STRICT

    if as_json:
        click.echo(json.dumps({"report": str(out), "manifest": manifest, "summary": summary_rows(results)},
                              indent=2, default=str))
    elif quiet:
        click.echo(str(out / "report.md"))
    else:
        show()
    bad = sum(r.status != Status.OK for r in results)
    if strict and bad:
        click.echo(f"Error: {bad} configuration(s) did not finish ok (--strict)", err=True)
        ctx.exit(EXIT_STRICT)
