"""`analyze_module`: a module in memory gives, to the last bit, what `decay
--checkpoint` gives on its saved state dict (and `--input` on the same streams saved);
the figures at the task's lags (`lags=`, `with_lags`); what is refused, in one line."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from gradscope import Config, analyze, analyze_module
from gradscope.analysis.summarize import with_lags
from gradscope.config.checks import check_lags
from gradscope.model.networks.memory import batch_streams
from gradscope.numerics.metrics import median_curve

SMALL = {"steps": 40, "transient": 10, "trials": 3, "exponents": 2}


@pytest.mark.parametrize("module, extra", [
    (lambda: torch.nn.LSTM(2, 6, num_layers=2), {}),
    (lambda: torch.nn.GRU(2, 6), {}),
    (lambda: torch.nn.RNN(2, 6, nonlinearity="relu"), {"act": "relu"}),
    (lambda: torch.nn.LSTMCell(2, 6), {}),
], ids=["lstm-stacked", "gru", "rnn-relu", "lstm-cell"])
@pytest.mark.parametrize("with_inputs", [False, True], ids=["noise", "inputs"])
def test_a_module_in_memory_is_its_saved_checkpoint(tmp_path: Path, module, extra, with_inputs: bool) -> None:
    torch.manual_seed(0)
    m = module()
    x = torch.rand(15, 7, 2, generator=torch.Generator().manual_seed(1)) if with_inputs else None
    fresh = analyze_module(m, inputs=x, threads=1, lags=(3, 30), **SMALL)
    torch.save(m.state_dict(), tmp_path / "m.pt")
    fields = {"checkpoint": str(tmp_path / "m.pt"), **SMALL, **extra}
    if with_inputs:
        np.save(tmp_path / "x.npy", batch_streams(x, SMALL["trials"]))
        fields.update(input=str(tmp_path / "x.npy"), input_loop=True)
    saved = analyze(Config(**fields), threads=1, lags=(30, 3))
    assert fresh.summary == saved.summary
    assert fresh.config.checkpoint == f"memory:{type(m).__name__}.pt"
    record = fresh.provenance["checkpoint"]
    assert record["in_memory"] and len(record["sha256"]) == 64 and "(in memory" in record["path"]


def test_batch_streams_run_each_trial_through_its_own_sequences() -> None:
    x = np.arange(5 * 4 * 1, dtype=float).reshape(5, 4, 1)  # (T, N, I): sequence n is x[:, n]
    s = batch_streams(x, trials=2)
    assert s.shape == (10, 2, 1)
    assert np.array_equal(s[:5, 0, 0], x[:, 0, 0]) and np.array_equal(s[5:, 0, 0], x[:, 2, 0])
    assert np.array_equal(s[:5, 1, 0], x[:, 1, 0]) and np.array_equal(s[5:, 1, 0], x[:, 3, 0])
    assert np.array_equal(batch_streams(x.transpose(1, 0, 2), 2, batch_first=True), s)
    assert batch_streams(x, trials=8).shape == (20, 1, 1)  # fewer sequences than trials: all share them


def test_lags_read_the_median_curves_and_say_what_lies_beyond_the_window() -> None:
    gru = torch.nn.GRU(2, 6)
    r = analyze_module(gru, threads=1, lags=[50, 2, 10, 2], **SMALL)
    s = r.summary
    assert s["at_lags"] == [2, 10, 50]
    for key, curve in (("log_gain_at_lags", "log_spectral"), ("log_loss_grad_at_lags", "log_loss_grad"),
                       ("log_input_sensitivity_at_lags", "log_input_sensitivity")):
        med = median_curve(r.curves[curve])
        assert s[key][:2] == [float(med[2]), float(med[10])] and s[key][2] is None
    assert any("lag 50 lies beyond the 40 analysed lags" in w for w in s["warnings"])
    assert 0 < s["median_step_gain"] == pytest.approx(math.exp(float(np.median(r.curves["log_step_gain"]))))
    again = with_lags(analyze_module(gru, threads=1, **SMALL), [2, 10, 50])
    assert again.summary == s  # a cached run's figures at the lags are those of `lags=`


@pytest.mark.parametrize("lags, message", [(0, ">= 1"), ([3, "x"], "'x'"), ([], "empty"), (2.5, "2.5")])
def test_bad_lags_are_refused(lags, message) -> None:
    with pytest.raises(ValueError, match=message):
        check_lags(lags)


def test_a_custom_cell_module_is_analysed_by_torch_func() -> None:
    class Cell(torch.nn.Module):
        input_size, state_size = 2, 4

        def __init__(self) -> None:
            super().__init__()
            self.weight_hh = torch.nn.Parameter(0.5 * torch.eye(4, dtype=torch.float64))
            self.weight_ih = torch.nn.Parameter(torch.zeros(4, 2, dtype=torch.float64))

        def forward(self, x, h):
            return self.weight_hh @ h + self.weight_ih @ x  # linear: every lag is 0.5^k

    r = analyze_module(Cell(), threads=1, spectral="exact", lags=(5,), **{**SMALL, "exponents": 0})
    assert r.summary["growth_rate"] == pytest.approx(math.log(0.5), abs=1e-12)
    assert r.summary["log_gain_at_lags"] == [pytest.approx(5 * math.log(0.5), abs=1e-12)]
    assert "custom_cell" in r.provenance


@pytest.mark.parametrize("obj, message", [
    (torch.nn.Linear(3, 4), "Linear is not recurrent"),
    ("lstm", "is not a torch.nn.Module"),
    (torch.nn.ModuleDict({"a": torch.nn.LSTM(2, 3), "b": torch.nn.GRU(2, 3)}), "holds 2 recurrent modules"),
    (torch.nn.LSTM(2, 3, bidirectional=True), "bidirectional"),
])
def test_what_is_not_one_recurrence_is_one_line(obj, message) -> None:
    with pytest.raises(ValueError) as info:
        analyze_module(obj, **SMALL)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_one_of_several_recurrent_modules_by_name() -> None:
    both = torch.nn.ModuleDict({"a": torch.nn.LSTM(2, 3), "b": torch.nn.GRU(2, 3)})
    assert analyze_module(both, name="b", threads=1, **SMALL).config.cell == "gru"
    with pytest.raises(ValueError, match="module='c' is not a recurrent module"):
        analyze_module(both, name="c", **SMALL)
