"""The reading of a comparison (`text.reading`): horizons compared with numbers, claims
not supported when runs do not differ, censored horizons that cannot be compared."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from gradscope.results import Result
from gradscope.text.reading import reading


def test_reading_compares_horizons_with_numbers(report: tuple[Path, dict[str, Any], list[Result]], make_result: Callable[..., Result]) -> None:
    out, _, results = report
    md = (out / "report.md").read_text(encoding="utf-8")
    # lstm is censored (> 120), rnn sigmoid has horizon 12: "at least 10x"
    assert "more than 120 steps" in md and "at least 10x as many as rnn sigmoid N=8 (12 steps)" in md
    assert "holds in every trial" in md
    same = [make_result("rnn", "tanh", rate=-0.2), make_result("gru", "tanh", rate=-0.2, seed=1)]
    text = " ".join(reading(same))
    assert "not supported" in text or "do not differ" in text
    censored = [make_result("lstm", "tanh", rate=-0.01), make_result("gru", "tanh", rate=-0.02)]
    assert "cannot be compared" in " ".join(reading(censored))
