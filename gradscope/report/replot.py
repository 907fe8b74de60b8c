"""Redraw the figures of a run folder or a report folder from saved data, never
recomputing and never changing a number or a document of the folder it reads.

    replot("runs/lstm", width="icml")                    # the figures, in place
    replot("reports/cells", select=["lstm tanh N=64"], out="scratch/lstm")  # a new folder

In place, only the figures change, every format that the folder holds (and any asked
for) at once, so its PDF, SVG and PNG never disagree; a report's `report.html` gets the
new figures inlined (its text is left as it was) and its `manifest.json` the new hashes
and figure options. With `out`, the run or report (a subset of it, with `select`) is
written whole as a new folder; the folder read is never changed.

May import: `gradscope.report.write`, `gradscope.figures` and everything below.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path
from typing import Any, Callable, Sequence

from ..results import Result

DEFAULT_FORMATS = ("pdf", "svg", "png")
_RUN_FILES = ("result.json", "curves.npz", "summary.txt")


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
    chosen, missing = [], []
    for name in select:
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
    *,
    force: bool = False,
    command: str | None = None,
    on_replace: Callable[[str], None] | None = None,
    theory: Any = None,
) -> list[Path]:
    """Redraw every figure of a run folder or report folder from its saved data.

    Arguments:
        path: a run folder (or its `result.json`): its decay figure and, for a run
            with a Lyapunov spectrum, its spectrum figure are redrawn; or a report
            folder (or its `manifest.json`): the report's figures are redrawn.
        width: inches or a venue name (`style.VENUE_WIDTHS`); default: as before.
        style: `paper` or `screen`; default: a report's recorded style, else `paper`.
        formats: figure formats to write. In place, every format the folder already
            holds is redrawn as well, so no two formats disagree.
        fontsize: base font size in points.
        select: report only: config keys or labels of the runs to keep; the subset is
            written as a new report, so `out` is required.
        out: write a new folder (replacing an earlier gradscope folder there whole; a
            folder gradscope did not write only with `force`) instead of redrawing in place.
        command: the command line of this replot, recorded in a new report's "Reproduce
            with" after the command that made the source (default: built from the arguments).
        on_replace: called with a few words on what was replaced at `out`, if anything.
        theory: the mean-field lookups a report's figures draw (what `gradscope.replot`
            hands in); None draws no theory lines.

    Returns:
        The files written.
    """
    kind, folder = folder_kind(path)
    if select and out is None:
        raise ValueError("--select writes the chosen runs as a new report: give --out DIR "
                         "(the source report is never changed)")
    if out is not None and Path(out).resolve() == folder.resolve():
        raise ValueError(f"--out {str(out)!r} is the folder being replotted: leave --out out to redraw "
                         "its figures in place, or choose a new folder")
    if kind == "run" and select:
        raise ValueError("--select applies to a report folder, not to a single run")
    opts = dict(width=width, style=style, formats=formats, fontsize=fontsize)
    if kind == "run":
        return _run(folder, Path(out) if out is not None else None, force, on_replace, **opts)
    if out is None:
        return _report_in_place(folder, theory=theory, **opts)
    command = command or _replot_command(folder, out, select, **opts)
    return _report_to(folder, Path(out), select, force, command, on_replace, theory=theory, **opts)


def _replot_command(folder: Path, out: Any, select: Sequence[str] | None, **opts: Any) -> str:
    parts = ["gradscope", "replot", str(folder)]
    if select:
        parts += ["--select", ",".join(select)]
    for name in ("width", "style", "fontsize"):
        if opts.get(name) is not None:
            parts += [f"--{name}", str(opts[name])]
    if opts.get("formats"):
        parts += ["--format", ",".join(opts["formats"])]
    return shlex.join(parts + ["--out", str(out)])


def _present(folder: Path, stem: str) -> list[str]:
    """The figure formats `folder/stem.*` already has."""
    return [fmt for fmt in DEFAULT_FORMATS if (folder / f"{stem}.{fmt}").is_file()]


def _run(folder: Path, out: Path | None, force: bool, on_replace: Callable[[str], None] | None,
         width: Any, style: str | None, formats: Sequence[str] | None, fontsize: float | None) -> list[Path]:
    from ..figures.decay_figure import decay_figure
    from ..figures.spectrum_figure import has_spectrum, spectrum_figure
    from ..figures.style import save_figures
    from .folder import output_folder

    result = Result.load(folder)
    kw: dict[str, Any] = {"style": style or "paper", "fontsize": fontsize}
    if width is not None:
        kw["width"] = width
    figures = [(stem, draw(result, **kw))
               for stem, draw, has in (("decay", decay_figure, "log_spectral" in result.curves),
                                       ("spectrum", spectrum_figure, has_spectrum(result)))
               if has]  # a decay run, a spectrum run, or both (decay --exponents)
    present = [fmt for stem, _ in figures for fmt in _present(folder, stem)]
    wanted = list(dict.fromkeys([*(formats or ()), *present])) or list(DEFAULT_FORMATS)
    if out is None:
        return save_figures([(fig, folder / stem) for stem, fig in figures], formats=wanted)
    with output_folder(out, force=force) as target:
        for name in _RUN_FILES:  # the numbers are copied byte for byte, never rewritten
            if (folder / name).is_file():
                shutil.copyfile(folder / name, target.path / name)
        written = save_figures([(fig, target.path / stem) for stem, fig in figures], formats=formats or wanted)
    if target.replaced and on_replace is not None:
        on_replace(target.replaced)
    return [out / p.name for p in written]


def _options(manifest: dict[str, Any], width: Any, style: str | None, fontsize: float | None) -> tuple[Any, str, Any]:
    opts = manifest.get("figure_options") or {}
    if not isinstance(opts, dict):
        raise ValueError(f"manifest.json: figure_options is {type(opts).__name__}, not an object")
    return (width if width is not None else opts.get("width"), style or opts.get("style") or "paper",
            fontsize if fontsize is not None else opts.get("fontsize"))


def _report_in_place(folder: Path, width: Any, style: str | None, formats: Sequence[str] | None,
                     fontsize: float | None, theory: Any = None) -> list[Path]:
    """New figures in every format the report holds (and those asked for), the HTML's
    inlined figures and the manifest's hashes; nothing else is touched."""
    from ..provenance import sha256_file
    from ..results import json_safe, write_text_atomic
    from .html import replace_figures
    from .write import load_report_results, write_figures

    manifest, results = load_report_results(folder)
    width, style, fontsize = _options(manifest, width, style, fontsize)
    held = {fmt for p in (folder / "figures").glob("*.*") for fmt in [p.suffix[1:]] if fmt in DEFAULT_FORMATS}
    wanted = tuple(dict.fromkeys([*(formats or ()), *sorted(held), "svg"]))
    figures = write_figures(results, folder, width, style, fontsize, wanted, theory)
    written = [p for paths in figures.values() for p in paths]
    page = folder / "report.html"
    if page.is_file():
        svgs = {name: (folder / "figures" / f"{name}.svg").read_text(encoding="utf-8") for name in figures}
        write_text_atomic(page, replace_figures(page.read_text(encoding="utf-8"), svgs))
        written.append(page)
    if manifest:
        changed = {p.relative_to(folder).as_posix() for p in written}
        known = {a["path"] for a in manifest.get("artefacts", [])}
        arts = [a for a in manifest.get("artefacts", [])]
        arts += [{"path": p} for p in sorted(changed - known)]
        for art in arts:
            if art["path"] in changed:
                art.update(sha256=sha256_file(folder / art["path"]), bytes=(folder / art["path"]).stat().st_size)
        manifest["artefacts"] = sorted(arts, key=lambda a: a["path"])
        manifest["figure_options"] = {"width": width, "style": style, "fontsize": fontsize, "formats": list(wanted)}
        write_text_atomic(folder / "manifest.json", json.dumps(json_safe(manifest), indent=2) + "\n")
        written.append(folder / "manifest.json")
    return written


