"""The `gradscope` command group (`cli.main`) and its entry points: usage errors are
exactly one line, --help imports nothing heavy, `python -m gradscope` and the console
script keep their output and exit codes whole, and every command runs every research
cell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run
from click.testing import CliRunner
from helpers import one_thread  # noqa: F401  (a fixture)

from gradscope.cli import main
from gradscope.config import CELL_SPECS


@pytest.mark.parametrize("args", [("decay", "--cell", "lstmx"), ("decay", "--steps", "-5"),
                                  ("decay", "--bogus"), ("nosuchcommand",), ("compare", "--gain", "1:x")])
def test_usage_errors_are_exactly_one_line(args):
    res = run(*args)
    assert res.exit_code == 2
    assert res.output.strip().startswith("Error:") and "\n" not in res.output.strip(), res.output


def test_help_imports_nothing_heavy():
    code = ("import sys\nfrom gradscope.cli import main\n"
            "try:\n    main(['decay', '--help'], prog_name='gradscope')\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in ('torch', 'numpy', 'matplotlib', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_python_m_gradscope_help():
    out = subprocess.run([sys.executable, "-m", "gradscope", "--help"], capture_output=True, text=True,
                         cwd=Path(__file__).parents[2])
    assert out.returncode == 0 and "decay" in out.stdout


def test_console_script_exit_codes_and_output(tmp_path):
    """`gradscope` (the `run` entry point) skips the interpreter's teardown: what it prints,
    writes and returns must be whole (this calls `run`, not `main`, in a new process)."""
    base = [sys.executable, "-c", "import sys\nfrom gradscope.cli import run\nrun(sys.argv[1:])"]
    ok = subprocess.run([*base, "decay", "-n", "8", "-T", "30", "-b", "2", "--transient", "5", "--json",
                         "--out", str(tmp_path / "r")], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["summary"]["analysed_lags"] == 30  # all of stdout arrived
    assert json.loads((tmp_path / "r" / "result.json").read_text())["summary"]["analysed_lags"] == 30
    bad = subprocess.run([*base, "decay", "--cell", "nope"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Error:" in bad.stderr
    strict = subprocess.run([*base, "decay", "-n", "8", "-T", "20", "-b", "2", "--act", "relu", "--init", "normal",
                             "--gain", "1e40", "--dtype", "float32", "--strict"], capture_output=True, text=True,
                            timeout=120)
    assert strict.returncode == 3, strict.stderr


RESEARCH_CELLS = [name for name, spec in CELL_SPECS.items() if spec.family == "research"]


@pytest.mark.usefixtures("one_thread")
def test_every_command_runs_the_research_cells(tmp_path):
    runner = CliRunner()
    small = ["-n", "4", "-T", "40", "-b", "2", "--transient", "10"]
    for cell in RESEARCH_CELLS:
        r = runner.invoke(main, ["decay", "--cell", cell, *small, "--exponents", "all", "--json"])
        assert r.exit_code == 0, r.output
        doc = json.loads(r.output)
        assert doc["summary"]["lambda_1"] is not None and doc["config"]["cell"] == cell
        r = runner.invoke(main, ["spectrum", "--cell", cell, *small, "-q"])
        assert r.exit_code == 0 and "direction" in r.output, r.output
    out = tmp_path / "report"
    r = runner.invoke(main, ["compare", "--cell", ",".join(RESEARCH_CELLS), *small, "--exponents", "all",
                             "--no-cache", "--quiet", "--format", "svg", "--out", str(out)])
    assert r.exit_code == 0, r.output
    md = (out / "report.md").read_text()
    assert all(cell in md for cell in RESEARCH_CELLS) and "Kaplan-Yorke" in md and "lambda\\_1" in md
    r = runner.invoke(main, ["cells"])
    assert r.exit_code == 0 and all(cell in r.output for cell in RESEARCH_CELLS)
