"""`gradscope spectrum`: the Lyapunov spectrum of one configuration, its table, sentence
and figure.

May import: `gradscope.cli.common`, `gradscope.cli.options`, and (inside the command)
the library.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .common import (
    check_writable,
    command_line,
    presentation,
    run_analysis,
    write_outputs,
)
from .options import (
    EXIT_STRICT,
    GroupedCommand,
    config_from_options,
    config_options,
    output_options,
)


@click.command(cls=GroupedCommand)
@config_options()
@output_options
@click.pass_context
def spectrum(ctx: click.Context, out: Path | None, formats: tuple[str, ...], style: str,
             width: float | None, as_json: bool, quiet: bool, strict: bool, **options: Any) -> None:
    """Estimate the Lyapunov spectrum: how many directions grow, how fast, in how many
    dimensions the state lives.

    Benettin QR along the trajectory (full state, LSTM's c included), exponents in
    natural log per step with standard errors, the sum rule checked against
    mean log|det J|. Without --exponents: every exponent up to 64. With --out it writes
    result.json, curves.npz, summary.txt and spectrum.pdf/svg/png.

    \b
    Example:
      gradscope spectrum --cell gru --act tanh -n 64 --exponents all --out runs/gru
    """
    if ctx.get_parameter_source("exponents") == click.core.ParameterSource.COMMANDLINE:
        if options["exponents"].strip() == "0":
            raise click.BadParameter("spectrum estimates at least one exponent: give K >= 1 or all",
                                     param_hint="'--exponents'")
    config = config_from_options(options)
    if out is not None:
        check_writable(out)
    show_progress = not (quiet or as_json) and sys.stderr.isatty()
    result = run_analysis(config, show_progress, command_line(ctx), what="spectrum")
    if out is not None:
        write_outputs(result, out, formats, style, width, stem="spectrum")
    _, table, sentence = presentation("spectrum")
    if as_json:
        click.echo(result.to_json())
    elif quiet:
        click.echo(sentence(result))
    else:
        from rich.console import Console

        console = Console(highlight=False)
        console.print(table(result))
        console.print(sentence(result), soft_wrap=not console.is_terminal)
        if out is not None:
            console.print(f"wrote {out}/", style="dim")
    if strict and result.status != "ok":
        first = (result.summary.get("warnings") or [""])[0]
        click.echo(f"Error: status {result.status} (--strict): {first}", err=True)
        ctx.exit(EXIT_STRICT)
