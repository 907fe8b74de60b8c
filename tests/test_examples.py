"""Every example runs and proves its claim; every committed report (the sweep's phase
diagram included) matches its check.json; the weather data set is made as committed."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gradscope.report.check_json import compare_checks

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = ["api_quickstart.py", "orthogonal_oracle.py", "underflow.py"]
REPORTS = {"textbook": "textbook.py", "critical-init": "critical_init.py", "training": "training.py",
           "forget-bias": "forget_bias.py", "modern": "modern.py"}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name.replace(".py", "").replace("-", "_"), EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_opens_with_a_one_line_docstring_or_comment() -> None:
    for path in sorted(EXAMPLES.iterdir()):
        if path.suffix not in (".py", ".toml"):
            continue
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith('"""') or first.startswith("# "), path.name
        assert len(first) > 20, path.name


NUMBER = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?)"


def _claim_of_api_quickstart(lines: list[str]) -> None:
    """`RATE HORIZON STATUS` of an LSTM (N=16, T=200), then the round trip it promises."""
    rate, horizon, status = lines[0].split()
    assert status == "ok" and -1.0 < float(rate) < 0  # a finite run whose gradient vanishes
    assert horizon == "None" or 0 < int(horizon) <= 200  # measured within the window, or censored
    assert lines[1] == "ok: analyze -> Result -> save -> load round-trips"


def _claim_of_orthogonal_oracle(lines: list[str]) -> None:
    """Every lag of the 200-step window reads gain^k, to rounding; the rate is ln 0.9."""
    for line, name in zip(lines[:2], ("log_spectral", "log_rms")):
        m = re.fullmatch(rf"{name}: largest \|log gain - k log g\| over 201 lags = {NUMBER}", line)
        assert m and float(m.group(1)) < 1e-10, line
    m = re.fullmatch(rf"ok: every lag reads gain\^k \(rate {NUMBER} = ln 0.9 = {NUMBER}\)", lines[2])
    assert m, lines[2]
    assert float(m.group(1)) == pytest.approx(math.log(0.9), abs=1e-11)  # the measured rate ...
    assert m.group(2) == f"{math.log(0.9):.12f}"  # ... beside the exact one


def _claim_of_underflow(lines: list[str]) -> None:
    """Plain float32 BPTT reads exactly 0 before lag 60; gradscope still reads a number at lag 99."""
    m = re.fullmatch(r"float32 BPTT: the gradient is exactly 0 from lag (\d+) on", lines[0])
    assert m and 0 < int(m.group(1)) < 60, lines[0]
    m = re.fullmatch(r"gradscope: lag 99 still reads 10\^(-\d+) \(log space, float64 scale\)", lines[1])
    assert m and int(m.group(1)) < -40, lines[1]  # far below float32's smallest number (~1e-45)
    assert lines[2] == "ok"


CLAIMS = {"api_quickstart.py": _claim_of_api_quickstart, "orthogonal_oracle.py": _claim_of_orthogonal_oracle,
          "underflow.py": _claim_of_underflow}


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_script_runs_and_proves_its_claim(script: str) -> None:
    """Each script exits 0 and prints the numbers of its claim, which are checked here
    against the truth (the exact rate ln 0.9, float32's range, the window's length)."""
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == (2 if script == "api_quickstart.py" else 3), proc.stdout  # nothing else printed
    CLAIMS[script](lines)


@pytest.mark.parametrize("toml", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_example_experiment_runs_through_compare(toml: str, tmp_path: Path) -> None:
    overrides = ["-n", "8", "-T", "60", "-b", "2", "--transient", "20"]
    if toml == "critical-init.toml":
        overrides += ["--gain", "0.5:2.5:3"]
    proc = subprocess.run(
        [sys.executable, "-m", "gradscope", "compare", "--config", str(EXAMPLES / toml), "--no-cache",
         "--quiet", "--format", "svg", "--out", str(tmp_path / "report"), *overrides],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((tmp_path / "report" / "manifest.json").read_text())
    assert all(c["status"] == "ok" for c in manifest["configs"])
    assert all(r["steps"] == 60 for r in json.loads((tmp_path / "report" / "summary.json").read_text()))


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_committed_report_matches_its_reduced_check(report: str) -> None:
    """Recompute the report's numbers at reduced size (no cache) and compare them with the
    committed check.json: numbers to rtol 1e-6, verdicts and strings exactly."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is faster than two fighting
    module = _load(REPORTS[report])
    committed = json.loads((ROOT / "reports" / report / "check.json").read_text(encoding="utf-8"))
    try:
        fresh = json.loads(json.dumps(module.check()))
    finally:
        torch.set_num_threads(threads)
    assert compare_checks(fresh, committed) == []
    folder = ROOT / "reports" / report
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert f"python examples/{REPORTS[report]}" in md and "## Findings" in md
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == f"python examples/{REPORTS[report]}" and manifest["findings"]
    for artefact in manifest["artefacts"]:
        assert (folder / artefact["path"]).is_file(), artefact["path"]


def test_committed_phase_diagram_matches_its_reduced_check() -> None:
    """Recompute reports/phase-diagram's numbers at reduced size (no cache) and compare
    them with its committed check.json: numbers to rtol 1e-6, verdicts exactly."""
    import importlib.util

    from gradscope.report.check_json import compare_checks

    spec = importlib.util.spec_from_file_location("phase_diagram", ROOT / "examples" / "phase_diagram.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = ROOT / "reports" / "phase-diagram"
    committed = json.loads((folder / "check.json").read_text(encoding="utf-8"))
    assert compare_checks(json.loads(json.dumps(module.check())), committed) == []
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "python examples/phase_diagram.py" in md and "## Findings" in md
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == module.COMMAND and manifest["findings"]
    assert {"figures/phase_growth_rate.svg", "figures/phase_lambda_1.svg"} <= {a["path"] for a in manifest["artefacts"]}
    for artefact in manifest["artefacts"]:
        assert (folder / artefact["path"]).is_file(), artefact["path"]


def test_weather_data_set_is_made_here_and_committed_as_made(tmp_path: Path) -> None:
    """examples/weather.py writes the committed examples/data/weather.csv byte for byte,
    and gradscope reads it as an input file."""
    proc = subprocess.run([sys.executable, str(EXAMPLES / "weather.py"), "--out", str(tmp_path / "w.csv")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "w.csv").read_bytes() == (EXAMPLES / "data" / "weather.csv").read_bytes()
    from gradscope.model.inputs import load_input_file

    data = load_input_file(str(EXAMPLES / "data" / "weather.csv"), 1200, 1, 3)
    assert data.shape == (1200, 1, 3) and abs(float(data.std()) - 1) < 0.1
