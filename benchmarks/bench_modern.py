"""Benchmark the whole analysis of a diagonal cell against the cell's own unroll, in one run.

Run from the repository root:

    python benchmarks/bench_modern.py                # s6 N=64 S=16 T=2x10^4; mingru, minlstm, lru N=64 T=2x10^4;
                                                     # s6 N=16 S=16 T=10^6 (1 trial, float64, 1 thread)
    python benchmarks/bench_modern.py --busy         # the same beside one busy process
    python benchmarks/bench_modern.py --quick        # T / 10 and no 10^6 case, a smoke run

A diagonal cell's transport and spectrum are sums of `log|d_t|` (exact, O(T D)); the input
sensitivity is one symmetric eigenvalue problem of the input size per lag. Rows per case,
each the best of --repeat runs taken in interleaved rounds (so a change of load hits all):

    U  the cell's own unroll: transient + T steps of `cell.step`, the window kept
    A  `analyze(config)` whole, every quantity and every exponent (`exponents=all`): the
       unroll, the transport, the spectrum, the summary
    X  `transport` with every quantity, on the unrolled window (what A adds, first part)
    Xs `transport` without the input sensitivity
    L  the whole Lyapunov spectrum on the window

Reported: seconds per row and the ratios A/U (the target: at most 3) and (A - X + Xs)/U
(the analysis without the input sensitivity). JSON goes to
benchmarks/results/modern[-busy][-quick].json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import busy, interleaved, machine, table, write_json  # noqa: E402

from gradscope import Config, analyze  # noqa: E402
from gradscope.analysis import simulate  # noqa: E402
from gradscope.numerics.spectrum import lyapunov_spectrum  # noqa: E402
from gradscope.numerics.transport import QUANTITIES, transport  # noqa: E402

CASES = [
    ("s6", 64, 16, 20_000),
    ("mingru", 64, None, 20_000),
    ("minlstm", 64, None, 20_000),
    ("lru", 64, None, 20_000),
    ("s6", 16, 16, 1_000_000),
]


def config_of(cell: str, hidden: int, state: int | None, steps: int, trials: int) -> Config:
    extra = {"state_size": state} if state else {}
    return Config(cell=cell, hidden=hidden, steps=steps, trials=trials, transient=200, exponents="all", **extra)


def measure(config: Config, repeat: int) -> dict:
    from gradscope.analysis import _network  # the network and drive analyze draws
    from gradscope.numerics.unroll import unroll

    def run_unroll():
        with torch.no_grad():
            resolved, _, cell, h0, _, drive = _network(config)
            unroll(cell, h0, drive, resolved.transient, resolved.steps)

    timings = interleaved({"U": run_unroll, "A": lambda: analyze(config, threads=1)}, repeat)
    cell, traj, readout, _ = simulate(config.resolved())
    some = tuple(q for q in QUANTITIES if q != "input_sensitivity")
    with torch.no_grad():
        timings.update(interleaved({
            "X": lambda: transport(cell, traj.states, traj.inputs, readout),
            "Xs": lambda: transport(cell, traj.states, traj.inputs, readout, quantities=some),
            "L": lambda: lyapunov_spectrum(cell, traj.states, traj.inputs),
        }, repeat))
    timings["ratio"] = timings["A"] / timings["U"]
    timings["ratio_without_sensitivity"] = (timings["A"] - timings["X"] + timings["Xs"]) / timings["U"]
    return timings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="best of (default 2; the 10^6 case: 1)")
    parser.add_argument("--busy", action="store_true", help="beside one busy background process")
    parser.add_argument("--quick", action="store_true", help="T / 10, no 10^6 case")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows, data = [], {"machine": machine(), "trials": args.trials, "busy": args.busy, "cases": []}
    with busy(args.busy):
        for cell, hidden, state, steps in CASES:
            if args.quick:
                if steps > 100_000:
                    continue
                steps //= 10
            config = config_of(cell, hidden, state, steps, args.trials)
            t = measure(config, 1 if steps > 100_000 else args.repeat)
            d = config.state_dim
            data["cases"].append({"cell": cell, "hidden": hidden, "state_size": state, "state_dim": d,
                                  "steps": steps, **t})
            rows.append([cell, hidden, d, f"{steps:.0e}", f"{t['U']:.2f}", f"{t['A']:.2f}", f"{t['X']:.2f}",
                         f"{t['Xs']:.2f}", f"{t['L']:.2f}", f"{t['ratio']:.2f}", f"{t['ratio_without_sensitivity']:.2f}"])
            print(table(["cell", "N", "D", "T", "U s", "A s", "X s", "Xs s", "L s", "A/U", "A/U w/o sens."], rows[-1:]),
                  flush=True)
    name = "modern" + ("-busy" if args.busy else "") + ("-quick" if args.quick else "")
    path = write_json(HERE / "results" / f"{name}.json", data)
    print(table(["cell", "N", "D", "T", "U s", "A s", "X s", "Xs s", "L s", "A/U", "A/U w/o sens."], rows))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
