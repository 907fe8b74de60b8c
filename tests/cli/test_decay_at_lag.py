"""`decay --at-lag`: the gain, loss gradient and input sensitivity at the lags a task
needs, in the JSON document and the table; a bad lag is one line."""

from __future__ import annotations

import json

import pytest
from cli_helpers import SMALL, assert_clean_error, run


def test_at_lag_repeatable_or_a_comma_list() -> None:
    res = run("decay", *SMALL, "--at-lag", "10,30", "--at-lag", "5", "--threads", "1", "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)["summary"]
    assert s["at_lags"] == [5, 10, 30]
    assert all(v is not None and v < 0 for v in s["log_gain_at_lags"])  # a tanh RNN: the gain shrinks
    assert len(s["log_loss_grad_at_lags"]) == len(s["log_input_sensitivity_at_lags"]) == 3
    table = run("decay", *SMALL, "--at-lag", "30", "--threads", "1")
    assert table.exit_code == 0 and "gain at lag 30" in table.output and "loss grad." in table.output


def test_without_at_lag_the_keys_are_null() -> None:
    s = json.loads(run("decay", *SMALL, "--threads", "1", "--json").stdout)["summary"]
    assert s["at_lags"] is None and s["log_gain_at_lags"] is None and s["median_step_gain"] > 0


@pytest.mark.parametrize("value", ["0", "x", "3,-1", ","])
def test_a_bad_lag_is_one_line(value: str) -> None:
    line = assert_clean_error(run("decay", *SMALL, "--at-lag", value), 2)
    assert "--at-lag" in line
