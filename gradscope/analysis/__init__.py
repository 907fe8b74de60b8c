"""`analyze(config) -> Result`: the whole pipeline in one call.

config -> cell and draws -> trajectory -> log-space transport (and, if asked, the
Lyapunov spectrum) -> figures and theory -> `Result`. `spectrum(config)` is the same
without the transport: the Lyapunov spectrum alone (`gradscope spectrum`). The cell is
drawn from the configuration, or it is the user's: a checkpoint or a custom cell
(`resolve_model`), whose weights are fixed.

The summary each run reports is composed in `analysis.summarize`.

May import: `gradscope.analysis.summarize`, `gradscope.numerics`, `gradscope.model`,
`gradscope.results`, `gradscope.provenance`, `gradscope.config`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..config import Config
from ..provenance import run_provenance
from ..results import Result, Status
from .summarize import attractor_part, finish, spectrum_part, status_of, summarize

Progress = Callable[[str, int, int], None]
LAG_CURVES = ("log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity", "log_weight_grad")
STEP_CURVES = ("log_step_gain", "log_step_rms")
#: States kept at the end of a streamed spectrum, for the attractor's recurrence test.
TAIL = 67
SPECTRUM_CURVES = ("lyapunov_spectrum", "lyapunov_se", "lyapunov_blocks", "lyapunov_history",
                   "lyapunov_history_steps", "lyapunov_resolved")


class NonFiniteStateError(RuntimeError):
    """Raised by `analyze(..., strict=True)` for a run whose state became non-finite.

    The finished `Result` (status `nonfinite`) is attached as `.result`.
    """

    def __init__(self, message: str, result: Result) -> None:
        super().__init__(message)
        self.result = result


def resolve_model(config: Config) -> tuple[Config, dict | None]:
    """`config` made explicit and checked, and a record of the user's network it names
    (None for a drawn one): what a command does before any work (`resolve_network`)."""
    config, net = resolve_network(config)
    return config, None if net is None else net.record


def resolve_network(config: Config) -> tuple[Config, Any]:
    """`config` made explicit and checked, and the user's network it names, loaded
    (`model.networks.UserNetwork`; None for a drawn one), to hand to `analyze` so that
    a command loads it once.

    With a checkpoint or a custom cell, the network is loaded and the cell, hidden and
    input sizes become its own. An input file is read and checked. Options or files
    that do not fit raise `ValueError` (one line, naming the option or file).
    """
    from ..model.inputs import load_input_file

    net = None
    if config.fixed_weights:
        from ..model.networks import user_network

        net = user_network(config)
        config = net.config
    config = config.resolved()
    if config.input not in ("noise", "zeros", "constant"):
        load_input_file(config.input, config.transient + config.steps, config.trials, config.n_input,
                        config.input_loop)
    return config, net


def simulate(config: Config, progress: Progress | None = None) -> tuple:
    """Draw the networks of `config` (or load the user's) and run them: the first half
    of `analyze`.

    Returns:
        `(cell, trajectory, readout, drive)`: the batched cell, the `unroll.Trajectory`
        of the analysed window, the unit readouts `(B, N)` and the input drive. For people
        who call `transport` or `lyapunov_spectrum` themselves.
    """
    return _simulate(config, progress)[2:]


def _simulate(config: Config, progress: Progress | None = None, network: Any = None) -> tuple:
    """`(resolved config, network record or None, cell, trajectory, readout, drive)`."""
    import torch

    from ..numerics.unroll import unroll

    with torch.no_grad():
        config, record, cell, h0, readout, drive = _network(config, network)
        traj = unroll(cell, h0, drive, config.transient, config.steps, progress)
    return config, record, cell, traj, readout, drive


def _network(config: Config, network: Any = None) -> tuple:
    """`(resolved config, network record or None, cell, h0, readouts, drive)`: the
    networks of `config` drawn per trial, or the user's network (a checkpoint or a custom
    cell, fixed weights) with per-trial initial states, readouts and inputs."""
    from ..model.draws import trial_streams
    from ..model.initialization import build
    from ..model.inputs import InputDrive

    net = None
    if config.fixed_weights:
        from ..model.networks import user_network

        net = network if network is not None else user_network(config)
        config = net.config
    config = config.resolved()
    streams = trial_streams(config.seed, config.trials)
    drive = InputDrive(config, [s["inputs"] for s in streams], data=getattr(net, "inputs", None))
    if net is None:
        return (config, None, *build(config, streams), drive)
    from ..model.networks import build_user_network

    return (config, net.record, *build_user_network(net, streams, drive))


def analyze(
    config: Config,
    progress: Progress | None = None,
    strict: bool = False,
    command: str | None = None,
    threads: int | None = None,
    network: Any = None,
    lags: Any = None,
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
        network: the user's network of `config`, already loaded (`resolve_network`).
        lags: lags at which to report the median gain, loss gradient and input
            sensitivity (`at_lags`, `log_*_at_lags`: `decay --at-lag`), e.g. the lag a
            task needs; an argument, not part of `config` (the cache key does not move).

    Returns:
        A `Result` whose `summary` holds every figure of `results.SUMMARY_KEYS` and whose
        `curves` hold every array of `results.CURVE_KEYS`.
    """
    import torch

    from ..config.checks import check_lags
    from ..numerics.threads import check_threads, torch_threads
    from ..numerics.transport import transport

    _check_device(config)
    threads = check_threads(threads)
    lags = check_lags(lags)
    with torch_threads(threads or 1):  # the unroll: many small steps
        config, network, cell, traj, readout, drive = _simulate(config, progress, network)
    # the sweep's largest calls: one product of every trial's D x D running product
    used = threads or _chosen_threads(config, cell)
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
        lyap = _spectrum_of(config, cell, traj, curves, progress)
    stats = curves.pop("fast_stats", None)
    dropped = curves.pop("threads_dropped", None)
    with torch_threads(threads or 1):  # small LAPACK calls and quadratures
        summary = summarize(config, cell, curves, traj, lyap, drive, network, lags)
    provenance = run_provenance(config, command, threads=used)
    if dropped is not None and dropped.size:  # the machine got busy: the rest ran on one
        provenance["threads_dropped_to_1_at_lag"] = int(dropped[0])
    if stats is not None and config.spectral == "fast":
        from ..numerics.transport import FAST_STATS

        provenance["fast_self_check"] = {k: int(v) for k, v in zip(FAST_STATS, stats)}
    return _result(config, summary, curves, provenance, strict, network)


