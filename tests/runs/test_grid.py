"""Grids (`runs.grid`): cartesian expansion, TOML experiment files (one grid, a union of
grids with a base), command-line overrides, and files that are refused unread or name
code or paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradscope.runs.grid import (
    expand_grid,
    experiment_grid,
    load_experiment,
    merge_grids,
    parse_experiment,
)


def test_expand_grid_is_a_stable_cartesian_product() -> None:
    configs, notes = expand_grid({"act": ["sigmoid", "tanh"], "cell": "rnn,lstm", "hidden": 8})
    assert notes == []
    # fields in Config order (cell before act), values in the order given
    assert [(c.cell, c.act) for c in configs] == [
        ("rnn", "sigmoid"), ("rnn", "tanh"), ("lstm", "sigmoid"), ("lstm", "tanh"),
    ]
    assert all(c.hidden == 8 for c in configs)
    again, _ = expand_grid({"cell": ["rnn", "lstm"], "hidden": [8], "act": "sigmoid,tanh"})
    assert [c.key() for c in again] == [c.key() for c in configs]


def test_invalid_combinations_are_skipped_with_a_note() -> None:
    configs, notes = expand_grid({"cell": ["rnn", "lstm"], "hidden": 8, "exponents": [0, 12]}, base={"steps": 50})
    # exponents=12 exceeds the rnn state (8) but not the lstm state (16)
    assert [(c.cell, c.exponents) for c in configs] == [("rnn", 0), ("lstm", 0), ("lstm", 12)]
    assert all(c.steps == 50 for c in configs)
    assert len(notes) == 1
    assert notes[0].startswith("skipped cell=rnn, exponents=12: exponents must be <=")


def test_duplicates_are_dropped_and_limits_enforced() -> None:
    configs, notes = expand_grid({"gain": "1,1.0,2"})
    assert [c.gain for c in configs] == [1.0, 2.0]
    assert notes == ["skipped gain=1.0: the same configuration as an earlier one"]
    with pytest.raises(ValueError, match="more than the limit"):
        expand_grid({"hidden": "1:200", "seed": "0:99"})
    with pytest.raises(ValueError, match="unknown configuration key"):
        expand_grid({"nonsense": [1]})
    with pytest.raises(ValueError, match="no values"):
        expand_grid({"hidden": []})


EXPERIMENT = """
name = "cells"
title = "Cells x activations"

