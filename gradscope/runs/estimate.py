"""Before a large sweep: how many runs, how many are cached, and what the rest will
cost in time and memory, from a calibration run; before a long single run
(`estimate_run`), its time from a short run of the same network.

    plan = plan_grid(configs, cache)                  # cached / to compute
    est = estimate(plan.todo, workers=4)              # calibration runs, a few seconds
    print(describe(plan, est))

The calibration runs the most expensive kind of run in the grid (cell, size, trials,
numerics) at two short horizons, T1 and T2, on one thread as the workers do, and fits
`seconds = a + b T` and `peak memory = m + c T`; every run of the grid is then priced
at its own T (a kind that was not calibrated is scaled from the nearest one by its
share of the matrix work, `trials x G x D^3`). An untimed warm-up run comes first: the
first run of a process pays once for imports, caches and first kernel calls, which
would otherwise inflate `a` and flatten `b` (runs of T = 1000 were priced at 0.38 s
against ~1 s). T2 lies past the transport's first 256 lags, which cost more per lag
than the rest, so that `b` is the long-run cost per step.

May import: `gradscope.runs.executor`, `gradscope.analysis`, `gradscope.cache`, `gradscope.config`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

from ..cache import RunCache
from ..config import CELL_SPECS, GATES, Config
from .task import run_one

#: Sweeps with at least this many runs to compute print an estimate first.
LARGE = 16
#: Kinds of run (cell, size, trials, numerics) calibrated at most; others are scaled.
MAX_KINDS = 3
#: The two calibration horizons (steps), each capped at the run's own T, and the warm-up's.
HORIZONS = (64, 512)
WARM_UP = 16


class Plan(NamedTuple):
    """A grid split into the runs already in the cache and the runs to compute."""

    total: int
    cached: list[Config]
    todo: list[Config]


def plan_grid(configs: Sequence[Config], cache: RunCache | None) -> Plan:
    """The distinct configurations of `configs`, split by whether `cache` has them."""
    unique = list({c.key(): c for c in configs}.values())
    if cache is None:
        return Plan(len(unique), [], unique)
    cached, todo = [], []
    for c in unique:
        (cached if cache.get(c, curves=False) is not None else todo).append(c)
    return Plan(len(unique), cached, todo)


@dataclass(frozen=True)
class Estimate:
    """What the runs to compute should cost (seconds and bytes)."""

    runs: int
    workers: int  # runs that make progress at once
    seconds: float  # wall time on `workers` workers
    run_seconds: float  # the mean time of one run
    memory: float | None  # peak bytes of one worker (None where RSS cannot be read)
    calibration: str  # what was run, in words
    processes: int = 0  # worker processes that each hold `memory` (0: `workers`)


def _kind(c: Config) -> tuple:
    return (c.cell, c.hidden, c.n_input, c.trials, c.exponents, c.spectral, c.torch_dtype_name, c.device)


def _work(c: Config) -> float:
    """The matrix work of one lag, up to a constant: trials x gate blocks x D^3 (a diagonal
    cell: D I and an I x I eigenvalue problem)."""
    if _diagonal(c):
        return c.trials * (c.state_dim * max(c.n_input, 16) + float(c.n_input) ** 3)
    return c.trials * GATES[c.cell] * float(c.state_dim) ** 3 + c.trials * c.exponents * c.state_dim**2


def _diagonal(c: Config) -> bool:
    """Whether the cell's structure is diagonal (the exact O(T D) transport and spectrum)."""
    spec = CELL_SPECS.get(c.cell)
    return spec is not None and spec.structure == "diagonal"


