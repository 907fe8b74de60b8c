"""`gradscope compare`: a grid of configurations and its comparison report.

May import: `gradscope.cli.common`, `gradscope.cli.options`, `gradscope.cli.execution`,
`gradscope.cli.grid_command`, and (inside the command) the library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import click

from .common import (
    check_writable,
    command_line,
    grid_from_options,
    report_folder,
    say_replaced,
)
from .execution import execution_options
from .grid_command import (
    GridProgress,
    finish_grid,
    grid_name,
    run_grid_command,
    write_grid_report,
)
from .options import (
    GroupedCommand,
    GroupedOption,
    config_options,
    expand_options,
    report_output_options,
)


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
    name = name or (experiment.name if config_file is not None else grid_name(configs))
    out = report_folder(out, name, cache_dir, no_cache)
    check_writable(out)
    from ..runs.reports import write_report
    from ..text.reading import reading

    results, cached = run_grid_command(ctx, configs, cache_dir, no_cache, jobs, scheduler, threads,
                                       GridProgress(show=not (quiet or as_json)))
    title = title or (experiment.title if config_file is not None and experiment.title != experiment.name else name)
    lines = reading(results)  # once: the report and the terminal say the same
    manifest = write_grid_report(ctx, out, cached, lambda: write_report(
        results, out, name=name, title=title, command=command_line(ctx), notes=expansion.notes, width=width,
        style=style, formats=formats, force=force, on_replace=say_replaced(out), reading=lines))
    finish_grid(ctx, results, out, manifest, as_json, quiet, strict,
                lambda: _print_compare(results, out, expansion.notes, lines))


def _print_compare(results: Sequence[Any], out: Path, notes: Sequence[str], lines: Sequence[str]) -> None:
    from rich.console import Console

    from ..text.terminal import comparison_table

    console = Console(highlight=False)
    if console.is_terminal:  # as many columns as fit; a number is never cut
        console.print(comparison_table(results, width=console.width))
    else:  # a pipe or file: every column, wide enough that nothing is cut
        console = Console(highlight=False, width=250)
        console.print(comparison_table(results))
    for line in lines:
        console.print("- " + line, soft_wrap=not console.is_terminal)
    for note in notes:
        console.print(f"note: {note}", style="dim")
    console.print(f"wrote {out}/report.md, report.html, table.tex, figures/", style="dim")
