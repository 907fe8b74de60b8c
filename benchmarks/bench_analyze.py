"""The whole `analyze` against its chained-product floor, idle and with one busy process.

Run from the repository root:

    python benchmarks/bench_analyze.py            # every target, 1 and 2 threads, idle and busy (~7 min)
    python benchmarks/bench_analyze.py --quick    # T = 2000, one round, a smoke run (~1 min)

For each configuration of the issue's targets (tanh RNN N = 256, LSTM and GRU at N = 128,
N = 64 with the default 8 trials; float32 and float64), in one process and in
interleaved rounds (best of --repeat):

    floor    T chained D x D products of real step Jacobians (every trial in one bmm,
             the same dtype and thread count): the cost of an exact all-lag product
    analyze  gradscope.analyze(config, threads=n): unroll + every quantity (spectral, RMS,
             loss gradient, input sensitivity, weight-gradient shares, per-step gains)
             + the self-checks + the summary

at 1 and 2 threads, on the machine as it is ("idle") and with one busy background
process that this script starts and stops ("busy": a bounded CPU loop). The table
gives analyze/floor against the target, and busy/idle for analyze. JSON (every time,
the CPU, torch version and the load average at start and end) goes to
benchmarks/results/analyze[-quick].json.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from common import (
    RESULTS,
    busy,
    chain_floor,
    fmt,
    interleaved,
    jacobian_pool,
    machine,
    table,
    write_json,
)

TARGETS = [  # name, Config fields, target ratio to the floor, measured under load too
    ("rnn N=256", dict(cell="rnn", act="tanh", hidden=256, trials=1), 2.5, True),
    ("lstm N=128 (D=256)", dict(cell="lstm", act="tanh", hidden=128, trials=1), 3.0, False),
    ("gru N=128", dict(cell="gru", act="tanh", hidden=128, trials=1), 3.0, False),
    ("rnn N=64, 8 trials", dict(cell="rnn", act="tanh", hidden=64, trials=8), 3.0, True),
]


def measure(fields: dict, steps: int, threads: int, repeat: int) -> dict:
    from gradscope import Config, analyze
    from gradscope.analysis import simulate

    config = Config(steps=steps, **fields)
    torch.set_num_threads(threads)
    cell, traj, _, _ = simulate(config.resolved())
    pool = jacobian_pool(cell, traj)
    best = interleaved({
        "floor": lambda: chain_floor(pool, steps),
        "analyze": lambda: analyze(config, threads=threads, command="bench_analyze"),
    }, repeat)
    result = analyze(config, threads=threads, command="bench_analyze")
    return {**best, "ratio": best["analyze"] / best["floor"], "status": result.status,
            "self_check": result.provenance.get("fast_self_check"),
            "fast_check": result.summary["fast_check"], "step_gain_check": result.summary["step_gain_check"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="T = 2000, one round")
    ap.add_argument("--steps", type=int, default=None, help="T (default 10000; 2000 with --quick)")
    ap.add_argument("--repeat", type=int, default=None, help="interleaved rounds (default 2; 1 with --quick)")
    ap.add_argument("--threads", default="1,2", help="thread counts to measure (default 1,2)")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--no-busy", action="store_true", help="skip the runs with a busy background process")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    steps = args.steps or (2000 if args.quick else 10_000)
    repeat = args.repeat or (1 if args.quick else 2)
    data = {"machine": machine(), "steps": steps, "repeat": repeat, "rows": []}
    name_json = args.out or f"analyze{'-quick' if args.quick else ''}.json"
    for threads in (int(t) for t in args.threads.split(",")):
        for load in ("idle", "busy"):
            if load == "busy" and args.no_busy:
                continue
            with busy(load == "busy"):
                for name, fields, target, loaded in TARGETS:
                    if load == "busy" and not loaded:
                        continue
                    for dtype in args.dtypes.split(","):
                        print(f"{name} {dtype}, {threads} thread(s), {load} ...", file=sys.stderr, flush=True)
                        t0 = time.perf_counter()
                        row = measure({**fields, "dtype": dtype}, steps, threads, repeat)
                        row.update(name=name, dtype=dtype, threads=threads, load=load, target=target,
                                   loadavg=data["machine"]["loadavg_start"], wall=time.perf_counter() - t0)
                        data["rows"].append(row)
                        print(f"  floor {row['floor']:.2f} s, analyze {row['analyze']:.2f} s, "
                              f"{row['ratio']:.2f}x", file=sys.stderr, flush=True)
                        out = write_json(RESULTS / name_json, data)  # after every row: nothing lost
    print(report(data))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


def report(data: dict) -> str:
    idle = {(r["name"], r["dtype"], r["threads"]): r for r in data["rows"] if r["load"] == "idle"}
    rows = []
    for r in data["rows"]:
        key = (r["name"], r["dtype"], r["threads"])
        ratio_idle = idle.get(key, {}).get("analyze")
        loaded = f"{r['analyze'] / ratio_idle:.2f}" if r["load"] == "busy" and ratio_idle else ""
        met = "yes" if r["ratio"] <= r["target"] else "NO"
        rows.append([r["name"], r["dtype"], r["threads"], r["load"], fmt(r["floor"]), fmt(r["analyze"]),
                     f"{r['ratio']:.2f}", f"<= {r['target']}", met, loaded])
    head = (f"T = {data['steps']}, best of {data['repeat']}; {data['machine']['cpu_model']}, "
            f"torch {data['machine']['torch']}; load average at start {data['machine']['loadavg_start']}\n\n")
    return head + table(["config", "dtype", "threads", "load", "floor s", "analyze s", "analyze/floor",
                         "target", "met", "busy/idle"], rows)


if __name__ == "__main__":
    sys.exit(main())
