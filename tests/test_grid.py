"""Grids: ranges, cartesian expansion, TOML experiment files, command-line overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from gradscope.config import Config, varied_fields
from gradscope.results import Result
from gradscope.runs.grid import (
    expand_grid,
    experiment_grid,
    load_experiment,
    merge_grids,
    parse_experiment,
)
from gradscope.runs.ranges import normalize_values, parse_option, parse_range


@pytest.fixture
def make_result() -> Callable[..., Result]:
    """Factory of minimal synthetic results (grid tests need configs only)."""
    from gradscope.results import SUMMARY_KEYS

    def make(**fields: Any) -> Result:
        summary = {k: None for k in SUMMARY_KEYS}
        summary.update(status="ok", warnings=[])
        return Result(config=Config(**fields).resolved(), summary=summary, curves={}, provenance={})

    return make


@pytest.mark.parametrize(
    "text, kind, expected",
    [
        ("0.5:3.0:6", float, [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]),
        ("0:1:3", "float", [0.0, 0.5, 1.0]),
        ("2:5", int, [2, 3, 4, 5]),
        ("1:3", float, [1.0, 2.0, 3.0]),
        ("16:64:4", int, [16, 32, 48, 64]),
        ("64,128, 256", int, [64, 128, 256]),
        ("1e-6,1e-3", float, [1e-6, 1e-3]),
        ("7", int, [7]),
        ("1,3:4", int, [1, 3, 4]),
        ("rnn,lstm,gru", str, ["rnn", "lstm", "gru"]),
        ("3:1:3", float, [3.0, 2.0, 1.0]),
        ("5:3", int, [5, 4, 3]),
        ("1e3", int, [1000]),
        ("2:2:1", float, [2.0]),
    ],
)
def test_parse_range(text: str, kind: Any, expected: list[Any]) -> None:
    values = parse_range(text, kind)
    assert values == expected
    assert all(type(v) is (kind if isinstance(kind, type) else float) for v in values)


def test_same_rules_as_the_cli() -> None:
    from gradscope.cli import options as cli
    for text, kind in [("0.5:3.0:26", "float"), ("2:5", "int"), ("5:2", "int"), ("1,3:4", "int"),
                       ("16:64:4", "int"), ("rnn,lstm", "str"), ("1:3", "float"), ("0:1:11", "float")]:
        assert parse_range(text, kind) == cli.parse_values(text, kind), text


def test_linspace_values_are_tidy() -> None:
    # 0.5 + 0.1 * i in binary is 0.6000000000000001; the cache key must match typing 0.6
    values = parse_range("0.5:3.0:26", float)
    assert values[1] == 0.6 and values[-1] == 3.0 and len(values) == 26
    assert Config(gain=values[1]).key() == Config(gain=0.6).key()


@pytest.mark.parametrize(
    "text, kind, message",
    [
        ("0.5:3", float, "a:b takes integers"),
        ("1:2:1", float, "one value cannot span"),
        ("1:2:0", float, "n >= 1"),
        ("1:2:1.5", float, "not an integer"),
        ("0:1:4", int, "non-integer value"),
        ("1.5", int, "not an integer"),
        ("abc", float, "not a number"),
        ("1,,2", int, "empty value"),
        ("", float, "empty value"),
        ("1:2:3:4", float, "a:b or a:b:n"),
        ("nan", float, "finite"),
    ],
)
def test_parse_range_errors(text: str, kind: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_range(text, kind)


def test_parse_option_uses_the_config_field_type() -> None:
    assert parse_option("hidden", "8:10") == [8, 9, 10]
    assert parse_option("gain", "1,2") == [1.0, 2.0]
    assert parse_option("bias_std", "none,0.1") == [None, 0.1]
    assert parse_option("cell", "rnn,lstm") == ["rnn", "lstm"]
    with pytest.raises(ValueError, match="unknown configuration key 'colour'"):
        parse_option("colour", "red")


def test_whole_floats_hash_like_floats() -> None:
    assert normalize_values("gain", [1, 2]) == [1.0, 2.0]
    (a,), _ = expand_grid({"gain": 1})
    assert a.key() == Config(gain=1.0).key()


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


def test_varied_fields(make_result: Callable[..., Result]) -> None:
    rs = [make_result(cell="rnn", gain=1.0), make_result(cell="lstm", gain=2.0), make_result(cell="rnn", gain=1.0)]
    assert varied_fields([r.config for r in rs]) == ["cell", "gain"]
    assert varied_fields([]) == []


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