def spectrum(config: Config, progress: Progress | None = None, strict: bool = False,
             command: str | None = None, threads: int | None = None, network: Any = None) -> Result:
    """The Lyapunov spectrum of `config` alone, without the all-lag transport.

    Arguments:
        config: what to run; `exponents` 0 takes every exponent up to
            `config.SPECTRUM_CAP` (64), `all` every one.
        progress, strict, command, threads, network: as for `analyze` (stages `unroll`, `lyapunov`);
            the threads are chosen from the state size as there (the QR steps dominate).

    Returns:
        A `Result` whose curves are the spectrum's (`SPECTRUM_CURVES`,
        `lyapunov_mean_log_det`) and whose summary holds the spectrum's figures and the
        theory (the decay figures are null: run `analyze` for them).
    """
    import dataclasses

    import torch

    from ..config import SPECTRUM_CAP
    from ..numerics.theory import theory_figures
    from ..numerics.threads import check_threads, torch_threads

    _check_device(config, window=False)  # the spectrum streams the trajectory
    threads = check_threads(threads)
    want_all = config.exponents == "all"
    with torch.no_grad():
        with torch_threads(threads or 1):
            config, network, cell, h0, _, drive = _network(config, network)
        count = cell.state_dim if want_all else min(config.n_exponents or SPECTRUM_CAP, cell.state_dim)
        config = dataclasses.replace(config, exponents=count)
        used = threads or _chosen_threads(config, cell)
        with torch_threads(used):
            lyap, traj = _streamed_spectrum(config, cell, h0, drive, progress)
    curves = _spectrum_curves(lyap)
    warnings: list[str] = []
    with torch_threads(threads or 1):
        s = status_of(config, traj, warnings)
        s["notes"] = []
        s.update(theory_figures(config, cell, drive, s["notes"]))
        s.update(spectrum_part(config, cell, lyap, warnings))
        s.update(attractor_part(config, traj.states if traj.states.ndim == 3 else None, lyap, None,
                                traj.nonfinite_step is None))
    if lyap is None:
        warnings.append("fewer than two finite steps: no spectrum (lower --gain, raise --steps)")
    summary = finish(config, s, warnings, network)
    provenance = run_provenance(config, command, threads=used)
    return _result(config, summary, curves, provenance, strict, network)


