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
    from ..config.registry import params_of

    return params_of(config)


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


def summarize(config: Config, cell, curves: dict, traj, lyap, drive, network: dict | None = None,
              lags: tuple[int, ...] | None = None) -> dict:
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
    s["notes"] = []  # what is so, without anything to act on (warnings say what to do)
    s.update(theory_figures(config, cell, drive, s["notes"]))
    s["annealed_rate"] = measured_median(annealed_rate(curves["log_step_rms"][:, : traj.steps]))
    s["median_step_gain"] = median_step_gain(curves["log_step_gain"][:, : traj.steps])
    s.update(lag_part(curves, lags, warnings))
    s.update(spectrum_part(config, cell, lyap, warnings))
    s.update(attractor_part(config, traj.states[-67:] if traj.steps > 0 else None, lyap,
                            curves["log_spectral"][:, : traj.steps + 1], traj.nonfinite_step is None))
    for key, what in (("fast_check", "norms"), ("step_gain_check", "per-step gains")):
        check = curves.pop(key, None)
        s[key] = None if config.spectral == "exact" or check is None else float(max(check))
        if s[key] is not None and s[key] > 1e-3:  # not expected: a failed check redoes the chunk
            warnings.append(
                f"fast-mode {what} were up to {100 * s[key]:.2g}% below an exact SVD at the "
                "checked lags: rerun with --spectral exact for exact values"
            )
    return finish(config, s, warnings, network)


def median_step_gain(log_step_gain: np.ndarray) -> float | None:
    """The median over trials and steps of the per-step gain `||J_t||_2` (x/step)."""
    from ..numerics.metrics import measured_median

    value = measured_median(np.asarray(log_step_gain).ravel())
    return None if value is None else math.exp(value)


BEYOND = ": no value there (raise --steps)"
#: Summary key -> the curve it reads at each asked lag.
AT_LAG_CURVES = {"log_gain_at_lags": "log_spectral", "log_loss_grad_at_lags": "log_loss_grad",
                 "log_input_sensitivity_at_lags": "log_input_sensitivity"}


def lag_part(curves: dict, lags, warnings: list[str]) -> dict:
    """At each of `lags` (`config.checks.check_lags`), the median over trials of the
    log spectral gain, loss gradient and input sensitivity (None where not measured: a
    lag beyond the window, said in `warnings`). `{}` when no lags are asked."""
    from ..config.checks import check_lags
    from ..numerics.metrics import median_curve

    lags = check_lags(lags)
    if lags is None:
        return {}
    out: dict = {"at_lags": list(lags)}
    for key, name in AT_LAG_CURVES.items():
        curve = curves.get(name)
        med = median_curve(curve) if curve is not None and np.ndim(curve) == 2 and np.size(curve) else None
        out[key] = [None if med is None or k >= med.size or np.isnan(med[k]) else float(med[k]) for k in lags]
    window = len(curves["lag"]) - 1 if "lag" in curves else None
    beyond = [k for k in lags if window is not None and k > window]
    if beyond:
        warnings.append(f"lag{'s' * (len(beyond) > 1)} {', '.join(map(str, beyond))} lie{'s' * (len(beyond) == 1)} "
                        f"beyond the {window} analysed lags{BEYOND}")
    return out


def with_lags(result, lags):
    """`result` with the figures at `lags` (`lag_part`) computed from its curves, as
    `analyze(..., lags=lags)` gives them: for a cached run (the lags are no part of the
    configuration). A result without curves gets None at every lag."""
    import dataclasses

    warnings = [w for w in result.summary.get("warnings") or [] if not w.endswith(BEYOND)]
    part = lag_part(result.curves, lags, warnings) if result.curves else {}
    if not part and lags is not None:
        from ..config.checks import check_lags

        asked = list(check_lags(lags))
        part = {"at_lags": asked, **{k: [None] * len(asked) for k in AT_LAG_CURVES}}
    summary = {**result.summary, **part, "warnings": warnings}
    return dataclasses.replace(result, summary=summary)


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
    notes = s.setdefault("notes", [])
    for key, value in list(s.items()):
        if isinstance(value, float) and not math.isfinite(value):
            notes.append(f"{key} is {value} (written as null in JSON)")
    s["warnings"] = warnings
    return {k: s.get(k) for k in SUMMARY_KEYS}


def attractor_part(config: Config, tails, lyap: dict | None, log_spectral, finite: bool) -> dict:
    """What the state settled on (`numerics.attractor`), per trial, from the last states
    `tails` `(L, B, D)` (None where not kept), the trial's top exponent with its error
    where the spectrum was asked for, else its growth rate (`metrics.trial_rates`)."""
    from ..numerics.attractor import classify, summarize_kinds
    from ..numerics.metrics import trial_rates

    autonomous = config.input in ("zeros", "constant")
    trials = config.trials
    kinds = []
    spectrum = lyap is not None and np.size(lyap["lyapunov_spectrum"])
    if not spectrum and log_spectral is not None and np.ndim(log_spectral) == 2:
        rates, ses = trial_rates(np.asarray(log_spectral, dtype=np.float64))
    else:
        rates = ses = np.full(trials, np.nan)
    for b in range(trials):
        tail = None if tails is None or tails.shape[0] < 3 else tails[:, b].cpu().numpy()
        if spectrum:
            top = (float(lyap["lyapunov_spectrum"][b, 0]), float(lyap["lyapunov_se"][b, 0]))
            kinds.append(classify(tail, autonomous, top, config.torch_dtype_name, finite))
        else:  # the growth rate's regime: the same marginal band as `regime`
            top = (float(rates[b]), float(ses[b]))
            kinds.append(classify(tail, autonomous, top, config.torch_dtype_name, finite, marginal=1e-3))
    return summarize_kinds(kinds)
