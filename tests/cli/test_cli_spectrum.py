"""`gradscope spectrum` end to end: JSON with every spectrum key, the files it writes,
replot, options refused in one line, and a run that explodes at once (numbers, no
figure)."""

from __future__ import annotations

import pytest
from helpers import one_thread  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_spectrum_command_writes_json_files_and_replots(tmp_path):
    from click.testing import CliRunner

    from gradscope.cli import main

    runner = CliRunner()
    small = ["-n", "6", "-T", "300", "-b", "2", "--transient", "20"]
    r = runner.invoke(main, ["spectrum", *small, "--json"])
    assert r.exit_code == 0, r.output
    summary = __import__("json").loads(r.output)["summary"]
    for key in ("lyapunov", "lambda_1", "kaplan_yorke_dim", "n_positive", "entropy", "sum_exponents",
                "mean_log_det", "lambda_1_se", "lyapunov_se", "entropy_se", "sum_exponents_se"):
        assert key in summary, key
    assert len(summary["lyapunov"]) == 6 and summary["sum_rule_error"] < 1e-8
    out = tmp_path / "run"
    r = runner.invoke(main, ["spectrum", *small, "--exponents", "3", "--qr-every", "1", "--out", str(out),
                             "--format", "png"])
    assert r.exit_code == 0, r.output
    assert "lambda_1" in r.output and "3 of 6" in r.output
    assert {p.name for p in out.iterdir()} == {"result.json", "curves.npz", "summary.txt", "spectrum.png"}
    r = runner.invoke(main, ["replot", str(out), "--width", "7.16", "--format", "svg"])
    assert r.exit_code == 0 and (out / "spectrum.svg").is_file(), r.output
    for bad, message in ((["--exponents", "0"], "at least one exponent"), (["--exponents", "7"], "<= the state"),
                         (["--qr-every", "often"], "qr_every must be"), (["--frame-transient", "300"], "< steps")):
        r = runner.invoke(main, ["spectrum", *small, *bad])
        assert r.exit_code == 2 and message in r.output, (bad, r.output)


def test_spectrum_out_of_a_run_that_explodes_at_once_writes_its_numbers_and_no_figure(tmp_path):
    """No exponent accumulated (non-finite within the transient): result.json, curves and
    summary are written and say so; no figure is drawn, and the command does not fail."""
    from click.testing import CliRunner

    from gradscope.cli import main

    out = tmp_path / "run"
    r = CliRunner().invoke(main, ["spectrum", "-n", "8", "-T", "30", "-b", "2", "--transient", "10", "--act",
                                  "identity", "--init", "normal", "--gain", "1e100", "--out", str(out)])
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    assert "no figure" in r.output and "nonfinite" in r.output
    assert {p.name for p in out.iterdir()} == {"result.json", "curves.npz", "summary.txt"}