def _rss() -> float | None:
    """This process's resident memory in bytes (Linux `/proc`, else psutil, else None)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import psutil

        return float(psutil.Process().memory_info().rss)
    except Exception:
        return None


def _measure(compute: Callable[[Config], object], config: Config) -> tuple[float, float | None]:
    """`(seconds, peak resident bytes above the start)` of `compute(config)`."""
    start_rss = _rss()
    peak = [start_rss or 0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.005):
            peak[0] = max(peak[0], _rss() or 0.0)

    sampler = threading.Thread(target=sample, daemon=True)
    if start_rss is not None:
        sampler.start()
    start = time.perf_counter()
    try:
        compute(config)
    finally:
        seconds = time.perf_counter() - start
        stop.set()
        if start_rss is not None:
            sampler.join()
    return seconds, (None if start_rss is None else max(0.0, max(peak[0], _rss() or 0.0) - start_rss))


def _fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """`(a, b)` of `y = a + b x` through two points (a flat line for one)."""
    if len(x) < 2 or x[1] == x[0]:
        return y[-1], 0.0
    b = max(0.0, (y[1] - y[0]) / (x[1] - x[0]))
    return max(0.0, y[1] - b * x[1]), b


def _short(probe: Config, steps: int, transient: int) -> Config:
    """`probe` over `steps` (and at most `transient` burn-in steps): a calibration run.
    A frame transient of its own would not fit in so few steps; the default (a tenth of
    them) costs the same per step."""
    return dataclasses.replace(probe, steps=steps, transient=min(probe.transient, transient),
                               frame_transient=None)


def estimate(todo: Sequence[Config], workers: int, compute: Callable[[Config], object] = run_one,
             processes: int = 0) -> Estimate | None:
    """Calibrate on the costliest kinds of run in `todo` and price every run of it.

    `workers` runs make progress at once (local workers beyond the cores only share
    them); `processes` worker processes each hold a run's memory (default: `workers`).
    Returns None when there is nothing to compute.
    """
    if not todo:
        return None
    kinds: dict[tuple, list[Config]] = {}
    for c in todo:
        kinds.setdefault(_kind(c), []).append(c)
    ranked = sorted(kinds.values(), key=lambda cs: -_work(cs[0]))
    fits: dict[tuple, tuple[Config, tuple[float, float], tuple[float, float] | None]] = {}
    for members in ranked[:MAX_KINDS]:
        probe = max(members, key=lambda c: c.steps)
        horizons = sorted({min(h, probe.steps) for h in HORIZONS})
        compute(_short(probe, min(WARM_UP, probe.steps), WARM_UP))
        times, mems = [], []
        for h in horizons:
            seconds, memory = _measure(compute, _short(probe, h, 200))
            times.append(seconds)
            mems.append(memory)
        mem_fit = None if any(m is None for m in mems) else _fit(horizons, mems)
        fits[_kind(probe)] = (probe, _fit(horizons, times), mem_fit)
    total, peak = 0.0, 0.0
    for c in todo:
        probe, (a, b), mem_fit = fits.get(_kind(c)) or min(
            fits.values(), key=lambda f: abs(math.log(_work(f[0]) / _work(c))))
        scale = _work(c) / _work(probe)
        total += scale * (a + b * c.steps)
        if mem_fit is not None:
            peak = max(peak, scale * (mem_fit[0] + mem_fit[1] * c.steps))
    base = _rss()
    memory = None if base is None or any(f[2] is None for f in fits.values()) else base + peak
    probes = [f[0] for f in fits.values()]
    what = ", ".join(f"{p.cell} N={p.hidden} B={p.trials}" for p in probes)
    shown = sorted({min(h, p.steps) for p in probes for h in HORIZONS})
    return Estimate(
        runs=len(todo), workers=workers, seconds=total / max(1, min(workers, len(todo))),
        run_seconds=total / len(todo), memory=memory,
        calibration=f"{what} at T = {', '.join(map(str, shown))}", processes=processes,
    )


# -- one run ---------------------------------------------------------------------------
#: A run whose rough cost is above this many seconds is timed on a short run first, and
#: the estimate printed (`estimate_run`).
ROUGH_LIMIT = 5.0
#: Multiply-adds a second of one core (float64; float32 is about twice as fast): only
#: to decide whether a run is long enough to time a short one.
ROUGH_RATE = 5e9


@dataclass(frozen=True)
class RunEstimate:
    """What one run should cost."""

    seconds: float
    memory: float  # bytes of its arrays (`config.checks.memory_bytes`)
    steps: int  # the analysed steps of the longer short run it was timed on


def rough_seconds(c: Config, window: bool = True) -> float:
    """A rough count of one run's seconds from its sizes alone (the unroll, the transport's
    D x D products per lag, the spectrum's frame products and QRs)."""
    d, b = c.state_dim, c.trials
    unroll = (c.transient + c.steps) * b * GATES.get(c.cell, 4) * c.hidden * (c.hidden + c.n_input)
    transport = c.steps * b * d**3 if window else 0.0
    k = c.state_dim if c.exponents == "all" else int(c.exponents or 0)
    spectrum = c.steps * b * (d * d * k + 2 * d * k * k)
    if _diagonal(c):  # sums of log|d_t| and one I x I eigenvalue problem a lag
        transport = c.steps * b * (d * max(c.n_input, 16) + float(c.n_input) ** 3) if window else 0.0
        spectrum = c.steps * b * d
    return (unroll + transport + spectrum) / ROUGH_RATE


