"""Where the time of `analyze` goes: a table per quantity, as multiples of the floor.

Run from the repository root, once with the current engine and once with the one before
the fast-mode rewrite (engine 3, commit c5056ee) for the "before" column:

    python benchmarks/bench_profile.py                          # after  (~1 min)
    git archive c5056ee gradscope | tar -x -C /tmp/engine3
    PYTHONPATH=/tmp/engine3 python benchmarks/bench_profile.py --label before   # (~3 min)
    python benchmarks/bench_profile.py --table                  # the two side by side
    python benchmarks/bench_profile.py --label engine5          # a later engine (~1 min)
    python benchmarks/bench_profile.py --table --labels before,after,engine5

For each configuration (tanh RNN N = 256 one trial, N = 64 eight trials, GRU N = 128; float32;
T = 2000 by default) it times, in one process and one thread, the floor (T chained
D x D products of real step Jacobians) and then: the unroll (`simulate`), `transport`
with one quantity at a time (spectral + RMS, then each of input sensitivity, loss
gradient, weight-gradient shares and per-step gains on top of spectral + RMS, or alone
where they need no product), `transport` with everything, and the whole `analyze` (the
summary is what it adds). Only the public API is used, so the same script measures
both engines. JSON to benchmarks/results/profile-<label>.json.
"""

from __future__ import annotations

import argparse
import sys

import torch
from common import (
    RESULTS,
    best_of,
    chain_floor,
    jacobian_pool,
    machine,
    table,
    write_json,
)

CONFIGS = [
    ("rnn N=256", dict(cell="rnn", act="tanh", hidden=256, trials=1, dtype="float32")),
    ("rnn N=64, 8 trials", dict(cell="rnn", act="tanh", hidden=64, trials=8, dtype="float32")),
    ("gru N=128", dict(cell="gru", act="tanh", hidden=128, trials=1, dtype="float32")),
]
ALL = ("spectral", "rms", "loss_grad", "input_sensitivity", "weight_grad", "step_gain")
PIECES = [  # row, quantities (None: not a transport call)
    ("spectral + rms", ("spectral", "rms")),
    ("+ input sensitivity", ("spectral", "rms", "input_sensitivity")),
    ("loss gradient alone", ("loss_grad",)),
    ("loss gradient + weight shares", ("loss_grad", "weight_grad")),
    ("per-step gains alone", ("step_gain",)),
    ("transport, everything", ALL),
]


def profile(fields: dict, steps: int, repeat: int) -> dict:
    from gradscope import Config, analyze
    from gradscope.analysis import simulate
    from gradscope.numerics.transport import transport

    config = Config(steps=steps, **fields)
    cell, traj, readout, _ = simulate(config.resolved())
    pool = jacobian_pool(cell, traj)
    out = {"floor": best_of(lambda: chain_floor(pool, steps), repeat)}
    out["unroll (simulate)"] = best_of(lambda: simulate(config.resolved()), repeat)

    for name, quantities in PIECES:
        def run(q=quantities):
            with torch.no_grad():
                transport(cell, traj.states, traj.inputs, readout, "fast", quantities=q)
        out[name] = best_of(run, repeat)
    kwargs = {"threads": 1} if "threads" in analyze.__code__.co_varnames else {}
    out["whole analyze"] = best_of(lambda: analyze(config, command="bench_profile", **kwargs), repeat)
    out["summary (analyze - unroll - transport)"] = (
        out["whole analyze"] - out["unroll (simulate)"] - out["transport, everything"])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--label", default="after", help="before | after (names the JSON)")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--table", action="store_true",
                    help="only print the runs of --labels side by side (results/profile-<label>.json)")
    ap.add_argument("--labels", default="before,after", help="the runs --table prints (default before,after)")
    args = ap.parse_args(argv)
    if args.table:
        import json

        runs = [json.loads((RESULTS / f"profile-{label}.json").read_text()) for label in args.labels.split(",")]
        print(report(runs))
        return 0
    torch.set_num_threads(1)
    import gradscope

    data = {"machine": machine(), "label": args.label, "engine": gradscope.__file__, "steps": args.steps,
            "configs": {}}
    for name, fields in CONFIGS:
        print(f"{name} ...", file=sys.stderr, flush=True)
        data["configs"][name] = profile(fields, args.steps, args.repeat)
    print(report([data]))
    out = write_json(RESULTS / f"profile-{args.label}.json", data)
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


def report(runs: list[dict]) -> str:
    """One table per configuration: seconds and multiples of the floor, per run."""
    parts = []
    names = list(dict.fromkeys(name for r in runs for name in r["configs"]))

    def cell(r: dict, name: str, key: str) -> str:
        got = r["configs"].get(name)
        if got is None:
            return "-"  # a configuration that run did not measure
        return f"{got[key]:.2f} s" if key == "floor" else f"{got[key]:.2f} s ({got[key] / got['floor']:.2f})"

    for name in names:
        first = next(r["configs"][name] for r in runs if name in r["configs"])
        keys = ["floor", *(k for k in first if k != "floor")]
        head = ["piece"] + [f"{r['label']} (x floor)" for r in runs]
        rows = [["floor: T chained products" if key == "floor" else key] + [cell(r, name, key) for r in runs]
                for key in keys]
        parts.append(f"{name}, T = {runs[0]['steps']}, float32, 1 thread\n\n" + table(head, rows))
    return "\n\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
