"""The summary table as data (`text.report_table`): the best value of each ranked column
in bold (rates closest to 0, the longest half-life and horizon, a censored horizon
counting as T), never an exploding run or a failed one, nothing when every row ties;
and an exploding run is never shown as a long horizon."""

from __future__ import annotations

from typing import Callable

from gradscope.config.naming import unique_labels
from gradscope.results import Result
from gradscope.text.reading import reading
from gradscope.text.report_table import report_table


def test_exploding_run_is_never_a_long_horizon(make_result: Callable[..., Result]) -> None:
    """An exploding configuration has no horizon: its table cell says so (never '> T'),
    it is never the 'longest horizon', and the reading gives its explosion lag."""
    from gradscope.text.report_table import report_table

    results = [make_result("rnn", "tanh", rate=-0.3), make_result("rnn", "relu", rate=0.4, init="normal", gain=6.0)]
    assert results[1].summary["horizon_censored"] is False and results[1].summary["explosion_lag"] is not None
    headers, rows, _ = report_table(results, unique_labels([r.config for r in results]))
    col = headers.index("horizon (steps)")
    assert rows[1][col][0] == "n/a (explodes)" and not rows[1][col][1]
    text = " ".join(reading(results))
    assert f"explodes: its median gain exceeds 1e+06 at lag {results[1].summary['explosion_lag']}, so it has no horizon" in text
    assert "> 120" not in text
    old = make_result("rnn", "relu", rate=0.4, init="normal", gain=6.0)
    old.summary["horizon_censored"] = True  # a summary written before exploding runs stopped counting as censored
    assert report_table([old], ["old"])[1][0][col][0] == "n/a (explodes)"


def _bold(results, column: str) -> list[int]:
    """The rows whose cell in `column` is bold."""
    headers, rows, _ = report_table(results, unique_labels([r.config for r in results]))
    col = headers.index(column)
    return [i for i, row in enumerate(rows) if row[col][1]]


def test_the_best_value_of_each_ranked_column_is_bold(make_result: Callable[..., Result]) -> None:
    results = [make_result("rnn", "tanh", rate=-0.3),  # horizon 47 of 120 steps
               make_result("gru", "tanh", rate=-0.05),  # censored: > 120
               make_result("lstm", "tanh", rate=-0.01),  # censored: > 120, the slowest decay
               make_result("rnn", "relu", rate=0.004, init="normal", gain=2.0)]  # exploding, if slowly
    assert [r.summary["regime"] for r in results] == ["vanishing"] * 3 + ["exploding"]
    # growth rate: closest to 0 among the runs that do not explode (|0.004| < |-0.01| does not count)
    assert _bold(results, "growth rate (/step)") == [2]
    assert _bold(results, "half-life (steps)") == [2]  # ln 2 / 0.01 = 69.3 steps, the longest
    assert _bold(results, "horizon (steps)") == [1, 2]  # two censored horizons tie at T = 120, above 47
    for unranked in ("params", "regime", "Pascanu (/step)", "mean field (/step)", "annealed (/step)"):
        assert _bold(results, unranked) == [], unranked
    headers, rows, align = report_table(results, ["a", "b", "c", "d"])
    assert [row[0][0] for row in rows] == ["a", "b", "c", "d"] and align[:2] == ["l", "l"]
    assert rows[2][headers.index("growth rate (/step)")][0] == "-0.010"  # 3 decimals
    assert rows[1][headers.index("horizon (steps)")][0] == "> 120"


def test_nothing_is_bold_where_every_row_ties_or_a_row_failed(make_result: Callable[..., Result]) -> None:
    same = [make_result("rnn", "tanh", rate=-0.2), make_result("gru", "tanh", rate=-0.2)]
    assert _bold(same, "growth rate (/step)") == [] and _bold(same, "half-life (steps)") == []
    failed = make_result("lstm", "tanh", rate=-0.001, status="error")  # the slowest decay, but it failed
    assert _bold([*same[:1], failed, make_result("gru", "tanh", rate=-0.1)], "growth rate (/step)") == [2]
    assert _bold([same[0]], "growth rate (/step)") == []  # one row ranks against nothing
