"""`gradscope sweep`: phase diagrams at scale, on all cores or a Dask cluster, resumable.

May import: `gradscope.cli.common`, `gradscope.cli.options`, `gradscope.cli.execution`,
`gradscope.cli.grid_command`, and (inside the command) the library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import click

from ..config import count_or_word
from .common import (
    check_writable,
    command_line,
    grid_from_options,
    report_folder,
    say_replaced,
)
from .execution import execution_options, open_executor
from .grid_command import (
    GridProgress,
    finish_grid,
    grid_name,
    run_configs,
    write_grid_report,
)
from .options import (
    GroupedCommand,
    GroupedOption,
    config_options,
    expand_options,
    report_output_options,
)

#: `--measure` choices (the same names as `gradscope.figures.slices.MEASURES`, kept here
#: so that `--help` imports no numpy; a test keeps them equal).
MEASURE_NAMES = ("growth_rate", "rms_growth_rate", "lambda_1", "horizon", "half_life")


def _measures(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    items = [v.strip() for text in value for v in text.split(",") if v.strip()]
    if value and not items:  # `--measure ,` or `--measure ''`: nothing named
        raise click.BadParameter(f"name at least one measure: {', '.join(MEASURE_NAMES)}")
    items = items or ["growth_rate"]
    bad = [v for v in items if v not in MEASURE_NAMES]
    if bad:
        raise click.BadParameter(f"{', '.join(bad)}: choose from {', '.join(MEASURE_NAMES)}")
    return tuple(dict.fromkeys(items))


@click.command(cls=GroupedCommand)
@config_options(multi=True)
@click.option("--measure", "measures", multiple=True, callback=_measures, metavar="NAME[,NAME]",
              help=f"What to map: {', '.join(MEASURE_NAMES)} (repeat or comma list) [default: growth_rate]. "
                   "lambda_1 runs the top Lyapunov exponent (--exponents 1).",
              cls=GroupedOption, group="Grid")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE.toml", help="Experiment file (TOML, never executed); command-line values win.",
              cls=GroupedOption, group="Grid")
@click.option("--name", default=None, help="Report name [default: made from the grid].", cls=GroupedOption, group="Grid")
@click.option("--title", default=None, help="Report heading [default: the name].", cls=GroupedOption, group="Grid")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Run cache [default: ~/.cache/gradscope].", cls=GroupedOption, group="Grid")
@click.option("--no-cache", is_flag=True, help="Compute every run, store nothing.", cls=GroupedOption, group="Grid")
@click.option("--dry-run", is_flag=True, help="Print the number of runs, how many are cached and the "
              "estimated time and memory (a short calibration run), and stop.", cls=GroupedOption, group="Grid")
@execution_options
@report_output_options
@click.pass_context
def sweep(ctx: click.Context, measures: tuple[str, ...], config_file: Path | None, name: str | None,
          title: str | None, cache_dir: Path | None, no_cache: bool, dry_run: bool, jobs: int | None,
          scheduler: str | None, threads: int, out: Path | None, formats: tuple[str, ...], style: str,
          width: float | None, as_json: bool, quiet: bool, strict: bool, force: bool, **options: Any) -> None:
    """Sweep options over ranges and map the result: phase diagrams at scale.

    Every option takes lists and ranges (x,y,z; a:b integers; a:b:n linspace). Two swept
    numbers give a heatmap per --measure with the measured and the mean-field
    order-to-chaos lines; one gives line plots beside mean field; a swept --seed is
    summarised by its median. Runs go to --jobs local workers (default: one per core) or
    a Dask cluster (--scheduler); each finished run is cached at once, so a stopped
    sweep resumes where it stopped. Writes report.md, report.html, summary.csv/json,
    table.tex, figures/phase_*.* (or line_*.*) and manifest.json into --out [default:
    reports/NAME].

    \b
    Example:
      gradscope sweep --init normal --input zeros --gain 0.5:3:26 --bias-std 0:1:11 -n 256
    """

    overrides = expand_options(options)
    if "lambda_1" in measures:
        if "exponents" not in overrides:
            overrides["exponents"] = [1]
        elif any(count_or_word(v) == 0 for v in overrides["exponents"]):  # K, all, or 0
            raise click.BadParameter("--measure lambda_1 needs --exponents >= 1", param_hint="'--exponents'")
    experiment, expansion, configs = grid_from_options(config_file, overrides)
    name = name or (experiment.name if config_file is not None else "sweep_" + grid_name(configs))
    out = report_folder(out, name, cache_dir, no_cache, check_cache=not dry_run)
    executor = open_executor(jobs, scheduler, command_line(ctx), threads)
    try:
        if not dry_run:
            check_writable(out)
        results = _plan_and_run(ctx, executor, configs, cache_dir, no_cache, dry_run, quiet, as_json)
    finally:
        executor.close()
    if results is None:
        return
    from ..runs.reports import write_sweep_report

    title = title or (experiment.title if config_file is not None and experiment.title != experiment.name else name)
    manifest = write_grid_report(ctx, out, not no_cache, lambda: write_sweep_report(
        results, out, measures, name=name, title=title, command=command_line(ctx), notes=expansion.notes,
        width=width, style=style, formats=formats, force=force, on_replace=say_replaced(out)))
    finish_grid(ctx, results, out, manifest, as_json, quiet, strict, lambda: _print_sweep(results, out, manifest))


def _plan_and_run(ctx: click.Context, executor: Any, configs: Sequence[Any], cache_dir: Path | None,
                  no_cache: bool, dry_run: bool, quiet: bool, as_json: bool) -> list[Any] | None:
    """Plan, estimate (large sweeps and --dry-run), then run; None after a dry run."""
    import json

    from ..cache import RunCache
    from ..config import varied_fields
    from ..runs.estimate import LARGE, describe, estimate, plan_grid

    cache = None if no_cache else RunCache(cache_dir)
    plan = plan_grid(configs, cache)
    est = None
    if dry_run or len(plan.todo) >= LARGE:
        est = estimate(plan.todo, executor.parallelism, processes=executor.workers)
    lines = describe(plan, est, executor.describe())
    if dry_run:
        if as_json:
            click.echo(json.dumps({"runs": plan.total, "cached": len(plan.cached), "to_compute": len(plan.todo),
                                   "estimate": None if est is None else est.__dict__}, indent=2))
        else:
            click.echo("\n".join(lines))
        return None
    if not (quiet or as_json):
        click.echo("\n".join(lines), err=True)
    progress = GridProgress(not (quiet or as_json), fields=varied_fields(configs), tally=True)
    return run_configs(ctx, configs, executor, cache, progress, curves=False)


def _print_sweep(results: Sequence[Any], out: Path, manifest: dict[str, Any]) -> None:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    click.echo(f"{len(results)} runs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for line in manifest.get("findings", []):
        click.echo("- " + line)
    click.echo(f"wrote {out}/report.md, report.html, summary.csv, figures/")
