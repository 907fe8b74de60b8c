"""Every word true (issue 22): options a network fixes are refused when typed, whatever
their value; experiment-file mistakes named all at once with the closest key; a bad
value names its key; repeated --cell-arg refused; an input file that does not fit one
combination of a grid skips it with a note; a one-line CSV is one step; identical trials
said so; tables print only what applies to the cell; plain numbers and durations; a
volume-expanding spectrum says what it is; repeated warnings grouped in reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from click.testing import CliRunner

from gradscope import Config, analyze, spectrum
from gradscope.cli import main
from gradscope.runs.estimate import about_text
from gradscope.text.decay_table import config_line, render_text, summary_table
from gradscope.text.numbers import number_text
from gradscope.text.spectrum_table import spectrum_sentence

SMALL = ["-T", "30", "--transient", "5", "-b", "2"]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def one_line_usage_error(res, *needles: str) -> str:
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_an_option_a_checkpoint_fixes_is_refused_when_typed_whatever_its_value(tmp_path: Path):
    torch.save(torch.nn.LSTM(4, 32).state_dict(), tmp_path / "lstm32.pt")
    ck = str(tmp_path / "lstm32.pt")
    for value in ("64", "32", "48"):  # the default, the checkpoint's own, another
        res = run("decay", "--checkpoint", ck, "--hidden", value, *SMALL)
        line = res.output.strip().splitlines()[0]
        assert res.exit_code == 2 and "--hidden" in line and ("fixes the hidden size" in line or "32" in line), line
    one_line_usage_error(run("decay", "--checkpoint", ck, "--input-size", "4", *SMALL), "fixes the input size (its own: 4)")
    one_line_usage_error(run("compare", "--checkpoint", ck, "--hidden", "32", "--no-cache", "--out", str(tmp_path / "r"),
                             *SMALL), "fixes the hidden size")
    assert run("decay", "--checkpoint", ck, "--quiet", *SMALL).exit_code == 0


def test_experiment_file_mistakes_are_named_all_at_once(tmp_path: Path):
    def refused(body: str) -> str:
        (tmp_path / "e.toml").write_text("[grid]\ncell = [\"rnn\"]\n" + body)
        return one_line_usage_error(run("compare", "--config", str(tmp_path / "e.toml"), "--no-cache",
                                        "--out", str(tmp_path / "o")))

    line = refused('activation = "tanh"\nstpes = 10\n')
    assert "'activation' (did you mean act?)" in line and "'stpes' (did you mean steps?)" in line
    assert "[grid] steps: 'abc' is not a number" in refused('steps = "abc"\n')
    assert "input_loop: takes true or false" in refused('input_loop = "yes"\n')
    with np.testing.assert_raises_regex(ValueError, r"'stpes' \(did you mean steps\?\)"):
        Config.from_dict({"stpes": 10})


def test_a_cell_arg_given_twice_is_refused(tmp_path: Path):
    one_line_usage_error(run("decay", "--cell", "examples.mycells:LeakyRNN", "--cell-arg", "hidden_size=8",
                             "--cell-arg", "hidden_size=16", *SMALL), "hidden_size is given twice")


def test_a_grid_skips_an_input_file_that_does_not_fit_one_combination(tmp_path: Path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((100, 8)))
    out = tmp_path / "rep"
    res = run("compare", "--input", str(tmp_path / "x.npy"), "--input-size", "8,5", "--no-cache", "--format", "svg",
              "--out", str(out), *SMALL)
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["configs"]) == 1
    assert any("skipped" in n and "has 8 columns" in n for n in manifest["notes"])


def test_a_one_line_csv_is_one_step(tmp_path: Path):
    (tmp_path / "one.csv").write_text("0.1,0.2,0.3,0.4\n")
    one_line_usage_error(run("decay", "--input", str(tmp_path / "one.csv"), "--input-size", "4", *SMALL),
                         "has 1 step;")


def test_identical_trials_are_said_to_be_so(tmp_path: Path):
    torch.save(torch.nn.GRU(3, 8).state_dict(), tmp_path / "gru.pt")
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((60, 3)))
    r = analyze(Config(checkpoint=str(tmp_path / "gru.pt"), input=str(tmp_path / "x.npy"), steps=40, transient=5,
                       trials=3))
    text = render_text(summary_table(r))
    assert "all alike" in text and "readout" in text and "10% .. 90%" not in text


def test_tables_print_only_what_applies_to_the_cell():
    r = analyze(Config(cell="cornn", damping=4.7, steps=30, transient=5, trials=2, hidden=8))
    line = config_line(r)
    assert "gates=" not in line and "damping=4.7" in line and "eps=4.7" not in r.config.label()
    assert "gates=" not in config_line(analyze(Config(cell="rnn", steps=20, trials=2, hidden=8)))


def test_plain_numbers_and_durations():
    assert number_text(156.0, 2) == "160" and "e+" not in number_text(1560.0, 2)
    assert about_text(0.4) == "under a second" and about_text(240) == "about 4 min"


def test_a_volume_expanding_spectrum_says_what_it_is():
    r = spectrum(Config(cell="antisymmetric", init="normal", gain=2.0, step_size=0.1, hidden=24, exponents="all",
                        trials=2, steps=600))
    assert r.summary["kaplan_yorke_dim"] is None and r.summary["sum_exponents"] > 0
    warnings = " ".join(r.summary["warnings"])
    assert "expands volume" in warnings and "ask for more exponents" not in warnings
    assert "ask for more exponents" not in spectrum_sentence(r)


def test_repeated_warnings_are_grouped_in_reports(tmp_path: Path):
    out = tmp_path / "rep"
    res = run("compare", "--cell", "rnn,gru,lstm", "-T", "8", "--transient", "2", "-b", "2", "--no-cache",
              "--format", "svg", "--out", str(out))
    assert res.exit_code == 0, res.output
    md = (out / "report.md").read_text()
    section = md.split("## Warnings")[1].split("## ")[0]
    assert section.count("horizon is censored") == 1 and "every configuration" in section
