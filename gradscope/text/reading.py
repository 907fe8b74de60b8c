"""The generated reading of a report: sentences with the measured numbers, which say
plainly where a comparison is not supported by the trials.

May import: `gradscope.results`, `gradscope.config`, `gradscope.text.report_table`.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..config.naming import unique_labels
from ..results import HorizonKind, Result, Status, horizon_of, trial_horizons
from .report_table import as_number, eps_text, g_text


def _trial_horizons(result: Result) -> np.ndarray | None:
    """Per trial, the first lag with spectral gain < eps (`inf` when never)."""
    return trial_horizons(result.curves, result.config.eps)


def _range_text(values: np.ndarray, steps: int) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    f = lambda v: f"> {steps}" if math.isinf(v) else f"{v:.0f}"  # noqa: E731
    return f"{f(lo)}-{f(hi)}" if lo != hi else f(lo)


def _reading_horizon(pairs: list[tuple[Result, str]]) -> list[str]:
    # an exploding gradient is not one that "stays alive": it has no horizon to compare
    rows = []
    for r, label in pairs:
        state = horizon_of(r.summary, r.config.steps)
        if state.kind == HorizonKind.MEASURED:
            rows.append((float(state.lag), False, r, label))
        elif state.kind == HorizonKind.CENSORED:
            rows.append((float(r.config.steps), True, r, label))
    if not rows:
        exploding = sum(horizon_of(r.summary, r.config.steps).kind == HorizonKind.EXPLODING for r, _ in pairs)
        return ["No horizon was measured" + (": every configuration explodes, so none has a horizon."
                                             if exploding and exploding == len(pairs) else ".")]
    eps = {eps_text(r.config.eps) for _, _, r, _ in rows}
    eps_shown = eps.pop() if len(eps) == 1 else "eps"
    measured = [row for row in rows if not row[1]]
    if len(rows) == 1 and not measured:
        _, _, r, lab = rows[0]
        return [
            f"{lab} keeps a gradient above {eps_shown} for more than {r.config.steps} steps: its "
            f"median gain never fell below {eps_shown} within the window (censored)."
        ]
    if not measured:
        steps = sorted({r.config.steps for _, _, r, _ in rows})
        return [
            f"No configuration's median gain fell below {eps_shown} within its window "
            f"(T = {', '.join(map(str, steps))} steps), so their horizons cannot be compared: "
            f"rerun with a larger --steps."
        ]
    best = max(rows, key=lambda row: (row[0], row[1]))
    worst = min(measured, key=lambda row: row[0])
    if len(rows) == 1:
        hb, _, _, lb = best
        return [f"{lb} keeps a gradient above {eps_shown} for {hb:.0f} steps."]
    (hb, cb, rb, lb), (hw, _, rw, lw) = best, worst
    ratio = hb / max(hw, 1.0)
    if hb == hw and not cb:
        return [
            f"Every horizon is {hw:.0f} steps: the configurations do not differ in how far "
            f"back a gradient stays above {eps_shown}."
        ]
    if cb:
        tied = [row[3] for row in rows if row[1] and row[0] == hb]
        who = tied[0] if len(tied) == 1 else (
            ", ".join(tied[:3]) + (f" and {len(tied) - 3} more" if len(tied) > 3 else "")
        )
        verb, its = ("keeps", "its median gain") if len(tied) == 1 else ("keep", "their median gains")
        text = (
            f"{who} {verb} a gradient above {eps_shown} for more than {hb:.0f} steps ({its} "
            f"never fell below {eps_shown} within the window), at least {g_text(ratio)}x as many as "
            f"{lw} ({hw:.0f} steps)."
        )
    else:
        text = f"{lb} keeps a gradient above {eps_shown} for {hb:.0f} steps, {g_text(ratio)}x as many as {lw} ({hw:.0f} steps)."
    tb, tw = _trial_horizons(rb), _trial_horizons(rw)
    if tb is not None and tw is not None:
        if np.min(tb) > np.max(tw):
            text += (
                f" The ordering holds in every trial (trial horizons {_range_text(tb, rb.config.steps)} vs "
                f"{_range_text(tw, rw.config.steps)} steps)."
            )
        else:
            text += (
                f" The trial horizons overlap ({_range_text(tb, rb.config.steps)} vs {_range_text(tw, rw.config.steps)} steps), so "
                f"this difference is not supported by these {min(len(tb), len(tw))} trials."
            )
    return [text]


def _reading_rates(pairs: list[tuple[Result, str]]) -> list[str]:
    rated = [(r, lab, as_number(r.summary.get("growth_rate"))) for r, lab in pairs]
    rated = [(r, lab, v) for r, lab, v in rated if v is not None]
    out: list[str] = []
    if len(rated) >= 2 and len({v for _, _, v in rated}) == 1:
        out.append(f"Every configuration has the same growth rate, {g_text(rated[0][2])} per step.")
    elif len(rated) >= 2:
        lo = min(rated, key=lambda t: t[2])
        hi = max(rated, key=lambda t: t[2])

        def describe(r: Result, lab: str, v: float) -> str:
            hl = as_number(r.summary.get("half_life"))
            dt = as_number(r.summary.get("doubling_time"))
            extra = f", half-life {g_text(hl)} steps" if hl else (f", doubling time {g_text(dt)} steps" if dt else "")
            return f"{g_text(v)} for {lab} (gain x{g_text(math.exp(v))} per step{extra})"

        text = f"Growth rates range from {describe(*lo)} to {describe(*hi)}."
        q90_lo, q10_hi = as_number(lo[0].summary.get("growth_rate_q90")), as_number(hi[0].summary.get("growth_rate_q10"))
        if q90_lo is not None and q10_hi is not None and lo[2] != hi[2]:
            if q90_lo < q10_hi:
                text += " Their 10-90% trial ranges do not overlap."
            else:
                text += " Their 10-90% trial ranges overlap, so this ordering is not supported by these trials."
        out.append(text)
    elif len(rated) == 1:
        r, lab, v = rated[0]
        out.append(f"{lab} has a growth rate of {g_text(v)} per step (gain x{g_text(math.exp(v))} per step).")
    regimes: dict[str, list[str]] = {}
    for r, lab in pairs:
        if r.summary.get("regime"):
            regimes.setdefault(str(r.summary["regime"]), []).append(lab)
    if regimes:
        out.append("Regimes: " + ", ".join(f"{len(v)} {k}" for k, v in sorted(regimes.items())) + ".")
    for r, lab in pairs:
        state = horizon_of(r.summary, r.config.steps)
        if state.kind != HorizonKind.EXPLODING:
            continue
        if state.lag is not None:
            out.append(f"{lab} explodes: its median gain exceeds {g_text(1 / r.config.eps)} at lag {state.lag}, "
                       "so it has no horizon.")
        else:
            out.append(f"{lab} explodes (its gain grows), so it has no horizon.")
    return out


def _reading_theory(pairs: list[tuple[Result, str]]) -> list[str]:
    out: list[str] = []
    mf = [
        (lab, as_number(r.summary.get("mean_field_rate")), as_number(r.summary.get("rms_growth_rate")))
        for r, lab in pairs
    ]
    mf = [(lab, m, v) for lab, m, v in mf if m is not None and v is not None]
    if mf:
        rel = [(abs(m - v) / max(abs(v), 1e-3), lab, m, v) for lab, m, v in mf]
        good = [t for t in rel if t[0] <= 0.1]
        text = (
            f"Mean-field theory predicts the RMS rate within 10% for {len(good)} of {len(mf)} "
            f"vanilla RNN{'s' if len(mf) != 1 else ''}."
        )
        worst = max(rel)
        if worst[0] > 0.1:
            _, lab, m, v = worst
            text += (
                f" The largest miss is {lab}: predicted {g_text(m)}, measured {g_text(v)} per step; mean field "
                f"assumes N -> infinity and i.i.d. weights, so it is not supported there."
            )
        out.append(text)
    pb = [
        (lab, as_number(r.summary.get("pascanu_rate")), as_number(r.summary.get("growth_rate")))
        for r, lab in pairs
    ]
    pb = [(lab, b, v) for lab, b, v in pb if b is not None and v is not None]
    if pb:
        broken = [(lab, b, v) for lab, b, v in pb if v > b + 1e-3]
        if broken:
            lab, b, v = broken[0]
            out.append(
                f"The Pascanu et al. bound is exceeded in {len(broken)} of {len(pb)} vanilla RNNs "
                f"(e.g. {lab}: measured {g_text(v)} > bound {g_text(b)} per step); a bound cannot be "
                f"exceeded, so this points to a measurement problem: please report it."
            )
        else:
            lab, b, v = min(pb, key=lambda t: t[1] - t[2])
            where = "the vanilla RNN" if len(pb) == 1 else f"all {len(pb)} vanilla RNNs"
            out.append(
                f"The Pascanu et al. bound holds in {where}; it is tightest for "
                f"{lab} (bound {g_text(b)}, measured {g_text(v)} per step)."
            )
    gated = [
        (lab, as_number(r.summary.get("annealed_rate")), as_number(r.summary.get("rms_growth_rate")))
        for r, lab in pairs
        if r.config.cell != "rnn"
    ]
    gated = [(lab, a, v) for lab, a, v in gated if a is not None and v is not None]
    if gated:
        lab, a, v = max(gated, key=lambda t: abs(t[1] - t[2]))
        out.append(
            f"For the gated cells the annealed estimate differs from the measured RMS rate by up "
            f"to {g_text(abs(a - v))} per step ({lab}: annealed {g_text(a)}, measured {g_text(v)})."
        )
    for r, lab in pairs:
        l1 = as_number(r.summary.get("lambda_1"))
        if l1 is not None:
            what = (
                "every gradient vanishes at this rate or faster" if l1 < 0
                else "some gradients grow without bound (chaos)"
            )
            out.append(f"{lab}: lambda_1 = {g_text(l1)} per step, so {what}.")
    return out


def reading(results: Sequence[Result], labels: Sequence[str] | None = None) -> list[str]:
    """Sentences that read the results with numbers, saying when a claim is unsupported."""
    labels = list(labels) if labels is not None else unique_labels([r.config for r in results])
    pairs = [(r, lab) for r, lab in zip(results, labels) if r.status != Status.ERROR]
    out: list[str] = []
    if not pairs:
        out.append("No configuration finished, so nothing can be compared.")
    else:
        out += _reading_horizon(pairs) + _reading_rates(pairs) + _reading_theory(pairs)
    for r, lab in zip(results, labels):
        if r.status == Status.NONFINITE:
            step = r.summary.get("nonfinite_step")
            where = f" at step {step}" if step is not None else ""
            out.append(f"{lab} became non-finite{where}: its row is marked and its curves stop there.")
        elif r.status == Status.ERROR:
            out.append(f"{lab} failed, so it has no numbers: {'; '.join(r.summary.get('warnings') or [])}")
    return out


def grouped_warnings(results: Sequence[Result], labels: Sequence[str], shown: int = 3) -> list[str]:
    """The runs' warnings, each said once: a warning several configurations share is one
    line naming them (`...: 6 configurations (lstm tanh N=64, gru tanh N=64, +4 more)`)."""
    groups: dict[str, list[str]] = {}
    for r, lab in zip(results, labels):
        for w in r.summary.get("warnings") or []:
            groups.setdefault(w, []).append(lab)
    out = []
    for warning, who in groups.items():
        if len(who) == 1:
            out.append(f"{who[0]}: {warning}")
            continue
        names = ", ".join(who[:shown]) + (f", +{len(who) - shown} more" if len(who) > shown else "")
        every = "every configuration" if len(who) == len(results) else f"{len(who)} configurations"
        out.append(f"{warning} ({every}: {names})")
    return out
