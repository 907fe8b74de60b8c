"""`gradscope cells`: parameter counts by the formula, every cell and activation listed,
the LSTM's state in brackets, a gain that must be finite (and `replot --select` that
must name something)."""

from __future__ import annotations

from cli_helpers import run
from click.testing import CliRunner

from gradscope.cli import main


def test_cells_command():
    res = run("cells", "--hidden", "64", "--input-size", "32")
    assert res.exit_code == 0, res.output
    # G N (I + N) + 2 G N for N=64, I=32
    for g in (1, 4, 3):
        assert f"{g * 64 * 96 + 2 * g * 64:,}" in res.stdout
    for name in ("rnn", "lstm", "gru", "sigmoid", "1/4", "hardtanh"):
        assert name in res.stdout


def test_cells_keeps_the_lstm_state_in_brackets():
    assert "[h; c] 128" in run("cells").stdout


def test_cells_gain_must_be_finite_and_replot_select_must_name_something(tmp_path):
    for args, needle in ((["cells", "-g", "nan"], "not a finite number"), (["cells", "-g", "inf"], "not a finite"),
                         (["replot", str(tmp_path), "--select", ",", "--out", str(tmp_path / "o")], "at least one")):
        res = CliRunner().invoke(main, args)
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and needle in lines[0], res.output
