"""The thread lane: every command and code path once, as users run them (no thread
variable set), on `--threads 2` and `4` and on the engine's own choice with its probe
forced to say that threads pay, each case in a process of its own with a time limit, so
that a hang (torch 2.13's batched LU hangs on 2 or more threads: pytorch issues #141358
and #142815) fails in minutes instead of at the CI limit.

The rest of the suite runs on one thread (`conftest.py`): small matrices are fastest so,
and that lane never sees what users' thread counts do.

Numbers agree across thread counts to 1e-9 (relative to max(1, |x|); measured: at most
4e-11), exponents and their standard errors to 1e-8 (measured 3e-9 for the smallest
exponents of a stacked network: thread counts change the order of sums, and the QR
interval is chosen from the measured spread, so the smallest, most ill-conditioned
directions move most).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from thread_lane_driver import CASES

pytestmark = [pytest.mark.threads, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
#: A case (all its settings in one process) that takes longer than this has hung.
LIMIT = 240
TOLERANCE = 1e-9
SPECTRUM_TOLERANCE = 1e-8


def numbers(doc: dict) -> dict[str, float]:
    """The numbers of a `decay`/`spectrum` document, or of a report's summary rows."""
    out: dict[str, float] = {}
    rows = [doc["summary"]] if isinstance(doc["summary"], dict) else doc["summary"]
    for i, row in enumerate(rows):
        for key, value in row.items():
            values = value if isinstance(value, list) else [value]
            for j, v in enumerate(values):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[f"{i}.{key}" + (f"[{j}]" if isinstance(value, list) else "")] = float(v)
    return out


@pytest.mark.timeout(LIMIT + 60)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_path_runs_and_agrees_on_any_thread_count(case: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}  # as users run it
    try:
        proc = subprocess.run([sys.executable, str(ROOT / "tests" / "thread_lane_driver.py"), case, str(tmp_path)],
                              capture_output=True, text=True, timeout=LIMIT, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case} did not finish in {LIMIT} s on settings {CASES[case][1]}: a hang (a batched LU "
                    "on several threads?)")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "DLASWP" not in proc.stderr + proc.stdout  # oneMKL's error before the LU hang
    runs = json.loads(proc.stdout)
    assert list(runs) == list(CASES[case][1])
    base = numbers(runs["1"])
    assert base
    for setting, doc in runs.items():
        if "provenance" in doc and setting != "auto":
            assert doc["provenance"]["threads"] == int(setting)
        found = numbers(doc)
        assert set(found) == set(base), setting
        for key, value in base.items():
            tol = SPECTRUM_TOLERANCE if ".lyapunov" in key else TOLERANCE
            # a standard error comes from the same blocks as its exponent: it moves as much
            scale = abs(base.get(key.replace(".lyapunov_se[", ".lyapunov["), value))
            assert abs(found[key] - value) <= tol * max(1.0, abs(value), scale), (
                f"{setting} {key}: {found[key]} vs {value}")
    if "auto" in runs and "provenance" in runs["auto"] and (os.cpu_count() or 1) > 1:
        assert runs["auto"]["provenance"]["threads"] > 1  # the engine's choice did go parallel
