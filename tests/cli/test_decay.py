"""`gradscope decay` end to end: the files it writes (JSON, curves, summary, figures with
real fonts), the table and the sentence, its options reaching the Config, values and
inputs refused in one line (exit 2) before anything runs, a run that overflows (exit 0,
or 3 with --strict), and its --help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import NONFINITE, SMALL, assert_clean_error, run
from click.testing import CliRunner

from gradscope.cli import main


def _comparable(doc: dict) -> dict:
    doc = dict(doc)
    doc["provenance"] = {k: v for k, v in doc["provenance"].items() if k not in ("time_utc", "time", "command")}
    return doc


@pytest.fixture(scope="module")
def decay_run(tmp_path_factory):
    """One small real run with --out and --json (shared by several tests)."""
    out = tmp_path_factory.mktemp("run") / "nested" / "decay"
    res = run("decay", *SMALL, "--act", "sigmoid", "--out", str(out), "--json")
    return res, out


def test_decay_json_equals_result_json(decay_run):
    res, out = decay_run
    assert res.exit_code == 0, res.output
    stdout_doc = json.loads(res.stdout)  # exactly one JSON document, nothing else
    file_doc = json.loads((out / "result.json").read_text())
    assert _comparable(stdout_doc) == _comparable(file_doc)
    assert stdout_doc["summary"]["status"] == "ok"
    assert stdout_doc["config"]["act"] == "sigmoid" and stdout_doc["config"]["hidden"] == 8


def test_decay_writes_every_file_and_nothing_else(decay_run):
    _, out = decay_run
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["result.json", "curves.npz", "summary.txt",
                            "decay.pdf", "decay.svg", "decay.png"])
    summary = (out / "summary.txt").read_text()
    assert "growth rate" in summary and "gradients shrink" in summary
    assert "\x1b[" not in summary  # no colour codes


def test_decay_pdf_has_no_type3_and_svg_keeps_text(decay_run):
    _, out = decay_run
    pdf = (out / "decay.pdf").read_bytes()
    assert b"/Type3" not in pdf
    assert b"/CIDFontType2" in pdf or b"/TrueType" in pdf
    svg = (out / "decay.svg").read_text()
    assert "<text" in svg
    assert (out / "decay.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_decay_load_back(decay_run):
    from gradscope.results import Result

    _, out = decay_run
    result = Result.load(out)
    assert result.curves["log_spectral"].shape == (2, 51)


def test_decay_table_and_sentence(fake_analyze):
    res = run("decay", *SMALL)
    assert res.exit_code == 0, res.output
    assert "growth rate" in res.stdout and "horizon" in res.stdout
    assert "gradients shrink" in res.stdout
    assert "Traceback" not in res.output


def test_decay_quiet_prints_only_the_sentence(fake_analyze):
    res = run("decay", *SMALL, "--quiet")
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradients ")


def test_decay_format_and_width(tmp_path, fake_analyze):
    res = run("decay", *SMALL, "--out", str(tmp_path), "--format", "png", "--width", "icml2",
              "--style", "screen", "--quiet")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "decay.png").exists()
    assert not (tmp_path / "decay.pdf").exists() and not (tmp_path / "decay.svg").exists()


def test_options_reach_the_config(fake_analyze):
    res = run("decay", "--cell", "lstm", "--act", "relu", "--gate-act", "tanh", "-n", "8", "--input-size", "3",
              "-T", "50", "--transient", "5", "-b", "2", "--seed", "7", "--init", "orthogonal", "-g", "1.5",
              "--bias-std", "0.1", "--forget-bias", "1", "--input", "constant", "--input-std", "2",
              "--input-value", "0.5", "--h0-std", "0", "--eps", "1e-4", "--spectral", "exact",
              "--exponents", "4", "--dtype", "float32", "--device", "cpu", "-q")
    assert res.exit_code == 0, res.output
    (config,) = fake_analyze
    assert (config.cell, config.act, config.gate_act, config.hidden, config.input_size) == ("lstm", "relu", "tanh", 8, 3)
    assert (config.steps, config.transient, config.trials, config.seed) == (50, 5, 2, 7)
    assert (config.init, config.gain, config.bias_std, config.forget_bias) == ("orthogonal", 1.5, 0.1, 1.0)
    assert (config.input, config.input_std, config.input_value, config.h0_std) == ("constant", 2.0, 0.5, 0.0)
    assert (config.eps, config.spectral, config.exponents, config.dtype, config.device) == (1e-4, "exact", 4, "float32", "cpu")


def test_help_lists_groups_and_example():
    res = run("decay", "--help")
    assert res.exit_code == 0
    for section in ("Network options", "Run options", "Input options", "Numerics options", "Output options"):
        assert section in res.output
    assert "gradscope decay --cell" in res.output
    for opt in ("--gate-act", "--input-size", "--transient", "--bias-std", "--forget-bias", "--input-value",
                "--h0-std", "--spectral", "--exponents", "--dtype", "--device", "--strict", "--json"):
        assert opt in res.output


# -- refused in one line before anything runs ----------------------------------------
@pytest.mark.parametrize("args, needle", [
    (["--cell", "transformer"], "rnn"),
    (["--act", "swish"], "sigmoid"),
])
def test_unknown_choice_exit_2_names_choices(args, needle):
    line = assert_clean_error(run("decay", *args), 2)
    assert needle in line and "tanh" in line or needle in line


@pytest.mark.parametrize("args, name", [
    (["--hidden", "0"], "--hidden"),
    (["--steps", "-5"], "--steps"),
    (["--gain", "nan"], "--gain"),
    (["--trials", "0"], "--trials"),
    (["--eps", "2"], "--eps"),
    (["--format", "gif"], "--format"),
    (["--width", "huge"], "--width"),
    (["--input", "data.txt"], "--input"),
    (["--gain", "1e300"], "--gain"),  # finite, but its square overflows: refused before running
    (["--input", "constant", "--input-value", "1e200"], "--input-value"),
    (["--input-std", "1e300"], "--input-std"),
    (["--bias-std", "1e300"], "--bias-std"),
])
def test_bad_values_exit_2_one_line(args, name):
    line = assert_clean_error(run("decay", *SMALL, *args), 2)
    assert name in line


@pytest.mark.parametrize("content, needle", [
    (np.ones((40, 2)), "has 2 columns; the network takes 3 inputs"),
    (np.where(np.arange(120).reshape(40, 3) == 50, np.nan, 1.0), "holds nan at row 16"),
    (None, "is empty"),
])
def test_cli_refuses_the_input_before_writing(tmp_path, content, needle):
    path = tmp_path / ("x.npy" if content is not None else "x.csv")
    if content is None:
        path.write_text("")
    else:
        np.save(path, content)
    res = CliRunner().invoke(main, ["decay", "-n", "4", "--input-size", "3", "-T", "20", "--transient", "5",
                                    "--input", str(path), "--out", str(tmp_path / "out")])
    lines = res.output.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), res.output
    assert needle in lines[0] and "'--input'" in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_run_too_large_for_the_machine_is_refused_before_anything_is_drawn(tmp_path):
    res = CliRunner().invoke(main, ["decay", "-n", "8", "-T", "30", "--trials", "100000000", "--out",
                                    str(tmp_path / "out")])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1 and "GiB" in lines[0] and "--trials" in lines[0], res.output
    assert not (tmp_path / "out").exists()


def test_width_below_one_column_is_refused(tmp_path):
    """Narrower than 3.25 in (one column), the figures are not tested to fit and do not."""
    res = CliRunner().invoke(main, ["decay", "-n", "8", "-T", "20", "--width", "3", "--out", str(tmp_path / "o")])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1 and "between 3.25 and 40" in lines[0], res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_as_input_file_is_refused_without_reading_it(tmp_path):
    """`--input zero.npy`, a link to /dev/zero (a file that never ends): hashing it for the
    cache key read it forever; now it is refused in one line."""
    (tmp_path / "zero.npy").symlink_to("/dev/zero")
    zero = str(tmp_path / "zero.npy")
    for args in (["decay", "-n", "8", "-T", "20", "-b", "2", "--input", zero],
                 ["compare", "-n", "8", "-T", "20", "-b", "2", "--input", zero, "--cache", str(tmp_path / "cache"),
                  "--out", str(tmp_path / "report")]):
        res = CliRunner().invoke(main, args)
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and "not a file" in lines[0], res.output


# -- runs whose state overflows ------------------------------------------------------
def test_nonfinite_run_exit_0_and_strict_exit_3(tmp_path):
    res = run("decay", *NONFINITE, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["summary"]["status"] == "nonfinite"
    assert doc["summary"]["nonfinite_step"] is not None
    # an exploding run has no horizon: its explosion lag is given, and it is never "censored"
    assert doc["summary"]["explosion_lag"] is not None and doc["summary"]["horizon"] is None
    assert doc["summary"]["horizon_censored"] is False

    res = run("decay", *NONFINITE, "--strict", "--out", str(tmp_path), "--format", "png")
    assert res.exit_code == 3, res.output
    assert "nonfinite" in res.stdout  # the table was printed
    assert (tmp_path / "result.json").exists() and (tmp_path / "decay.png").exists()
    assert json.loads((tmp_path / "result.json").read_text())["summary"]["status"] == "nonfinite"
    assert "Traceback" not in res.output


def test_json_stays_json_when_float32_weights_overflow():
    """gain 1e40 in float32: W_hh is inf; LAPACK would print its own error to stdout."""
    proc = subprocess.run([sys.executable, "-m", "gradscope", "decay", "-n", "8", "-T", "20", "-b", "2", "--dtype",
                           "float32", "--act", "relu", "--init", "normal", "--gain", "1e40", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["status"] == "nonfinite"
