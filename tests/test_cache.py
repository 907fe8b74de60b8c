"""The run cache: keyed by config hash, atomic entries, corrupt entries are misses, and a
claim on a run is exclusive, released, and dropped with the process that held it."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from gradscope.cache import RunCache, default_cache_dir, lookup, run_cached
from gradscope.config import Config
from gradscope.results import ENGINE_VERSION, SUMMARY_KEYS, Result

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture
def make_result() -> Callable[..., Result]:
    """Factory of synthetic results with a known slope: `make_result(rate=, **config)`."""

    def make(rate: float = -0.1, **fields: Any) -> Result:
        fields.setdefault("hidden", 8)
        fields.setdefault("steps", 40)
        fields.setdefault("trials", 2)
        config = Config(**fields).resolved()
        lag = np.arange(config.steps + 1, dtype=np.float64)
        spectral = np.tile(rate * lag, (config.trials, 1))
        spectral[0, -1] = -np.inf  # a zero gain survives the round trip
        summary: dict[str, Any] = {k: None for k in SUMMARY_KEYS}
        summary.update(status="ok", growth_rate=rate, half_life=math.log(2) / -rate, warnings=[])
        return Result(config, summary, {"lag": lag, "log_spectral": spectral}, {"gradscope": "test", "engine": ENGINE_VERSION})

    return make


def test_put_then_get_round_trips(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    cache = RunCache(tmp_path / "c")
    result = make_result()
    assert cache.get(result.config) is None and len(cache) == 0
    path = cache.put(result)
    assert path == tmp_path / "c" / result.config.key()
    assert sorted(p.name for p in path.iterdir()) == ["curves.npz", "result.json"]
    hit = cache.get(Config(hidden=8, steps=40, trials=2))  # unresolved config, same key
    assert hit is not None and hit.summary["growth_rate"] == -0.1
    np.testing.assert_array_equal(hit.curves["log_spectral"], result.curves["log_spectral"])
    assert result.config in cache and cache.keys() == [result.config.key()]
    assert cache.get(Config(hidden=8, steps=41, trials=2)) is None


def test_put_replaces_an_entry_and_leaves_no_temporaries(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    cache = RunCache(tmp_path)
    cache.put(make_result(rate=-0.1))
    cache.put(make_result(rate=-0.2))
    assert cache.get(make_result().config).summary["growth_rate"] == -0.2
    assert [p.name for p in tmp_path.iterdir()] == [make_result().config.key()]


@pytest.mark.parametrize("damage", ["garbage json", "wrong schema", "no npz", "bad npz", "other config", "empty dir"])
def test_corrupt_entries_are_misses(tmp_path: Path, make_result: Callable[..., Result], damage: str) -> None:
    cache = RunCache(tmp_path)
    result = make_result()
    entry = cache.put(result)
    if damage == "garbage json":
        (entry / "result.json").write_text("{not json")
    elif damage == "wrong schema":
        (entry / "result.json").write_text('{"schema_version": 999}')
    elif damage == "no npz":
        (entry / "curves.npz").unlink()
    elif damage == "bad npz":
        (entry / "curves.npz").write_bytes(b"PK\x03\x04 truncated")
    elif damage == "other config":  # an entry filed under the wrong key
        other = make_result(hidden=9)
        other.save(entry)
    else:
        for p in entry.iterdir():
            p.unlink()
    assert cache.get(result.config) is None
    calls = []
    again = run_cached(result.config, cache, lambda c: calls.append(c) or make_result())
    assert len(calls) == 1 and again.summary["growth_rate"] == -0.1
    assert cache.get(result.config) is not None  # the entry was repaired


def test_run_cached_computes_once(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    config = Config(hidden=8, steps=40, trials=2)
    calls: list[Config] = []

    def compute(c: Config) -> Result:
        calls.append(c)
        return make_result()

    first, cached = lookup(config, tmp_path, compute)
    assert not cached
    second, cached = lookup(config, str(tmp_path), compute)
    assert cached and len(calls) == 1
    assert second.summary == first.summary
    run_cached(config, None, compute)  # no cache: always computes
    assert len(calls) == 2


def test_a_failed_computation_stores_nothing(tmp_path: Path) -> None:
    cache = RunCache(tmp_path)

    def boom(c: Config) -> Result:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        run_cached(Config(hidden=8), cache, boom)
    assert len(cache) == 0


def test_default_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "gradscope"
    assert RunCache().directory == tmp_path / "xdg" / "gradscope"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "gradscope"


def test_runs_of_another_engine_version_are_recomputed(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    import dataclasses

    cache = RunCache(tmp_path)
    old = make_result()
    cache.put(dataclasses.replace(old, provenance={"engine": ENGINE_VERSION - 1}))
    assert cache.get(old.config) is None
    cache.put(old)
    assert cache.get(old.config) is not None


def test_a_claim_is_exclusive_released_and_dropped_with_its_process(tmp_path: Path) -> None:
    cache = RunCache(tmp_path)
    config = Config(hidden=8)
    first = cache.claim(config)
    assert first is not None and cache.claim(config) is None  # another descriptor: refused
    first.release()
    first.release()  # idempotent
    with cache.claim(config) as again:
        assert again is not None
    code = ("import sys, time; from gradscope.cache import RunCache; from gradscope.config import Config; "
            f"c = RunCache({str(tmp_path)!r}).claim(Config(hidden=8)); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert cache.claim(config) is None  # held by the other process
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        claim = cache.claim(config)  # the operating system dropped the dead process's lock
        assert claim is not None
        claim.release()
    finally:
        proc.kill()
        proc.wait()
