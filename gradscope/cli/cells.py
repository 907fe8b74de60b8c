"""`gradscope cells`: the cells and activations on offer.

May import: `gradscope.cli.options`, and (inside the command) the library.
"""

from __future__ import annotations

import click

from ..config import INITS
from .options import DEFAULTS


@click.command()
@click.option("--hidden", "-n", type=click.IntRange(min=1), default=DEFAULTS["hidden"], show_default=True,
              help="Hidden size N for the parameter counts.")
@click.option("--input-size", type=click.IntRange(min=1), default=None,
              help="Input size [default: hidden].")
@click.option("--init", type=click.Choice(INITS), default="default", show_default=True,
              help="Initialisation, for the typical sigma_max(W_hh).")
@click.option("--gain", "-g", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Initialisation gain g.")
def cells(hidden: int, input_size: int | None, init: str, gain: float) -> None:
    """List cells (state size, gate blocks, parameters) and activations (sup|phi'|,
    the Pascanu per-step bound factor).

    \b
    Example:
      gradscope cells -n 128 --init orthogonal
    """
    import math

    from rich.console import Console

    from ..text.cells_table import cells_table

    if not math.isfinite(gain):
        raise click.BadParameter(f"{gain} is not a finite number", param_hint="'--gain'")

    try:
        renderable = cells_table(hidden, input_size if input_size is not None else hidden, init, gain)
    except (ImportError, RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    Console(highlight=False).print(renderable)
