"""How a sweep is laid out and reduced (`figures.slices`): its axes, and the median
over seeds at each point of a phase map."""

from __future__ import annotations

import math

from sweep_tasks import fake_result

from gradscope.config import Config


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
