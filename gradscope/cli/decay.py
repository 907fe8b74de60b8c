"""`gradscope decay`: one configuration, its decay curves, summary and figure.

May import: `gradscope.cli.common`, and (inside the command) the library.
"""

from __future__ import annotations

from typing import Any

import click

from .common import one_run_command, run_and_show


@one_run_command
def decay(ctx: click.Context, **options: Any) -> None:
    """Measure how a gradient decays (or grows) going back through time.

    Prints a table of growth rate, half-life, horizon and the theory beside them
    (Pascanu bound, mean field), and one plain sentence. With --out it writes
    result.json, curves.npz, summary.txt and decay.pdf/svg/png.

    \b
    Example:
      gradscope decay --cell rnn --act sigmoid -n 64 -T 1000 --out runs/sigmoid
    """
    run_and_show(ctx, "decay", options)
