"""The comparison report's summary table in the terminal (a rich renderable), fitted to
the terminal's width: the least important columns go first, the configuration label
wraps, and a number is never cut.

May import: `gradscope.text.report_table`, `gradscope.results`, `gradscope.config`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..config.naming import unique_labels
from ..results import Status
from .report_table import report_table

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import RenderableType

    from ..results import Result

#: Columns dropped first when the table is too wide (by header start), in order.
DROP_ORDER = ("params", "annealed", "lambda_1", "Pascanu", "mean field", "half-life", "explosion lag",
              "regime", "status")


def _table(headers: list[str], rows: list[list[tuple[str, bool]]], align: list[str], keep: list[int],
           label_max: int | None = None) -> RenderableType:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for j in keep:
        name, unit = (headers[j].split(" (", 1) + [""])[:2]
        header = f"{name}\n({unit}" if unit else name  # the unit on a line of its own
        if j == 0:  # the label wraps at spaces, never narrower than its header or a word
            table.add_column(header, overflow="fold", min_width=_label_width(headers, rows), max_width=label_max)
        else:
            table.add_column(header, justify="right" if align[j] == "r" else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(f"[bold]{_escape(row[j][0])}[/bold]" if row[j][1] else _escape(row[j][0]) for j in keep))
    return table


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _label_width(headers: list[str], rows: list[list[tuple[str, bool]]]) -> int:
    """The label column's narrowest width: its header and its longest word, whole."""
    return max([len(headers[0])] + [len(w) for row in rows for w in row[0][0].split()])


def _needed(headers: list[str], rows: list[list[tuple[str, bool]]], align: list[str], keep: list[int]) -> int:
    """Characters the table of the `keep` columns needs with no number cut and the label
    wrapped at its narrowest (rendered once, off screen, to measure it)."""
    import io

    from rich.console import Console

    console = Console(width=10_000, file=io.StringIO(), color_system=None, record=True)
    console.print(_table(headers, rows, align, keep, label_max=_label_width(headers, rows)))
    return max(len(line.rstrip()) for line in console.export_text().splitlines())


def comparison_table(results: Sequence[Result], width: int | None = None) -> RenderableType:
    """The comparison report's summary table as a rich renderable (best values bold),
    with as many columns as fit in `width` characters (default: no limit); the columns
    left out are named under it (they are all in report.md)."""
    from rich.console import Group
    from rich.text import Text

    headers, rows, align = report_table(results, unique_labels([r.config for r in results]))
    keep = list(range(len(headers)))
    if width is None:
        return _table(headers, rows, align, keep)
    dropped: list[str] = []
    # columns that say nothing here (every run "ok", no explosion) go first
    idle = [headers[j].split(" (")[0] for j in keep[1:] if all(row[j][0] in ("-", Status.OK) for row in rows)]
    for name in [*idle, *(n for n in DROP_ORDER if n not in idle)]:
        # the numbers' columns as wide as their widest entry, the label at 12 or more
        if _needed(headers, rows, align, keep) <= width:
            break
        hit = [j for j in keep if headers[j].startswith(name)]
        if name == "status" and any(row[1][1] for row in rows) and name not in idle:
            continue  # a run that did not finish ok keeps its status visible
        for j in hit:
            keep.remove(j)
            dropped.append(headers[j].split(" (")[0])
    table = _table(headers, rows, align, keep)
    if not dropped:
        return table
    note = Text(f"(not shown at this width: {', '.join(dropped)}; see report.md)", style="dim")
    return Group(table, note)
