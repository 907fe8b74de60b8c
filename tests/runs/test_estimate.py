"""What a large grid will cost (`runs.estimate`): runs priced by their steady cost, not
the first call's; local workers beyond the cores counted as sharing them; a frame
transient longer than the calibration runs."""

from __future__ import annotations

import pytest

from gradscope.config import Config


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
