"""`gradscope compare`: Ctrl-C says what was kept, --help speaks of the report, a report
name that is a path is refused. (Its report: tests/report/; checkpoints side by side:
test_decay_networks.py.)"""

from __future__ import annotations

import signal

import pytest
from cli_helpers import SMALL, run
from click.testing import CliRunner

from gradscope.cli import main


@pytest.mark.parametrize("cache, words", [(True, "finished runs are in the cache; run the same command to resume"),
                                          (False, "nothing was kept (--no-cache)")])
def test_compare_ctrl_c_says_what_was_kept(tmp_path, monkeypatch, cache, words):
    import gradscope.runs.execute as execute

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(execute, "run_grid", interrupted)
    args = ["compare", *SMALL, "--out", str(tmp_path / "r")]
    args += ["--cache", str(tmp_path / "cache")] if cache else ["--no-cache"]
    before = signal.getsignal(signal.SIGINT)
    res = run(*args)
    assert res.exit_code == 130
    assert words in res.stderr and "Aborted" not in res.output
    assert not (tmp_path / "r").exists()
    # the caller's Ctrl-C is its own again (it once stayed ignored, and so in every process
    # started after: a training script run by a later test could not be interrupted)
    assert signal.getsignal(signal.SIGINT) is before


def test_compare_help_speaks_of_the_report():
    text = " ".join(run("compare", "--help").output.split())
    assert "Write the report as the folder DIR" in text and "path of report.md" in text
    assert "report's path, manifest and summary rows" in text and "result.json, curves.npz" not in text
    assert "Floating-point precision" in text  # --dtype says what it is


def test_report_names_that_are_paths_are_refused(tmp_path):
    for name in ("..", "../elsewhere", "/tmp/abs"):
        res = CliRunner().invoke(main, ["compare", "-n", "8", "-T", "20", "-b", "2", "--act", "tanh,relu",
                                        "--name", name, "--cache", str(tmp_path / "cache")])
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and "cannot name a folder under reports/" in lines[0], res.output
