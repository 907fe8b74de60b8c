"""The report of training runs' gradient flow (`gradscope track`), written by
`write_report` with its folder rules.

    write_track_report(series, "reports/my-run", lags=(30,), command="gradscope track runs/gs")

The folder is a comparison report's (report.md, report.html, summary.csv/json,
table.tex, manifest.json) with one row per checkpoint in step order (led by `run` and
`step`, and the metrics logged at that step), the track figures (`trajectory`: growth
rate, lambda_1 and horizon against the training step beside the metrics; `gain_map`:
the median log gain over training step x lag) and the findings (when each run's horizon
passed the task's lag, and whether before its accuracy rose). The runs stay in the run
cache (`runs/` and `curves.csv` are left out).

May import: `gradscope.report.write`, `gradscope.figures`, `gradscope.text`, `gradscope.results`.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from ..figures.over_training import Series, track_figures
from ..text.track_findings import track_findings


def _at(points: Sequence[tuple[int, float]], step: int) -> float | None:
    for s, v in points:
        if s == step:
            return v
    return None


def write_track_report(
    series: Sequence[Series],
    out_dir: str | os.PathLike,
    lags: Sequence[int] = (),
    name: str = "track",
    title: str | None = None,
    command: str | Sequence[str] | None = None,
    notes: Sequence[str] = (),
    findings: Sequence[str] | None = None,
    *,
    width: Any = None,
    style: str | None = None,
    fontsize: float | None = None,
    formats: Sequence[str] = ("pdf", "svg", "png"),
    force: bool = False,
    on_replace: Callable[[str], None] | None = None,
    where: bool = True,
) -> dict[str, Any]:
    """Write the report of `series` (`figures.over_training.Series`, one per training
    run, checkpoints in step order) into `out_dir`, whole (see the module docstring).

    Arguments:
        series: the training runs.
        out_dir: the report folder (the folder rules of `write_report`).
        lags: the lags the task needs (drawn, and read in the findings).
        findings: sentences to state (default: `text.track_findings.track_findings`).
        where: add a note per run saying where its checkpoints are (False: the caller
            says it, e.g. when they were in a temporary folder).
        name, title, command, notes, width, style, fontsize, formats, force, on_replace:
            as for `write_report`.

    Returns:
        The manifest (`manifest.json`).
    """
    from .write import write_report

    series = [s for s in series if s.results]
    if not series:
        raise ValueError("write_track_report needs at least one analysed checkpoint")
    results = [r for s in series for r in s.results]
    names = list(dict.fromkeys(n for s in series for n in s.metrics))
    columns = [{"run": s.label, "step": step, **{n: _at(s.metrics.get(n, []), step) for n in names}}
               for s in series for step in s.steps]
    lags = list(lags)
    findings = list(findings) if findings is not None else (track_findings(series, lags) if lags else [])
    reading = [f"{s.label}: {len(s.steps)} checkpoint{'s' * (len(s.steps) != 1)} from step {s.steps[0]} to "
               f"{s.steps[-1]}" + (f"; metrics logged: {', '.join(s.metrics)}" if s.metrics else "")
               for s in series]
    notes = [*notes, *(_where(s) for s in series if where)]

    def figures(_results: Any, _labels: Any, width: Any = None, style: str | None = None,
                fontsize: float | None = None, theory: Any = None) -> dict[str, tuple[Any, str]]:
        return track_figures(series, lags, width=width, style=style, fontsize=fontsize)

    return write_report(results, out_dir, name=name, title=title, command=command, notes=notes, findings=findings,
                        width=width, style=style, fontsize=fontsize, formats=formats, force=force,
                        on_replace=on_replace, figures=figures, runs=False, theory=None, reading=reading,
                        columns=columns, networks=False,
                        labels=[f"{s.label} step {step}" for s in series for step in s.steps])


def _where(s: Series) -> str:
    """Where a run's checkpoints are, in one line (instead of one line per checkpoint)."""
    import os

    paths = [r.config.checkpoint for r in s.results if r.config.checkpoint]
    folder = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else None
    return (f"{s.label}: {len(s.results)} checkpoint{'s' * (len(s.results) != 1)}"
            + (f" in {folder}" if folder else "") + f", steps {s.steps[0]} to {s.steps[-1]}")
