"""Where a grid's runs are computed (`runs.executor`): `run_one` analyses one config on
one thread and gives the caller's threads back; a local pool has one worker per core
by default, retries a run whose worker died and records failures; the numbers are
identical to the last bit whatever the number of workers. (run_grid over them:
test_execute.py; a Dask cluster: test_dask.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from sweep_tasks import dies_once_then_works

from gradscope.analysis import analyze
from gradscope.cache import RunCache
from gradscope.config import Config
from gradscope.numerics.threads import available_cores, torch_threads
from gradscope.runs.execute import run_grid
from gradscope.runs.executor import LocalExecutor, default_jobs
from gradscope.runs.grid import expand_grid
from gradscope.runs.task import run_one


def test_pool_retries_a_run_whose_worker_died_and_records_failures(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GRADSCOPE_TEST_MARKER", str(tmp_path / "marker"))
    configs = [Config(hidden=8, steps=20, gain=g) for g in (1.0, 2.0, 3.0, 4.0, 5.0)]
    events: list[Any] = []
    results = run_grid(configs, cache=tmp_path / "cache", compute=dies_once_then_works, jobs=2,
                       progress=events.append)
    assert [r.status for r in results] == ["ok", "ok", "error", "error", "ok"], [r.summary["warnings"] for r in results]
    assert results[1].summary["growth_rate"] == -2.0  # retried after its worker died
    assert "worker process died" in results[2].summary["warnings"][0]
    assert "boom" in results[3].summary["warnings"][0]
    assert len(RunCache(tmp_path / "cache")) == 3  # failures are not cached: retried next time
    last = [e for e in events if e.stage == "done"][-1]
    assert (last.finished, last.failed, last.from_cache, last.left) == (5, 2, 0, 0)


def test_results_identical_to_the_last_bit_whatever_the_number_of_workers(tmp_path: Path) -> None:
    configs = expand_grid({"hidden": 12, "steps": 50, "transient": 20, "trials": 2, "gain": [0.8, 1.6, 2.4]}).configs
    one = run_grid(configs, jobs=1)
    two = run_grid(configs, jobs=2, cache=tmp_path)
    for a, b in zip(one, two):
        assert a.summary == b.summary
        assert a.curves.keys() == b.curves.keys()
        for key in a.curves:
            assert np.array_equal(a.curves[key], b.curves[key], equal_nan=True), key
    light = run_grid(configs, cache=tmp_path, curves=False)  # summaries only, from the cache
    assert [r.curves for r in light] == [{}] * 3 and [r.summary for r in light] == [r.summary for r in one]


def test_run_one_runs_on_one_thread_and_gives_the_callers_threads_back() -> None:
    config = Config(hidden=8, steps=30, trials=2, transient=5)
    with torch_threads(2):
        result = run_one(config, command="gradscope sweep --gain 1")
        assert torch.get_num_threads() == 2  # the caller's setting, given back
    assert result.provenance["threads"] == 1 and result.provenance["command"] == "gradscope sweep --gain 1"
    assert result.config.key() == config.key() and result.status == "ok"
    same = analyze(config, threads=1)
    for key in same.curves:
        assert np.array_equal(result.curves[key], same.curves[key], equal_nan=True), key
    assert run_one(config, threads=2).provenance["threads"] == 2  # --threads of compare and sweep


def test_default_jobs_is_one_worker_per_core_this_process_may_use(monkeypatch) -> None:
    import os

    assert default_jobs() == available_cores() >= 1
    if hasattr(os, "sched_getaffinity"):
        assert default_jobs() == len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert default_jobs() == available_cores() == 3  # the affinity, not the machine's CPU count
    assert LocalExecutor().jobs == 3 and LocalExecutor(8).parallelism == 3
