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
