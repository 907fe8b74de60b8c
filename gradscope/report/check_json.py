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


CHECK_KEYS = ("growth_rate", "growth_rate_se", "rms_growth_rate", "horizon", "horizon_censored", "regime", "status")
#: In a chaotic run (a bounded state whose gain grows: `regime` exploding, `status` ok)
#: trajectories that start alike separate at any rounding difference (another CPU's
#: kernels, another MKL code path), so its rates are known to their standard error,
#: not to the last digit: they are compared within `CHAOTIC_SE` standard errors.
CHAOTIC_KEYS = ("growth_rate", "rms_growth_rate")
CHAOTIC_SE = 3.0


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


def files_relative(result: Result, folder: Any) -> Result:
    """`result` with the files its configuration reads (`checkpoint`, `input`) that lie in
    `folder` named relative to it, so that a `check.json` computed in a temporary folder
    does not depend on where that was."""
    import dataclasses
    import os

    config = result.config
    names = {k: os.path.relpath(getattr(config, k), folder) for k in ("checkpoint", "input")
             if getattr(config, k) is not None and str(getattr(config, k)).startswith(str(folder))}
    return dataclasses.replace(result, config=dataclasses.replace(config, **names))


def compare_checks(new: Any, old: Any, rtol: float = 1e-6, where: str = "check") -> list[str]:
    """Differences between two `check_summary` documents: numbers beyond `rtol`
    (relative; absolute 1e-12 near zero), the rates of a chaotic run beyond
    `CHAOTIC_SE` of their standard errors, any other value that differs, missing keys."""
    out: list[str] = []
    if isinstance(new, dict) and isinstance(old, dict):
        chaotic = old.get("regime") == "exploding" and old.get("status") == "ok" and "growth_rate_se" in old
        for key in sorted(set(new) | set(old)):
            if key not in new or key not in old:
                out.append(f"{where}.{key}: only in the {'new' if key in new else 'committed'} check")
            elif chaotic and key in CHAOTIC_KEYS + ("growth_rate_se",):
                out += _statistical(new, old, key, f"{where}.{key}")
            elif key == "growth_rate_se" and _numbers(new.get(key), old.get(key), new.get("growth_rate"),
                                                      old.get("growth_rate")):
                # the spread of the trials' rates: it moves as much as the rates do, which is
                # much more than rtol of itself where the trials agree closely
                scale = rtol * max(abs(float(new["growth_rate"])), abs(float(old["growth_rate"])))
                if not math.isclose(float(new[key]), float(old[key]), rel_tol=rtol, abs_tol=max(scale, 1e-12)):
                    out.append(f"{where}.{key}: {new[key]!r}, committed {old[key]!r}")
            else:
                out += compare_checks(new[key], old[key], rtol, f"{where}.{key}")
    elif isinstance(new, list) and isinstance(old, list):
        if len(new) != len(old):
            out.append(f"{where}: {len(new)} items, committed {len(old)}")
        for i, (a, b) in enumerate(zip(new, old)):
            out += compare_checks(a, b, rtol, f"{where}[{i}]")
    elif _numbers(new, old):
        if not math.isclose(float(new), float(old), rel_tol=rtol, abs_tol=1e-12):
            out.append(f"{where}: {new!r}, committed {old!r}")
    elif new != old:
        out.append(f"{where}: {new!r}, committed {old!r}")
    return out


def _numbers(*values: Any) -> bool:
    """Whether every value is a number (not a bool)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _statistical(new: dict[str, Any], old: dict[str, Any], key: str, where: str) -> list[str]:
    """A rate of a chaotic run within `CHAOTIC_SE` standard errors (its standard error
    itself within a factor of two)."""
    a, b = new.get(key), old.get(key)
    if a is None or b is None:
        return [] if a is None and b is None else [f"{where}: {a!r}, committed {b!r}"]
    if key == "growth_rate_se":
        return [] if 0.5 * b <= a <= 2.0 * b else [f"{where}: {a!r}, committed {b!r} (beyond a factor of 2)"]
    se = max(float(new.get("growth_rate_se") or 0.0), float(old.get("growth_rate_se") or 0.0))
    if abs(float(a) - float(b)) <= CHAOTIC_SE * se + 1e-12:
        return []
    return [f"{where}: {a!r}, committed {b!r} (a chaotic run: more than {CHAOTIC_SE:g} standard errors, {se:.2g}, apart)"]
