"""The comparison report's summary table in the terminal (a rich renderable).

May import: `gradscope.report.columns`, `gradscope.results`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..results import unique_labels
from .columns import summary_table as report_table

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import RenderableType

    from ..results import Result


def comparison_table(results: Sequence[Result]) -> RenderableType:
    """The comparison report's summary table as a rich renderable (best values bold)."""
    from rich import box
    from rich.table import Table

    headers, rows, align = report_table(results, unique_labels(results))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header, side in zip(headers, align):
        table.add_column(header, justify="right" if side == "r" else "left")
    for row in rows:
        table.add_row(*(f"[bold]{text}[/bold]" if bold else text for text, bold in row))
    return table