def _report_to(folder: Path, out: Path, select: Sequence[str] | None, force: bool, command: str,
               on_replace: Callable[[str], None] | None, width: Any, style: str | None,
               formats: Sequence[str] | None, fontsize: float | None, theory: Any = None) -> list[Path]:
    """The report (or the `select`ed subset) written whole as a new folder `out`."""
    from ..config.naming import unique_labels
    from .write import load_report_results, write_report

    manifest, results = load_report_results(folder)
    if select:
        results = [results[i] for i in _select(results, unique_labels([r.config for r in results]), select)]
    width, style, fontsize = _options(manifest, width, style, fontsize)
    formats = tuple(formats or (manifest.get("figure_options") or {}).get("formats") or DEFAULT_FORMATS)
    name = manifest.get("name") or folder.name
    source = manifest.get("command")
    notes = list(manifest.get("notes") or ())
    findings = list(manifest.get("findings") or ())
    if select:  # the source's findings were measured on all of its runs
        notes.append(f"{len(results)} of the {len(manifest.get('config_keys') or [])} configurations of "
                     f"{folder}; its findings (measured on all of them) are not repeated here.")
        findings = []
    new = write_report(
        results, out, name=name, title=manifest.get("title") or name,
        command="\n".join(c for c in (source, command) if c), notes=notes, findings=findings,
        width=width, style=style, fontsize=fontsize, formats=formats, force=force, on_replace=on_replace,
        theory=theory,
    )
    return [out / a["path"] for a in new["artefacts"]]
