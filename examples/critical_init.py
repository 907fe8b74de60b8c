"""Compare a tanh RNN's measured growth rate with mean-field theory across the critical gain; write reports/critical-init/.

    python examples/critical_init.py              # the full report (cached runs) + check.json
    python examples/critical_init.py --reduced    # the small version, in seconds (no cache)

Runs examples/critical-init.toml (a tanh RNN, normal init, gain 0.5 to 3.0) through
the library, finds where the measured growth rate crosses zero (linear interpolation
between neighbouring gains) and compares it with the mean-field critical gain (chi = 1),
and measures how well the mean-field rate 0.5 ln chi predicts the RMS rate away from the
critical point. The sweep figure shows all of it.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from gradscope.numerics.theory.critical import critical_gain_of
from gradscope.runs.claims import claims_check, claims_main

HERE = Path(__file__).resolve().parent
TOML = HERE / "critical-init.toml"
REPORT = HERE.parent / "reports" / "critical-init"
COMMAND = "python examples/critical_init.py"
REDUCED = {"hidden": 16, "steps": 200, "trials": 2, "transient": 50, "gain": "0.5:3.0:6"}
#: Gains at least this far from the critical gain count as "away from" it.
AWAY = 0.3


def zero_crossing(gains, rates):
    """The first gain where `rates` changes sign from negative to positive (linear
    interpolation between neighbours), or None."""
    for (g0, r0), (g1, r1) in zip(zip(gains, rates), zip(gains[1:], rates[1:])):
        if r0 is not None and r1 is not None and r0 < 0 <= r1:
            return g0 + (g1 - g0) * (-r0) / (r1 - r0)
    return None


def _gain_list(gains):
    """`1.6-3` for a run of consecutive grid gains, else `1.6, 2, 2.4`."""
    return ", ".join(f"{g:g}" for g in gains) if len(gains) < 4 else f"{gains[0]:g}-{gains[-1]:g} ({len(gains)} gains)"


def claims(results):
    """The findings as `{"claim", "verdict", "numbers", "text"}` dicts."""
    results = sorted(results, key=lambda r: r.config.gain)
    gains = [r.config.gain for r in results]
    rate = [r.summary["growth_rate"] for r in results]
    rms = [r.summary["rms_growth_rate"] for r in results]
    mf = [r.summary["mean_field_rate"] for r in results]
    g_c = critical_gain_of(results[0].config)
    g_spec, g_rms = zero_crossing(gains, rate), zero_crossing(gains, rms)
    step = gains[1] - gains[0]
    out = []

    close = g_spec is not None and abs(g_spec - g_c) <= step
    out.append({
        "claim": "critical-gain",
        "verdict": "agrees" if close else "differs",
        "numbers": {"critical_gain_mean_field": g_c, "zero_crossing_spectral": g_spec,
                    "zero_crossing_rms": g_rms, "grid_step": step},
        "text": (
            f"Mean field puts the edge of chaos (chi = 1) at g_c = {g_c:.3f} (input drive sigma_u^2 = "
            f"1/3, no bias). The measured median spectral rate crosses zero at g = "
            + (f"{g_spec:.3f}" if g_spec is not None else "(no crossing in the grid)")
            + ", the RMS rate at g = " + (f"{g_rms:.3f}" if g_rms is not None else "(no crossing)")
            + f" (linear interpolation between gains {step:.2g} apart): "
            + (f"within one grid step of the prediction ({abs(g_spec - g_c):.3f} apart)" if close else
               "more than one grid step from the prediction")
            + " (sweep figure, top)."
        ),
    })

    away = [(g, m, v) for g, m, v in zip(gains, mf, rms) if m is not None and v is not None and abs(g - g_c) >= AWAY]
    near = [(g, m, v) for g, m, v in zip(gains, mf, rms) if m is not None and v is not None and abs(g - g_c) < AWAY]
    err = np.array([abs(m - v) for _, m, v in away])
    worst = away[int(np.argmax(err))] if away else None
    below = [t for t in away if t[0] < g_c]
    above = [t for t in away if t[0] > g_c]
    err_b = max((abs(m - v) for _, m, v in below), default=math.nan)
    err_a = max((abs(m - v) for _, m, v in above), default=math.nan)
    err_n = max((abs(m - v) for _, m, v in near), default=math.nan)
    good = bool(away) and float(np.max(err)) <= 0.05
    out.append({
        "claim": "mean-field-rate",
        "verdict": "agrees" if good else "differs",
        "numbers": {"max_abs_error_away": float(np.max(err)) if away else None,
                    "max_abs_error_below": err_b, "max_abs_error_above": err_a,
                    "max_abs_error_near": err_n, "configs_away": len(away)},
        "text": (
            f"Away from the critical point (|g - g_c| >= {AWAY}, {len(away)} gains), the measured RMS "
            f"rate follows the mean-field rate 0.5 ln chi to within {float(np.max(err)):.3f} per step "
            f"(largest miss at g = {worst[0]:g}: predicted {worst[1]:.3f}, measured {worst[2]:.3f}); "
            f"below g_c the largest miss is {err_b:.3f} per step, above it {err_a:.3f}; within {AWAY} "
            f"of g_c it is {err_n:.3f} (sweep figure, top)."
            if away else "No gain lies away from the critical point, so mean field is not tested."
        ),
    })

    hor = [(r.config.gain, r.summary.get("horizon"), bool(r.summary.get("horizon_censored"))) for r in results]
    censored = [g for g, h, c in hor if c]
    measured = [(g, h) for g, h, c in hor if h is not None]
    g_best, h_best = max(measured, key=lambda t: t[1]) if measured else (None, None)
    below_h = [(g, h) for g, h in measured if g < g_c]
    out.append({
        "claim": "horizon",
        "verdict": "censored beyond g_c" if censored and min(censored) >= g_c - step else "see numbers",
        "numbers": {"first_censored_gain": min(censored) if censored else None,
                    "longest_measured_horizon": h_best, "at_gain": g_best,
                    "horizon_lowest_gain": below_h[0][1] if below_h else None},
        "text": (
            f"The horizon grows from {below_h[0][1]} steps at g = {below_h[0][0]:g} "
            f"to {h_best} steps at g = {g_best:g}"
            + (f"; at g = {_gain_list(censored)} the median gain never falls below 1e-6 within "
               f"T = {results[0].config.steps} steps (censored: the gradient no longer vanishes "
               f"within the window)" if censored else "")
            + " (sweep figure, bottom)."
            if below_h else "No horizon was measured below the critical gain."
        ),
    })
    return out


def check(cache=None):
    """The reduced run's numbers and verdicts, as committed in reports/critical-init/check.json."""
    return claims_check(TOML, "critical-init", claims, REDUCED, cache)


def main(argv=None) -> int:
    return claims_main(TOML, REPORT, "critical-init", "Critical initialisation: a tanh RNN against its recurrent gain", COMMAND, claims, REDUCED,
                       __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
