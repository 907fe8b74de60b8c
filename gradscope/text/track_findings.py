"""What a training run's gradient flow says, in sentences with its numbers: when each
run's horizon passed the lag its task needs, and whether that came before its accuracy
rose (`gradscope track`'s findings).

    numbers = track_numbers(series, lags=(30,))   # one dict per run and lag
    lines = track_findings(series, lags=(30,))

A horizon passes a lag when the median gain is still above eps there: a measured horizon
beyond the lag, or a censored one (never below eps) whose window reaches it. An accuracy
(a metric whose name holds "acc") rose at the first step at which it reached half of its
rise, from its first value to its best, when that rise is at least `MIN_RISE`.

May import: `gradscope.figures.over_training`, `gradscope.results`.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..figures.over_training import Series
from ..results import HorizonKind, horizon_of

#: The least rise of an accuracy (as a fraction) that counts as learning.
MIN_RISE = 0.1


def horizon_value(result: Any) -> tuple[int | None, bool]:
    """`(horizon, censored)`: the measured horizon, or the window when the gain never
    fell below eps there (censored); `(None, False)` otherwise (exploding, unknown)."""
    h = horizon_of(result.summary, result.config.steps)
    if h.kind == HorizonKind.MEASURED:
        return h.lag, False
    if h.kind == HorizonKind.CENSORED:
        return h.lag, True
    return None, False


def passed_at(series: Series, lag: int) -> int | None:
    """The first training step at which the horizon is beyond `lag` (None: never)."""
    for step, r in zip(series.steps, series.results):
        h, censored = horizon_value(r)
        if h is not None and (h > lag or (censored and h >= lag)):
            return step
    return None


def rise(points: Sequence[tuple[int, float]]) -> dict[str, Any]:
    """`{"first", "best", "rose_at"}` of a metric's points: `rose_at` the first step at
    which it reached half its rise (None when it rose less than `MIN_RISE`)."""
    if not points:
        return {"first": None, "best": None, "rose_at": None}
    first, best = points[0][1], max(v for _, v in points)
    rose_at = None
    if best - first >= MIN_RISE:
        half = first + 0.5 * (best - first)
        rose_at = next(s for s, v in points if v >= half)
    return {"first": first, "best": best, "rose_at": rose_at}


def track_numbers(series: Sequence[Series], lags: Sequence[int]) -> list[dict[str, Any]]:
    """Per run and lag: the horizon at the first and last checkpoint, the step at which
    it passed the lag, the accuracy's rise, and whether the one came before the other."""
    out = []
    for s in series:
        accuracy = next((n for n in s.metrics if "acc" in n.lower()), None)
        acc = rise(s.metrics.get(accuracy, [])) if accuracy else None
        for lag in lags:
            first, last = (horizon_value(s.results[i]) if s.results else (None, False) for i in (0, -1))
            passed = passed_at(s, lag)
            row = {"run": s.label, "lag": lag, "horizon_first": first[0], "horizon_first_censored": first[1],
                   "horizon_last": last[0], "horizon_last_censored": last[1], "passed_at": passed,
                   "first_step": s.steps[0] if s.steps else None, "last_step": s.steps[-1] if s.steps else None}
            if acc is not None:
                rose_at = acc["rose_at"]
                row.update(metric=accuracy, accuracy_first=acc["first"], accuracy_best=acc["best"], rose_at=rose_at,
                           order=None if passed is None or rose_at is None else
                           "before" if passed < rose_at else "same step" if passed == rose_at else "after")
            out.append(row)
    return out


def _horizon_text(h: int | None, censored: bool) -> str:
    return "-" if h is None else f"> {h}" if censored else f"{h}"


def track_findings(series: Sequence[Series], lags: Sequence[int]) -> list[str]:
    """One sentence per run and lag (see `track_numbers`)."""
    lines = []
    for row in track_numbers(series, lags):
        lag = row["lag"]
        start = (f"{row['run']}: the horizon was {_horizon_text(row['horizon_first'], row['horizon_first_censored'])} "
                 f"steps at step {row['first_step']}")
        if row["passed_at"] is None:
            text = (f"{start} and never passed the task's lag {lag} (at step {row['last_step']}: "
                    f"{_horizon_text(row['horizon_last'], row['horizon_last_censored'])})")
        elif row["passed_at"] == row["first_step"]:
            text = f"{start}: beyond the task's lag {lag} from the start"
        else:
            text = f"{start} and passed the task's lag {lag} at step {row['passed_at']}"
        if "metric" in row:
            name = row["metric"]
            if row["rose_at"] is None:
                text += (f"; its {name} did not rise (from {row['accuracy_first']:.2f} to at most "
                         f"{row['accuracy_best']:.2f})")
            else:
                text += (f"; its {name} rose at step {row['rose_at']} (half-way from {row['accuracy_first']:.2f} "
                         f"to its best, {row['accuracy_best']:.2f})")
                if row["order"] == "before":
                    text += ": the horizon passed the lag before the accuracy rose"
                elif row["order"] == "after":
                    text += ": the accuracy rose before the horizon passed the lag"
                elif row["order"] == "same step":
                    text += ": both at the same step"
        lines.append(text + ".")
    return lines


def track_table(series: Sequence[Series], lags: Sequence[int] = ()) -> Any:
    """The terminal table of a track: one row per checkpoint (run, step, growth rate,
    lambda_1, horizon, the gain at each lag, the metrics logged at that step)."""
    from rich import box
    from rich.table import Table

    from .numbers import get, log_text, number_text

    names = list(dict.fromkeys(n for s in series for n in s.metrics))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for head in ["run", "step", "growth rate", "lambda_1", "horizon", *(f"gain at {k}" for k in lags), *names]:
        table.add_column(head, justify="left" if head == "run" else "right", no_wrap=True)
    for s in series:
        values = {n: dict(s.metrics.get(n, [])) for n in names}
        for step, r in zip(s.steps, s.results):
            h, censored = horizon_value(r)
            at = dict(zip(get(r, "at_lags") or [], get(r, "log_gain_at_lags") or []))
            table.add_row(s.label, str(step), number_text(get(r, "growth_rate")), number_text(get(r, "lambda_1")),
                          _horizon_text(h, censored), *(log_text(at.get(k)) for k in lags),
                          *(number_text(values[n].get(step)) for n in names))
    return table
