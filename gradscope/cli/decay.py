"""`gradscope decay`: one configuration, its decay curves, summary and figure.

May import: `gradscope.cli.common`, `gradscope.cli.options`, and (inside the command)
the library.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .common import check_writable, command_line, run_analysis, write_outputs
from .options import (
    EXIT_STRICT,
    GroupedCommand,
    config_from_options,
    config_options,
    output_options,
    threads_option,
)


@click.command(cls=GroupedCommand)
@config_options()
@threads_option
@output_options
@click.pass_context
def decay(ctx: click.Context, out: Path | None, formats: tuple[str, ...], style: str,
          width: float | None, as_json: bool, quiet: bool, strict: bool, threads: int | None,
          **options: Any) -> None:
    """Measure how a gradient decays (or grows) going back through time.

    Prints a table of growth rate, half-life, horizon and the theory beside them
    (Pascanu bound, mean field), and one plain sentence. With --out it writes
    result.json, curves.npz, summary.txt and decay.pdf/svg/png.

    \b
    Example:
      gradscope decay --cell rnn --act sigmoid -n 64 -T 1000 --out runs/sigmoid
    """
    config = config_from_options(options)
    if out is not None:
        check_writable(out)
    show_progress = not (quiet or as_json) and sys.stderr.isatty()
    result = run_analysis(config, show_progress, command_line(ctx), threads)
    if out is not None:
        write_outputs(result, out, formats, style, width)
    if as_json:
        click.echo(result.to_json())
    else:
        from ..figures.tables import plain_sentence, summary_table

        if quiet:
            click.echo(plain_sentence(result))
        else:
            from rich.console import Console

            console = Console(highlight=False)
            console.print(summary_table(result))
            console.print(plain_sentence(result), soft_wrap=not console.is_terminal)
            if out is not None:
                console.print(f"wrote {out}/", style="dim")
    if strict and result.status != "ok":
        first = (result.summary.get('warnings') or [''])[0]
        click.echo(f"Error: status {result.status} (--strict): {first}",
                   err=True)
        ctx.exit(EXIT_STRICT)
