"""The training monitor: what it logs is what its recorded command gives, to the last
bit (inline and in the background); TensorBoard's own reader finds the scalars at the
training steps; the log callable, metrics, keep_last; bad input is one line; a log_dir
that cannot be written or a full disk is said once and training goes on; a worker that
falls behind skips steps, never holds training up."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from monitor_helpers import SMALL, TinyModel, analyses, run_command, train

from gradscope import Monitor
from gradscope.monitor.settings import PREFIX, scalars_of


def _monitor(tmp_path: Path, **kw) -> Monitor:
    kw.setdefault("background", False)
    kw.setdefault("cache", False)
    kw.setdefault("lags", (5, 20))
    return Monitor(kw.pop("module", None) or TinyModel().rnn, every=kw.pop("every", 5),
                   log_dir=kw.pop("log_dir", tmp_path / "gs"), **{**SMALL, **kw})


def _same_numbers(logged: dict, fresh: dict) -> None:
    """Every summary figure equal, to the last bit (the provenance's time may differ)."""
    assert logged["config"] == fresh["config"]
    assert logged["summary"] == fresh["summary"]


@pytest.mark.parametrize("background", [False, True], ids=["inline", "background"])
def test_logged_numbers_are_what_the_recorded_command_gives(tmp_path: Path, background: bool) -> None:
    model = TinyModel()
    monitor = _monitor(tmp_path, module=model.rnn, background=background, max_pending=10)
    train(monitor, model, steps=10)
    monitor.close()
    docs = analyses(tmp_path / "gs")
    assert [d["step"] for d in docs] == [5, 10] and monitor.analysed == [5, 10]
    for doc in docs:
        assert Path(doc["checkpoint"]).is_file() and Path(doc["inputs"]).is_file()
        assert doc["command"][:4] == ["gradscope", "decay", "--checkpoint", doc["checkpoint"]]
        assert "--input" in doc["command"] and "--at-lag" in doc["command"]
        assert doc["metrics"]["loss"] > 0 and doc["summary"]["summary"]["at_lags"] == [5, 20]
        _same_numbers(doc["summary"], run_command(doc["command"]))
        assert doc["scalars"] == scalars_of(doc["summary"]["summary"])


def test_background_and_inline_log_the_same_numbers(tmp_path: Path) -> None:
    """The same training, monitored inline and in the background: identical summaries."""
    docs = []
    for background in (False, True):
        model = TinyModel()
        monitor = _monitor(tmp_path, module=model.rnn, background=background, log_dir=tmp_path / str(background),
                           max_pending=10)
        train(monitor, model, steps=5)
        monitor.close()
        docs.append(analyses(tmp_path / str(background))[0])
    assert docs[0]["summary"]["summary"] == docs[1]["summary"]["summary"]


def test_tensorboard_reader_finds_the_scalars_at_the_training_steps(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = TinyModel()
    got = []
    monitor = _monitor(tmp_path, module=model.rnn, log=lambda scalars, step: got.append((step, scalars)))
    train(monitor, model, steps=15)
    monitor.close()
    docs = analyses(tmp_path / "gs")
    acc = EventAccumulator(str(tmp_path / "gs"), size_guidance={"scalars": 0}).Reload()
    tags = set(acc.Tags()["scalars"])
    assert {PREFIX + k for k in ("growth_rate", "lambda_1", "half_life", "median_step_gain")} <= tags
    assert {f"{PREFIX}log10_gain_lag5", f"{PREFIX}log10_gain_lag20", f"{PREFIX}log10_loss_grad_lag5"} <= tags
    for tag in tags:
        events = acc.Scalars(tag)
        logged = [(d["step"], d["scalars"][tag]) for d in docs if tag in d["scalars"]]
        assert [e.step for e in events] == [s for s, _ in logged]
        for e, (_, value) in zip(events, logged):  # TensorBoard stores float32
            assert e.value == np.float32(value)
    assert [e.step for e in acc.Scalars(PREFIX + "growth_rate")] == [5, 10, 15]
    assert got == [(d["step"], d["scalars"]) for d in docs]  # the log callable: the same dicts and steps
    lag5 = docs[0]["summary"]["summary"]["log_gain_at_lags"][0]
    assert docs[0]["scalars"][f"{PREFIX}log10_gain_lag5"] == pytest.approx(lag5 / math.log(10), rel=1e-15)


def test_metrics_of_every_step_are_kept_and_snapshots_pruned(tmp_path: Path) -> None:
    model = TinyModel()
    monitor = _monitor(tmp_path, module=model.rnn, keep_last=2, figure_every=2, tensorboard=False)
    losses = train(monitor, model, steps=15)
    monitor.close()
    lines = [json.loads(x) for x in (tmp_path / "gs" / "gradscope.jsonl").read_text().splitlines()]
    metrics = {d["step"]: d["metrics"]["loss"] for d in lines if "metrics" in d}
    assert metrics == {i + 1: pytest.approx(v) for i, v in enumerate(losses)}
    assert sorted(p.name for p in (tmp_path / "gs" / "snapshots").glob("*.pt")) == [
        "step-00000010.pt", "step-00000015.pt"]
    assert not (tmp_path / "gs" / "snapshots" / "step-00000005-inputs.npy").exists()
    assert sorted(p.name for p in (tmp_path / "gs" / "figures").iterdir()) == [
        "gain-step-00000005.png", "gain-step-00000015.png"]


def test_update_is_cheap_on_the_steps_it_does_not_analyse(tmp_path: Path) -> None:
    monitor = _monitor(tmp_path, every=1_000_000, background=True)
    try:
        start = time.perf_counter()
        for step in range(1, 20001):
            monitor.update(step)
        per_call = (time.perf_counter() - start) / 20000
    finally:
        monitor.close()
    assert per_call < 10e-6, f"{per_call * 1e6:.2f} us per call"


@pytest.mark.slow
def test_a_worker_that_falls_behind_skips_steps_and_says_so_once(tmp_path: Path, capsys) -> None:
    model = TinyModel()
    monitor = _monitor(tmp_path, module=model.rnn, background=True, every=1, max_pending=1)
    start = time.perf_counter()
    train(monitor, model, steps=30)
    held = time.perf_counter() - start
    monitor.close()
    assert monitor.skipped and monitor.analysed and len(monitor.analysed) + len(monitor.skipped) == 30
    assert held < 5.0  # 30 training steps: never waiting for an analysis
    said = [line for line in capsys.readouterr().err.splitlines() if "falls behind" in line]
    assert len(said) == 1


@pytest.mark.parametrize("make, message", [
    (lambda tmp: {"module": torch.nn.Linear(3, 4)}, "Linear is not recurrent"),
    (lambda tmp: {"every": 0}, "every must be a whole number >= 1"),
    (lambda tmp: {"log_dir": tmp / "file.txt"}, "is a file, not a folder"),
    (lambda tmp: {"module": TinyModel()}, None),  # the one recurrent module of a model: fine
    (lambda tmp: {"steps": 0}, "steps"),
    (lambda tmp: {"checkpoint": "x.pt"}, "checkpoint is set by the monitor"),
    (lambda tmp: {"threads": 2}, "threads is not an analysis option"),
    (lambda tmp: {"module": torch.nn.LSTM(2, 4), "layer": 3}, "layer=3, but module"),
])
def test_bad_input_is_one_line(tmp_path: Path, make, message) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    kw = make(tmp_path)
    if message is None:
        _monitor(tmp_path, **kw).close()
        return
    with pytest.raises(ValueError) as info:
        _monitor(tmp_path, **kw)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_an_unwritable_log_dir_is_said_once_and_training_goes_on(tmp_path: Path, capsys) -> None:
    (tmp_path / "plain").write_text("")
    model = TinyModel()
    monitor = _monitor(tmp_path, module=model.rnn, log_dir=tmp_path / "plain" / "logs")
    train(monitor, model, steps=10)
    monitor.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write to log_dir" in err[0] and "training goes on" in err[0]
    assert monitor.analysed == []


@pytest.mark.parametrize("background", [False, True], ids=["inline", "background"])
def test_a_full_disk_is_said_once_and_training_goes_on(tmp_path: Path, capsys, background: bool) -> None:
    folder = tmp_path / "gs"
    folder.mkdir()
    os.symlink("/dev/full", folder / "gradscope.jsonl")  # every write to it: ENOSPC
    model = TinyModel()
    monitor = _monitor(tmp_path, module=model.rnn, background=background, max_pending=10)
    losses = train(monitor, model, steps=15)
    monitor.close()
    assert len(losses) == 15 and monitor.analysed == [5, 10, 15]  # analysed, and TensorBoard still written
    said = [line for line in capsys.readouterr().err.splitlines() if "gradscope monitor" in line]
    assert len(said) == 1 and "No space left on device" in said[0] and "training goes on" in said[0]


def test_analyze_module_gives_the_monitors_numbers(tmp_path: Path) -> None:
    """The same weights and inputs, in memory: `analyze_module` reads what the monitor logged."""
    from gradscope import analyze_module

    model = TinyModel()
    monitor = _monitor(tmp_path, module=model.rnn)
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(12, 8, 2, generator=gen)
    monitor.update(5, inputs=x)
    monitor.close()
    doc = analyses(tmp_path / "gs")[0]["summary"]
    fresh = analyze_module(model.rnn, inputs=x, lags=(5, 20), threads=1, **SMALL)
    assert fresh.summary == doc["summary"]


def test_a_cell_module_of_the_users_is_monitored_through_its_command(tmp_path: Path, monkeypatch) -> None:
    """`examples.mycells.LeakyRNN` (a module of its own): the snapshot is its state dict,
    the command `--cell examples.mycells:LeakyRNN --cell-arg ... --checkpoint SNAPSHOT`."""
    import importlib
    import sys

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    LeakyRNN = importlib.import_module("examples.mycells").LeakyRNN
    torch.manual_seed(0)
    cell = LeakyRNN(hidden_size=6, input_size=2, alpha=0.5)
    monitor = _monitor(tmp_path, module=cell, cell_args={"hidden_size": 6, "input_size": 2, "alpha": 0.5},
                       tensorboard=False)
    with torch.no_grad():
        cell.weight_hh.mul_(1.5)  # "training"
    monitor.update(5, inputs=torch.rand(12, 4, 2))
    monitor.close()
    (doc,) = analyses(tmp_path / "gs")
    assert doc["command"][2:4] == ["--cell", "examples.mycells:LeakyRNN"] and "--cell-arg" in doc["command"]
    _same_numbers(doc["summary"], run_command(doc["command"]))
    assert doc["summary"]["config"]["cell_args"] == "hidden_size=6;input_size=2;alpha=0.5"
    sys.modules.pop("examples.mycells", None)
