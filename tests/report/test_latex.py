"""The LaTeX table (`report.latex`): escaped, booktabs rules, the best values bold, rows
aligned, and it compiles where pdflatex is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gradscope.report.latex import latex_escape
from gradscope.results import Result


def test_table_tex_is_escaped_bold_and_aligned(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, results = report
    tex = (out / "table.tex").read_text(encoding="utf-8")
    assert tex.count(r"\begin{tabular}") == 1 and r"\begin{table}" not in tex
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"leaky\_relu" in tex and "leaky_relu" not in tex.replace(r"leaky\_relu", "")
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
    rows = [r for r in body.strip().splitlines()]
    assert len(rows) == len(results)
    assert all(r.count(" & ") == rows[0].count(" & ") for r in rows)
    lstm = rows[2]
    assert r"\textbf{$>$120}" in lstm  # longest horizon (censored) in bold
    assert r"\textbf{$-$0.020}" in lstm  # slowest decay in bold (3 decimals)
    assert "Bold: best value per column" in tex
    assert latex_escape("a_b & 50% #1 {x} ~ ^ \\") == (
        r"a\_b \& 50\% \#1 \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )


def test_table_tex_compiles(report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not on PATH: cannot compile table.tex")
    out, _, _ = report
    shutil.copy(out / "table.tex", tmp_path / "table.tex")
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
        "\\input{table.tex}\n\\end{document}\n"
    )
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
