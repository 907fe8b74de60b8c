"""Benchmark the sweep executor: parallel throughput, per-run overhead, bookkeeping.

Run from the repository root:

    python benchmarks/bench_sweep.py            # ~2-3 min on 2 cores
    python benchmarks/bench_sweep.py --busy     # the same with one busy background process
    python benchmarks/bench_sweep.py --quick    # fewer runs, a smoke run (~1 min)

Rows:

    A  throughput: the same 16 small runs (tanh RNN, N = 64, T = 1000, 2 trials)
       through `run_grid` with --jobs 1 (in this process) and --jobs 2 (a spawn pool,
       its start-up included), alternately, best of two each; ratio = time(1) /
       time(2). Target >= 1.7.
    B  per-run overhead for runs over a second (N = 64, T = 1000, 8 trials): the wall
       time of `run_grid` with a cache (claims, look-ups, atomic stores, progress)
       beyond the time spent inside the runs themselves (measured around `run_one`, in
       the same sweep, so load changes cancel); the bookkeeping alone per run (claim +
       store + release of a result of that size); and, noisier, `run_grid` against a
       plain loop of `run_one` run just before it. Target < 5%.
    C  a 1,000-run sweep's bookkeeping (gain x bias std, 40 x 25): C1 `run_grid` with an
       instant compute, so every second is bookkeeping (claims, stores of results of the
       size of row A's, progress); C2 the same grid again, all cached (look-ups, summaries
       only); C3 `write_sweep_report` (summary files, a heatmap, mean-field line,
       findings; pdf, svg, png). Target: C2 + C3 < 10 s. (C1's stores happen while the
       workers compute, in a real sweep.)

Times are wall-clock (B and C: one measurement each; they take long enough); the
machine's load average at the start and end is recorded: on a machine shared with other
busy processes, --jobs 2 cannot reach 2 cores, and row A says so. A markdown table goes to stdout, JSON to
benchmarks/results/sweep[-busy][-quick].json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def _autogroup() -> str | None:
    """Whether the kernel shares the CPU between sessions rather than processes (then
    a sweep's workers, in one session, share one session's part of a busy machine)."""
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip()
    except OSError:
        return None


def _spin() -> None:  # the busy background process
    while True:
        pass


def cpu_timed_run(config):
    """`run_one` that also reports the CPU seconds the run took where it ran."""
    from gradscope.runs.task import run_one

    start = time.process_time()
    result = run_one(config)
    return dataclasses.replace(result, provenance={**result.provenance, "cpu_s": time.process_time() - start})


def throughput(runs: int, rounds: int) -> dict:
    """Best of `rounds` for each of --jobs 1 and 2, in alternating order (so that a
    change of the machine's load hits both), and the CPU seconds of each run where it
    ran (the same in a worker as in this process: the pool adds no work per run)."""
    from gradscope.config import Config
    from gradscope.runs.execute import run_grid

    configs = [Config(hidden=64, steps=1000, trials=2, seed=s) for s in range(runs)]
    out: dict = {"runs": runs, "rounds": rounds, "config": "rnn tanh N=64 T=1000 trials=2, seeds 0..runs-1"}
    times: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(rounds):
        for jobs in (1, 2):
            t0 = time.perf_counter()
            results = run_grid(configs, jobs=jobs, compute=cpu_timed_run)
            times[jobs].append(time.perf_counter() - t0)
            cpu[jobs] += [r.provenance["cpu_s"] for r in results]
    out.update({f"jobs{j}_s": min(t) for j, t in times.items()}, all_s={str(j): t for j, t in times.items()})
    out.update({f"jobs{j}_cpu_per_run_s": sorted(c)[len(c) // 2] for j, c in cpu.items()})
    out["ratio"] = out["jobs1_s"] / out["jobs2_s"]
    return out


def overhead(runs: int, folder: Path) -> dict:
    from gradscope.cache import RunCache
    from gradscope.config import Config
    from gradscope.runs.execute import run_grid
    from gradscope.runs.task import run_one

    configs = [Config(hidden=64, steps=1000, trials=8, seed=100 + s) for s in range(runs)]
    run_one(configs[0])  # warm-up: imports, first-call costs
    t0 = time.perf_counter()
    results = [run_one(c) for c in configs]
    direct = time.perf_counter() - t0
    inside: list[float] = []  # each run's own time, measured around run_one
    t0 = time.perf_counter()
    run_grid(configs, cache=folder / "b", jobs=1,
             progress=lambda e: inside.append(e.seconds) if e.stage == "done" else None)
    grid = time.perf_counter() - t0
    cache = RunCache(folder / "b2")
    t0 = time.perf_counter()
    for r in results:  # the bookkeeping alone: claim, store, release
        claim = cache.claim(r.config)
        cache.put(r)
        claim.release()
    books = time.perf_counter() - t0
    per_run = direct / runs
    return {"runs": runs, "config": "rnn tanh N=64 T=1000 trials=8", "run_s": per_run,
            "direct_s": direct, "grid_s": grid, "vs_loop_fraction": (grid - direct) / direct,
            "overhead_fraction": (grid - sum(inside)) / sum(inside),
            "bookkeeping_per_run_s": books / runs, "bookkeeping_fraction": books / runs / per_run}


def bookkeeping(folder: Path, gains: int, biases: int) -> dict:
    from gradscope.report.sweep_report import write_sweep_report
    from gradscope.runs.execute import run_grid
    from gradscope.runs.grid import expand_grid
    from gradscope.runs.task import run_one

    grid = {"hidden": 64, "steps": 1000, "trials": 2, "init": "normal", "input": "zeros",
            "gain": f"0.5:3.0:{gains}", "bias_std": f"0:1:{biases}"}
    configs = expand_grid(grid).configs
    template = run_one(dataclasses.replace(configs[0], gain=1.0))

    def instant(config):  # a finished run of the right size, with a plausible summary
        summary = dict(template.summary, growth_rate=0.5 * (config.gain - 1.0 - config.bias_std))
        return dataclasses.replace(template, config=config.resolved(), summary=summary)

    t0 = time.perf_counter()
    run_grid(configs, cache=folder / "c", compute=instant, curves=False)
    c1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = run_grid(configs, cache=folder / "c", compute=instant, curves=False)
    c2 = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_sweep_report(results, folder / "report", ["growth_rate"], name="bench")
    c3 = time.perf_counter() - t0
    return {"runs": len(configs), "store_s": c1, "lookups_s": c2, "report_s": c3, "total_s": c2 + c3}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", action="store_true", help="one busy background process during the rows")
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke run)")
    parser.add_argument("--runs", type=int, default=None,
                        help="runs of row A (default 16; more runs show the throughput past the pool's start-up)")
    parser.add_argument("--out", type=Path, default=None, help="JSON path")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    info = {"cpu_count": os.cpu_count(), "python": platform.python_version(), "busy": args.busy,
            "loadavg_start": _loadavg(), "sched_autogroup": _autogroup()}
    spinner = None
    if args.busy:
        spinner = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
        spinner.start()
    folder = Path(tempfile.mkdtemp(prefix="gradscope-bench-"))
    try:
        a = throughput(args.runs or (8 if args.quick else 16), 1 if args.quick else 2)
        print(f"A done: {a['ratio']:.2f}x", file=sys.stderr)
        b = overhead(3 if args.quick else 6, folder)
        print(f"B done: {100 * b['overhead_fraction']:.1f}%", file=sys.stderr)
        c = bookkeeping(folder, 10 if args.quick else 40, 10 if args.quick else 25)
    finally:
        if spinner is not None:
            spinner.terminate()
        shutil.rmtree(folder, ignore_errors=True)
    info["loadavg_end"] = _loadavg()
    doc = {"machine": info, "A_throughput": a, "B_overhead": b, "C_bookkeeping": c}
    print("| row | what | figure | target |\n|---|---|---|---|")
    print(f"| A | {a['runs']} runs, best of {a['rounds']}: --jobs 1 {a['jobs1_s']:.1f} s, --jobs 2 "
          f"{a['jobs2_s']:.1f} s (CPU per run {a['jobs1_cpu_per_run_s']:.2f} s here, "
          f"{a['jobs2_cpu_per_run_s']:.2f} s in a worker) | {a['ratio']:.2f}x | >= 1.7x |")
    print(f"| B | {b['runs']} runs of {b['run_s']:.2f} s: run_grid with cache {b['grid_s']:.2f} s, of which "
          f"outside the runs | {100 * b['overhead_fraction']:+.1f}% (store + claim alone "
          f"{1000 * b['bookkeeping_per_run_s']:.0f} ms = {100 * b['bookkeeping_fraction']:.1f}%; against a plain "
          f"loop ({b['direct_s']:.2f} s): {100 * b['vs_loop_fraction']:+.1f}%) | < 5% |")
    print(f"| C | {c['runs']} runs: stores {c['store_s']:.1f} s; look-ups {c['lookups_s']:.1f} s + report "
          f"{c['report_s']:.1f} s | {c['total_s']:.1f} s | < 10 s |")
    suffix = ("-busy" if args.busy else "") + ("-quick" if args.quick else "")
    out = args.out or HERE / "results" / f"sweep{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
