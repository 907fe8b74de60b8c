"""The report of a sweep: its phase figures and findings, written by `write_report`.

    write_sweep_report(results, "reports/phase", measures=["growth_rate", "lambda_1"],
                       theory=MeanFieldTheory())

The folder is a comparison report's (report.md, report.html, summary.csv/json,
table.tex, manifest.json) with the sweep's figures (`figures.phase`) instead of the
per-run curves, and without `runs/` and `curves.csv`: the runs stay in the cache, and
a sweep of thousands of runs needs only their summaries. The mean-field lines and
findings come from the `theory` lookups the caller hands in.

May import: `gradscope.report.write`, `gradscope.figures`, `gradscope.text`, `gradscope.results`.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from ..figures.phase import MAX_SLICES, phase_figures
from ..figures.slices import MEASURES, sweep_layout
from ..results import Result
from ..text.findings import sweep_findings
from .write import write_report


def write_sweep_report(
    results: Sequence[Result],
    out_dir: str | os.PathLike,
    measures: Sequence[str] = ("growth_rate",),
    name: str = "sweep",
    title: str | None = None,
    command: str | Sequence[str] | None = None,
    notes: Sequence[str] = (),
    findings: Sequence[str] | None = None,
    theory: Any = None,
    **figure_options: Any,
) -> dict[str, Any]:
    """Write the report of a sweep into `out_dir` (see the module docstring).

    `findings` default to `sweep_findings` (where each rate changes sign along the gain,
    beside mean field, from `theory`); `figure_options` are `write_report`'s `width`, `style`,
    `fontsize`, `formats`. Returns the manifest.
    """
    bad = [m for m in measures if m not in MEASURES]
    if bad or not measures:
        raise ValueError(f"measure {', '.join(bad) or '(none)'} is not one of: {', '.join(MEASURES)}")
    results = list(results)
    notes = list(notes)
    layout = sweep_layout(results)
    if not layout.axes:
        notes.append("no numeric field takes two or more values (the seed aside): nothing to draw a phase "
                      "diagram or a line over; the summary table has every run")
    elif len(layout.slices) > MAX_SLICES:
        notes.append(f"only the first {MAX_SLICES} slices are drawn; summary.csv has every run")
    if findings is None:
        findings = sweep_findings(results, measures, layout, theory)
    nan_measures = [m for m in measures if all(r.summary.get(m) is None for r in results)]
    for m in nan_measures:
        notes.append(f"no run has a value of {m}" + (" (it needs --exponents >= 1)" if m == "lambda_1" else ""))
    return write_report(results, out_dir, name=name, title=title, command=command, notes=notes,
                        findings=list(findings),
                        figures=phase_figures(measures, layout), runs=False, theory=theory, **figure_options)
