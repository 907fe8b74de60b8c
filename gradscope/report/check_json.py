"""A report's numbers at reduced size, for a committed `check.json`, and the comparison
that keeps a committed report from going stale unnoticed.

May import: `gradscope.results`.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..config.naming import unique_labels
from ..results import Result, json_safe

#: Config fields and summary keys kept per configuration in a `check.json`.
CHECK_FIELDS = ("cell", "act", "init", "gain", "forget_bias", "hidden", "steps", "trials", "transient", "seed")


CHECK_KEYS = ("growth_rate", "rms_growth_rate", "horizon", "horizon_censored", "regime", "status")


def check_summary(
    results: Sequence[Result], claims: Sequence[dict[str, Any]] = (), name: str = "report"
) -> dict[str, Any]:
    """The numbers of a report as plain JSON data, for a committed `check.json`.

    A report script computes this at reduced size and commits it beside the report; a
    test recomputes it and compares (numbers to a relative tolerance, strings and
    verdicts exactly), so a committed report cannot go stale unnoticed.

    Arguments:
        results: the report's runs, in report order.
        claims: the script's claim verdicts, each a dict of plain values (e.g.
            `{"claim": "a", "verdict": "supported", "numbers": {...}}`).
        name: the report's name.

    Returns:
        `{"report", "configs": [{"label", CHECK_FIELDS..., CHECK_KEYS...}], "claims"}`.
    """
    labels = unique_labels([r.config for r in results])
    configs = []
    for r, lab in zip(results, labels):
        row: dict[str, Any] = {"label": lab}
        row.update({f: getattr(r.config, f) for f in CHECK_FIELDS})
        row.update({k: r.summary.get(k) for k in CHECK_KEYS})
        configs.append(row)
    return json_safe({"report": name, "configs": configs, "claims": [dict(c) for c in claims]})


def compare_checks(new: Any, old: Any, rtol: float = 1e-6, where: str = "check") -> list[str]:
    """Differences between two `check_summary` documents: numbers beyond `rtol`
    (relative; absolute 1e-12 near zero), any other value that differs, missing keys."""
    out: list[str] = []
    if isinstance(new, dict) and isinstance(old, dict):
        for key in sorted(set(new) | set(old)):
            if key not in new or key not in old:
                out.append(f"{where}.{key}: only in the {'new' if key in new else 'committed'} check")
            else:
                out += compare_checks(new[key], old[key], rtol, f"{where}.{key}")
    elif isinstance(new, list) and isinstance(old, list):
        if len(new) != len(old):
            out.append(f"{where}: {len(new)} items, committed {len(old)}")
        for i, (a, b) in enumerate(zip(new, old)):
            out += compare_checks(a, b, rtol, f"{where}[{i}]")
    elif (isinstance(new, (int, float)) and isinstance(old, (int, float))
          and not isinstance(new, bool) and not isinstance(old, bool)):
        if not math.isclose(float(new), float(old), rel_tol=rtol, abs_tol=1e-12):
            out.append(f"{where}: {new!r}, committed {old!r}")
    elif new != old:
        out.append(f"{where}: {new!r}, committed {old!r}")
    return out
