"""`gradscope track`: the gradient flow of a training run, from its checkpoints or a
monitor's logs, as a report.

May import: `gradscope.cli.common`, `gradscope.cli.options`, `gradscope.cli.execution`,
`gradscope.cli.grid_command`, `gradscope.cli.at_lag`, and (inside the command) the library.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from .at_lag import at_lag_option, parse_lags
from .common import check_writable, command_line, report_folder, say_replaced
from .execution import execution_options
from .grid_command import GridProgress, finish_grid, run_grid_command, write_grid_report
from .options import (
    DEFAULTS,
    GroupedCommand,
    GroupedOption,
    config_options,
    load_networks,
    report_output_options,
    usage_error_for,
)


@click.command(cls=GroupedCommand)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@config_options()
@at_lag_option
@click.option("--name", default=None, help="Report name [default: the run's folder name].",
              cls=GroupedOption, group="Grid")
@click.option("--title", default=None, help="Report heading [default: the name].", cls=GroupedOption, group="Grid")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Run cache [default: ~/.cache/gradscope, where a Monitor stores its analyses].",
              cls=GroupedOption, group="Grid")
@click.option("--no-cache", is_flag=True, help="Compute every checkpoint, store nothing.",
              cls=GroupedOption, group="Grid")
@execution_options
@report_output_options
@click.pass_context
def track(ctx: click.Context, paths: tuple[str, ...], at_lag: tuple[str, ...], name: str | None, title: str | None,
          cache_dir: Path | None, no_cache: bool, jobs: int | None, scheduler: str | None, threads: int,
          out: Path | None, formats: tuple[str, ...], style: str, width: float | None, as_json: bool, quiet: bool,
          strict: bool, force: bool, **options: Any) -> None:
    """Analyse a training run's checkpoints and report its gradient flow over training.

    PATH is a Monitor's log_dir or its gradscope.jsonl (each snapshot analysed as the
    monitor did), a folder or glob of checkpoints (the step from each checkpoint's own
    'step' entry, else the number in its file name, said when read from the name), or
    checkpoint files. Checkpoints not in the cache run on --jobs local workers or a Dask
    cluster; a second track computes nothing. Options given (--steps, --trials, ...) win
    over each checkpoint's configuration. Writes report.md, report.html, summary.csv (one
    row per checkpoint, in step order), figures/trajectory (growth rate, lambda_1, horizon
    and the logged metrics against the training step) and figures/gain_map (log gain
    over training step x lag) into --out [default: reports/NAME].

    \b
    Example:
      gradscope track runs/gradscope --at-lag 30
      gradscope track 'checkpoints/step-*.pt' --act tanh --name my-run
    """
    from ..monitor.sources import read_sources
    from ..monitor.tracking import track_configs, track_lags, track_series

    lags = parse_lags(at_lag)
    given = {k: v for k, v in options.items() if v not in (None, False, ())}  # only the options given
    if "cell_args" in given:
        given["cell_args"] = ";".join(given["cell_args"])
    try:
        runs = read_sources(paths)
        per_run = track_configs(runs, given)
    except ValueError as exc:
        raise usage_error_for(exc) from None
    configs = [c for part in per_run for c in part]
    recorded = [p.config is not None for run in runs for p in run.points]
    for config, known in zip(configs, recorded):  # every checkpoint read and checked before any work
        load_networks([config], act_given=known or "act" in given)
    name = name or (runs[0].label if len(runs) == 1 else "track-" + "-".join(r.label for r in runs))
    name = re.sub(r"[^A-Za-z0-9._-]+", "", name)[:80] or "track"
    out = report_folder(out, name, cache_dir, no_cache)
    check_writable(out)
    from ..report.track_report import write_track_report

    results, cached = run_grid_command(ctx, configs, cache_dir, no_cache, jobs, scheduler, threads,
                                       GridProgress(show=not (quiet or as_json)))
    lags = track_lags(runs, lags)
    series = track_series(runs, results, lags)
    notes = [note for run in runs for note in run.notes]
    manifest = write_grid_report(ctx, out, cached, lambda: write_track_report(
        series, out, lags, name=name, title=title, command=command_line(ctx), notes=notes, width=width,
        style=style, formats=formats, force=force, on_replace=say_replaced(out)))
    finish_grid(ctx, results, out, manifest, as_json, quiet, strict, lambda: _print_track(series, lags, out, notes))


for _param in track.params:  # an analysis option given wins over a checkpoint's own; none has a default here
    if _param.name in DEFAULTS and isinstance(_param, click.Option) and not (_param.is_flag or _param.multiple):
        _param.default, _param.show_default = None, False


def _print_track(series: Any, lags: Any, out: Path, notes: list[str]) -> None:
    from rich.console import Console

    from ..text.track_findings import track_findings, track_table

    console = Console(highlight=False)
    console.print(track_table(series, lags))
    for line in track_findings(series, lags):
        console.print("- " + line, soft_wrap=not console.is_terminal)
    for note in notes:
        console.print(f"note: {note}", style="dim")
    console.print(f"wrote {out}/report.md, report.html, summary.csv, figures/", style="dim")
