"""`write_report`: a comparison report folder, written whole, and read back.

`write_report(results, out_dir, ...)` writes into `out_dir`: `report.md`, a
self-contained `report.html` (figures inlined as SVG), `summary.csv`, `summary.json`,
`curves.csv` (long format, <= 500 log-spaced lags per curve), `table.tex` (booktabs),
the figures (`figures/{overlay,small_multiples,horizon,sweep}.{pdf,svg,png}`), every run
(`runs/<config key>/`, for `replot`) and `manifest.json` (sha256 of each file, config
keys, command, versions, findings). `load_report_results` reads a report's runs back.
A sweep (`report.sweep_report`) passes its own figures and leaves out the per-run
files (`figures=`, `runs=False`).

May import: `gradscope.figures` and everything below it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from ..config.naming import unique_labels
from ..figures.comparison import report_figures
from ..figures.style import save_figures
from ..provenance import command_text as _command_text
from ..provenance import environment, sha256_file
from ..results import Result, json_safe, write_text_atomic
from .document import DATA_FILES, FIGURE_CAPTIONS, report_document
from .files import summary_rows, write_curves_csv, write_summary_csv
from .folder import output_folder
from .html import to_html
from .latex import latex_table
from .markdown import to_markdown

MANIFEST_SCHEMA = 1


def write_report(
    results: Sequence[Result],
    out_dir: str | os.PathLike,
    name: str = "compare",
    title: str | None = None,
    command: str | Sequence[str] | None = None,
    notes: Sequence[str] = (),
    *,
    findings: Sequence[str] = (),
    width: float | str | None = None,
    style: str | None = None,
    fontsize: float | None = None,
    formats: Sequence[str] = ("pdf", "svg", "png"),
    force: bool = False,
    on_replace: Callable[[str], None] | None = None,
    figures: Callable[..., dict[str, tuple[Any, str]]] | None = None,
    runs: bool = True,
    keep: Sequence[str] = (),
    theory: Any = None,
    reading: Sequence[str] | None = None,
    columns: Sequence[dict[str, Any]] | None = None,
    networks: bool = True,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write the comparison report of `results` as the folder `out_dir`, whole.

    An earlier gradscope folder at `out_dir` is replaced as a whole (its stale runs and
    figures go with it); a folder gradscope did not write is refused (`ValueError`)
    unless `force`, and then written into, its other files kept (`report.folder`).

    Arguments:
        results: one `Result` per configuration, in display order.
        out_dir: the report folder.
        name, title: the report's short name and its heading (default: the name).
        command: the command line that reproduces it (a string or argv list).
        notes: sentences to print under "What was run" (e.g. skipped combinations).
        findings: sentences that state what the experiment shows, each with its measured
            number (a script computes them); rendered as a "Findings" section after the
            summary table and kept in `manifest.json`, so `replot` keeps them.
        width, style, fontsize, formats: figure options (`figures.style`); `svg` is
            always written as well, since the HTML inlines it.
        force: write into a folder that is not a gradscope output.
        on_replace: called with a few words on what was replaced (`the earlier report
            'cells' (12 runs)`), when something was.
        figures: instead of the comparison figures, `figures(results, labels, width=,
            style=, fontsize=) -> {name: (Figure, caption)}` (a sweep's phase diagrams).
        runs: False leaves out `runs/` and `curves.csv` (a sweep of thousands of runs
            keeps its runs in the cache; the report needs only their summaries).
        keep: names in an earlier report at `out_dir` that move into the new one
            (inputs its runs read, such as checkpoints written beside the report).
        theory: the mean-field lookups the figures draw beside the measurement
            (`numerics.theory.critical.MeanFieldTheory`, which `gradscope.write_report`
            hands in); None draws no theory lines.
        reading: the report's generated reading, when the caller has it already (it is
            computed from `results` otherwise).
        columns: one dict per result of values that lead its row in `summary.csv` and
            `summary.json` (a training run's `series` and `step`).
        networks: list each checkpoint's file and module under "What was run" (False:
            the caller says what they are, as a training run's report does).
        labels: one name per result for its row (default: what tells the
            configurations apart, `config.naming.unique_labels`).

    Returns:
        The manifest (also written as `manifest.json`): every file with its sha256,
        the config keys, the command, the versions and the findings.
    """
    results = list(results)
    if not results:
        raise ValueError("write_report needs at least one result")
    with output_folder(out_dir, force=force, keep=tuple(keep)) as folder:
        manifest = _write(results, folder.path, name, title, command, notes, findings,
                          width, style, fontsize, formats, figures, runs, theory, reading, columns, networks,
                          labels)
    if folder.replaced and on_replace is not None:
        on_replace(folder.replaced)
    return manifest


