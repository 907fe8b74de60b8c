"""`gradscope compare`: a grid of configurations and its comparison report.

May import: `gradscope.cli.common`, `gradscope.cli.options`, and (inside the command)
the library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import click

from ..config import Config
from .common import (
    check_writable,
    command_line,
    grid_from_options,
    interrupted,
    report_folder,
    say_replaced,
)
from .execution import execution_options, open_executor
from .options import (
    EXIT_STRICT,
    GroupedCommand,
    GroupedOption,
    config_options,
    expand_options,
    report_output_options,
)


def _grid_name(configs: Sequence[Config]) -> str:
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


class _GridProgress:
    """`run_grid` events as one line per finished run on stderr (and a bar on a terminal)."""

    def __init__(self, show: bool) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.show = show

    def __call__(self, event: Any) -> None:
        if event.stage != "done" or not self.show:
            return
        how = "cached" if event.cached else f"{event.seconds:.1f} s"
        self.console.print(f"[{event.index + 1}/{event.total}] {event.config.label()}: "
                           f"{event.result.status} ({how})")


@click.command(cls=GroupedCommand)
@config_options(multi=True)
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE.toml", help="Experiment file (TOML, never executed): [grid] of option lists. "
              "Command-line values win over the file.", cls=GroupedOption, group="Grid")
@click.option("--name", default=None, help="Report name [default: the file's name, or one made from the grid].",
              cls=GroupedOption, group="Grid")
@click.option("--title", default=None, help="Report heading [default: the name].", cls=GroupedOption, group="Grid")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Run cache [default: ~/.cache/gradscope].", cls=GroupedOption, group="Grid")
@click.option("--no-cache", is_flag=True, help="Compute every run, store nothing.", cls=GroupedOption, group="Grid")
@execution_options
@report_output_options
@click.pass_context
def compare(ctx: click.Context, config_file: Path | None, name: str | None, title: str | None,
            cache_dir: Path | None, no_cache: bool, jobs: int | None, scheduler: str | None,
            threads: int, out: Path | None, formats: tuple[str, ...], style: str, width: float | None,
            as_json: bool, quiet: bool, strict: bool, force: bool, **options: Any) -> None:
    """Run a grid of configurations and write a comparison report.

    Every option takes lists and ranges (x,y,z; a:b integers; a:b:n linspace); the grid
    is their cartesian product (invalid combinations are skipped with a note). Finished
    runs are cached, so an interrupted compare resumes where it stopped; they run on
    --jobs local workers or a Dask cluster (--scheduler). Writes
    report.md, report.html, summary.csv/json, curves.csv, table.tex, figures/ and
    manifest.json into --out [default: reports/NAME].

    \b
    Example:
      gradscope compare --cell rnn,lstm,gru --act sigmoid,tanh -T 500 --name cells
      gradscope compare --checkpoint init.pt,trained.pt --input data.csv --name training
    """
    overrides = expand_options(options)
    experiment, expansion, configs = grid_from_options(config_file, overrides)
    name = name or (experiment.name if config_file is not None else _grid_name(configs))
    out = report_folder(out, name, cache_dir, no_cache)
    check_writable(out)
    from ..cache import RunCache
    from ..report.tables import summary_rows
    from ..report.write import write_report
    from ..runs.execute import run_grid

    cache = None if no_cache else RunCache(cache_dir)
    progress = _GridProgress(show=not (quiet or as_json))
    executor = open_executor(jobs, scheduler, command_line(ctx), threads)
    try:
        results = run_grid(configs, cache=cache, progress=progress, executor=executor)
    except KeyboardInterrupt:
        interrupted(ctx, "finished runs are in the cache; run the same command to resume." if cache is not None
                     else "nothing was kept (--no-cache); the same command starts over.")
    finally:
        executor.close()
    title = title or (experiment.title if config_file is not None and experiment.title != experiment.name else name)
    try:
        manifest = write_report(results, out, name=name, title=title, command=command_line(ctx),
                                notes=expansion.notes, width=width, style=style, formats=formats,
                                force=force, on_replace=say_replaced(out))
    except KeyboardInterrupt:
        interrupted(ctx, f"the report was not written; {out} is as it was."
                     + (" The runs are in the cache: the same command writes it at once." if cache is not None else ""))
    except ValueError as exc:  # the folder changed under us since the check
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write the report to {str(out)!r}: {exc.strerror or exc}") from None
    if as_json:
        import json

        click.echo(json.dumps({"report": str(out), "manifest": manifest,
                               "summary": summary_rows(results)}, indent=2, default=str))
    elif quiet:
        click.echo(str(out / "report.md"))
    else:
        _print_compare(results, out, expansion.notes)
    if strict and any(r.status != "ok" for r in results):
        bad = sum(r.status != "ok" for r in results)
        click.echo(f"Error: {bad} configuration(s) did not finish ok (--strict)", err=True)
        ctx.exit(EXIT_STRICT)




def _print_compare(results: Sequence[Any], out: Path, notes: Sequence[str]) -> None:
    from rich.console import Console

    from ..report.reading import reading
    from ..report.terminal import comparison_table

    console = Console(highlight=False)
    if console.is_terminal:  # as many columns as fit; a number is never cut
        console.print(comparison_table(results, width=console.width))
    else:  # a pipe or file: every column, wide enough that nothing is cut
        console = Console(highlight=False, width=250)
        console.print(comparison_table(results))
    for line in reading(results):
        console.print("- " + line, soft_wrap=not console.is_terminal)
    for note in notes:
        console.print(f"note: {note}", style="dim")
    console.print(f"wrote {out}/report.md, report.html, table.tex, figures/", style="dim")