def estimate_run(config: Config, what: str = "analyze", threads: int | None = None) -> RunEstimate | None:
    """For a run that may take more than `ROUGH_LIMIT` seconds (`rough_seconds`), the
    time of the whole, from two short runs of the same network (after an untimed one that
    pays the process's first-call costs, which the run itself then does not), each timed
    stage by stage: `a + b T` for the stages over the analysed steps, the unroll per step
    scaled to the run's transient and steps. None for a short run."""
    from ..analysis import analyze, spectrum
    from ..config.checks import memory_bytes

    resolved = config.resolved()
    window = what == "analyze"
    if rough_seconds(resolved, window) < ROUGH_LIMIT:
        return None
    run = analyze if window else spectrum
    # past the transport's first 256 lags, which cost more per lag than the rest
    base = 64
    sizes = sorted({min(256, resolved.steps), min(512, resolved.steps)})
    run(_short(resolved, min(8, resolved.steps), 8), threads=threads)  # untimed: first-call costs
    unroll_rate, rest = 0.0, []
    for steps in sizes:
        probe = _short(resolved, steps, base)
        marks: list[float] = []
        start = time.perf_counter()
        run(probe, progress=lambda stage, *_: marks.append(time.perf_counter()) if stage == "unroll" else None,
            threads=threads)
        end = time.perf_counter()
        unrolled = max(marks, default=start)
        unroll_rate = max(unroll_rate, (unrolled - start) / max(1, probe.transient + probe.steps))
        rest.append(end - unrolled)
    a, b = _fit(sizes, rest)
    seconds = unroll_rate * (resolved.transient + resolved.steps) + a + b * resolved.steps
    return RunEstimate(seconds, memory_bytes(resolved, window), sizes[-1])


def describe_run(est: RunEstimate) -> str:
    """The line printed before a long run."""
    return (f"estimate: {about_text(est.seconds)} (from short runs of up to {est.steps} steps), "
            f"about {_mib(est.memory)} of memory for its arrays; progress every 10 s")


def about_text(seconds: float) -> str:
    """`about 4 min`, or `under a second` (never `about under a second`)."""
    text = duration_text(seconds)
    return text if seconds < 1 else f"about {text}"


def duration_text(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.0f} MiB" if nbytes < 2**30 else f"{nbytes / 2**30:.1f} GiB"


def describe(plan: Plan, est: Estimate | None, where: str) -> list[str]:
    """The lines printed before a sweep (and all that `--dry-run` prints)."""
    lines = [f"{plan.total} runs: {len(plan.cached)} cached, {len(plan.todo)} to compute on {where}"]
    if est is None:
        return lines
    when = about_text(est.seconds)
    text = (f"estimate: {when} ({est.run_seconds:.2g} s a run on one thread, "
            f"{min(est.workers, est.runs)} at a time)")
    if est.memory is not None:
        text += f", about {_mib(est.memory)} of memory per worker"
        try:
            physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
            physical = None
        held = est.memory * (est.processes or est.workers)
        if physical and held > 0.8 * physical:
            text += f" ({_mib(held)} in all, more than 80% of this machine's memory: lower --jobs)"
    lines.append(text)
    lines.append(f"calibration: {est.calibration}, one thread")
    return lines
