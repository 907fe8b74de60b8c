"""Redrawing without recomputing (`report.replot`): a run's figures in place or into a
new folder, a report's figures in every format at once with its numbers untouched, and
a --select subset written elsewhere, leaving every byte of the source. (Damaged folders
on the command line: tests/cli/test_cli_replot.py.)"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from gradscope.report.replot import replot
from gradscope.results import Result


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_replot_single_run(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    run = make_result("lstm", "tanh", rate=-0.05).save(tmp_path / "run")
    written = replot(run / "result.json", width="icml", formats=("pdf", "png"))
    assert sorted(p.name for p in written) == ["decay.pdf", "decay.png"]
    assert b"/Type3" not in (run / "decay.pdf").read_bytes()
    numbers = {name: (run / name).read_bytes() for name in ("result.json", "curves.npz")}
    written = replot(run, style="screen", formats=("svg",))  # the PDF and PNG there are redrawn too
    assert sorted(p.name for p in written) == ["decay.pdf", "decay.png", "decay.svg"]
    assert {name: (run / name).read_bytes() for name in numbers} == numbers
    copy = tmp_path / "copy"
    replot(run, out=copy, formats=("svg",))  # a new run folder: the numbers copied byte for byte
    assert sorted(p.name for p in copy.iterdir()) == ["curves.npz", "decay.svg", "result.json"]
    assert (copy / "curves.npz").read_bytes() == numbers["curves.npz"]
    with pytest.raises(ValueError, match="neither"):
        replot(tmp_path)


def test_replot_select_leaves_every_byte_of_the_source(report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    out, _, results = report
    source = tmp_path / "source"
    shutil.copytree(out, source)
    before = _snapshot(source)
    with pytest.raises(ValueError, match="--select .* give --out"):
        replot(source, select=["lstm tanh N=8"])  # a subset never goes into the source
    sub = tmp_path / "subset"
    replot(source, select=["lstm tanh N=8", "rnn sigmoid N=8"], out=sub, width=3.25, formats=("svg",),
           command="gradscope replot source --select 'lstm tanh N=8,rnn sigmoid N=8' --out subset")
    assert _snapshot(source) == before  # not one byte of the source changed, nothing added
    manifest = json.loads((sub / "manifest.json").read_text())
    assert manifest["config_keys"] == [results[0].config.key(), results[2].config.key()]
    assert sorted(p.name for p in (sub / "runs").iterdir()) == sorted(manifest["config_keys"])
    md = (sub / "report.md").read_text()
    assert "gradscope compare --cell rnn,lstm,gru\ngradscope replot source --select" in md  # how to reproduce it
    assert "2 of the 5 configurations" in md
    for art in manifest["artefacts"]:
        assert hashlib.sha256((sub / art["path"]).read_bytes()).hexdigest() == art["sha256"]
    with pytest.raises(ValueError, match="is the folder being replotted"):
        replot(source, out=source)


def test_plain_replot_changes_the_figures_only_all_formats_at_once(report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    out, _, _ = report
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = _snapshot(copy)
    replot(copy, width=3.25, style="screen", formats=("png",))  # asks for PNG: PDF and SVG are redrawn too
    after = _snapshot(copy)
    assert set(after) == set(before)
    changed = {name for name in after if after[name] != before[name]}
    figures = {name for name in before if name.startswith("figures/")}
    assert figures <= changed  # every format of every figure, so they never disagree
    assert changed - figures == {"report.html", "manifest.json"}  # numbers, report.md, CSV, TeX, runs/: as they were
    strip = lambda page: re.sub(r"<figure .*?</figure>", "", page.decode(), flags=re.S)  # noqa: E731
    assert strip(after["report.html"]) == strip(before["report.html"])  # the page's text is untouched
    assert "<svg" in after["report.html"].decode()
    manifest = json.loads(after["manifest.json"])
    assert manifest["figure_options"]["style"] == "screen" and manifest["figure_options"]["width"] == 3.25
    for art in manifest["artefacts"]:
        assert hashlib.sha256(after[art["path"]]).hexdigest() == art["sha256"], art["path"]
