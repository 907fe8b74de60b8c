"""The table of `gradscope cells`: every cell of the registry (state, parameter count,
options that apply, theory, its step and paper) and every activation (sup|phi'|, the
Pascanu per-step bound of a vanilla RNN at an initialisation), as rich renderables.

May import: `gradscope.config`, `gradscope.text.numbers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .numbers import fraction_text

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import RenderableType


def cells_table(hidden: int = 64, input_size: int | None = None, init: str = "default",
                gain: float = 1.0) -> RenderableType:
    """Cells (state size, parameter count, the options that apply to each, the theory
    overlays drawn for it, its step and paper), all read from the cell registry, and
    activations (sup|phi'|, the Pascanu per-step bound for a vanilla RNN at the given
    initialisation)."""
    from rich import box
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from ..config import ACTIVATION_SPECS, CELL_SPECS, INITS
    from ..config.registry import SIGMA_MAX_AT_INIT

    n, i = hidden, input_size if input_size is not None else hidden
    cells = Table(title=f"cells (N={n}, input size {i})", box=box.SIMPLE_HEAD, title_justify="left")
    for col, kw in (("cell", {"no_wrap": True}), ("state", {"no_wrap": True}),
                    ("parameters", {"justify": "right"}), ("options that apply", {}), ("theory", {})):
        cells.add_column(col, **kw)
    steps = []
    for name, spec in CELL_SPECS.items():
        options = (["--act"] if spec.act else []) + (["--gate-act"] if spec.gated else [])
        options += [f"--{k.replace('_', '-')}" for k in spec.options]
        missing = [x for x in INITS if x not in spec.inits]
        fixed = [f"--{k.replace('_', '-')}" for k in spec.fixed]
        if spec.inits == ("default",):  # its own init only
            fixed.insert(0, "--init")
        elif missing:
            options.append(f"--init (not {', '.join(missing)})")
        if fixed:
            options.append("(" + ", ".join(fixed) + " do not apply)")
        cells.add_row(name, escape(spec.state_text(n)), f"{spec.count_params(n, i):,}", " ".join(options),
                      spec.theory_text())
        paper = "" if spec.pytorch else f" ({spec.paper})"
        steps.append(Text(f"  {name}: {spec.step}{paper}", style="dim"))
    sigma = SIGMA_MAX_AT_INIT[init] * gain
    acts = Table(title=f"activations (Pascanu bound per step for rnn: gamma x sigma_max(W_hh), "
                       f"sigma_max ~ {sigma:.3g} for init={init} g={gain:g}, large N)",
                 box=box.SIMPLE_HEAD, title_justify="left")
    for col, kw in (("act", {}), ("gamma = sup|phi'|", {"justify": "right"}),
                    ("bound / step", {"justify": "right"}), ("smooth", {}), ("", {"style": "dim"})):
        acts.add_column(col, **kw)
    for a in ACTIVATION_SPECS.values():
        acts.add_row(a.name, fraction_text(a.gamma), f"{a.gamma * sigma:.3g}", "yes" if a.smooth else "no",
                     a.description)
    foot = Text("A bound below 1 guarantees vanishing gradients (rnn; for indrnn gamma max|u|; the other cells have no such bound).",
                style="dim")
    every = Text("Every cell: the annealed estimate, the Lyapunov spectrum (diagonal cells: exact, by sums "
                 "of log|d_t|); --act where listed (all activations); steps:", style="dim")
    return Group(cells, every, *steps, Text(""), acts, foot)
