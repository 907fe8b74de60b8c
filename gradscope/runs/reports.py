"""The report writers as users call them (`gradscope.write_report`, `write_sweep_report`,
`replot`): the presentation layer's own, handed the mean-field theory to draw.

Presentation never computes theory (it imports neither `model` nor `numerics`): the
figures and findings of a report take an object of lookups (`theory=`), and this is
where the numerics' `MeanFieldTheory` is handed in. Pass `theory=None` for reports
without theory lines.

May import: `gradscope.report`, `gradscope.numerics.theory.critical`.
"""

from __future__ import annotations

import functools
from typing import Any, Callable


def _with_theory(draw: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(draw)
    def wrapper(*args: Any, theory: Any = "mean field", **kw: Any) -> Any:
        if theory == "mean field":
            from ..numerics.theory.critical import MeanFieldTheory

            theory = MeanFieldTheory()
        return draw(*args, theory=theory, **kw)

    return wrapper


def _load(module: str, name: str) -> Callable[..., Any]:
    import importlib

    return getattr(importlib.import_module(f"..report.{module}", __package__), name)


def write_report(*args: Any, **kw: Any) -> dict[str, Any]:
    """`report.write.write_report`, its figures drawn with mean-field theory."""
    return _with_theory(_load("write", "write_report"))(*args, **kw)


def write_sweep_report(*args: Any, **kw: Any) -> dict[str, Any]:
    """`report.sweep_report.write_sweep_report`, its figures and findings with mean-field theory."""
    return _with_theory(_load("sweep_report", "write_sweep_report"))(*args, **kw)


def replot(*args: Any, **kw: Any) -> list[Any]:
    """`report.replot.replot`, a report's figures redrawn with mean-field theory."""
    return _with_theory(_load("replot", "replot"))(*args, **kw)
