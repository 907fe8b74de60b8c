"""Values of an option that takes several (`runs.ranges`): lists, a:b and a:b:n ranges by
the command line's rules, tidy linspace values, errors that say what is wrong, the
config field's type, and huge ranges refused before they are built."""

from __future__ import annotations

from typing import Any

import pytest

from gradscope import Config
from gradscope.runs.grid import (
    expand_grid,
)
from gradscope.runs.ranges import normalize_values, parse_option, parse_range


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


def test_huge_ranges_are_refused_before_they_are_built():
    from gradscope.runs.ranges import parse_range

    with pytest.raises(ValueError, match="limit"):
        parse_range("1:2:1000000000", float)
    with pytest.raises(ValueError, match="limit"):
        parse_range("1:100000000", int)
