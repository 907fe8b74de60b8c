"""Tables in the terminal (`text.terminal`): the comparison table fits 80 columns and
never cuts a number."""

from __future__ import annotations

import os

from synthetic_reports import report_results


def test_compare_table_fits_80_columns_and_never_cuts_a_number():
    from rich.console import Console

    from gradscope.config.naming import unique_labels
    from gradscope.text.terminal import comparison_table

    results = report_results(9)
    console = Console(width=80, record=True, color_system=None, file=open(os.devnull, "w"))
    console.print(comparison_table(results, width=80))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    for r, label in zip(results, unique_labels([r.config for r in results])):
        assert f"{r.summary['growth_rate']:.3f}" in text  # whole, never "-0.…"
        assert label.split()[0] in text
    assert "not shown at this width" in text