[grid]
cell = ["rnn", "lstm"]
act = ["sigmoid", "tanh"]
hidden = 16
gain = "0.5:1.0:2"
steps = 100
"""


def test_experiment_file(tmp_path: Path) -> None:
    path = tmp_path / "cells.toml"
    path.write_text(EXPERIMENT)
    exp = load_experiment(path)
    assert (exp.name, exp.title) == ("cells", "Cells x activations")
    assert exp.grid["gain"] == [0.5, 1.0] and exp.grid["hidden"] == [16]
    configs, notes = expand_grid(exp.grid)
    assert len(configs) == 8 and notes == []


def test_command_line_overrides_the_file_key_by_key(tmp_path: Path) -> None:
    path = tmp_path / "cells.toml"
    path.write_text(EXPERIMENT)
    exp, (configs, notes) = experiment_grid(path, overrides={"cell": "gru", "hidden": ["8"]})
    assert exp.grid["cell"] == ["gru"] and exp.grid["hidden"] == [8]
    assert exp.grid["act"] == ["sigmoid", "tanh"]  # kept from the file
    assert [(c.cell, c.act, c.hidden, c.gain) for c in configs] == [
        ("gru", "sigmoid", 8, 0.5), ("gru", "sigmoid", 8, 1.0),
        ("gru", "tanh", 8, 0.5), ("gru", "tanh", 8, 1.0),
    ]
    assert merge_grids({"a": 1, "b": 2}, None, {"b": 3}) == {"a": 1, "b": 3}
    exp, (configs, _) = experiment_grid(None, overrides={"cell": "rnn,lstm"})
    assert [c.cell for c in configs] == ["rnn", "lstm"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("[grid]\ncell = [\"rnn\"\n", "not valid TOML"),
        ("steps = 5\n", "unknown key"),
        ("grid = 3\n", "must be a table"),
        ("[grid]\ncolour = 1\n", "unknown configuration key"),
        ("[grid]\nhidden = [[1, 2]]\n", "nested"),
        ("name = 3\n", "name must be a string"),
        ("[grid]\nhidden = \"1:2:x\"\n", "not a number"),
    ],
)
def test_bad_experiment_files(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_experiment(text)


def test_experiment_files_are_never_executed(tmp_path: Path) -> None:
    path = tmp_path / "evil.toml"
    path.write_text('[grid]\ninput = "__import__(\'os\').system(\'false\').csv"\n')
    exp = load_experiment(path)
    assert exp.name == "evil" and exp.grid["input"] == ["__import__('os').system('false').csv"]
    with pytest.raises(ValueError, match="cannot read"):
        load_experiment(tmp_path / "missing.toml")


UNION = """
name = "union"
[base]
hidden = 16
steps = 100
trials = 2
[[grid]]
cell = "rnn"
act = ["sigmoid", "tanh"]
[[grid]]
cell = ["lstm", "gru"]
hidden = 8              # the grid's own key wins over [base]
[[grid]]
cell = "rnn"
act = "tanh"            # already in the first grid: skipped with a note
"""


def test_union_of_grids_in_order_with_base(tmp_path: Path) -> None:
    path = tmp_path / "union.toml"
    path.write_text(UNION)
    exp = load_experiment(path)
    assert len(exp.grids) == 3 and exp.base == {"hidden": 16, "steps": 100, "trials": 2}
    exp, (configs, notes) = experiment_grid(path)
    assert [(c.cell, c.act, c.hidden, c.steps) for c in configs] == [
        ("rnn", "sigmoid", 16, 100), ("rnn", "tanh", 16, 100), ("lstm", "tanh", 8, 100), ("gru", "tanh", 8, 100),
    ]
    assert len(notes) == 1 and "grid 3" in notes[0] and "earlier grid" in notes[0]
    assert exp.grids[1]["hidden"] == [8] and exp.grid == exp.grids[0]


def test_command_line_wins_over_base_and_every_grid(tmp_path: Path) -> None:
    path = tmp_path / "union.toml"
    path.write_text(UNION)
    _, (configs, _) = experiment_grid(path, overrides={"hidden": "4", "steps": ["50"]})
    assert {(c.hidden, c.steps) for c in configs} == {(4, 50)} and len(configs) == 4


def test_single_grid_and_base_only_files() -> None:
    exp = parse_experiment("[base]\ncell = 'gru'\n[grid]\nact = ['tanh', 'relu']\n")
    assert exp.grids == [exp.grid] and exp.base == {"cell": "gru"}
    exp = parse_experiment("[base]\ncell = 'gru'\nhidden = 8\n")
    assert exp.grids == [{}]


@pytest.mark.parametrize(
    "text, message",
    [
        ("[base]\nhidden = [8, 16]\n", "takes one value"),
        ("[base]\nhidden = \"8:16\"\n", "takes one value"),
        ("[base]\ncolour = 1\n", "unknown configuration key"),
        ("base = 3\n", "must be a table"),
        ("grid = []\n", "must be a table"),
        ("[[grid]]\ncell = 'rnn'\n[[grid]]\ncolour = 1\n", r"\[\[grid\]\] #2"),
    ],
)
def test_bad_union_files(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_experiment(text)


def test_union_limit_counts_every_grid() -> None:
    from gradscope.runs.grid import expand_grids

    with pytest.raises(ValueError, match="combinations in all"):
        expand_grids([{"seed": "1:6"}, {"seed": "7:12"}], limit=10)


def test_experiment_files_that_never_end_or_nest_without_end_are_refused_unread(tmp_path):
    """A FIFO or a device (opening one would block or never end), a file over 1 MiB, and
    TOML nested past Python's recursion limit: each one line, nothing hangs."""
    import os

    from gradscope.runs.grid import load_experiment

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        load_experiment(fifo)
    if Path("/dev/zero").exists():
        with pytest.raises(ValueError, match="not a regular file"):
            load_experiment("/dev/zero")
    big = tmp_path / "big.toml"
    big.write_text("# padding\n" * 200_000)
    with pytest.raises(ValueError, match="larger than 1 MiB"):
        load_experiment(big)
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    with pytest.raises(ValueError, match="nested too deeply"):
        load_experiment(deep)


def test_an_experiment_file_names_data_never_code_or_paths(tmp_path):
    """`cell = "subprocess:Popen"` would import and call code named by the file; a `name`
    of '', '..' or a path would write (and replace) reports outside reports/NAME."""
    from gradscope.runs.grid import parse_experiment

    marker = tmp_path / "ran"
    with pytest.raises(ValueError, match="never runs code from a config file"):
        parse_experiment(f'[grid]\ncell = "subprocess:Popen"\ncell_args = "args=touch {marker};shell=true"\n')
    with pytest.raises(ValueError, match="never runs code"):
        parse_experiment('[grid]\ncell = ["rnn", "os:system"]\n')
    assert not marker.exists()
    import json

    for name in ("", ".", "..", "../escape", "/tmp/abs", "a\nb", "a\x00b"):
        with pytest.raises(ValueError, match="one folder's name"):
            parse_experiment(f"name = {json.dumps(name)}\n[grid]\ncell = \"rnn\"\n")
    assert parse_experiment('name = "cells-2"\n[grid]\ncell = "rnn"\n').name == "cells-2"
