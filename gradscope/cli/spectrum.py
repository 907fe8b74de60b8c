"""`gradscope spectrum`: the Lyapunov spectrum of one configuration, its table, sentence
and figure.

May import: `gradscope.cli.common`, and (inside the command) the library.
"""

from __future__ import annotations

from typing import Any

import click

from .common import one_run_command, run_and_show


@one_run_command
def spectrum(ctx: click.Context, **options: Any) -> None:
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
    run_and_show(ctx, "spectrum", options)
