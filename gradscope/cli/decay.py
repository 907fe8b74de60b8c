"""`gradscope decay`: one configuration, its decay curves, summary and figure.

May import: `gradscope.cli.common`, `gradscope.cli.at_lag`, and (inside the command) the library.
"""

from __future__ import annotations

from typing import Any

import click

from .at_lag import at_lag_option
from .common import one_run_command, run_and_show


@one_run_command
@at_lag_option
def decay(ctx: click.Context, **options: Any) -> None:
    """Measure how a gradient decays (or grows) going back through time.

    Prints a table of growth rate, half-life, horizon and the theory beside them
    (Pascanu bound, mean field), and one plain sentence. With --out it writes
    result.json, curves.npz, summary.txt and decay.pdf/svg/png. --at-lag K adds the
    gain, loss gradient and input sensitivity at the lag K your task needs.

    \b
    Example:
      gradscope decay --cell rnn --act sigmoid -n 64 -T 1000 --out runs/sigmoid
    """
    run_and_show(ctx, "decay", options)
