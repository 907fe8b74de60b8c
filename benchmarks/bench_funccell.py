"""Benchmark the torch.func path (FuncCell) against the analytic LSTM cell, in one run.

Run from the repository root:

    python benchmarks/bench_funccell.py                 # LSTM N = 64, T = 10^4, 1 trial, float32
    python benchmarks/bench_funccell.py --busy          # the same beside one busy process
    python benchmarks/bench_funccell.py --quick         # T = 1000, a smoke run (~10 s)

Both cells are the same network: the FuncCell is a plain-function LSTM step
(`examples/mycells.py:lstm_step`, PyTorch's formulas) given the analytic cell's own weights,
and both run from the same initial state on the same inputs. Rows, each the best of
--repeat runs taken in interleaved rounds (A then F, so that a change of load hits both):

    U  unroll: T steps of `cell.step`
    J  the step Jacobians of the whole window: `linearize` + `jacobian`, chunk by chunk
    X  `transport` with every quantity (what `analyze` runs after the unroll)

Reported: seconds per row and cell, the ratio F/A, and the total U + X (the target: F
within 5x of A). Checks: the two trajectories and every transport curve agree. JSON goes to
benchmarks/results/funccell-<threads>t[-busy][-quick].json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gradscope import Config, FuncCell, ReplayDrive, simulate, transport, unroll
from gradscope.numerics.logspace import chunk_length

HERE = Path(__file__).resolve().parent


def example_lstm_step():
    """`examples/mycells.py:lstm_step`, loaded by path (the examples are no package)."""
    spec = importlib.util.spec_from_file_location("example_mycells", HERE.parent / "examples" / "mycells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lstm_step


def time_unroll(cell, traj, steps):
    start = time.perf_counter()
    out = unroll(cell, traj.states[0], ReplayDrive(traj.inputs), 0, steps)
    return time.perf_counter() - start, out


def time_jacobians(cell, traj):
    start = time.perf_counter()
    clen = chunk_length(traj.states.shape[1], traj.states.shape[2])
    for lo in range(0, traj.steps, clen):
        hi = min(traj.steps, lo + clen)
        cell.jacobian(cell.linearize(traj.states[lo:hi], traj.inputs[lo:hi]))
    return time.perf_counter() - start, None


def time_transport(cell, traj, readout):
    start = time.perf_counter()
    out = transport(cell, traj.states, traj.inputs, readout)
    return time.perf_counter() - start, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=1)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="best of (default 2)")
    parser.add_argument("--busy", action="store_true", help="run beside one busy background process")
    parser.add_argument("--quick", action="store_true", help="T = 1000, one repeat")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.repeat = 1000, 1
    torch.set_num_threads(args.threads)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    load_start = os.getloadavg()
    try:
        config = Config(cell="lstm", hidden=args.hidden, steps=args.steps, transient=0, trials=args.trials,
                        dtype=args.dtype, seed=0)
        analytic, traj, readout, _ = simulate(config)
        func = FuncCell(example_lstm_step(), (args.hidden, args.hidden), args.hidden, params=analytic.parameters(),
                        per_trial=True, trials=args.trials)
        best = {}
        outputs = {}
        for _ in range(args.repeat):
            for name, cell in (("A", analytic), ("F", func)):
                for row, fn in (("U", lambda: time_unroll(cell, traj, args.steps)),
                                ("J", lambda: time_jacobians(cell, traj)),
                                ("X", lambda: time_transport(cell, traj, readout))):
                    seconds, out = fn()
                    best[row + name] = min(best.get(row + name, float("inf")), seconds)
                    outputs[row + name] = out
                    print(f"{row}{name} {seconds:.3f} s", file=sys.stderr)
    finally:
        if busy is not None:
            busy.kill()
    load_end = os.getloadavg()
    u_diff = float((outputs["UA"].states - outputs["UF"].states).abs().max())
    x_diff = max(float(np.nanmax(np.abs(outputs["XA"][k] - outputs["XF"][k])))
                 for k in ("log_spectral", "log_loss_grad", "log_input_sensitivity", "log_weight_grad"))
    total_a, total_f = best["UA"] + best["XA"], best["UF"] + best["XF"]
    rows = [("U", "unroll"), ("J", "step Jacobians of the window"), ("X", "transport, every quantity")]
    print(f"LSTM N={args.hidden}, T={args.steps}, trials={args.trials}, {args.dtype}, {args.threads} thread(s)"
          f"{', beside one busy process' if args.busy else ''}; load average {load_start[0]:.2f} -> {load_end[0]:.2f}")
    print("| row | analytic (s) | FuncCell (s) | FuncCell / analytic |")
    print("|---|---|---|---|")
    for key, what in rows:
        print(f"| {key} {what} | {best[key + 'A']:.3f} | {best[key + 'F']:.3f} | {best[key + 'F'] / best[key + 'A']:.2f} |")
    print(f"| U + X (what analyze runs) | {total_a:.3f} | {total_f:.3f} | {total_f / total_a:.2f} (target <= 5) |")
    print(f"checks: max |state difference| {u_diff:.2e}; max |log curve difference| {x_diff:.2e}")
    doc = {
        "config": vars(args) | {"out": None}, "seconds": best, "ratio_total": total_f / total_a,
        "ratios": {k: best[k + "F"] / best[k + "A"] for k, _ in rows}, "state_max_abs_diff": u_diff,
        "curve_max_abs_log_diff": x_diff, "load_average": [load_start, load_end],
        "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
    }
    suffix = f"{args.threads}t" + ("-busy" if args.busy else "") + ("-quick" if args.quick else "")
    out = args.out or HERE / "results" / f"funccell-{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
