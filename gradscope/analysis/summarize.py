"""The summary of one run, composed from its curves, its trajectory and the theory:
every key of `results.SUMMARY_KEYS`, with the warnings that say what to do.

May import: `gradscope.numerics`, `gradscope.results`, `gradscope.config`.
"""

from __future__ import annotations

import math

import numpy as np

from ..config import Config
from ..results import Status


def params_count(config: Config) -> int:
    """Parameters of one drawn network (the registry's formula for its cell)."""
    from ..config import cell_spec

    return cell_spec(config.cell).params(config.hidden, config.n_input)


def status_of(config: Config, traj, warnings: list[str]) -> dict:
    s = {"status": Status.OK.value}
    if traj.nonfinite_step is not None:
        s["status"] = Status.NONFINITE.value
        warnings.append(
            f"the state became non-finite at step {traj.nonfinite_step} "
            f"(transient included); the analysis stops at the last finite state "
            f"({traj.steps} of {config.steps} steps kept): lower --gain or --steps, "
            "or use a bounded activation"
        )
    return s


def summarize(config: Config, cell, curves: dict, traj, lyap, drive, network: dict | None = None) -> dict:
    from ..numerics.metrics import (
        decay_figures,
        measured_median,
        median_curve,
        rate_figures,
    )
    from ..numerics.theory import annealed_rate, theory_figures

    warnings: list[str] = []
    s = status_of(config, traj, warnings)
    s.update(decay_figures(curves["log_spectral"], config.eps))
    s["nonfinite_step"] = traj.nonfinite_step
    if s["horizon_censored"] and traj.steps > 0 and s["regime"] != "exploding":
        warnings.append(
            f"the median gain never fell below eps={config.eps:g} within "
            f"{s['analysed_lags']} lags: the horizon is censored; raise --steps to see it"
        )
    s["rms_growth_rate"] = rate_figures(curves["log_rms"])["rate"]
    s["loss_grad_rate"] = rate_figures(curves["log_loss_grad"])["rate"]
    dead = np.flatnonzero(median_curve(curves["log_spectral"]) == -np.inf)
    if dead.size:
        warnings.append(
            f"the median gradient is exactly zero from lag {int(dead[0])} on "
            "(every path through the units is switched off, as for dead relu units)"
        )
    if s["growth_rate"] is None and traj.steps > 0 and not dead.size:
        warnings.append("too few finite lags to fit a growth rate: raise --steps")
    s.update(theory_figures(config, cell, drive, warnings))
    s["annealed_rate"] = measured_median(annealed_rate(curves["log_step_rms"][:, : traj.steps]))
    s.update(spectrum_part(config, cell, lyap, warnings))
    for key, what in (("fast_check", "norms"), ("step_gain_check", "per-step gains")):
        check = curves.pop(key, None)
        s[key] = None if config.spectral == "exact" or check is None else float(max(check))
        if s[key] is not None and s[key] > 1e-3:  # not expected: a failed check redoes the chunk
            warnings.append(
                f"fast-mode {what} were up to {100 * s[key]:.2g}% below an exact SVD at the "
                "checked lags: rerun with --spectral exact for exact values"
            )
    return finish(config, s, warnings, network)


def spectrum_part(config: Config, cell, lyap: dict | None, warnings: list[str]) -> dict:
    from ..numerics.spectrum.summary import spectrum_figures

    if lyap is None:
        return {}
    figures, notes = spectrum_figures(lyap, cell.state_dim, config.torch_dtype_name)
    warnings.extend(notes)
    return figures


def finish(config: Config, s: dict, warnings: list[str], network: dict | None = None) -> dict:
    """Parameters, a warning per non-finite figure, every key of `SUMMARY_KEYS` in order."""
    from ..results import SUMMARY_KEYS

    s["params"] = params_count(config) if network is None else network["params"]
    for key, value in s.items():
        if isinstance(value, float) and not math.isfinite(value):
            warnings.append(f"{key} is {value} (written as null in JSON)")
    s["warnings"] = warnings
    return {k: s.get(k) for k in SUMMARY_KEYS}
