"""Redraw the figures of a run folder or a report folder from saved data, never
recomputing: a different width, style, font size or format for a paper.

    replot("runs/lstm", width="icml", formats=("pdf",))      # decay figure of one run
    replot("reports/cells", style="screen", select=["rnn tanh N=64"])

May import: `gradscope.report.write`, `gradscope.figures` and everything below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ..results import Result

DEFAULT_FORMATS = ("pdf", "svg", "png")


def folder_kind(path: str | os.PathLike) -> tuple[str, Path]:
    """`("run", folder)` for a folder with `result.json` (or the file itself),
    `("report", folder)` for a report folder (`manifest.json` or `runs/`)."""
    p = Path(path)
    if p.is_file():
        if p.name == "result.json":
            return "run", p.parent
        if p.name == "manifest.json":
            return "report", p.parent
        raise ValueError(f"{p} is neither a result.json nor a report's manifest.json")
    if not p.is_dir():
        raise ValueError(f"{p} does not exist")
    if (p / "manifest.json").is_file() or (p / "runs").is_dir():
        return "report", p
    if (p / "result.json").is_file():
        return "run", p
    raise ValueError(
        f"{p} holds neither a run (result.json + curves.npz) nor a report (manifest.json, runs/)"
    )


def _select(results: list[Result], labels: list[str], select: Sequence[str]) -> list[int]:
    """Indices of the results named in `select` (config keys or labels); unknown names
    are an error listing the choices."""
    wanted = list(select)
    chosen, missing = [], []
    for name in wanted:
        hits = [i for i, (r, lab) in enumerate(zip(results, labels))
                if name in (r.config.key(), lab, r.config.label())]
        if not hits:
            missing.append(name)
        chosen.extend(hits)
    if missing:
        choices = "; ".join(f"{r.config.key()} ({lab})" for r, lab in zip(results, labels))
        raise ValueError(f"no run named {', '.join(map(repr, missing))}; choose from: {choices}")
    return sorted(set(chosen))


def replot(
    path: str | os.PathLike,
    width: float | str | None = None,
    style: str | None = None,
    formats: Sequence[str] | None = None,
    fontsize: float | None = None,
    select: Sequence[str] | None = None,
    out: str | os.PathLike | None = None,
) -> list[Path]:
    """Redraw every figure of a run folder or report folder from its saved data.

    Arguments:
        path: a run folder (or its `result.json`): its decay figure and, for a run
            with a Lyapunov spectrum, its spectrum figure are redrawn; or a
            report folder (or its `manifest.json`): the report is rewritten from its
            saved runs (`runs/<key>/`) with the new figure options, so the HTML's
            inlined figures and the manifest's hashes stay true (its notes and
            findings are kept).
        width: inches or a venue name (`style.VENUE_WIDTHS`); default: the figure's own.
        style: `paper` or `screen`; default: a report's recorded style, else `paper`.
        formats: figure formats; default: a report's recorded formats, else pdf, svg, png.
        fontsize: base font size in points.
        select: report only: config keys or labels of the runs to keep.
        out: write here instead of in place (a report's runs are copied along).

    Returns:
        The files written.
    """
    kind, folder = folder_kind(path)
    target = Path(out) if out is not None else folder
    if kind == "run":
        if select:
            raise ValueError("select applies to a report folder, not to a single run")
        return _replot_run(folder, target, width, style, formats, fontsize)
    return _replot_report(folder, target, width, style, formats, fontsize, select)


def _replot_run(
    folder: Path, target: Path, width: Any, style: str | None,
    formats: Sequence[str] | None, fontsize: float | None,
) -> list[Path]:
    from ..figures.decay import decay_figure
    from ..figures.spectrum import has_spectrum, spectrum_figure
    from ..figures.style import save_figure

    result = Result.load(folder)
    target.mkdir(parents=True, exist_ok=True)
    kw: dict[str, Any] = {"style": style or "paper", "fontsize": fontsize}
    if width is not None:
        kw["width"] = width
    written = []
    for stem, draw, has in (("decay", decay_figure, "log_spectral" in result.curves),
                            ("spectrum", spectrum_figure, has_spectrum(result))):
        if has:  # a decay run, a spectrum run, or both (decay --exponents)
            written += save_figure(draw(result, **kw), target / stem, formats=tuple(formats or DEFAULT_FORMATS))
    if target != folder:
        result.save(target)
    return written


def _replot_report(
    folder: Path, target: Path, width: Any, style: str | None,
    formats: Sequence[str] | None, fontsize: float | None, select: Sequence[str] | None,
) -> list[Path]:
    from ..results import unique_labels
    from .write import load_report_results, write_report

    manifest, results = load_report_results(folder)
    if select:
        keep = _select(results, unique_labels(results), select)
        results = [results[i] for i in keep]
    opts = manifest.get("figure_options") or {}
    width = width if width is not None else opts.get("width")
    style = style or opts.get("style") or "paper"
    fontsize = fontsize if fontsize is not None else opts.get("fontsize")
    formats = tuple(formats or opts.get("formats") or DEFAULT_FORMATS)
    name = manifest.get("name") or folder.name
    new = write_report(
        results, target, name=name, title=manifest.get("title") or name,
        command=manifest.get("command"), notes=manifest.get("notes") or (),
        findings=manifest.get("findings") or (),
        width=width, style=style, fontsize=fontsize, formats=formats,
    )
    return [target / a["path"] for a in new["artefacts"]]
