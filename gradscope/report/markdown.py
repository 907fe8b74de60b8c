"""Render a report document (`report.document`) as GitHub-flavoured Markdown.

May import: nothing of gradscope's.
"""

from __future__ import annotations

import re
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_\[\]])")


def _md(text: str, table: bool = False) -> str:
    text = _MD_SPECIAL.sub(r"\\\1", str(text))
    return text.replace("|", "\\|") if table else text


def to_markdown(doc: list[tuple[Any, ...]]) -> str:
    """Render report blocks as GitHub-flavoured Markdown (figures by relative link)."""
    lines: list[str] = []
    for block in doc:
        kind = block[0]
        if kind in ("h1", "h2"):
            lines += ["#" * int(kind[1]) + " " + _md(block[1]), ""]
        elif kind == "p":
            lines += [_md(block[1]), ""]
        elif kind == "code":
            lines += ["```sh", block[1], "```", ""]
        elif kind == "ul":
            lines += [f"- {_md(item)}" for item in block[1]] + [""]
        elif kind == "table":
            _, headers, rows, align = block
            lines.append("| " + " | ".join(_md(h, True) for h in headers) + " |")
            lines.append("|" + "|".join("---:" if a == "r" else ":---" for a in align) + "|")
            for row in rows:
                cells = [f"**{_md(t, True)}**" if bold and t != "-" else _md(t, True) for t, bold in row]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
        elif kind == "figure":
            _, name, caption, paths = block
            by_ext = {p.suffix[1:]: f"figures/{p.name}" for p in paths}
            shown = by_ext.get("png") or by_ext.get("svg")
            lines.append(f"![{name}]({shown})")
            lines.append("")
            links = " · ".join(f"[{ext.upper()}]({by_ext[ext]})" for ext in ("pdf", "svg", "png") if ext in by_ext)
            lines += [f"*{_md(caption)}* {links}", ""]
        elif kind == "files":
            lines += [f"- [{_md(name)}]({name}): {_md(desc)}" for name, desc in block[1].items()] + [""]
    return "\n".join(lines).rstrip() + "\n"
