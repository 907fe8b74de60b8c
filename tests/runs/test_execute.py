"""Running a grid through the run cache (`runs.execute.run_grid`): an interrupted grid
keeps its finished runs and resumes, a failing configuration keeps its row, two sweeps
sharing runs compute each once, and a tiny real grid end to end."""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
from sweep_tasks import fake_result

from gradscope.cache import RunCache
from gradscope.config import Config
from gradscope.report.write import write_report
from gradscope.results import Result
from gradscope.runs.execute import run_grid


def test_interrupted_grid_keeps_finished_runs_and_resumes(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    configs = [Config(cell=c, hidden=8, steps=50, trials=2) for c in ("rnn", "lstm", "gru")]
    configs.append(Config(cell="rnn", act="sigmoid", hidden=8, steps=50, trials=2))
    cache = RunCache(tmp_path / "cache")
    calls: list[str] = []

    def interrupted(config: Config) -> Result:
        calls.append(config.key())
        if len(calls) == 3:
            raise KeyboardInterrupt
        return make_result(config=config)

    with pytest.raises(KeyboardInterrupt):
        run_grid(configs, cache=cache, compute=interrupted)
    assert len(calls) == 3
    assert cache.keys() == sorted(c.key() for c in configs[:2])

    calls.clear()
    events = []

    def counting(config: Config) -> Result:
        calls.append(config.key())
        return make_result(config=config)

    results = run_grid(configs, cache=cache, compute=counting, progress=events.append)
    assert calls == [configs[2].key(), configs[3].key()]  # only the unfinished ones
    assert [r.config.key() for r in results] == [c.key() for c in configs]
    assert [e.cached for e in events if e.stage == "done"] == [True, True, False, False]
    calls.clear()
    run_grid(configs, cache=cache, compute=counting)
    assert calls == []  # everything cached now


def test_failing_configuration_keeps_its_row(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    configs = [Config(cell="rnn", act=a, hidden=8, steps=60, trials=2) for a in ("tanh", "relu", "sigmoid")]

    def compute(config: Config) -> Result:
        if config.act == "relu":
            return make_result(rate=0.4, status="nonfinite", stop=30, config=config)
        if config.act == "sigmoid":
            raise RuntimeError("boom")
        return make_result(config=config)

    cache = RunCache(tmp_path / "cache")
    results = run_grid(configs, cache=cache, compute=compute)
    assert [r.status for r in results] == ["ok", "nonfinite", "error"]
    assert "boom" in results[2].summary["warnings"][0]
    assert len(cache) == 2  # the error is not cached: it is retried next time
    with pytest.raises(RuntimeError):
        run_grid(configs, compute=compute, errors="raise")

    out = tmp_path / "report"
    write_report(results, out, name="mixed")
    rows = list(csv.DictReader(open(out / "summary.csv", encoding="utf-8")))
    assert [r["status"] for r in rows] == ["ok", "nonfinite", "error"]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "**nonfinite at step" in md and "**error**" in md
    assert "failed, so it has no numbers" in md
    assert (out / "figures" / "overlay.pdf").is_file()


def test_two_sweeps_sharing_runs_compute_each_once(tmp_path: Path) -> None:
    configs = [Config(hidden=8, steps=20, gain=g) for g in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)]
    computed: list[str] = []
    lock = threading.Lock()

    def slow(config: Config) -> Result:
        with lock:
            computed.append(config.key())
        time.sleep(0.15)
        return fake_result(config)

    results: dict[int, list[Result]] = {}
    threads = [threading.Thread(target=lambda i=i, cs=cs: results.__setitem__(
        i, run_grid(cs, cache=tmp_path, compute=slow))) for i, cs in enumerate((configs, configs[::-1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(computed) == sorted(c.key() for c in configs)  # each exactly once
    assert [r.config.key() for r in results[0]] == [c.key() for c in configs]
    assert [r.config.key() for r in results[1]] == [c.key() for c in configs[::-1]]
    assert not list((tmp_path / ".claims").iterdir())  # every claim given back


def test_tiny_real_grid(tmp_path: Path) -> None:
    analysis = pytest.importorskip("gradscope.analysis")
    if not hasattr(analysis, "analyze"):
        pytest.skip("gradscope.analysis.analyze is not written yet")
    configs = [Config(cell=c, hidden=8, steps=60, transient=20, trials=2) for c in ("rnn", "gru")]
    results = run_grid(configs, cache=tmp_path / "cache", compute=analysis.analyze)
    assert [r.config.key() for r in results] == [c.key() for c in configs]
    manifest = write_report(
        results, tmp_path / "report", name="tiny", command="gradscope compare --cell rnn,gru", formats=("svg",)
    )
    assert "keeps a gradient above 1e-6" in (tmp_path / "report" / "report.md").read_text()
    assert len(manifest["config_keys"]) == 2
    calls = []
    again = run_grid(configs, cache=tmp_path / "cache", compute=lambda c: calls.append(c) or analysis.analyze(c))
    assert calls == []
    assert [r.summary["growth_rate"] for r in again] == pytest.approx([r.summary["growth_rate"] for r in results])