def _chosen_threads(config: Config, cell) -> int:
    """`numerics.threads.choose_threads` for this run's largest products (D x D per trial)."""
    import torch

    from ..numerics.threads import choose_threads

    return choose_threads(cell.state_dim, config.trials, config.device,
                          getattr(torch, config.torch_dtype_name))


def _streamed_spectrum(config: Config, cell, h0, drive, progress: Progress | None) -> tuple:
    """Unroll chunk by chunk into a `SpectrumStream`: memory does not grow with T.

    Returns `(spectrum or None, trajectory)`, the trajectory holding only its last
    `TAIL` states (what the attractor's recurrence test reads), the step count and the step
    that went non-finite (the window's states are not kept)."""
    import torch

    from ..numerics.spectrum import SpectrumStream
    from ..numerics.unroll import Trajectory, unroll

    stream = SpectrumStream(config.trials, cell.state_dim, config.steps, config.n_exponents,
                            config.n_frame_transient, config.qr_every, seed=config.seed,
                            dtype=h0.dtype, device=h0.device)
    start = unroll(cell, h0, drive, config.transient, 0, progress)  # the transient, dropped
    bad, s = start.nonfinite_step, start.states[-1:] if start.states.shape[0] else None
    chunk = max(1, min(512, (1 << 22) // (config.trials * cell.state_dim)))
    tail = s
    while bad is None and stream.done < config.steps:
        piece = unroll(cell, s[0], drive, 0, min(chunk, config.steps - stream.done))
        done = stream.done
        stream.feed(cell, piece.states, piece.inputs, progress=progress)
        if piece.nonfinite_step is not None:
            bad = config.transient + done + piece.nonfinite_step
        s = piece.states[-1:]
        tail = torch.cat([tail, piece.states[1:]])[-TAIL:]
    empty = torch.empty(0)
    return stream.result(), Trajectory(tail if tail is not None else empty, empty, stream.done, bad)


def _check_device(config: Config, window: bool = True) -> None:
    import torch

    from ..config.checks import check_memory

    check_memory(config, window)
    if config.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for, but torch sees no CUDA device: use --device cpu")


def _spectrum_of(config: Config, cell, traj, curves: dict, progress: Progress | None) -> dict | None:
    """The Lyapunov spectrum of the window when `config.exponents` asks (its arrays are
    added to `curves`); None otherwise."""
    from ..numerics.spectrum import lyapunov_spectrum

    if not config.n_exponents or traj.steps < 2:
        return None
    frame = config.n_frame_transient
    if frame >= traj.steps:  # the state went non-finite early: a tenth of what is left
        frame = traj.steps // 10
    lyap = lyapunov_spectrum(cell, traj.states, traj.inputs, min(config.n_exponents, cell.state_dim),
                             frame_transient=frame, qr_every=config.qr_every, progress=progress,
                             seed=config.seed)
    curves.update(_spectrum_curves(lyap))
    return lyap


def _spectrum_curves(lyap: dict | None) -> dict:
    if lyap is None:
        return {}
    return {**{k: lyap[k] for k in SPECTRUM_CURVES}, "lyapunov_mean_log_det": lyap["mean_log_det"]}


def _result(config: Config, summary: dict, curves: dict, provenance: dict, strict: bool,
            network: dict | None = None) -> Result:
    if network is not None:
        from ..provenance import network_record

        provenance.update(network_record(config, network))
    result = Result(config=config, summary=summary, curves=curves, provenance=provenance)
    if strict and result.status != Status.OK:
        raise NonFiniteStateError(summary["warnings"][0], result)
    return result
