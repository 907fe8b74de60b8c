"""The checks a `Config` passes on construction (`config.checks`): a bad value is a
ValueError naming its field and what is allowed, and an option applies only to the
cells it means something for."""

from __future__ import annotations

import pytest
from helpers import (
    one_thread,  # noqa: F401  (a fixture)
)

from gradscope import Config

SMALL = dict(hidden=8, steps=120, trials=3, transient=20)


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("cell", "lstmx", ["cell", "rnn, lstm, gru"]),
        ("act", "swish", ["act", "sigmoid", "hardtanh"]),
        ("hidden", 0, ["hidden", ">= 1"]),
        ("steps", -5, ["steps"]),
        ("gain", float("nan"), ["gain", "finite"]),
        ("init", "he", ["init", "orthogonal"]),
        ("eps", 2.0, ["eps"]),
        ("input", "file.txt", ["input", ".npy/.csv"]),
        ("exponents", 9, ["exponents", "state dimension 8"]),
        ("dtype", "float16", ["dtype", "float32"]),
        ("trials", True, ["trials"]),
    ],
)
def test_config_rejects_bad_values_naming_field_and_choices(field, value, words):
    with pytest.raises(ValueError) as info:
        Config(**{**SMALL, field: value})
    for w in words:
        assert w in str(info.value)


@pytest.mark.usefixtures("one_thread")
def test_cell_options_apply_only_where_they_mean_something():
    with pytest.raises(ValueError, match="step_size applies to antisymmetric and cornn only"):
        Config(cell="rnn", step_size=0.1)
    with pytest.raises(ValueError, match="step_size must be > 0"):
        Config(cell="cornn", step_size=0.0)
    c = Config(cell="cornn").resolved()
    assert (c.step_size, c.stiffness, c.damping, c.diffusion) == (0.042, 2.7, 4.7, None)
    assert Config(cell="antisymmetric").resolved().diffusion == 0.01
    assert Config().key() == Config(qr_every="auto").key()  # fields at their default leave the key alone
