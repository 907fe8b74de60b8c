"""The cell registry (`config.registry`): which `Config` fields apply to which cell."""

from __future__ import annotations

from gradscope.config.registry import CELL_SPECS


def test_a_spec_says_which_fields_apply_to_its_cell() -> None:
    assert CELL_SPECS["lstm"].applies("forget_bias") and not CELL_SPECS["rnn"].applies("forget_bias")
    assert CELL_SPECS["lru"].applies("r_max") and not CELL_SPECS["gru"].applies("r_max")
    assert not CELL_SPECS["lru"].applies("act") and not CELL_SPECS["lru"].applies("gain")  # fixed by its init
    assert CELL_SPECS["slstm"].applies("act") and CELL_SPECS["slstm"].applies("gain")
    assert all(spec.applies("hidden") and spec.applies("seed") for spec in CELL_SPECS.values())
