"""`analyze(config) -> Result`: the whole pipeline in one call.

config -> cell and draws -> trajectory -> log-space transport (and, if asked, the
Lyapunov spectrum) -> figures and theory -> `Result`. The cell is drawn from the
configuration, or it is the user's: a checkpoint or a custom cell (`resolve_model`),
whose weights are fixed.

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


def resolve_model(config: Config) -> tuple[Config, dict | None]:
    """`config` made explicit and checked, and a record of the user's network it names
    (None for a drawn one): what a command does before any work.

    With a checkpoint or a custom cell, the network is loaded and the cell, hidden and
    input sizes become its own. An input file is read and checked. Options or files
    that do not fit raise `ValueError` (one line, naming the option or file).
    """
    from .model.inputs import load_input_file

    record = None
    if config.fixed_weights:
        from .model.networks import user_network

        net = user_network(config)
        config, record = net.config, net.record
    config = config.resolved()
    if config.input not in ("noise", "zeros", "constant"):
        load_input_file(config.input, config.transient + config.steps, config.trials, config.n_input,
                        config.input_loop)
    return config, record


def simulate(config: Config, progress: Progress | None = None) -> tuple:
    """Draw the networks of `config` (or load the user's) and run them: the first half
    of `analyze`.

    Returns:
        `(cell, trajectory, readout, drive)`: the batched cell, the `unroll.Trajectory`
        of the analysed window, the unit readouts `(B, N)` and the input drive. For people
        who call `transport` or `lyapunov_spectrum` themselves.
    """
    return _simulate(config, progress)[2:]


def _simulate(config: Config, progress: Progress | None = None) -> tuple:
    """`(resolved config, network record or None, cell, trajectory, readout, drive)`."""
    import torch

    from .model.initialization import build, trial_streams
    from .model.inputs import InputDrive
    from .numerics.unroll import unroll

    net = None
    if config.fixed_weights:
        from .model.networks import user_network

        net = user_network(config)
        config = net.config
    config = config.resolved()
    streams = trial_streams(config.seed, config.trials)
    drive = InputDrive(config, [s["inputs"] for s in streams])
    with torch.no_grad():
        if net is None:
            cell, h0, readout = build(config, streams)
        else:
            from .model.networks import build_user_network

            cell, h0, readout, drive = build_user_network(net, streams, drive)
        traj = unroll(cell, h0, drive, config.transient, config.steps, progress)
    return config, (net.record if net is not None else None), cell, traj, readout, drive


def analyze(
    config: Config,
    progress: Progress | None = None,
    strict: bool = False,
    command: str | None = None,
) -> Result:
    """Measure gradient transport for `config`.

    Arguments:
        config: what to run (validated on construction).
        progress: optional `progress(stage, done, total)`, stages `unroll`, `transport`,
            `lyapunov`.
        strict: raise `NonFiniteStateError` (with the result attached) when the state
            became non-finite, instead of returning a result with status `nonfinite`.
        command: the command line recorded in the provenance (default: `sys.argv`).

    Returns:
        A `Result` whose `summary` holds every figure of `results.SUMMARY_KEYS` and whose
        `curves` hold every array of `results.CURVE_KEYS`.
    """
    import torch

    from .numerics.lyapunov import lyapunov_spectrum
    from .numerics.transport import transport

    if config.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for, but torch sees no CUDA device: use --device cpu")
    config, network, cell, traj, readout, drive = _simulate(config, progress)
    with torch.no_grad():
        curves = {"lag": np.arange(config.steps + 1)}
        measured = {}
        if traj.steps > 0:
            measured = transport(
                cell, traj.states, traj.inputs, readout, config.spectral, progress=progress
            )
        if "fast_check" in measured:
            curves["fast_check"] = measured["fast_check"]
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
    summary = _summarize(config, cell, curves, traj, lyap, drive, network)
    provenance = run_provenance(config, command)
    if network is not None:
        from .provenance import network_record

        provenance.update(network_record(config, network))
    result = Result(config=config, summary=summary, curves=curves, provenance=provenance)
    if strict and result.status != "ok":
        raise NonFiniteStateError(summary["warnings"][0], result)
    return result


def _summarize(config: Config, cell, curves: dict, traj, lyap, drive, network: dict | None = None) -> dict:
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

    one_cell = hasattr(cell, "w")  # a built-in cell (not a stack of layers, not a custom cell)
    gamma = get_activation(config.act).gamma if not config.custom else None
    s["gamma"] = gamma
    s["sigma_max_whh"] = float(np.median(np.exp(pascanu_rate(cell.w.weight_hh, 1.0)))) if one_cell else None
    s["pascanu_rate"] = s["mean_field_rate"] = s["mean_field_chi"] = s["mean_field_q"] = None
    if config.cell == "rnn" and one_cell:
        s["pascanu_rate"] = float(np.median(pascanu_rate(cell.w.weight_hh, gamma)))
    if config.cell == "rnn" and not config.fixed_weights:
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
        if config.exponents < cell.state_dim:
            warnings.append(
                f"{config.exponents} of {cell.state_dim} exponents estimated: their sum is "
                "not comparable with mean log|det J| (ask for all of them to check)"
            )
    check = curves.pop("fast_check", None)
    s["fast_check"] = None if config.spectral == "exact" or check is None else float(max(check))
    if s["fast_check"] is not None and s["fast_check"] > 1e-3:
        warnings.append(
            f"fast-mode norms were up to {100 * s['fast_check']:.2g}% below an exact SVD at "
            "the checked lags (the singular values are nearly degenerate, as for a near-"
            "orthogonal cell): rerun with --spectral exact for exact values"
        )
    s["params"] = params_count(config) if network is None else network["params"]
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
