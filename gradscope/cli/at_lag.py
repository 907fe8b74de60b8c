"""`--at-lag K`: the lags at which `decay` and `track` report the gain, loss gradient
and input sensitivity, defined once.

May import: `gradscope.cli.options`, `gradscope.config`.
"""

from __future__ import annotations

from typing import Any, Callable

import click

from .options import GroupedOption


def at_lag_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--at-lag K` (repeatable, or a comma list): the lags at which a run reports its
    gain, loss gradient and input sensitivity (`analyze(lags=...)`), read by `parse_lags`."""
    return click.option("--at-lag", "at_lag", multiple=True, metavar="K[,K...]",
                        help="Also report the median gain, loss gradient and input sensitivity at lag K "
                             "(the lag your task needs); repeatable or a comma list.",
                        cls=GroupedOption, group="Run")(f)


def parse_lags(values: Any) -> tuple[int, ...] | None:
    """The lags of `--at-lag` (every value given, comma lists split), checked; None when
    none was given. A bad value is a usage error naming the option."""
    from ..config.checks import check_lags

    items = [part.strip() for value in values or () for part in str(value).split(",") if part.strip()]
    if not items:
        if values:
            raise click.BadParameter("give a lag, e.g. --at-lag 30", param_hint="'--at-lag'")
        return None
    try:
        return check_lags(items)
    except ValueError as exc:
        raise click.BadParameter(str(exc).replace("lags must be whole numbers", "each lag must be a whole number"),
                                 param_hint="'--at-lag'") from None
