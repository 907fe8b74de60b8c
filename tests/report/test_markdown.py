"""The Markdown page (`report.markdown`): every link resolves to a file of the report;
the command, the notes, failures and censored horizons are shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gradscope.results import Result


def test_markdown_links_resolve(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, results = report
    md = (out / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", md)
    assert len(links) >= 3 + 9  # three embedded figures, their format links, files
    for link in links:
        assert not re.match(r"[a-z]+://", link) and not link.startswith("/")
        assert (out / link).exists(), link
    assert "gradscope compare --cell rnn,lstm,gru" in md
    assert "skipped rnn exponents=100" in md
    assert "**nonfinite at step 71**" in md
    assert "| > 120 |" in md.replace("**", "")  # the censored LSTM horizon
