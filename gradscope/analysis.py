"""`analyze(config) -> Result`: the whole pipeline in one call.

config -> cell and draws -> trajectory -> log-space transport (and, if asked, the
Lyapunov spectrum) -> figures and theory -> `Result`.

May import: `gradscope.numerics`, `gradscope.model`, `gradscope.results`,
`gradscope.provenance`, `gradscope.config`.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .config import Config
from .provenance import run_provenance
from .results import Result

Progress = Callable[[str, int, int], None]
LAG_CURVES = ("log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity", "log_weight_grad")
STEP_CURVES = ("log_step_gain", "log_step_rms")


class NonFiniteStateError(RuntimeError):
    """Raised by `analyze(..., strict=True)` for a run whose state became non-finite.

    The finished `Result` (status `nonfinite`) is attached as `.result`.
    """

    def __init__(self, message: str, result: Result) -> None:
        super().__init__(message)
        self.result = result


def params_count(config: Config) -> int:
    from .model.cells import params_count as count

    return count(config.cell, config.hidden, config.n_input)


def simulate(config: Config, progress: Progress | None = None) -> tuple:
    """Draw the networks of `config` and run them: the first half of `analyze`.

    Returns:
        `(cell, trajectory, readout, drive)`: the batched cell, the `unroll.Trajectory`
        of the analysed window, the unit readouts `(B, N)` and the input drive. For people
        who call `transport` or `lyapunov_spectrum` themselves.
    """
    import torch

    from .model.initialization import build, trial_streams
    from .model.inputs import InputDrive
    from .numerics.unroll import unroll

    config = config.resolved()
    streams = trial_streams(config.seed, config.trials)
    drive = InputDrive(config, [s["inputs"] for s in streams])
    with torch.no_grad():
        cell, h0, readout = build(config, streams)
        traj = unroll(cell, h0, drive, config.transient, config.steps, progress)
    return cell, traj, readout, drive


def analyze(
    config: Config,
    progress: Progress | None = None,
    strict: bool = False,
    command: str | None = None,
    threads: int | None = None,
) -> Result:
    """Measure gradient transport for `config`.

    Arguments:
        config: what to run (validated on construction).
        progress: optional `progress(stage, done, total)`, stages `unroll`, `transport`,
            `lyapunov`.
        strict: raise `NonFiniteStateError` (with the result attached) when the state
            became non-finite, instead of returning a result with status `nonfinite`.
        command: the command line recorded in the provenance (default: `sys.argv`).
        threads: torch intra-op threads for the run (default: chosen from the size of the
            work, `numerics.threads.choose_threads`); recorded in the provenance. An
            execution setting, not part of the measurement (not in `Config` or its key).

    Returns:
        A `Result` whose `summary` holds every figure of `results.SUMMARY_KEYS` and whose
        `curves` hold every array of `results.CURVE_KEYS`.
    """
    import torch

    from .numerics.lyapunov import lyapunov_spectrum
    from .numerics.threads import check_threads, choose_threads, torch_threads
    from .numerics.transport import transport

    config = config.resolved()
    threads = check_threads(threads)
    if config.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for, but torch sees no CUDA device: use --device cpu")
    with torch_threads(threads or 1):  # the unroll: many small steps
        cell, traj, readout, drive = simulate(config, progress)
    # the sweep's largest calls: one product of every trial's D x D running product
    used = threads or choose_threads(cell.state_dim, config.trials, config.device,
                                     getattr(torch, config.torch_dtype_name))
    with torch.no_grad(), torch_threads(used):
        curves = {"lag": np.arange(config.steps + 1)}
        measured = {}
        if traj.steps > 0:
            measured = transport(
                cell, traj.states, traj.inputs, readout, config.spectral, progress=progress
            )
        for key in ("fast_check", "step_gain_check", "fast_stats", "threads_dropped"):
            if key in measured:
                curves[key] = measured[key]
        for key in LAG_CURVES + STEP_CURVES:
            width = config.steps if key in STEP_CURVES else config.steps + 1
            full = np.full((config.trials, width), np.nan)
            if key in measured:
                full[:, : measured[key].shape[1]] = measured[key]
            curves[key] = full
        lyap = None
        if config.exponents and traj.steps > 1:
            if progress is not None:
                progress("lyapunov", 0, 1)
            lyap = lyapunov_spectrum(cell, traj.states, traj.inputs, config.exponents)
            curves.update({k: v for k, v in lyap.items() if k != "mean_log_det"})
    stats = curves.pop("fast_stats", None)
    dropped = curves.pop("threads_dropped", None)
    with torch_threads(threads or 1):  # small LAPACK calls and quadratures
        summary = _summarize(config, cell, curves, traj, lyap, drive)
    provenance = run_provenance(config, command, threads=used)
    if dropped is not None and dropped.size:  # the machine got busy: the rest ran on one
        provenance["threads_dropped_to_1_at_lag"] = int(dropped[0])
    if stats is not None and config.spectral == "fast":
        from .numerics.transport import FAST_STATS

        provenance["fast_self_check"] = {k: int(v) for k, v in zip(FAST_STATS, stats)}
    result = Result(config=config, summary=summary, curves=curves, provenance=provenance)
    if strict and result.status != "ok":
        raise NonFiniteStateError(summary["warnings"][0], result)
    return result


def _summarize(config: Config, cell, curves: dict, traj, lyap, drive) -> dict:
    from .model.activations import get_activation
    from .model.initialization import bias_variance, input_variance, recurrent_variance
    from .numerics.metrics import decay_figures, kaplan_yorke, rate_figures
    from .numerics.theory import annealed_rate, mean_field, pascanu_rate

    warnings: list[str] = []
    s = {"status": "ok"}
    if traj.nonfinite_step is not None:
        s["status"] = "nonfinite"
        warnings.append(
            f"the state became non-finite at step {traj.nonfinite_step} "
            f"(transient included); the analysis stops at the last finite state "
            f"({traj.steps} of {config.steps} steps kept): lower --gain or --steps, "
            "or use a bounded activation"
        )
    s.update(decay_figures(curves["log_spectral"], config.eps))
    s["nonfinite_step"] = traj.nonfinite_step
    if s["horizon_censored"] and traj.steps > 0 and s["regime"] != "exploding":
        warnings.append(
            f"the median gain never fell below eps={config.eps:g} within "
            f"{s['analysed_lags']} lags: the horizon is censored; raise --steps to see it"
        )
    s["rms_growth_rate"] = rate_figures(curves["log_rms"])["rate"]
    s["loss_grad_rate"] = rate_figures(curves["log_loss_grad"])["rate"]
    median = np.median(curves["log_spectral"], axis=0)
    dead = np.flatnonzero(median == -np.inf)
    if dead.size:
        warnings.append(
            f"the median gradient is exactly zero from lag {int(dead[0])} on "
            "(every path through the units is switched off, as for dead relu units)"
        )
    if s["growth_rate"] is None and traj.steps > 0 and not dead.size:
        warnings.append("too few finite lags to fit a growth rate: raise --steps")

    gamma = get_activation(config.act).gamma
    s["gamma"] = gamma
    s["sigma_max_whh"] = float(
        np.median(np.exp(pascanu_rate(cell.w.weight_hh, 1.0)))
    )
    s["pascanu_rate"] = s["mean_field_rate"] = s["mean_field_chi"] = s["mean_field_q"] = None
    if config.cell == "rnn":
        s["pascanu_rate"] = float(np.median(pascanu_rate(cell.w.weight_hh, gamma)))
        sigma_w2 = recurrent_variance(config)
        if sigma_w2 is None:
            warnings.append("mean-field theory assumes random W_hh: not applied to identity init")
        else:
            sigma_u2 = input_variance(config, drive.mean_square())
            mf = mean_field(config.act, sigma_w2, sigma_u2, bias_variance(config))
            s["mean_field_rate"], s["mean_field_chi"], s["mean_field_q"] = mf["rate"], mf["chi"], mf["q"]
    s["annealed_rate"] = _median(annealed_rate(curves["log_step_rms"][:, : traj.steps]))

    s["lambda_1"] = s["kaplan_yorke_dim"] = s["sum_exponents"] = s["mean_log_det"] = None
    if lyap is not None:
        spectrum = lyap["lyapunov_spectrum"]
        s["lambda_1"] = _median(spectrum[:, 0])
        ky = [kaplan_yorke(row) for row in spectrum]
        s["kaplan_yorke_dim"] = None if any(k is None for k in ky) else float(np.median(ky))
        s["sum_exponents"] = _median(spectrum.sum(axis=1))
        s["mean_log_det"] = _median(lyap["mean_log_det"])
        if config.exponents < config.state_dim:
            warnings.append(
                f"{config.exponents} of {config.state_dim} exponents estimated: their sum is "
                "not comparable with mean log|det J| (ask for all of them to check)"
            )
    for key, what in (("fast_check", "norms"), ("step_gain_check", "per-step gains")):
        check = curves.pop(key, None)
        s[key] = None if config.spectral == "exact" or check is None else float(max(check))
        if s[key] is not None and s[key] > 1e-3:  # not expected: a failed check redoes the chunk
            warnings.append(
                f"fast-mode {what} were up to {100 * s[key]:.2g}% below an exact SVD at the "
                "checked lags: rerun with --spectral exact for exact values"
            )
    s["params"] = params_count(config)
    for key, value in s.items():
        if isinstance(value, float) and not math.isfinite(value):
            warnings.append(f"{key} is {value} (written as null in JSON)")
    s["warnings"] = warnings
    from .results import SUMMARY_KEYS

    return {k: s.get(k) for k in SUMMARY_KEYS}


def _median(values: np.ndarray) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else None
