"""`gradscope sweep` end to end: bad input refused in one line before anything runs, a
dry run that prints the plan and its estimate, a report of two swept axes and seeds,
and a sweep killed with SIGKILL that resumes without recomputing.

(The executor: tests/runs/test_executor.py; the Dask cluster: tests/runs/test_dask.py.)
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradscope.cache import RunCache
from gradscope.cli import main
from gradscope.results import Result

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args, needle", [
    (["--gain", "1:2:0"], "n >= 1"),
    (["--gain", ""], "empty value"),
    (["--gain", "0:1:10000000"], "more than the limit"),
    (["--gain", "0:1:5000", "--hidden", "8:16"], "more than 10000 combinations"),
    (["--measure", "growth_rate,speed"], "speed: choose from"),
    (["--measure", ","], "name at least one measure"),
    (["--measure", "lambda_1", "--exponents", "0"], "needs --exponents >= 1"),
    (["--scheduler", "localhost"], "tcp://HOST:PORT"),
    (["--scheduler", "tcp://127.0.0.1:1", "--jobs", "2"], "not both"),
    (["--scheduler", "tcp://127.0.0.1:PORT"], "cannot reach the Dask scheduler"),
])
def test_bad_sweep_input_is_one_line_before_anything_runs(tmp_path: Path, args: list[str], needle: str) -> None:
    args = [a.replace("PORT", str(_closed_port())) for a in args]
    out, cache = tmp_path / "out", tmp_path / "cache"
    res = CliRunner().invoke(main, ["sweep", "-n", "8", "-T", "20", *args, "--cache", str(cache), "--out", str(out)])
    assert res.exit_code in (1, 2), res.output
    assert res.exit_code == (1 if "reach" in needle else 2)
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0], res.output
    assert not out.exists() and not cache.exists()  # nothing ran, nothing was written


def test_measure_names_match_the_report() -> None:
    from gradscope.cli.sweep import MEASURE_NAMES
    from gradscope.figures.phase import MEASURES

    assert MEASURE_NAMES == tuple(MEASURES)


def test_dry_run_prints_the_plan_and_estimate_and_runs_nothing(tmp_path: Path) -> None:
    base = ["sweep", "-n", "8", "-T", "30", "--transient", "10", "-b", "2", "--gain", "0.5:2:4",
            "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out")]
    res = CliRunner().invoke(main, [*base, "--jobs", "1", "--seed", "0", "--dry-run", "--json"])
    assert res.exit_code == 0, res.output
    plan = json.loads(res.output)
    assert (plan["runs"], plan["cached"], plan["to_compute"]) == (4, 0, 4)
    assert plan["estimate"]["seconds"] > 0 and plan["estimate"]["run_seconds"] > 0
    assert not (tmp_path / "out").exists() and len(RunCache(tmp_path / "cache")) == 0
    res = CliRunner().invoke(main, [*base, "--jobs", "1", "--seed", "0,1", "--quiet"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, [*base, "--jobs", "1", "--seed", "0,1", "--dry-run"])
    assert res.output.splitlines()[0].startswith("8 runs: 8 cached, 0 to compute")


def test_sweep_report_two_axes_and_seeds(tmp_path: Path) -> None:
    """Two swept fields and two seeds: a heatmap per measure (median over seeds), the
    summary of every run, no per-run files; lambda_1 turns the exponents on."""
    out = tmp_path / "out"
    res = CliRunner().invoke(main, [
        "sweep", "-n", "8", "-T", "30", "--transient", "10", "-b", "2", "--init", "normal", "--input", "zeros",
        "--gain", "0.5,1.5,2.5", "--bias-std", "0,0.5", "--seed", "0,1", "--measure", "growth_rate",
        "--measure", "lambda_1,horizon", "--jobs", "1", "--cache", str(tmp_path / "cache"), "--out", str(out),
        "--format", "svg"])
    assert res.exit_code == 0, res.output
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == ["phase_growth_rate.svg", "phase_horizon.svg", "phase_lambda_1.svg"]
    rows = json.loads((out / "summary.json").read_text())
    assert len(rows) == 12 and all(r["exponents"] == 1 and r["lambda_1"] is not None for r in rows)
    assert not (out / "runs").exists() and not (out / "curves.csv").exists()
    md = (out / "report.md").read_text()
    assert "figures/phase_lambda_1.svg" in md and "## Findings" in md and "mean field puts chi = 1" in md
    manifest = json.loads((out / "manifest.json").read_text())
    assert all((out / a["path"]).is_file() for a in manifest["artefacts"])


@pytest.mark.slow
def test_sweep_killed_with_sigkill_resumes_without_recomputing(tmp_path: Path) -> None:
    import psutil

    cache, out = tmp_path / "cache", tmp_path / "out"
    cmd = [sys.executable, "-m", "gradscope", "sweep", "-n", "32", "-T", "300", "--transient", "20", "-b", "2",
           "--gain", "0.5:3:12", "--jobs", "2", "--cache", str(cache), "--out", str(out), "--format", "svg"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while len(RunCache(cache)) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep finished before it could be killed: make its runs longer"
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"workers left running after the sweep was killed: {alive}"
    store = RunCache(cache)
    before = {k: (cache / k / "result.json").stat() for k in store.keys()}
    assert 3 <= len(before) < 12
    for key in before:  # every entry that looks whole is whole
        assert Result.load(cache / key).config.key() == key

    again = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300)
    assert again.returncode == 0, again.stderr
    rows = json.loads(again.stdout)["summary"]
    assert len(rows) == 12 and len({r["config_id"] for r in rows}) == 12  # none missing, none twice
    assert all(r["status"] == "ok" for r in rows)
    for key, stat in before.items():  # no finished run computed again
        now = (cache / key / "result.json").stat()
        assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert len(RunCache(cache)) == 12
