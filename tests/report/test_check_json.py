"""The check that keeps a committed report from going stale (`report.check_json`): a
change of a number or a verdict is seen, rounding is not."""

from __future__ import annotations

import json

from gradscope.report.check_json import compare_checks


def test_compare_checks_sees_a_change() -> None:
    old = {"configs": [{"growth_rate": -0.5, "regime": "vanishing"}], "claims": [{"verdict": "supported"}]}
    same = json.loads(json.dumps(old))
    same["configs"][0]["growth_rate"] = -0.5 * (1 + 1e-9)
    assert compare_checks(same, old) == []
    new = json.loads(json.dumps(old))
    new["configs"][0]["growth_rate"] = -0.51
    new["claims"][0]["verdict"] = "not supported"
    diffs = compare_checks(new, old)
    assert len(diffs) == 2 and "verdict" in diffs[0] and "growth_rate" in diffs[1]


def test_a_standard_error_is_compared_on_the_scale_of_its_rates() -> None:
    """Trials that agree closely have a standard error far below their rate: it moves as
    much as the rates (rtol of the rate), not rtol of itself (measured under another MKL
    path: 9.25526e-6 -> 9.25537e-6 beside a rate of -0.015)."""
    old = {"growth_rate": -0.015, "growth_rate_se": 9.255259711821173e-06, "regime": "vanishing", "status": "ok"}
    moved = dict(old, growth_rate_se=9.255369967639537e-06)  # 1.1e-10: rounding of rates of 1.5e-2
    assert compare_checks(moved, old) == []
    grown = dict(old, growth_rate_se=9.3e-06)  # 4.5e-8: beyond what the rates' rounding explains
    assert compare_checks(grown, old) == ["check.growth_rate_se: 9.3e-06, committed 9.255259711821173e-06"]
    assert compare_checks(dict(old, growth_rate_se=None), old)  # a missing value is a change
