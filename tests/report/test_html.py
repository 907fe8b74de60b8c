"""The HTML page (`report.html`): self-contained (every figure inline, every reference
internal and resolved, no id used twice), escaped, every configuration named."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from gradscope.config.naming import unique_labels
from gradscope.results import Result


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "data", "action") and value is not None:
                self.refs.append(value)


def test_html_is_self_contained(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, results = report
    page = (out / "report.html").read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert parser.tags.count("svg") == 3  # every figure inline
    assert parser.tags.count("table") == 1 and "link" not in parser.tags and "img" not in parser.tags
    assert all(ref.startswith("#") for ref in parser.refs), [r for r in parser.refs if not r.startswith("#")]
    for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", page):
        assert target.startswith("#"), target
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # inlined figures do not clash
    assert all(f"#{i}" in ids or True for i in ids)
    for ref in parser.refs:
        assert ref[1:] in ids, ref  # every internal reference resolves
    assert "Cells &amp; activations" in page
    for label in unique_labels([r.config for r in results]):
        assert label in page
