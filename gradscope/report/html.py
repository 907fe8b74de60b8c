"""Render a report document (`report.document`) as one self-contained HTML page.

May import: nothing of gradscope's.
"""

from __future__ import annotations

import html
import re
from typing import Any

_HTML_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 1rem 0; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; }
th { border-bottom: 2px solid #444; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.l, th.l { text-align: left; }
td.bad { color: #b00; }
pre { background: #f5f5f5; padding: 0.6rem; overflow-x: auto; }
figure { margin: 1.5rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #444; }
"""


def inline_svg(svg: str, prefix: str) -> str:
    """SVG markup ready to inline in HTML: no XML prolog, doctype or metadata, and every
    id (and its `#id` / `url(#id)` references) prefixed, so figures never clash."""
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.S)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        pattern = re.compile(r'(\bid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r')(?=["\)])')
        svg = pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    return svg.strip()


def replace_figures(page: str, svgs: dict[str, str]) -> str:
    """`page` (written by `to_html`) with the inlined SVG of each figure in `svgs`
    (name -> SVG markup) replaced, and nothing else changed: a replot redraws the
    figures of a report without touching its text."""
    for name, svg in svgs.items():
        start = page.find(f'<figure id="figure-{html.escape(name)}">')
        if start < 0:
            continue
        body = start + len(f'<figure id="figure-{html.escape(name)}">')
        end = page.find("<figcaption>", body)
        if end < 0:
            continue
        page = page[:body] + inline_svg(svg, f"fig-{name}") + page[end:]
    return page


def to_html(doc: list[tuple[Any, ...]], title: str) -> str:
    """Render report blocks as one self-contained HTML page (SVG figures inlined; no
    external `src`, `href` or `url()`): it opens offline and can be mailed as is."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{_HTML_CSS}</style>",
        "</head>",
        "<body>",
    ]
    for block in doc:
        kind = block[0]
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{e(block[1])}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{e(block[1])}</p>")
        elif kind == "code":
            parts.append(f"<pre><code>{e(block[1])}</code></pre>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            _, headers, rows, align = block
            head = "".join(f'<th class="{a}">{e(h)}</th>' for h, a in zip(headers, align))
            body = []
            for row in rows:
                tds = []
                for j, ((t, bold), a) in enumerate(zip(row, align)):
                    cls = a + (" bad" if j == 1 and bold else "")
                    inner = f"<strong>{e(t)}</strong>" if bold and t != "-" and j != 1 else e(t)
                    tds.append(f'<td class="{cls}">{inner}</td>')
                body.append("<tr>" + "".join(tds) + "</tr>")
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        elif kind == "figure":
            _, name, caption, paths = block
            svg_path = next(p for p in paths if p.suffix == ".svg")
            svg = inline_svg(svg_path.read_text(encoding="utf-8"), f"fig-{name}")
            parts.append(f'<figure id="figure-{e(name)}">{svg}<figcaption>{e(caption)}</figcaption></figure>')
        elif kind == "files":
            items = "".join(f"<li><code>{e(n)}</code>: {e(d)}</li>" for n, d in block[1].items())
            parts.append(f"<p>Beside this page:</p><ul>{items}</ul>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
