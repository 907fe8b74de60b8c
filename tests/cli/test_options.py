"""The options the commands share (`cli.options`): lists and ranges parsed by one rule,
multi-valued options expanded, the venues the figures know, and --threads."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from gradscope.cli import main
from gradscope.cli.options import VENUES, parse_values


def test_venues_match_style():
    from gradscope.figures.style import VENUE_WIDTHS

    assert VENUES == VENUE_WIDTHS


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


def test_threads_option():
    runner = CliRunner()
    ok = runner.invoke(main, ["decay", "-n", "8", "-T", "40", "--transient", "10", "--threads", "1", "--json"])
    assert ok.exit_code == 0, ok.output
    assert '"threads": 1' in ok.output
    bad = runner.invoke(main, ["decay", "--threads", "0"])
    assert bad.exit_code == 2 and "--threads" in bad.output
