"""`track(paths, out)`: the gradient flow of training runs, from their checkpoints or a
monitor's logs, analysed through the run cache and written as a report.

    manifest, series = track(["runs/gradscope"], "reports/my-run", lags=(30,))

Each checkpoint becomes one configuration: a monitor's snapshot keeps the configuration
it was analysed with (so `track` gives the monitor's numbers, from the cache or computed
again to the last bit); a plain checkpoint gets the monitor's defaults
(`analysis.module.MODULE_DEFAULTS`); `overrides` (the options given to `gradscope
track`) win over both. Every configuration not in the cache is computed on the executor
(`runs.execute.run_grid`), so a second `track` of the same runs computes nothing. The
figures at the task's lags come from each run's curves (`analysis.summarize.with_lags`),
as `decay --at-lag` gives them.

May import: `gradscope.monitor.sources`, `gradscope.runs`, `gradscope.report`,
`gradscope.analysis`, `gradscope.figures`, `gradscope.cache`, `gradscope.config`.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from ..config import Config
from .sources import Run, read_sources


def track_configs(runs: Sequence[Run], overrides: dict[str, Any] | None = None) -> list[list[Config]]:
    """Per run, the configuration of each checkpoint (see the module docstring). Raises
    `ValueError` for an override that does not fit."""
    from ..analysis.module import MODULE_DEFAULTS

    overrides = dict(overrides or {})
    out = []
    for run in runs:
        configs = []
        for point in run.points:
            if point.config is not None:
                base = point.config.to_dict()
                if "steps" in overrides:  # derived from the steps when it was resolved: derived again
                    base["frame_transient"] = None
            else:
                base = {**MODULE_DEFAULTS, "checkpoint": point.path}
            configs.append(Config.from_dict({**base, **overrides}))
        out.append(configs)
    return out


def track_lags(runs: Sequence[Run], lags: Any = None) -> tuple[int, ...]:
    """The lags reported: those asked for, else those the monitors reported."""
    from ..config.checks import check_lags

    if lags is not None:
        return check_lags(lags) or ()
    found = sorted({k for run in runs for k in (run.lags or ())})
    return tuple(found)


def track_series(runs: Sequence[Run], results: Sequence[Any], lags: Sequence[int]) -> list[Any]:
    """`figures.over_training.Series` of each run, its results (in the order of
    `track_configs`, flattened) with the figures at `lags`."""
    from ..analysis.summarize import with_lags
    from ..figures.over_training import Series

    out, i = [], 0
    for run in runs:
        part = list(results[i: i + len(run.points)])
        i += len(run.points)
        if lags:
            part = [with_lags(r, lags) for r in part]
        out.append(Series(run.label, [p.step for p in run.points], part, run.metrics))
    return out


def track_runs(paths: Sequence[str], lags: Any = None, *, overrides: dict[str, Any] | None = None,
               cache: Any = True, jobs: int | None = None, scheduler: str | None = None,
               progress: Callable[..., Any] | None = None, command: str | None = None
               ) -> tuple[list[Run], list[Any], tuple[int, ...]]:
    """`(runs, series, lags)`: the runs of `paths` read, every checkpoint not in the
    cache analysed (`run_grid`), and the series to draw, with the figures at the lags."""
    from ..cache import RunCache
    from ..runs.execute import run_grid

    runs = read_sources(list(map(str, paths)))
    configs = track_configs(runs, overrides)
    store = RunCache() if cache is True else None if cache in (False, None) else RunCache(cache)
    results = run_grid([c for part in configs for c in part], cache=store, progress=progress, jobs=jobs,
                       scheduler=scheduler, command=command, errors="record")
    asked = track_lags(runs, lags)
    return runs, track_series(runs, results, asked), asked


def track(
    paths: Sequence[str],
    out: str | os.PathLike,
    lags: Any = None,
    *,
    overrides: dict[str, Any] | None = None,
    cache: Any = True,
    jobs: int | None = None,
    scheduler: str | None = None,
    progress: Callable[..., Any] | None = None,
    name: str | None = None,
    title: str | None = None,
    command: str | Sequence[str] | None = None,
    **report_options: Any,
) -> tuple[dict[str, Any], list[Any]]:
    """Analyse the checkpoints of `paths` that are not in the cache and write the report.

    Arguments:
        paths: monitors' log_dirs or `gradscope.jsonl` files, folders or globs of
            checkpoints, checkpoint files (`monitor.sources.read_sources`).
        out: the report folder (`report.track_report.write_track_report`).
        lags: the lags the task needs (default: those the monitors reported).
        overrides: `Config` fields that win over each checkpoint's configuration.
        cache: the run cache (True: the default one; a folder; False or None: none).
        jobs, scheduler, progress: as for `runs.execute.run_grid`.
        name, title, command, **report_options: as for `write_track_report` (`notes`
            are added to the runs' own).

    Returns:
        `(manifest, series)`: the report's manifest and the runs drawn.
    """
    from ..report.track_report import write_track_report

    runs, series, asked = track_runs(paths, lags, overrides=overrides, cache=cache, jobs=jobs, scheduler=scheduler,
                                     progress=progress, command=None if command is None else str(command))
    notes = [*report_options.pop("notes", ()), *(note for run in runs for note in run.notes)]
    manifest = write_track_report(series, out, asked, name=name or "track", title=title, command=command,
                                  notes=notes, **report_options)
    return manifest, series