def _write(results: list[Result], out: Path, name: str, title: str | None, command: Any,
           notes: Sequence[str], findings: Sequence[str], width: Any, style: str | None,
           fontsize: float | None, formats: Sequence[str], builder: Callable[..., Any] | None,
           runs: bool, theory: Any = None, reading: Sequence[str] | None = None,
           columns: Sequence[dict[str, Any]] | None = None, networks: bool = True,
           labels: Sequence[str] | None = None) -> dict[str, Any]:
    """Every file of the report, into the (new, empty) folder `out`."""
    (out / "figures").mkdir(parents=True, exist_ok=True)
    title = title or name
    command_text = _command_text(command)
    labels = list(labels) if labels is not None else unique_labels([r.config for r in results])
    notes = list(notes)
    findings = [str(f) for f in findings]

    for result in results if runs else ():  # per-run data, so that replot never recomputes
        result.save(out / "runs" / result.config.key())

    formats = tuple(dict.fromkeys([*formats, "svg"]))
    drawn = _draw(results, labels, width, style, fontsize, builder, theory)
    figures = _save(drawn, out, formats)

    rows = summary_rows(results, labels)
    if columns is not None:
        rows = [{**json_safe(dict(lead)), **row} for lead, row in zip(columns, rows)]
    write_summary_csv(out / "summary.csv", rows)
    write_text_atomic(out / "summary.json", json.dumps(rows, indent=2, allow_nan=False) + "\n")
    if runs:
        write_curves_csv(out / "curves.csv", results)
    write_text_atomic(out / "table.tex", latex_table(results, labels))

    files = DATA_FILES if runs else {k: v for k, v in DATA_FILES.items() if k not in ("curves.csv", "runs/")}
    doc = report_document(results, labels, title, command_text, notes, figures, out, findings=findings,
                          captions={k: c for k, (_, c) in drawn.items()}, files=files, reading=reading,
                          networks=networks)
    write_text_atomic(out / "report.md", to_markdown(doc))
    write_text_atomic(out / "report.html", to_html(doc, title))

    manifest = {
        "schema_version": MANIFEST_SCHEMA,
        "name": name,
        "title": title,
        "command": command_text,
        "notes": notes,
        "findings": findings,
        "configs": [
            {"config_id": r.config.key(), "label": lab, "status": r.status,
             "run": f"runs/{r.config.key()}" if runs else None}
            for r, lab in zip(results, labels)
        ],
        "config_keys": [r.config.key() for r in results],
        "figure_options": {"width": width, "style": style or "paper", "fontsize": fontsize, "formats": list(formats)},
        "provenance": environment(),
        "artefacts": _artefacts(out, results if runs else [], figures, runs),
    }
    write_text_atomic(out / "manifest.json", json.dumps(json_safe(manifest), indent=2) + "\n")
    return manifest


def write_figures(results: Sequence[Result], out: Path, width: Any, style: str | None,
                  fontsize: float | None, formats: Sequence[str], theory: Any = None) -> dict[str, list[Path]]:
    """Draw every report figure that applies and save them all at once (every format of
    every figure renamed into place together) under `out/figures/`."""
    labels = unique_labels([r.config for r in results])
    return _save(_draw(results, labels, width, style, fontsize, None, theory), out, formats)


def _draw(results: Sequence[Result], labels: Sequence[str], width: Any, style: str | None,
          fontsize: float | None, builder: Callable[..., Any] | None, theory: Any = None
          ) -> dict[str, tuple[Any, str]]:
    """`{name: (Figure, caption)}`: the comparison figures, or `builder`'s."""
    if builder is not None:
        return builder(results, labels, width=width, style=style, fontsize=fontsize, theory=theory)
    figs = report_figures(results, labels, width=width, style=style, fontsize=fontsize, theory=theory)
    return {name: (fig, FIGURE_CAPTIONS[name]) for name, fig in figs.items()}


def _save(drawn: dict[str, tuple[Any, str]], out: Path, formats: Sequence[str]) -> dict[str, list[Path]]:
    (out / "figures").mkdir(parents=True, exist_ok=True)
    written = save_figures([(fig, out / "figures" / name) for name, (fig, _) in drawn.items()], formats=formats)
    return {name: [p for p in written if p.stem == name] for name in drawn}


def _artefacts(out: Path, results: Sequence[Result], figures: dict[str, list[Path]],
               runs: bool = True) -> list[dict[str, Any]]:
    names = ("report.md", "report.html", "summary.csv", "summary.json", "curves.csv", "table.tex")
    paths = [out / n for n in names if runs or n != "curves.csv"]
    for written in figures.values():
        paths.extend(written)
    for r in results:
        run = out / "runs" / r.config.key()
        paths.extend([run / "result.json", run / "curves.npz"])
    return [
        {"path": p.relative_to(out).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in sorted(dict.fromkeys(paths))
    ]


def load_report_results(report_dir: str | os.PathLike) -> tuple[dict[str, Any], list[Result]]:
    """The manifest of a report folder and its runs (from `runs/<key>/`), in report order."""
    report_dir = Path(report_dir)
    try:
        manifest = json.loads((report_dir / "manifest.json").read_text(encoding="utf-8"))
        keys = list(manifest["config_keys"])
    except (OSError, ValueError, KeyError, TypeError):
        manifest = {}
        keys = sorted(p.name for p in (report_dir / "runs").glob("*") if (p / "result.json").is_file())
    if manifest.get("configs") and all(c.get("run") is None for c in manifest["configs"]):
        raise ValueError(f"{report_dir} is a sweep report: its runs stay in the run cache, not in the folder; "
                         "run the same `gradscope sweep` command with the new figure options (cached runs are "
                         "not recomputed)")
    if not keys:
        raise ValueError(f"{report_dir} holds no runs (no manifest.json or runs/*/result.json)")
    from ..config.checks import plain_name

    bad = [k for k in keys if not plain_name(k)]
    if bad:  # a key names a folder under runs/, never a path out of the report
        raise ValueError(f"{report_dir}/manifest.json: config key {bad[0]!r} is not a run folder's name")
    results = [Result.load(report_dir / "runs" / key) for key in keys]
    return manifest, results
