"""The command line: exit codes, files, JSON, errors without tracebacks, --help speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gradscope.cli import main
from gradscope.cli.options import VENUES, parse_values

SMALL = ["--hidden", "8", "--steps", "50", "--trials", "2", "--transient", "20"]
NONFINITE = ["--act", "relu", "--gain", "6", "--init", "normal", "--steps", "600",
             "--hidden", "8", "--trials", "2", "--transient", "20"]


@pytest.fixture
def fake_analyze(monkeypatch):
    """Replace the engine by a synthetic result (for tests of presentation only)."""
    from conftest import make_synthetic_result

    import gradscope.analysis as analysis

    calls = []

    def fake(config, progress=None, strict=False, command=None, threads=None, network=None):
        calls.append(config)
        if progress is not None:
            progress("unroll", 1, 1)
        return make_synthetic_result("vanishing", steps=50, trials=2)

    monkeypatch.setattr(analysis, "analyze", fake)
    return calls


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


def assert_clean_error(res, code: int) -> str:
    out = res.output
    assert res.exit_code == code, out
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit)
    return errors[0]


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


def test_missing_input_file_is_a_clean_error(tmp_path):
    res = run("decay", *SMALL, "--input", str(tmp_path / "missing.npy"))
    assert res.exit_code in (1, 2), res.output
    assert "Traceback" not in res.output
    assert res.output.count("Error:") == 1


def test_unwritable_out_exit_1(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run("decay", *SMALL, "--out", str(blocker / "sub"))
    line = assert_clean_error(res, 1)
    assert "--out" in line
    assert blocker.read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_readonly_out_exit_1_nothing_written(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        res = run("decay", *SMALL, "--out", str(ro))
        assert_clean_error(res, 1)
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_failed_figure_write_leaves_no_partial_file(tmp_path, monkeypatch, fake_analyze):
    """An error while saving leaves only complete files (atomic writes), exit 1."""
    import gradscope.figures.style as style

    real = style.save_figure

    def failing(fig, stem, formats=("pdf",), dpi=300):
        real(fig, stem, formats=formats[:1], dpi=dpi)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(style, "save_figure", failing)
    res = run("decay", *SMALL, "--out", str(tmp_path))
    assert_clean_error(res, 1)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def test_library_runtime_error_exit_1(monkeypatch):
    import gradscope.analysis as analysis

    def boom(*a, **k):
        raise RuntimeError("CUDA out of memory\nsecond line")

    monkeypatch.setattr(analysis, "analyze", boom)
    line = assert_clean_error(run("decay", *SMALL), 1)
    assert "CUDA out of memory" in line


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


def test_cells_command():
    res = run("cells", "--hidden", "64", "--input-size", "32")
    assert res.exit_code == 0, res.output
    # G N (I + N) + 2 G N for N=64, I=32
    for g in (1, 4, 3):
        assert f"{g * 64 * 96 + 2 * g * 64:,}" in res.stdout
    for name in ("rnn", "lstm", "gru", "sigmoid", "1/4", "hardtanh"):
        assert name in res.stdout


def test_help_lists_groups_and_example():
    res = run("decay", "--help")
    assert res.exit_code == 0
    for section in ("Network options", "Run options", "Input options", "Numerics options", "Output options"):
        assert section in res.output
    assert "gradscope decay --cell" in res.output
    for opt in ("--gate-act", "--input-size", "--transient", "--bias-std", "--forget-bias", "--input-value",
                "--h0-std", "--spectral", "--exponents", "--dtype", "--device", "--strict", "--json"):
        assert opt in res.output


def test_help_imports_nothing_heavy():
    code = ("import sys\nfrom gradscope.cli import main\n"
            "try:\n    main(['decay', '--help'], prog_name='gradscope')\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in ('torch', 'numpy', 'matplotlib', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_python_m_gradscope_help():
    out = subprocess.run([sys.executable, "-m", "gradscope", "--help"], capture_output=True, text=True,
                         cwd=Path(__file__).parents[1])
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


def test_venues_match_style():
    from gradscope.figures.style import VENUE_WIDTHS

    assert VENUES == VENUE_WIDTHS


# -- parse_values --------------------------------------------------------------------
@pytest.mark.parametrize("text, kind, expected", [
    ("3", "int", [3]),
    ("1,2,5", "int", [1, 2, 5]),
    ("2:5", "int", [2, 3, 4, 5]),
    ("5:3", "int", [5, 4, 3]),
    ("0.5:3.0:6", "float", [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]),
    ("0:1:11", "float", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
    ("64:256:4", "int", [64, 128, 192, 256]),
    ("1e3", "int", [1000]),
    ("-1:1:3", "float", [-1.0, 0.0, 1.0]),
    ("1:3", "float", [1.0, 2.0, 3.0]),
    ("1,4:6", "int", [1, 4, 5, 6]),
    ("rnn, lstm,gru", "str", ["rnn", "lstm", "gru"]),
    ("2:2:1", "float", [2.0]),
])
def test_parse_values(text, kind, expected):
    assert parse_values(text, kind) == expected


@pytest.mark.parametrize("text, kind", [
    ("", "int"), ("1,,2", "int"), ("1.5", "int"), ("0.5:2", "float"), ("1:2:0", "float"),
    ("0:1:3", "int"), ("1:2:3:4", "float"), ("nan", "float"), ("a", "float"), ("1:3:2.5", "float"),
])
def test_parse_values_rejects(text, kind):
    with pytest.raises(ValueError):
        parse_values(text, kind)


def test_multi_options_expand():
    from gradscope.cli.options import config_options, expand_options

    @click.command()
    @config_options(multi=True)
    def cmd(**kw):
        click.echo(json.dumps(expand_options(kw), sort_keys=True))

    res = CliRunner().invoke(cmd, ["--cell", "rnn,gru", "--gain", "0.5:1.5:3", "-n", "8:9"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"cell": ["rnn", "gru"], "gain": [0.5, 1.0, 1.5], "hidden": [8, 9]}
    res = CliRunner().invoke(cmd, ["--act", "tanh,swish"])
    assert res.exit_code == 2 and "swish" in res.output


@pytest.mark.parametrize("args", [("decay", "--cell", "lstmx"), ("decay", "--steps", "-5"),
                                  ("decay", "--bogus"), ("nosuchcommand",), ("compare", "--gain", "1:x")])
def test_usage_errors_are_exactly_one_line(args):
    res = run(*args)
    assert res.exit_code == 2
    assert res.output.strip().startswith("Error:") and "\n" not in res.output.strip(), res.output


# -- nothing overwritten by surprise, and the words of errors and help ------------------
def test_out_replaces_a_gradscope_folder_and_refuses_others(tmp_path, fake_analyze):
    out = tmp_path / "run"
    assert run("decay", *SMALL, "--out", str(out), "-q").exit_code == 0
    (out / "decay.pdf").unlink()
    res = run("decay", *SMALL, "--out", str(out), "--format", "png", "-q")
    assert res.exit_code == 0, res.output
    assert "note: replaced the earlier run (rnn sigmoid) in " in res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["curves.npz", "decay.png", "result.json", "summary.txt"]

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("1,2\n")
    ran = len(fake_analyze)
    line = assert_clean_error(run("decay", *SMALL, "--out", str(mine)), 2)
    assert "gradscope did not write (data.csv)" in line and "--force" in line
    assert len(fake_analyze) == ran  # refused before anything ran
    res = run("decay", *SMALL, "--out", str(mine), "--force", "-q")
    assert res.exit_code == 0, res.output
    assert (mine / "data.csv").read_text() == "1,2\n" and (mine / "result.json").is_file()


@pytest.mark.parametrize("cache, words", [(True, "finished runs are in the cache; run the same command to resume"),
                                          (False, "nothing was kept (--no-cache)")])
def test_compare_ctrl_c_says_what_was_kept(tmp_path, monkeypatch, cache, words):
    import gradscope.runs.execute as execute

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(execute, "run_grid", interrupted)
    args = ["compare", *SMALL, "--out", str(tmp_path / "r")]
    args += ["--cache", str(tmp_path / "cache")] if cache else ["--no-cache"]
    res = run(*args)
    assert res.exit_code == 130
    assert words in res.stderr and "Aborted" not in res.output
    assert not (tmp_path / "r").exists()


def test_compare_help_speaks_of_the_report():
    text = " ".join(run("compare", "--help").output.split())
    assert "Write the report as the folder DIR" in text and "path of report.md" in text
    assert "report's path, manifest and summary rows" in text and "result.json, curves.npz" not in text
    assert "Floating-point precision" in text  # --dtype says what it is


def test_cells_keeps_the_lstm_state_in_brackets():
    assert "[h; c] 128" in run("cells").stdout


def test_compare_table_fits_80_columns_and_never_cuts_a_number():
    from rich.console import Console

    from gradscope.config.naming import unique_labels
    from gradscope.text.terminal import comparison_table

    sys.path.insert(0, str(Path(__file__).parent))
    from test_layout import report_results

    results = report_results(9)
    console = Console(width=80, record=True, color_system=None, file=open(os.devnull, "w"))
    console.print(comparison_table(results, width=80))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    for r, label in zip(results, unique_labels([r.config for r in results])):
        assert f"{r.summary['growth_rate']:.3f}" in text  # whole, never "-0.…"
        assert label.split()[0] in text
    assert "not shown at this width" in text


def test_cuda_without_cuda_is_one_plain_line(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    line = assert_clean_error(run("decay", *SMALL, "--device", "cuda"), 1)
    assert line.startswith("Error: device cuda was asked for") and "RuntimeError" not in line


def test_a_run_too_large_for_the_machine_is_refused_before_anything_is_drawn(tmp_path):
    res = CliRunner().invoke(main, ["decay", "-n", "8", "-T", "30", "--trials", "100000000", "--out",
                                    str(tmp_path / "out")])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1 and "GiB" in lines[0] and "--trials" in lines[0], res.output
    assert not (tmp_path / "out").exists()


def test_compare_and_sweep_refuse_an_out_that_holds_the_cache(tmp_path):
    """A report folder is replaced whole: the cache inside it would go with it."""
    for command in ("compare", "sweep"):
        out = tmp_path / command
        res = CliRunner().invoke(main, [command, "-n", "8", "-T", "20", "--transient", "5", "-b", "2", "--gain",
                                        "0.5,1", "--jobs", "1", "--cache", str(out / "cache"), "--out", str(out)])
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and "the run cache" in lines[0], res.output
        assert not out.exists()


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


def test_report_names_that_are_paths_are_refused(tmp_path):
    for name in ("..", "../elsewhere", "/tmp/abs"):
        res = CliRunner().invoke(main, ["compare", "-n", "8", "-T", "20", "-b", "2", "--act", "tanh,relu",
                                        "--name", name, "--cache", str(tmp_path / "cache")])
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and "cannot name a folder under reports/" in lines[0], res.output


def test_json_stays_json_when_float32_weights_overflow():
    """gain 1e40 in float32: W_hh is inf; LAPACK would print its own error to stdout."""
    proc = subprocess.run([sys.executable, "-m", "gradscope", "decay", "-n", "8", "-T", "20", "-b", "2", "--dtype",
                           "float32", "--act", "relu", "--init", "normal", "--gain", "1e40", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["status"] == "nonfinite"


def test_cells_gain_must_be_finite_and_replot_select_must_name_something(tmp_path):
    for args, needle in ((["cells", "-g", "nan"], "not a finite number"), (["cells", "-g", "inf"], "not a finite"),
                         (["replot", str(tmp_path), "--select", ",", "--out", str(tmp_path / "o")], "at least one")):
        res = CliRunner().invoke(main, args)
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and needle in lines[0], res.output
