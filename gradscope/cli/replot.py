"""`gradscope replot`: redraw the figures of a run or a report without recomputing.

May import: `gradscope.cli.options`, and (inside the command) the library.
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import _formats, _width


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "formats", default=None, callback=lambda c, p, v: None if v is None else _formats(c, p, v),
              help="Figure formats, a comma list of png,pdf,svg [default: as before].")
@click.option("--style", type=click.Choice(["paper", "screen"]), default=None, help="Figure style [default: as before].")
@click.option("--width", callback=_width, default=None, metavar="IN|VENUE", help="Width in inches or a venue name.")
@click.option("--fontsize", type=click.FloatRange(4, 30), default=None, help="Base font size in points.")
@click.option("--select", default=None, help="Report only: comma list of config ids or labels to keep.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the redrawn figures here instead of in place.")
def replot(path: Path, formats: tuple[str, ...] | None, style: str | None, width: float | None,
           fontsize: float | None, select: str | None, out: Path | None) -> None:
    """Redraw the figures of a run (--out of decay) or of a report, without recomputing.

    \b
    Example:
      gradscope replot reports/textbook --width 6.75 --format pdf
    """
    from ..report.replot import replot as redraw

    chosen = [s.strip() for s in select.split(",") if s.strip()] if select else None
    try:
        written = redraw(path, width=width, style=style, formats=formats, fontsize=fontsize,
                         select=chosen, out=out)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write: {exc.strerror or exc}") from None
    click.echo(f"redrew {len(written)} file(s) under {out or path}")
