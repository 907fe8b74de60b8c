"""The summary table of a report as data: columns, the best value per column, cell text.

`report_table(results, labels)` gives headers, rows of `(text, bold)` cells and
alignments; Markdown, HTML, LaTeX and the terminal render the same table.

May import: `gradscope.results`, `gradscope.config`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from ..results import HorizonKind, Result, Status, horizon_of


@dataclass(frozen=True)
class Column:
    """A numeric column of the summary table: summary key, headers, decimals, best."""

    key: str
    header: str  # Markdown / HTML
    tex: str  # LaTeX header
    unit: str
    decimals: int | None  # None: a text column
    best: str | None = None  # max | absmin | None (not ranked)


COLUMNS = (
    Column("params", "params", "Params", "", 0),
    Column("growth_rate", "growth rate", "Rate", "/step", 3, "absmin"),
    Column("half_life", "half-life", r"$t_{1/2}$", "steps", 1, "max"),
    Column("horizon", "horizon", "Horizon", "steps", 0, "max"),
    Column("explosion_lag", "explosion lag", r"Expl.\ lag", "steps", 0),
    Column("regime", "regime", "Regime", "", None),
    Column("attractor", "attractor", "Attractor", "", None),
    Column("lambda_1", "lambda_1", r"$\lambda_1$", "/step", 3, "absmin"),
    Column("kaplan_yorke_dim", "Kaplan-Yorke", r"$D_\mathrm{KY}$", "", 2),
    Column("pascanu_rate", "Pascanu", "Pascanu", "/step", 3),
    Column("mean_field_rate", "mean field", "Mean field", "/step", 3),
    Column("annealed_rate", "annealed", "Annealed", "/step", 3),
)


BEST_TEXT = (
    "Bold: the best value in each ranked column; growth rate and lambda_1 (the top Lyapunov "
    "exponent): closest to 0 "
    "(slowest decay or growth); half-life and horizon: longest (a censored horizon '> T' "
    "counts as T; an exploding configuration has no horizon, 'n/a', and is not ranked: its "
    "explosion lag says when its gain passed 1/eps). Rates are natural log per "
    "step. Theory: Pascanu = log(gamma "
    "sigma_max(W_hh)), an upper bound on the rate (rnn, indrnn); mean field = 0.5 ln chi, "
    "a prediction of the RMS rate (rnn only); annealed = 0.5 ln mean_t ||J_t||_F^2 / D. "
    "Kaplan-Yorke: the dimension the Lyapunov spectrum gives (where runs estimated one). "
    "Attractor: what the state settled on (with zero or constant input: a fixed point, a "
    "cycle of some period, a quasi-periodic orbit or chaos; driven by noise or data: "
    "contracting, marginal or chaotic), classified from the recurrence of the state and "
    "the top exponent's sign beyond its standard error."
)


#: The theory columns, and the registry's name of their theory.
THEORY_COLUMNS = {"pascanu_rate": "pascanu", "mean_field_rate": "mean_field"}


def theory_reason(result: Result, key: str) -> str:
    """Why the theory of column `key` does not apply to the run's cell (the registry's
    words), or "" where it has none to give."""
    from ..config import CELL_SPECS

    spec = None if result.config.custom else CELL_SPECS.get(result.config.cell)
    return spec.no_theory if spec is not None and spec.theory_na(THEORY_COLUMNS[key]) else ""


def theory_notes(results: Sequence[Result]) -> str:
    """One sentence per cell whose theory columns read n/a, with the registry's reason."""
    seen: dict[str, str] = {}
    for r in results:
        why = theory_reason(r, "pascanu_rate") or theory_reason(r, "mean_field_rate")
        if why and r.config.cell not in seen:
            seen[r.config.cell] = why
    return " ".join(f"Theory n/a for {cell}: {why}." for cell, why in seen.items())


def as_number(value: Any) -> float | None:
    if value is None or isinstance(value, (bool, str)):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


