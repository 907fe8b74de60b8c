"""`write_report` (`report.write`): every artefact with its hash in the manifest, figures
with real fonts and byte-identical when written again, findings kept through a replot,
and an earlier report replaced whole (a folder gradscope did not write refused).
The five-run report the report tests read is conftest's `report` fixture."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from synthetic_reports import report_grid

from gradscope.report.replot import replot
from gradscope.report.write import write_report
from gradscope.results import Result


def test_report_writes_every_artefact_with_hashes(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, manifest, results = report
    for name in ("report.md", "report.html", "summary.csv", "summary.json", "curves.csv", "table.tex", "manifest.json"):
        assert (out / name).is_file(), name
    for fig in ("overlay", "small_multiples", "horizon"):
        for ext in ("pdf", "svg", "png"):
            assert (out / "figures" / f"{fig}.{ext}").stat().st_size > 1000
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest))
    assert manifest["config_keys"] == [r.config.key() for r in results]
    assert manifest["command"] == "gradscope compare --cell rnn,lstm,gru"
    assert {"gradscope", "numpy", "torch", "python"} <= set(manifest["provenance"])
    paths = {a["path"] for a in manifest["artefacts"]}
    assert "figures/overlay.pdf" in paths and f"runs/{results[0].config.key()}/curves.npz" in paths
    for art in manifest["artefacts"]:
        assert hashlib.sha256((out / art["path"]).read_bytes()).hexdigest() == art["sha256"]


def test_pdf_figures_have_no_type3_fonts(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, _ = report
    for pdf in (out / "figures").glob("*.pdf"):
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF")
        assert b"/Type3" not in data, pdf.name
        fonts = re.findall(rb"/Subtype\s*/(Type1|TrueType|Type0|CIDFontType2|Type3)", data)
        assert fonts, pdf.name  # text is embedded as real fonts (Type 42 = TrueType)


def test_report_figures_are_byte_identical(report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    out, _, results = report
    write_report(
        results, tmp_path / "again", name="cells", title="Cells & activations",
        command=["gradscope", "compare", "--cell", "rnn,lstm,gru"], notes=["skipped rnn exponents=100"],
    )
    first = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (out / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel


def test_findings_are_rendered_kept_and_replotted(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    results = [make_result("rnn", "tanh", rate=-0.2), make_result("gru", "tanh", rate=-0.05)]
    findings = ["The GRU keeps a gradient 4x as long as the RNN (horizon figure).", "A second <finding> & more."]
    out = tmp_path / "r"
    manifest = write_report(results, out, name="f", findings=findings, formats=("svg",))
    assert manifest["findings"] == findings
    md = (out / "report.md").read_text()
    assert md.index("## Summary") < md.index("## Findings") < md.index("## Figures")
    assert "- The GRU keeps a gradient 4x as long as the RNN (horizon figure)." in md
    page = (out / "report.html").read_text()
    assert "<h2>Findings</h2>" in page and "A second &lt;finding&gt; &amp; more." in page
    replot(out, style="screen", formats=("svg",))
    assert json.loads((out / "manifest.json").read_text())["findings"] == findings
    assert "## Findings" in (out / "report.md").read_text()
    write_report(results, tmp_path / "none", formats=("svg",))
    assert "Findings" not in (tmp_path / "none" / "report.md").read_text()


def test_writing_a_report_replaces_an_earlier_one_whole(make_result: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "r"
    five = report_grid(make_result)
    write_report(five, out, name="five", formats=("svg",))
    said: list[str] = []
    write_report(five[:3], out, name="three", formats=("svg",), on_replace=said.append)
    assert len(list((out / "runs").iterdir())) == 3  # no stale runs from the earlier report
    assert said == ["the earlier report 'five' (5 runs)"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(ValueError, match="gradscope did not write .*--force"):
        write_report(five[:1], mine, formats=("svg",))
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]  # refused before anything was written
    write_report(five[:1], mine, formats=("svg",), force=True)
    assert (mine / "notes.txt").read_text() == "my notes" and (mine / "report.md").is_file()

    # the inputs a script wrote beside its report (a training script's checkpoints) move
    # into the new report when asked; everything else of the earlier one goes
    write_report(five[:2], mine, formats=("svg",), keep=("notes.txt", "absent.pt"))
    assert (mine / "notes.txt").read_text() == "my notes" and len(list((mine / "runs").iterdir())) == 2
    write_report(five[:2], mine, formats=("svg",))
    assert not (mine / "notes.txt").exists()
