"""`gradscope replot`: redraw the figures of a run or a report without recomputing.

May import: `gradscope.cli.options`, `gradscope.cli.common`, and (inside the command)
the library.
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import parse_formats, parse_width


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "formats", default=None, callback=lambda c, p, v: None if v is None else parse_formats(c, p, v),
              help="Figure formats, a comma list of png,pdf,svg [default: as before].")
@click.option("--style", type=click.Choice(["paper", "screen"]), default=None, help="Figure style [default: as before].")
@click.option("--width", callback=parse_width, default=None, metavar="IN|VENUE", help="Width in inches or a venue name.")
@click.option("--fontsize", type=click.FloatRange(4, 30), default=None, help="Base font size in points.")
@click.option("--select", default=None,
              help="Report only: comma list of config ids or labels to keep, written as a new report (needs --out).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Write a new folder DIR (the run, or the report or its --select subset) instead of "
                   "redrawing the figures in place; the folder read is never changed.")
@click.option("--force", is_flag=True,
              help="Write into --out even if it holds files gradscope did not write (they are kept).")
@click.pass_context
def replot(ctx: click.Context, path: Path, formats: tuple[str, ...] | None, style: str | None,
           width: float | None, fontsize: float | None, select: str | None, out: Path | None,
           force: bool) -> None:
    """Redraw the figures of a run (--out of decay) or of a report, without recomputing.

    In place, only the figures change (every format at once; a report's numbers and
    text stay as they are). With --out, a new folder is written and PATH is left as it
    was.

    \b
    Example:
      gradscope replot reports/textbook --width 6.75 --format pdf
    """
    from ..runs.reports import replot as redraw
    from .common import check_apart, command_line, say_replaced

    chosen = [s.strip() for s in select.split(",") if s.strip()] if select is not None else None
    if chosen == []:  # `--select ""` or `--select ,`: naming nothing is not naming everything
        raise click.BadParameter("name at least one config id or label", param_hint="'--select'")
    if out is not None:
        check_apart(out, path.parent if path.is_file() else path, "the folder being read")
    try:
        written = redraw(path, width=width, style=style, formats=formats, fontsize=fontsize,
                         select=chosen, out=out, force=force, command=command_line(ctx) if out else None,
                         on_replace=say_replaced(out) if out else None)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write: {exc.strerror or exc}") from None
    click.echo(f"wrote {len(written)} file(s) under {out}" if out else
               f"redrew the figures of {path} ({len(written)} file(s))")
