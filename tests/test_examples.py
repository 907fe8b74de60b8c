"""Every example runs and proves its claim; every committed report matches its check.json."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradscope.report.check_json import compare_checks

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = ["api_quickstart.py", "orthogonal_oracle.py", "underflow.py"]
REPORTS = {"textbook": "textbook.py", "critical-init": "critical_init.py", "training": "training.py"}


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


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_script_runs_and_proves_its_claim(script: str) -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok" in proc.stdout


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
