"""Sweeps: claims, the executor (in process and a local pool), resuming after SIGKILL,
bit-identical numbers whatever the number of workers, the mean-field critical gain,
the phase figures at every venue width, and bad input refused before anything runs.

(The Dask cluster is tested in test_dask.py.)
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from sweep_tasks import dies_once_then_works, fake_result

from gradscope.cache import RunCache
from gradscope.cli import main
from gradscope.config import Config
from gradscope.results import Result
from gradscope.runs.execute import run_grid
from gradscope.runs.grid import expand_grid

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


# -- claims -----------------------------------------------------------------------------
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


# -- the executor ------------------------------------------------------------------------
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


@pytest.mark.slow
def test_sweep_killed_with_sigkill_resumes_without_recomputing(tmp_path: Path) -> None:
    import psutil

    cache, out = tmp_path / "cache", tmp_path / "out"
    cmd = [sys.executable, "-m", "gradscope", "sweep", "-n", "32", "-T", "300", "--transient", "20", "-b", "2",
           "--gain", "0.5:3:12", "--jobs", "2", "--cache", str(cache), "--out", str(out), "--format", "svg"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while len(RunCache(cache)) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep finished before it could be killed: make its runs longer"
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"workers left running after the sweep was killed: {alive}"
    store = RunCache(cache)
    before = {k: (cache / k / "result.json").stat() for k in store.keys()}
    assert 3 <= len(before) < 12
    for key in before:  # every entry that looks whole is whole
        assert Result.load(cache / key).config.key() == key

    again = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300)
    assert again.returncode == 0, again.stderr
    rows = json.loads(again.stdout)["summary"]
    assert len(rows) == 12 and len({r["config_id"] for r in rows}) == 12  # none missing, none twice
    assert all(r["status"] == "ok" for r in rows)
    for key, stat in before.items():  # no finished run computed again
        now = (cache / key / "result.json").stat()
        assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert len(RunCache(cache)) == 12


# -- the physics -------------------------------------------------------------------------
@pytest.mark.slow
def test_tanh_gain_sweep_changes_sign_at_the_mean_field_critical_gain() -> None:
    """A vanilla tanh RNN, N = 256, no input, no bias, W ~ N(0, g^2/N): mean field puts
    the edge of chaos at g = 1 (chi = g^2 tanh'(0)^2). The measured median growth rate
    is negative at g = 0.95 and positive at g = 1.05: it changes sign within 0.05 of the
    mean-field critical gain (at T = 100 the interpolated crossing is ~1.03)."""
    from gradscope.numerics.theory.critical import MeanFieldTheory, critical_gain_of
    from gradscope.text.findings import gain_crossings

    configs = expand_grid({"hidden": 256, "steps": 100, "transient": 100, "trials": 2, "init": "normal",
                           "input": "zeros", "bias_std": 0.0, "gain": [0.95, 1.05]}).configs
    results = run_grid(configs, jobs=2)
    rates = [r.summary["growth_rate"] for r in results]
    assert rates[0] < 0 < rates[1], rates
    (row,) = gain_crossings(results, theory=MeanFieldTheory())
    assert abs(row["measured"] - 1.0) <= 0.05, row
    assert abs(row["mean_field"] - 1.0) <= 1e-3 and abs(critical_gain_of(configs[0]) - 1.0) <= 1e-3


# -- the command line ----------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args, needle", [
    (["--gain", "1:2:0"], "n >= 1"),
    (["--gain", ""], "empty value"),
    (["--gain", "0:1:10000000"], "more than the limit"),
    (["--gain", "0:1:5000", "--hidden", "8:16"], "more than 10000 combinations"),
    (["--measure", "growth_rate,speed"], "speed: choose from"),
    (["--measure", ","], "name at least one measure"),
    (["--measure", "lambda_1", "--exponents", "0"], "needs --exponents >= 1"),
    (["--scheduler", "localhost"], "tcp://HOST:PORT"),
    (["--scheduler", "tcp://127.0.0.1:1", "--jobs", "2"], "not both"),
    (["--scheduler", "tcp://127.0.0.1:PORT"], "cannot reach the Dask scheduler"),
])
def test_bad_sweep_input_is_one_line_before_anything_runs(tmp_path: Path, args: list[str], needle: str) -> None:
    args = [a.replace("PORT", str(_closed_port())) for a in args]
    out, cache = tmp_path / "out", tmp_path / "cache"
    res = CliRunner().invoke(main, ["sweep", "-n", "8", "-T", "20", *args, "--cache", str(cache), "--out", str(out)])
    assert res.exit_code in (1, 2), res.output
    assert res.exit_code == (1 if "reach" in needle else 2)
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0], res.output
    assert not out.exists() and not cache.exists()  # nothing ran, nothing was written


def test_measure_names_match_the_report() -> None:
    from gradscope.cli.sweep import MEASURE_NAMES
    from gradscope.figures.phase import MEASURES

    assert MEASURE_NAMES == tuple(MEASURES)


def test_dry_run_prints_the_plan_and_estimate_and_runs_nothing(tmp_path: Path) -> None:
    base = ["sweep", "-n", "8", "-T", "30", "--transient", "10", "-b", "2", "--gain", "0.5:2:4",
            "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out")]
    res = CliRunner().invoke(main, [*base, "--jobs", "1", "--seed", "0", "--dry-run", "--json"])
    assert res.exit_code == 0, res.output
    plan = json.loads(res.output)
    assert (plan["runs"], plan["cached"], plan["to_compute"]) == (4, 0, 4)
    assert plan["estimate"]["seconds"] > 0 and plan["estimate"]["run_seconds"] > 0
    assert not (tmp_path / "out").exists() and len(RunCache(tmp_path / "cache")) == 0
    res = CliRunner().invoke(main, [*base, "--jobs", "1", "--seed", "0,1", "--quiet"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, [*base, "--jobs", "1", "--seed", "0,1", "--dry-run"])
    assert res.output.splitlines()[0].startswith("8 runs: 8 cached, 0 to compute")


def test_sweep_report_two_axes_and_seeds(tmp_path: Path) -> None:
    """Two swept fields and two seeds: a heatmap per measure (median over seeds), the
    summary of every run, no per-run files; lambda_1 turns the exponents on."""
    out = tmp_path / "out"
    res = CliRunner().invoke(main, [
        "sweep", "-n", "8", "-T", "30", "--transient", "10", "-b", "2", "--init", "normal", "--input", "zeros",
        "--gain", "0.5,1.5,2.5", "--bias-std", "0,0.5", "--seed", "0,1", "--measure", "growth_rate",
        "--measure", "lambda_1,horizon", "--jobs", "1", "--cache", str(tmp_path / "cache"), "--out", str(out),
        "--format", "svg"])
    assert res.exit_code == 0, res.output
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == ["phase_growth_rate.svg", "phase_horizon.svg", "phase_lambda_1.svg"]
    rows = json.loads((out / "summary.json").read_text())
    assert len(rows) == 12 and all(r["exponents"] == 1 and r["lambda_1"] is not None for r in rows)
    assert not (out / "runs").exists() and not (out / "curves.csv").exists()
    md = (out / "report.md").read_text()
    assert "figures/phase_lambda_1.svg" in md and "## Findings" in md and "mean field puts chi = 1" in md
    manifest = json.loads((out / "manifest.json").read_text())
    assert all((out / a["path"]).is_file() for a in manifest["artefacts"])


def test_phase_grid_takes_the_median_over_seeds() -> None:
    from gradscope.figures.slices import phase_grid, sweep_axes

    results = [fake_result(Config(hidden=8, steps=20, gain=g, bias_std=b, seed=s), rate=r)
               for g, b, s, r in [(1, 0, 0, -1.0), (1, 0, 1, -3.0), (1, 0, 2, -2.5), (2, 0, 0, 1.0),
                                  (1, 1, 0, -0.5), (2, 1, 0, 0.5), (2, 1, 1, math.nan)]]
    for r in results[-1:]:
        r.summary["growth_rate"] = None  # a seed without a value does not count
    assert sweep_axes([r.config for r in results]) == ["gain", "bias_std"]
    xs, ys, z = phase_grid(results, "growth_rate", "gain", "bias_std")
    assert xs.tolist() == [1.0, 2.0] and ys.tolist() == [0.0, 1.0]
    assert z[0].tolist() == [-2.5, 1.0] and z[1, 0] == -0.5
    assert math.isnan(z[1, 1])  # one seed of two has no value: no median


@pytest.mark.parametrize("style", ["paper", "screen"])
@pytest.mark.parametrize("width", [3.25, 3.5, 5.5, 6.75, 7.16])
def test_phase_figures_fit_every_width(width: float, style: str) -> None:
    """No text leaves the canvas or overlaps other text, heatmap and line plot alike."""
    from gradscope.report.sweep_report import phase_figures

    grid = [fake_result(Config(hidden=8, steps=40, init="normal", input="zeros", gain=g, bias_std=b, seed=s),
                        rate=0.4 * (g - 1.2 - b) + 0.01 * s)
            for g in (0.5, 1.0, 1.5, 2.0) for b in (0.0, 0.5, 1.0) for s in (0, 1)]
    for r in grid:
        r.summary["horizon"] = None if r.summary["growth_rate"] > -0.05 else 30
    line = [r for r in grid if r.config.bias_std == 0.0]
    for results, names in ((grid, ("growth_rate", "horizon")), (line, ("growth_rate", "half_life"))):
        for name, (fig, caption) in phase_figures(names)(results, width=width, style=style).items():
            assert caption and tuple(fig.get_size_inches())[0] == width
            _assert_text_fits(fig, name, style)


def _drawn_texts(fig: Any) -> list[Any]:
    """Every text the figure draws: axis and tick labels inside the view, titles,
    annotations, legends."""
    out = list(fig.texts)
    for legend in fig.legends:
        out += legend.get_texts()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for locs, labels in ((axis.get_majorticklocs(), axis.get_majorticklabels()),
                                 (axis.get_minorticklocs(), axis.get_minorticklabels())):
                out += [t for v, t in zip(locs, labels) if lo - 1e-9 * (hi - lo) <= v <= hi + 1e-9 * (hi - lo)]
            out += [axis.label, axis.get_offset_text()]
        out += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        if ax.get_legend() is not None:
            out += ax.get_legend().get_texts()
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def _assert_text_fits(fig: Any, name: str, style: str) -> None:
    from gradscope.figures.style import style_context

    with style_context(style):  # as save_figure draws it
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _drawn_texts(fig)]
    canvas = fig.bbox
    for text, box in boxes:
        assert box.x0 >= canvas.x0 - 1 and box.x1 <= canvas.x1 + 1, f"{name}: {text!r} leaves the canvas"
        assert box.y0 >= canvas.y0 - 1 and box.y1 <= canvas.y1 + 1, f"{name}: {text!r} leaves the canvas"
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            overlap = ba.x0 < bb.x1 - 0.5 and bb.x0 < ba.x1 - 0.5 and ba.y0 < bb.y1 - 0.5 and bb.y0 < ba.y1 - 0.5
            assert not overlap, f"{name}: {a!r} overlaps {b!r}"


# -- the committed report ----------------------------------------------------------------
def test_committed_phase_diagram_matches_its_reduced_check() -> None:
    """Recompute reports/phase-diagram's numbers at reduced size (no cache) and compare
    them with its committed check.json: numbers to rtol 1e-6, verdicts exactly."""
    import importlib.util

    from gradscope.report.check_json import compare_checks

    spec = importlib.util.spec_from_file_location("phase_diagram", ROOT / "examples" / "phase_diagram.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = ROOT / "reports" / "phase-diagram"
    committed = json.loads((folder / "check.json").read_text(encoding="utf-8"))
    assert compare_checks(json.loads(json.dumps(module.check())), committed) == []
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "python examples/phase_diagram.py" in md and "## Findings" in md
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == module.COMMAND and manifest["findings"]
    assert {"figures/phase_growth_rate.svg", "figures/phase_lambda_1.svg"} <= {a["path"] for a in manifest["artefacts"]}
    for artefact in manifest["artefacts"]:
        assert (folder / artefact["path"]).is_file(), artefact["path"]


def test_estimate_prices_runs_by_their_steady_cost_not_the_first_calls(monkeypatch) -> None:
    """The calibration's clock is a fake one that the compute advances: a run costs
    0.1 + 0.001 T seconds, the first run of the process 2 s more (imports, caches). The
    first run must not enter the fit (it would flatten the slope and price runs of
    T = 1000 at under half their cost, as it once did)."""
    from gradscope.runs import estimate as est_mod

    clock = {"now": 0.0, "runs": 0}

    def compute(config: Config) -> None:
        clock["now"] += 0.1 + 0.001 * config.steps + (2.0 if clock["runs"] == 0 else 0.0)
        clock["runs"] += 1

    monkeypatch.setattr(est_mod.time, "perf_counter", lambda: clock["now"])
    configs = [Config(hidden=8, trials=2, steps=1000, gain=g) for g in (0.5, 1.0, 1.5, 2.0)]
    est = est_mod.estimate(configs, workers=2, compute=compute)
    assert est.run_seconds == pytest.approx(1.1, rel=1e-9)
    assert est.seconds == pytest.approx(4 * 1.1 / 2, rel=1e-9)
    assert clock["runs"] == 1 + len(est_mod.HORIZONS)  # a warm-up, then one run per horizon


def test_estimate_counts_local_workers_beyond_the_cores_as_sharing_them(monkeypatch) -> None:
    """`--jobs 8` on 2 cores: two runs make progress at once, eight processes hold memory."""
    from gradscope.runs import estimate as est_mod
    from gradscope.runs import executor as ex_mod

    monkeypatch.setattr(ex_mod, "default_jobs", lambda: 2)
    local = ex_mod.LocalExecutor(8)
    assert (local.parallelism, local.workers) == (2, 8) and "on 2 cores" in local.describe()
    clock = {"now": 0.0}

    def compute(config: Config) -> None:
        clock["now"] += 0.001 * config.steps

    monkeypatch.setattr(est_mod.time, "perf_counter", lambda: clock["now"])
    configs = [Config(hidden=8, trials=2, steps=1000, seed=s) for s in range(8)]
    est = est_mod.estimate(configs, local.parallelism, compute=compute, processes=local.workers)
    assert est.seconds == pytest.approx(8 * 1.0 / 2) and est.processes == 8


def test_estimate_runs_a_grid_whose_frame_transient_is_longer_than_the_calibration() -> None:
    """`--frame-transient 500 -T 2000`: the short calibration runs take the default frame
    transient instead of failing on one longer than themselves."""
    from gradscope.runs.estimate import HORIZONS, estimate

    seen = []
    configs = [Config(hidden=8, trials=2, steps=2000, exponents=1, frame_transient=500, gain=g) for g in (0.5, 1.0)]
    est = estimate(configs, workers=1, compute=seen.append)
    assert est is not None and len(seen) == 1 + len(HORIZONS)
    assert all(c.frame_transient is None and c.steps < 2000 for c in seen)
