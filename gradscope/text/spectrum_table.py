"""The terminal table and the one plain sentence of a spectrum run (`gradscope spectrum`),
built from a `Result` (rich renderables, framed as `decay_table.summary_table`).

May import: `gradscope.text.decay_table`, `gradscope.text.numbers`, `gradscope.results`, `gradscope.config`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..config import CELL_SPECS
from ..results import Status
from .decay_table import params_count, quantity_table, theory_na
from .numbers import attractor_text, factor_text, get, number_text

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import RenderableType

    from ..results import Result

#: Exponents listed in the table's "top exponents" row.
LISTED = 4


def _pm(value: Any, se: Any) -> str:
    if value is None:
        return "-"
    return number_text(value) + (f" +- {number_text(se, 2)}" if se is not None else "")


def _counts(result: Result) -> tuple[int, int]:
    """(K estimated, D)."""
    return len(result.summary.get("lyapunov") or []), result.config.state_dim


def _state_note(result: Result) -> str:
    c = result.config
    if c.cell == "lstm":
        return "state [h; c], c included"
    if c.cell == "cornn":
        return "state [y; z]"
    spec = None if c.custom else CELL_SPECS.get(c.cell)
    if spec is not None and spec.family == "modern":
        return "state " + spec.state_text(c.hidden).rsplit(" ", 1)[0]
    return "state h"


def _rows(result: Result) -> list[tuple[str, str, str, str]]:
    g = lambda k: get(result, k)  # noqa: E731
    k, dim = _counts(result)
    rows: list[tuple[str, str, str, str]] = []
    l1 = g("lambda_1")
    mf = g("mean_field_rate")
    na = theory_na(result)
    rows.append(("top exponent lambda_1", _pm(l1, g("lambda_1_se")),
                 f"mean field {number_text(mf)}" if mf is not None else na("mean_field"), "ln/step"))
    if l1 is not None:
        bound = g("pascanu_rate")
        rows.append(("  factor per step", number_text(math.exp(l1)),
                     f"Pascanu bound {number_text(math.exp(bound))}" if bound is not None else na("pascanu"), "x/step"))
    values = result.summary.get("lyapunov") or []
    for i in range(1, min(LISTED, k)):
        v = values[i]
        rows.append((f"lambda_{i + 1}", number_text(v) if v is not None else "-inf", "", "ln/step"))
    if k > LISTED:
        last = values[-1]
        rows.append((f"lambda_{k}, the last asked for", number_text(last) if last is not None else "-inf", "", "ln/step"))
    rows.append(("positive exponents", f"{number_text(g('n_positive'))} of {k}", "", ""))
    rows.append(("metric entropy (their sum)", _pm(g("entropy"), g("entropy_se")), "", "ln/step"))
    ky = g("kaplan_yorke_dim")
    rows.append(("Kaplan-Yorke dimension", _pm(ky, g("kaplan_yorke_dim_se")) if ky is not None else f"> {k}",
                 "", ""))
    rows.append(("sum of exponents", _pm(g("sum_exponents"), g("sum_exponents_se")),
                 f"log|det J| {number_text(g('mean_log_det'))}" if g("mean_log_det") is not None else "", "ln/step"))
    if g("sum_rule_error") is not None:
        rows.append(("  sum rule, relative error", number_text(g("sum_rule_error"), 2), "exact identity", ""))
    if g("exponents_unresolved"):
        why = "rank test on R" + (" (or float32)" if result.config.torch_dtype_name == "float32" else "")
        rows.append(("exponents -inf (lost)", str(g("exponents_unresolved")), why, ""))
    c = result.config
    diagonal = not c.custom and c.cell in CELL_SPECS and CELL_SPECS[c.cell].structure == "diagonal"
    if diagonal:  # exact: time averages of log|d_t|, no frame and no QR
        rows.append(("QR re-orthonormalisation", "none", "diagonal J: exact sums of log|d_t|", ""))
    else:
        qr = f"every {number_text(g('qr_every_mean'))}" if g("qr_every_mean") is not None else "-"
        rows.append(("QR re-orthonormalisation", qr, f"--qr-every {c.qr_every}", "steps"))
    frame = c.frame_transient if c.frame_transient is not None else c.steps // 10
    rows.append(("frame transient, counted", f"{frame}, {c.steps - frame}", f"of {c.steps}", "steps"))
    rows.append(("exponents estimated", f"{k} of {dim}", _state_note(result), ""))
    if g("mean_field_chi") is not None:
        rows.append(("mean-field chi, q*", "", f"{number_text(g('mean_field_chi'))}, {number_text(g('mean_field_q'))}", ""))
    rows.append(("parameters per network", f"{params_count(result):,}", "", ""))
    return rows


def spectrum_table(result: Result) -> RenderableType:
    """The terminal summary of a spectrum run: configuration, the spectrum's figures with
    their standard errors and units, theory beside them, status and warnings."""
    from rich.markup import escape
    from rich.text import Text

    status = result.summary.get("status", "?")
    title = Text.assemble(
        ("gradscope spectrum: ", "bold"), (result.config.label(), "bold"),
        "   status ", (status, "bold green" if status == Status.OK else "bold red"),
    )
    rows = [tuple(escape(cell) for cell in row) for row in _rows(result)]
    note = Text("+- : standard error " + ("across trials (of the median)" if result.config.trials > 1
                                           else "from blocks of time (one trial)"), style="dim")
    return quantity_table(result, title, rows, [note])


def spectrum_sentence(result: Result) -> str:
    """One sentence with the run's numbers, e.g. "41 of 256 directions grow; the fastest
    grows 1.16x a step; the attractor has about 101 dimensions"."""
    g = lambda k: get(result, k)  # noqa: E731
    k, dim = _counts(result)
    l1, se = g("lambda_1"), g("lambda_1_se")
    if l1 is None:
        return "no spectrum could be estimated (the state became non-finite too early: lower --gain)."
    of = f"{k}" if k == dim else f"the top {k} of {dim}"
    lam = f"lambda_1 = {number_text(l1)}" + (f" +- {number_text(se, 2)}" if se is not None else "") + " per step"
    settled = attractor_text(result.summary)
    kind = result.summary.get("attractor")
    if kind in ("fixed point", "periodic", "quasi-periodic", "converging", "marginal", "mixed") or (
            se is not None and abs(l1) < 2 * se):
        text = f"{settled or 'the top direction neither clearly grows nor shrinks'} ({lam})"
        if kind in ("fixed point", "periodic", "converging"):
            text += ", so every gradient vanishes at least that fast"
    elif l1 < 0:
        f = math.exp(l1)
        pace = f"shrinks {factor_text(1 / f)}x" if 1 / f >= 1.1 else f"loses {100 * (1 - f):.2g}%"
        text = (f"none of {of} directions grows: even the most persistent one {pace} a step ({lam}), "
                "so every gradient vanishes at least that fast and the network forgets where it started")
    else:
        n = g("n_positive")
        f = math.exp(l1)
        pace = f"{factor_text(f)}x" if f >= 1.1 else f"{100 * (f - 1):.2g}%"
        text = (f"{number_text(n)} of {of} directions {'grows' if n == 1 else 'grow'}; the fastest grows "
                f"{pace} a step ({lam})")
        ky = g("kaplan_yorke_dim")
        if kind == "chaotic":
            text += ": the state moves on a chaotic attractor"
        it = "it" if kind == "chaotic" else "the attractor"
        if ky is not None:
            text += f"; {it} has about {ky:.3g} dimensions (Kaplan-Yorke)"
        elif k < dim:
            text += f"; {it} has more than {k} dimensions (ask for more exponents)"
        else:
            text += "; the exponents sum to a positive number: the map expands volume, no attractor dimension applies"
        text += "; gradients through it explode"
    lost = g("exponents_unresolved")
    if lost:
        text += f"; {lost} directions are lost exactly (singular step Jacobians"
        text += ", or beyond float32's resolution: see the warning)" if result.config.torch_dtype_name == "float32" else ")"
    if result.summary.get("status") == Status.NONFINITE:
        text = "the state blew up to inf/NaN, so the spectrum covers the steps before it; " + text
    return text + "."
