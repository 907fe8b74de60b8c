"""A real Dask cluster on 127.0.0.1: a scheduler and two workers started as processes
(`dask scheduler`, `dask worker --no-nanny`), a sweep sent through `--scheduler` gets
the same numbers as the local pool to the last bit, and a worker killed mid-sweep
loses nothing: every run comes back exactly once. Bounded in time; every process the
test started is stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from gradscope.cache import RunCache
from gradscope.runs.execute import run_grid
from gradscope.runs.grid import expand_grid

pytestmark = pytest.mark.slow

#: The longest any step of these tests may take (seconds) before it fails.
BOUND = 180
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}


def _dask(*args: str) -> list[str]:
    return [sys.executable, "-m", "dask", *args]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    procs: list[subprocess.Popen] = []
    log = open(folder / "log.txt", "w")
    try:
        procs.append(subprocess.Popen(
            _dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)),
            stdout=log, stderr=log, env=ENV))
        deadline = time.monotonic() + BOUND
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        for i in range(2):
            procs.append(subprocess.Popen(
                _dask("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--memory-limit", "0",
                      "--name", f"w{i}", "--death-timeout", "60"), stdout=log, stderr=log, env=ENV))
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=BOUND)
        yield {"address": address, "workers": procs[1:]}
    finally:
        for p in procs[::-1]:  # the workers first, then the scheduler
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
        assert all(p.poll() is not None for p in procs)  # every process it started is stopped


def _bounded(fn: Any) -> Any:
    """Run `fn()` in a thread; fail if it takes longer than BOUND seconds."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # re-raised in the test's thread
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive(), f"the sweep took longer than {BOUND} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_dask_cluster_gives_the_local_pool_numbers_to_the_last_bit(cluster: dict[str, Any], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gradscope.cli import main

    grid = {"hidden": 12, "steps": 60, "transient": 20, "trials": 2, "gain": [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]}
    configs = expand_grid(grid).configs
    local = run_grid(configs, jobs=2)
    res = _bounded(lambda: CliRunner().invoke(main, [
        "sweep", "-n", "12", "-T", "60", "--transient", "20", "-b", "2", "--gain", "0.5:3:6",
        "--scheduler", cluster["address"], "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out"),
        "--format", "svg", "--quiet"]))
    assert res.exit_code == 0, res.output
    cache = RunCache(tmp_path / "cache")
    assert len(cache) == 6
    for a in local:
        b = cache.get(a.config)  # stored here, as each came back from the cluster
        assert b is not None and a.summary == b.summary
        for key in a.curves:
            assert np.array_equal(a.curves[key], b.curves[key], equal_nan=True), key
    assert (tmp_path / "out" / "figures" / "line_growth_rate.svg").is_file()


def test_a_worker_killed_mid_sweep_loses_no_run(cluster: dict[str, Any], tmp_path: Path) -> None:
    configs = expand_grid({"hidden": 32, "steps": 300, "transient": 20, "trials": 2,
                           "gain": [0.5 + 0.25 * i for i in range(12)]}).configs
    victim = cluster["workers"][0]
    killed: list[int] = []

    def progress(event: Any) -> None:
        if event.stage == "done" and not killed:  # both workers are busy with the next runs
            victim.send_signal(signal.SIGKILL)
            killed.append(event.finished)

    results = _bounded(lambda: run_grid(configs, cache=tmp_path / "cache", scheduler=cluster["address"],
                                        progress=progress))
    assert killed and killed[0] < len(configs) and victim.wait(10) is not None
    assert [r.config.key() for r in results] == [c.key() for c in configs]  # every run, once, in order
    assert all(r.status == "ok" for r in results), [r.summary["warnings"] for r in results]
    assert RunCache(tmp_path / "cache").keys() == sorted(c.key() for c in configs)


def _start(folder: Path, worker_env: dict[str, str], log: Any) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and one worker (started with `worker_env`): `(address, processes)`."""
    info = folder / "scheduler.json"
    procs = [subprocess.Popen(_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                    "--scheduler-file", str(info)), stdout=log, stderr=log, env=ENV)]
    deadline = time.monotonic() + BOUND
    while not info.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    address = json.loads(info.read_text())["address"]
    procs.append(subprocess.Popen(_dask("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                        "--memory-limit", "0", "--death-timeout", "60"),
                                  stdout=log, stderr=log, env=worker_env, cwd=folder))  # not the checkout
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(1, timeout=BOUND)
    return address, procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs[::-1]:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_a_worker_with_another_gradscope_is_refused_in_one_line(tmp_path: Path) -> None:
    # the public index's unrelated `gradscope` (0.1.0) installs a top-level `gradscope`
    # too: a worker that imports one like it must be named before anything runs
    fake = tmp_path / "fake" / "gradscope"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('__version__ = "0.1.0"\n')
    env = {**ENV, "PYTHONPATH": str(tmp_path / "fake")}
    with open(tmp_path / "log.txt", "w") as log:
        address, procs = _start(tmp_path, env, log)
        try:
            from click.testing import CliRunner

            from gradscope.cli import main

            out = tmp_path / "out"
            res = CliRunner().invoke(main, ["sweep", "-n", "8", "-T", "20", "--transient", "5", "-b", "1",
                                            "--gain", "0.5:1.5:3", "--scheduler", address, "--no-cache",
                                            "--out", str(out), "--quiet"])
            assert res.exit_code == 1, res.output
            line = res.output.strip().splitlines()[-1]
            # it imports the other package's `gradscope` (0.1.0): named, with what to do
            assert line.startswith("Error: Dask worker tcp://127.0.0.1:") and "runs gradscope 0.1.0" in line
            assert "Installing on other machines" in line and "Traceback" not in res.output
            assert not out.exists()  # nothing written
        finally:
            _stop(procs)


def test_a_scheduler_that_goes_away_ends_the_sweep_in_one_line_keeping_what_finished(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with open(tmp_path / "log.txt", "w") as log:
        address, procs = _start(tmp_path, ENV, log)
        try:
            cmd = [sys.executable, "-m", "gradscope", "sweep", "-n", "16", "-T", "300", "-b", "2",
                   "--gain", "0.5:3:24", "--scheduler", address, "--cache", str(cache),
                   "--out", str(tmp_path / "out"), "--format", "svg"]
            sweep = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
            deadline = time.monotonic() + BOUND
            while time.monotonic() < deadline and len(RunCache(cache)) < 2:  # some runs finished
                time.sleep(0.2)
            procs[0].kill()  # the scheduler goes away mid-sweep
            _, err = sweep.communicate(timeout=BOUND)
        finally:
            _stop(procs)
    assert sweep.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: the Dask scheduler at") and "went away" in last and "resume" in last
    assert "Traceback" not in err and "error (0.0 s)" not in err
    assert len(RunCache(cache)) >= 2 and not (tmp_path / "out").exists()
