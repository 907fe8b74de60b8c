"""How configurations are named (`config.naming`): the label of one, labels that tell
several apart (identical ones numbered), the fields worth naming (never one that moves
one-to-one with another), and the axis label of a field, in mathtext or plain."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from matplotlib.mathtext import MathTextParser

from gradscope.config import Config, varied_fields
from gradscope.config.naming import display_fields, field_label, label, unique_labels
from gradscope.results import Result


@pytest.fixture
def make_result() -> Callable[..., Result]:
    """Factory of minimal synthetic results (grid tests need configs only)."""
    from gradscope.results import SUMMARY_KEYS

    def make(**fields: Any) -> Result:
        summary = {k: None for k in SUMMARY_KEYS}
        summary.update(status="ok", warnings=[])
        return Result(config=Config(**fields).resolved(), summary=summary, curves={}, provenance={})

    return make


def test_varied_fields(make_result: Callable[..., Result]) -> None:
    rs = [make_result(cell="rnn", gain=1.0), make_result(cell="lstm", gain=2.0), make_result(cell="rnn", gain=1.0)]
    assert varied_fields([r.config for r in rs]) == ["cell", "gain"]
    assert varied_fields([]) == []


def test_a_label_names_what_differs_from_the_defaults() -> None:
    assert label(Config()) == "rnn tanh N=64"  # default init and gain 1 go unsaid
    assert label(Config(cell="lstm", act="tanh", hidden=64, gain=2.0)) == "lstm tanh N=64 g=2"
    assert label(Config(cell="gru", gate_act="hardtanh", hidden=32, init="orthogonal", gain=0.5)) == \
        "gru tanh gates=hardtanh N=32 orthogonal g=0.5"
    assert label(Config(cell="gru", gate_act="sigmoid")) == "gru tanh N=64"  # sigmoid gates are the default
    assert label(Config(cell="cornn", step_size=0.05)) == "cornn tanh N=64 dt=0.05"
    assert Config(cell="lstm", gain=2.0).label() == label(Config(cell="lstm", gain=2.0))


def test_unique_labels_tell_apart_and_number_identical_configurations() -> None:
    c = Config(hidden=8)
    assert unique_labels([c, c]) == ["rnn tanh N=8 #1", "rnn tanh N=8 #2"]
    assert unique_labels([Config(hidden=8, seed=1), Config(hidden=8, seed=2)]) == [
        "rnn tanh N=8 seed=1", "rnn tanh N=8 seed=2"]
    # two identical configurations beside a third that differs from them by its seed
    assert unique_labels([c, c, Config(hidden=8, seed=1), Config(hidden=16)]) == [
        "rnn tanh N=8 seed=0 #1", "rnn tanh N=8 seed=0 #2", "rnn tanh N=8 seed=1", "rnn tanh N=16"]
    labels = unique_labels([Config(cell=cell, act=act) for cell in ("rnn", "gru") for act in ("tanh", "relu")])
    assert labels == ["rnn tanh N=64", "rnn relu N=64", "gru tanh N=64", "gru relu N=64"]  # already unique: as they are


def test_display_fields_drop_a_field_that_moves_one_to_one_with_another() -> None:
    follows = [Config(hidden=8, input_size=8), Config(hidden=16, input_size=16)]
    assert varied_fields(follows) == ["hidden", "input_size"]
    assert display_fields(follows) == ["hidden"]  # the input size follows the hidden size
    independent = [Config(hidden=8, input_size=3), Config(hidden=8, input_size=5), Config(hidden=16, input_size=3)]
    assert display_fields(independent) == ["hidden", "input_size"]  # neither follows the other
    both = [Config(cell=c, act=a, gain=g) for c, a, g in (("rnn", "tanh", 1.0), ("lstm", "relu", 2.0))]
    assert display_fields(both) == ["cell"]  # act and gain move one-to-one with the cell
    assert display_fields([Config(), Config()]) == []


def test_field_label_in_mathtext_or_plain() -> None:
    assert field_label("gain") == "gain $g$" and field_label("gain", plain=True) == "gain g"
    assert field_label("hidden") == "hidden size $N$" and field_label("hidden", plain=True) == "hidden size N"
    assert field_label("bias_std") == r"bias std $\sigma_b$"
    assert field_label("bias_std", plain=True) == "bias std sigma_b"
    assert field_label("forget_bias") == field_label("forget_bias", plain=True) == "forget-gate bias"
    assert field_label("input_value") == field_label("input_value", plain=True) == "input value"  # no entry: its name
    for field in ("gain", "hidden", "bias_std", "input_std", "steps"):
        plain = field_label(field, plain=True)
        assert "$" not in plain and "\\" not in plain
        MathTextParser("path").parse(field_label(field))  # valid mathtext (a typo raises ValueError)
