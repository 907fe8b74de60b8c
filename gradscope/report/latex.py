"""The summary table as a booktabs `tabular`, ready to `\\input`.

May import: `gradscope.results`, `gradscope.text.report_table`.
"""

from __future__ import annotations

from typing import Sequence

from ..results import Result, Status
from ..text.report_table import best_rows, cell_text, columns_of, status_text

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text."""
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in str(text))


def _tex_number(text: str) -> str:
    if text.startswith("> "):
        return f"$>${text[2:]}"
    return f"$-${text[1:]}" if text.startswith("-") else text


def latex_table(results: Sequence[Result], labels: Sequence[str]) -> str:
    """A booktabs `tabular` (no float) of the summary, numbers right-aligned with fixed
    decimals, the best value per ranked column in bold; ready to `\\input`."""
    cols = columns_of(results)
    best = {c.key: best_rows(results, c) for c in cols}
    ranked = ", ".join(
        f"{c.key}: {'longest' if c.best == 'max' else 'closest to 0'}" for c in cols if c.best
    )
    status = any(r.status != Status.OK for r in results)  # a status column only when it says something
    spec = ("ll" if status else "l") + "".join("l" if c.decimals is None else "r" for c in cols)
    head1, head2 = (["Configuration", "Status"], ["", ""]) if status else (["Configuration"], [""])
    for c in cols:
        head1.append(c.tex)
        head2.append(f"({latex_escape(c.unit)})" if c.unit else "")
    lines = [
        "% gradscope comparison table; needs \\usepackage{booktabs}.",
        f"% Bold: best value per column ({ranked}); a censored horizon $>$T counts as T.",
        "% Rates: natural log per step. Pascanu: upper bound (rnn); mean field: RMS rate (rnn).",
        "% Many columns: place it in a table* (two-column width) or \\resizebox{\\linewidth}{!}{...}.",
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(head1) + r" \\",
        " & ".join(head2) + r" \\",
        "\\midrule",
    ]
    for i, (r, lab) in enumerate(zip(results, labels)):
        cells = [latex_escape(lab)] + ([latex_escape(status_text(r))] if status else [])
        for c in cols:
            t = cell_text(r, c)
            if t is None:
                cells.append("--")
            elif c.decimals is None:
                cells.append(latex_escape(t))
            else:
                t = _tex_number(t)
                cells.append(f"\\textbf{{{t}}}" if i in best[c.key] else t)
        lines.append(" & ".join(cells) + r" \\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"
