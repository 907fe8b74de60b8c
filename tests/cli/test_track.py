"""`gradscope track`: on a monitor's folder it gives the monitor's numbers, in step
order, with the metrics logged; a second run computes nothing; folders and globs of
checkpoints find their steps (said when read from the names); a checkpoint without a
step is one line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from cli_helpers import assert_clean_error, run
from monitor_helpers import SMALL, TinyModel, analyses, train

from gradscope import Monitor


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A monitor's folder: a tiny LSTM trained 15 steps, analysed every 5 (inline)."""
    folder = tmp_path_factory.mktemp("monitored") / "lstm-run"
    model = TinyModel()
    monitor = Monitor(model.rnn, every=5, log_dir=folder, background=False, cache=False, lags=(5,),
                      tensorboard=False, **SMALL)
    train(monitor, model, steps=15)
    monitor.update(0)  # an analysis logged late, of an earlier step: drawn in step order
    monitor.close()
    return folder


def _rows(out: Path) -> list[dict]:
    return json.loads((out / "summary.json").read_text())


def test_track_of_a_monitors_folder_gives_its_numbers_in_step_order(monitored: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    res = run("track", str(monitored), "--no-cache", "--jobs", "1", "--out", str(out), "--format", "png")
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    docs = {d["step"]: d["summary"]["summary"] for d in analyses(monitored)}
    assert [r["step"] for r in rows] == [0, 5, 10, 15] and {r["run"] for r in rows} == {"lstm-run"}
    for row in rows:
        for key in ("growth_rate", "lambda_1", "horizon", "median_step_gain", "log_gain_at_lags"):
            assert row[key] == docs[row["step"]][key], (row["step"], key)
        assert row["at_lags"] == [5]
    assert [r["loss"] is not None for r in rows] == [False, True, True, True]  # logged at steps 5, 10, 15
    with open(out / "summary.csv", newline="") as fh:
        head = next(csv.reader(fh))
    assert head[:3] == ["run", "step", "loss"]
    assert {"trajectory.png", "gain_map.png", "trajectory.svg"} <= {p.name for p in (out / "figures").iterdir()}
    md = (out / "report.md").read_text()
    assert "lag 5" in md and "gradscope track" in md


def test_track_twice_computes_nothing_the_second_time(monitored: Path, tmp_path: Path, monkeypatch) -> None:
    import gradscope.analysis as analysis

    calls = []
    real = analysis.analyze
    monkeypatch.setattr(analysis, "analyze", lambda *a, **k: calls.append(1) or real(*a, **k))
    for i in (1, 2):
        res = run("track", str(monitored), "--cache", str(tmp_path / "cache"), "--jobs", "1",
                  "--out", str(tmp_path / f"r{i}"), "--format", "svg", "--quiet")
        assert res.exit_code == 0, res.output
        assert len(calls) == 4, (i, len(calls))  # four the first time, none the second
    assert _rows(tmp_path / "r1") == _rows(tmp_path / "r2")


def test_track_finds_what_the_monitor_stored_in_the_cache(tmp_path: Path, monkeypatch) -> None:
    import gradscope.analysis as analysis

    model = TinyModel()
    monitor = Monitor(model.rnn, every=5, log_dir=tmp_path / "gs", background=False, cache=tmp_path / "cache",
                      tensorboard=False, **SMALL)
    train(monitor, model, steps=10)
    monitor.close()
    monkeypatch.setattr(analysis, "analyze", lambda *a, **k: pytest.fail("track computed a run"))
    res = run("track", str(tmp_path / "gs"), "--cache", str(tmp_path / "cache"), "--jobs", "1",
              "--out", str(tmp_path / "r"), "--format", "svg", "--quiet")
    assert res.exit_code == 0, res.output
    docs = {d["step"]: d["summary"]["summary"]["lambda_1"] for d in analyses(tmp_path / "gs")}
    assert {r["step"]: r["lambda_1"] for r in _rows(tmp_path / "r")} == docs


def test_a_moved_monitor_folder_still_tracks(monitored: Path, tmp_path: Path) -> None:
    import shutil

    moved = tmp_path / "elsewhere"
    shutil.copytree(monitored, moved)
    lines = (moved / "gradscope.jsonl").read_text().replace(str(monitored), "/nonexistent/old-place")
    (moved / "gradscope.jsonl").write_text(lines)
    res = run("track", str(moved / "gradscope.jsonl"), "--no-cache", "--jobs", "1", "--out", str(tmp_path / "r"),
              "--format", "svg", "--quiet")
    assert res.exit_code == 0, res.output
    docs = {d["step"]: d["summary"]["summary"]["growth_rate"] for d in analyses(monitored)}
    assert {r["step"]: r["growth_rate"] for r in _rows(tmp_path / "r")} == docs


def _save(folder: Path, name: str, model: torch.nn.Module, step: int | None) -> None:
    folder.mkdir(exist_ok=True)
    state = {"model": model.state_dict()}
    if step is not None:
        state["step"] = step
    torch.save(state, folder / name)


def test_a_folder_of_checkpoints_and_a_glob(tmp_path: Path) -> None:
    folder = tmp_path / "ckpts"
    for i, step in enumerate((300, 100, 200)):
        torch.manual_seed(i)
        _save(folder, f"epoch{i}-step{step}.pt", TinyModel(), None)
    small = ["--steps", "40", "--transient", "10", "--trials", "2", "--exponents", "2"]
    res = run("track", str(folder), *small, "--no-cache", "--jobs", "1", "--out", str(tmp_path / "a"),
              "--format", "svg", "--at-lag", "5")
    assert res.exit_code == 0, res.output
    assert [r["step"] for r in _rows(tmp_path / "a")] == [100, 200, 300]
    assert "steps read from the file names" in res.output and "epoch0-step300.pt -> 300" in res.output
    assert all(r["steps"] == 40 and r["at_lags"] == [5] for r in _rows(tmp_path / "a"))
    res = run("track", str(folder / "*step*.pt"), *small, "--no-cache", "--jobs", "1", "--out",
              str(tmp_path / "b"), "--format", "svg", "--quiet")
    assert res.exit_code == 0, res.output
    assert [r["step"] for r in _rows(tmp_path / "b")] == [100, 200, 300]


def test_a_checkpoints_own_step_entry_wins_over_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "ckpts"
    _save(folder, "last-7.pt", TinyModel(), 1200)
    res = run("track", str(folder), "--steps", "30", "--trials", "2", "--no-cache", "--jobs", "1",
              "--out", str(tmp_path / "r"), "--format", "svg", "--quiet")
    assert res.exit_code == 0, res.output
    assert [r["step"] for r in _rows(tmp_path / "r")] == [1200] and "file names" not in res.output


@pytest.mark.parametrize("setup, message", [
    ("nostep", "has no step: no 'step' entry in it and no number in its name"),
    ("missing", "does not exist"),
    ("empty", "holds no gradscope.jsonl and no checkpoint files"),
    ("rnn", "give --act tanh or --act relu"),
])
def test_bad_sources_are_one_line(tmp_path: Path, setup: str, message: str) -> None:
    folder = tmp_path / "ckpts"
    folder.mkdir()
    if setup == "nostep":
        _save(folder, "final.pt", TinyModel(), None)
    if setup == "rnn":
        _save(folder, "step-10.pt", TinyModel("rnn"), None)
    path = str(tmp_path / "nope") if setup == "missing" else str(folder)
    line = assert_clean_error(run("track", path, "--no-cache", "--out", str(tmp_path / "r")), 2)
    assert message in line