SPECTRUM_COLUMNS = ("lambda_1", "kaplan_yorke_dim")


def columns_of(results: Sequence[Result]) -> list[Column]:
    """The columns to show: lambda_1 and the Kaplan-Yorke dimension only where some run
    computed a spectrum, the attractor only where some run classified one (runs of
    engines before it did not)."""
    has_l1 = any(as_number(r.summary.get("lambda_1")) is not None for r in results)
    has_attractor = any(r.summary.get("attractor") for r in results)
    return [c for c in COLUMNS if (c.key not in SPECTRUM_COLUMNS or has_l1)
            and (c.key != "attractor" or has_attractor)]


def _rank_value(result: Result, col: Column) -> float | None:
    if col.key == "horizon":  # a censored horizon counts as T; an exploding run has none
        state = horizon_of(result.summary, result.config.steps)
        return float(state.lag) if state.kind in (HorizonKind.MEASURED, HorizonKind.CENSORED) and state.lag is not None else None
    return as_number(result.summary.get(col.key))


def best_rows(results: Sequence[Result], col: Column) -> set[int]:
    if col.best is None:
        return set()
    # an exploding gradient is not a long-lived one: it never ranks best
    values = {i: _rank_value(r, col) for i, r in enumerate(results)
              if r.status != Status.ERROR and r.summary.get("regime") != "exploding"}
    values = {i: v for i, v in values.items() if v is not None}
    if len(values) < 2:
        return set()
    score = {i: (v if col.best == "max" else -abs(v)) for i, v in values.items()}
    top = max(score.values())
    if all(s == top for s in score.values()):
        return set()  # every row ties: nothing stands out
    return {i for i, s in score.items() if s == top}


def cell_text(result: Result, col: Column) -> str | None:
    """The plain-text value of a cell (`None` when absent); horizon `> T` if censored,
    `n/a (explodes)` for an exploding run (it has no horizon)."""
    if col.key == "horizon":
        state = horizon_of(result.summary, result.config.steps)
        return None if state.kind == HorizonKind.UNKNOWN else state.text
    if col.key in THEORY_COLUMNS and as_number(result.summary.get(col.key)) is None and theory_reason(result, col.key):
        return "n/a"
    if col.decimals is None:
        value = result.summary.get(col.key)
        if col.key == "attractor" and value == "periodic" and result.summary.get("attractor_period"):
            return f"period {result.summary['attractor_period']}"
        return None if value is None else str(value)
    v = as_number(result.summary.get(col.key))
    if v is None:
        return None
    return f"{v:.{col.decimals}f}"


def status_text(result: Result) -> str:
    if result.status == Status.NONFINITE and result.summary.get("nonfinite_step") is not None:
        return f"nonfinite at step {result.summary['nonfinite_step']}"
    return str(result.status)


def eps_text(value: float) -> str:
    e = math.floor(math.log10(value))
    m = value / 10**e
    return f"1e{e}" if abs(m - 1) < 1e-9 else f"{value:g}"


def g_text(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}"


def report_table(results: Sequence[Result], labels: Sequence[str]) -> tuple[list[str], list[list[tuple[str, bool]]], list[str]]:
    """Headers, rows of `(text, bold)` cells and alignments (`l`/`r`) of the summary."""
    cols = columns_of(results)
    headers = ["configuration", "status"] + [f"{c.header} ({c.unit})" if c.unit else c.header for c in cols]
    best = {c.key: best_rows(results, c) for c in cols}
    rows = []
    for i, (r, lab) in enumerate(zip(results, labels)):
        cells = [(lab, False), (status_text(r), r.status != Status.OK)]
        for c in cols:
            cells.append((cell_text(r, c) or "-", i in best[c.key]))
        rows.append(cells)
    align = ["l", "l"] + ["l" if c.decimals is None else "r" for c in cols]
    return headers, rows, align
