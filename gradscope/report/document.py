"""A comparison report as a document: a list of blocks that the Markdown and HTML
renderers (`report.markdown`, `report.html`) turn into pages.

Blocks: `("h1"|"h2"|"p"|"code", text)`, `("ul", items)`, `("table", headers, rows,
align)`, `("figure", name, caption, paths)`, `("files", {name: description})`.

May import: `gradscope.figures` and everything below it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..config import varied_fields
from ..figures.comparison import FIGURES
from ..provenance import environment, network_lines
from ..results import Result, Status
from ..text.reading import grouped_warnings
from ..text.reading import reading as read
from ..text.report_table import BEST_TEXT, report_table, theory_notes

FIGURE_CAPTIONS = {
    "overlay": "Spectral gain ||P(T, T-k)||_2 against lag k for every configuration: median "
    "over trials (line) and 10-90% band; dotted: the horizon threshold eps.",
    "small_multiples": "The same curves, one panel per cell (rows) and activation (columns), shared axes.",
    "horizon": "Horizon (first lag with median gain below eps) per configuration; an open marker "
    "with an arrow at T: censored, the gain never fell below eps within T steps.",
    "sweep": "Top: growth rate against the swept field: median spectral rate (filled circles; "
    "error bars: the 10-90% range of the per-trial rates), RMS rate (open squares) and, for "
    "vanilla RNNs, the mean-field prediction 0.5 ln chi (dashed); a dotted vertical line marks "
    "the mean-field critical gain (chi = 1). Bottom: horizon on a log axis; an open marker with "
    "an upward arrow at T is censored (the gain never fell below eps within T steps). One colour "
    "per combination of the other varied fields.",
}
DATA_FILES = {
    "summary.csv": "one row per configuration (config hash, config fields, summary)",
    "summary.json": "the same as JSON",
    "curves.csv": "long format config_id, trial, lag, quantity, log_value (natural log, <= 500 log-spaced lags)",
    "table.tex": "booktabs tabular, ready to \\input",
    "manifest.json": "sha256 of every file, config hashes, command, versions",
    "runs/": "every run (result.json + curves.npz), for gradscope replot",
}


def report_document(
    results: Sequence[Result],
    labels: Sequence[str],
    title: str,
    command: str | None,
    notes: Sequence[str],
    figures: dict[str, list[Path]],
    out: Path,
    findings: Sequence[str] = (),
    captions: dict[str, str] | None = None,
    files: dict[str, str] | None = None,
    reading: Sequence[str] | None = None,
    networks: bool = True,
) -> list[tuple[Any, ...]]:
    """The report as blocks: `("h1"|"h2"|"p"|"code", text)`, `("ul", items)`,
    `("table", headers, rows, align)`, `("figure", name, caption, paths)`,
    `("files", {name: description})`. `captions` (name -> caption, in display order)
    replaces the comparison figures' captions, `files` the list of data files."""
    n = len(results)
    varied = varied_fields([r.config for r in results])
    ok = sum(r.status == Status.OK for r in results)
    prov = environment()
    doc: list[tuple[Any, ...]] = [("h1", title), ("h2", "What was run")]
    doc.append((
        "p",
        f"{n} configuration{'s' if n != 1 else ''}"
        + (f" varying {', '.join(varied)}" if varied else "")
        + f"; {ok} finished ok, {n - ok} did not. Reproduce with:",
    ))
    doc.append(("code", command or "(no command recorded: written through the Python API)"))
    if notes:
        doc.append(("ul", list(notes)))
    if networks and network_lines(results, labels):  # checkpoints and custom cells: which file, which module
        doc.append(("ul", network_lines(results, labels)))
    doc.append((
        "p",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in prov.items() if v) + ".",
    ))
    headers, rows, align = report_table(results, labels)
    doc += [("h2", "Summary"), ("table", headers, rows, align), ("p", " ".join(
        t for t in (BEST_TEXT, theory_notes(results)) if t))]
    if findings:
        doc += [("h2", "Findings"), ("ul", list(findings))]
    doc.append(("h2", "Figures"))
    captions = FIGURE_CAPTIONS if captions is None else captions
    for name in FIGURES if captions is FIGURE_CAPTIONS else captions:
        if name in figures:
            doc.append(("figure", name, captions[name], figures[name]))
    doc += [("h2", "Reading"), ("ul", list(reading) if reading is not None else read(results, labels))]
    warns = grouped_warnings(results, labels)
    if warns:
        doc += [("h2", "Warnings"), ("ul", warns)]
    doc += [("h2", "Files"), ("files", DATA_FILES if files is None else files)]
    return doc
