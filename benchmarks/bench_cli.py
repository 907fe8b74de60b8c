"""The commands a user types, timed as they run: the README's `decay` examples one after
another, the default `decay` and the README's `compare` example idle and with one busy
background process, and the T = 10^5 analysis with its peak memory.

Run from the repository root (the `gradscope` command of this environment is used):

    python benchmarks/bench_cli.py              # everything (~5 min)
    python benchmarks/bench_cli.py --skip-big   # without the T = 10^5 run (~2 min)

Rows:

    examples  each `gradscope decay` example of the README, wall time of the whole command
              (Python start-up, imports, unroll, every quantity, summary, files), after
              one untimed run that writes gradscope's bytecode cache (as a user's first
              command does; PYTHONDONTWRITEBYTECODE is dropped for the commands), and
              beside them `python -c "import torch"` in the same environment: the part
              of each command that is Python and torch starting
    loaded    `gradscope decay --cell rnn --act tanh --steps 500` (the issue's case) and
              `gradscope compare --cell rnn,lstm,gru --act sigmoid,tanh,relu --steps 500`,
              idle and with one busy process: the busy/idle ratio (target <= 2.5); the
              decay also with `--threads 2` under load, which is what torch's default
              did before the engine chose its threads
    big       `analyze` at T = 10^5, N = 256, float32 in a subprocess: wall time, peak RSS
              (target < 1 GiB) and the floor (10^4 chained products timed in the same
              subprocess, times 10)

JSON to benchmarks/results/cli.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from common import RESULTS, busy, fmt, machine, table, write_json

EXAMPLES = [  # the README's decay examples; {tmp} is a scratch folder
    "gradscope decay --cell rnn --act sigmoid",
    "gradscope decay --cell rnn --act sigmoid --out {tmp}/quickstart",
    "gradscope decay --cell rnn --act sigmoid --hidden 64 --steps 1000 --out {tmp}/sigmoid",
    "gradscope decay --cell lstm --act tanh --forget-bias 1 --steps 5000 --json",
    "gradscope decay --cell rnn --act relu --init normal --gain 6 --strict",
]
LOADED = [
    ("decay, default threads", "gradscope decay --cell rnn --act tanh --steps 500"),
    ("compare (README), default threads",
     "gradscope compare --cell rnn,lstm,gru --act sigmoid,tanh,relu --steps 500 --no-cache --quiet --out {tmp}/cells"),
    ("decay, --threads 2 (torch's old default)", "gradscope decay --cell rnn --act tanh --steps 500 --threads 2"),
]
BIG_CHILD = textwrap.dedent(
    """
    import json, math, resource, sys, time, torch
    from gradscope import Config, analyze
    from gradscope.analysis import simulate
    sys.path.insert(0, sys.argv[2])
    from common import chain_floor, jacobian_pool
    steps = int(sys.argv[1])
    config = Config(cell="rnn", act="tanh", hidden=256, steps=steps, trials=1, dtype="float32")
    t0 = time.perf_counter()
    res = analyze(config, threads=1, command="bench_cli --big")
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.set_num_threads(1)
    cell, traj, _, _ = simulate(Config(cell="rnn", act="tanh", hidden=256, steps=2000, trials=1,
                                       dtype="float32").resolved())
    pool = jacobian_pool(cell, traj)
    t0 = time.perf_counter()
    chain_floor(pool, 10_000)
    floor = (time.perf_counter() - t0) * steps / 10_000
    print(json.dumps({"analyze_s": wall, "floor_s": floor, "peak_rss_mib": rss / 1024,
                      "status": res.status, "fast_check": res.summary["fast_check"],
                      "step_gain_check": res.summary["step_gain_check"]}))
    """
)


# a user's Python writes and reads bytecode caches; a sandbox may switch that off
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"NO_COLOR": "1"}


def import_torch_seconds(repeat: int = 3) -> float:
    """The best of `repeat` wall times of a Python that imports torch and exits at once."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import os, torch; os._exit(0)"], check=True, env=ENV)
        best = min(best, time.perf_counter() - t0)
    return best


def run(command: str, tmp: str) -> dict:
    """Wall time and exit code of one command line (its output discarded)."""
    argv = command.format(tmp=tmp).split()
    script = Path(sys.executable).with_name("gradscope")  # this environment's command
    argv[:1] = [str(script)] if script.exists() else (
        [shutil.which("gradscope")] if shutil.which("gradscope") else [sys.executable, "-m", "gradscope"])
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=ENV)
    return {"command": command, "seconds": time.perf_counter() - t0, "exit": proc.returncode,
            "stderr_tail": proc.stderr.strip()[-300:]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--big-steps", type=int, default=100_000)
    args = ap.parse_args(argv)
    data = {"machine": machine(), "examples": [], "loaded": [], "big": None}
    with tempfile.TemporaryDirectory() as tmp:
        run(EXAMPLES[0], tmp)  # untimed: writes the bytecode cache, warms the disk cache
        data["import_torch_s"] = import_torch_seconds()
        for command in EXAMPLES:
            print(command, file=sys.stderr, flush=True)
            data["examples"].append(run(command, tmp))
        for name, command in LOADED:
            row = {"name": name}
            for load in ("idle", "busy"):
                if "--threads 2" in command and load == "idle":
                    continue
                print(f"{name}, {load}", file=sys.stderr, flush=True)
                with busy(load == "busy"):
                    row[load] = run(command, tmp)
            data["loaded"].append(row)
    if not args.skip_big:
        print(f"analyze T = {args.big_steps} in a subprocess", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, "-c", BIG_CHILD, str(args.big_steps), str(Path(__file__).parent)],
                              capture_output=True, text=True, check=True)
        data["big"] = {**json.loads(proc.stdout.strip().splitlines()[-1]), "steps": args.big_steps,
                       "children_maxrss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
    print(report(data))
    out = write_json(RESULTS / "cli.json", data)
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


def report(data: dict) -> str:
    m = data["machine"]
    parts = [f"{m['cpu_model']}, torch {m['torch']}; load average at start {m['loadavg_start']}"]
    rows = [[f"`{r['command']}`", fmt(r["seconds"], 2), r["exit"]] for r in data["examples"]]
    if "import_torch_s" in data:
        rows.append(['`python -c "import os, torch; os._exit(0)"` (start-up alone)', fmt(data["import_torch_s"], 2), 0])
    parts.append(table(["README example, one after another", "seconds", "exit"], rows))
    rows = []
    for r in data["loaded"]:
        idle, load = r.get("idle"), r["busy"]
        ratio = f"{load['seconds'] / idle['seconds']:.2f}" if idle else "-"
        rows.append([r["name"], fmt(idle["seconds"], 1) if idle else "-", fmt(load["seconds"], 1), ratio])
    parts.append(table(["command", "idle s", "one busy process s", "busy/idle"], rows))
    big = data.get("big")
    if big:
        parts.append(table(["T", "analyze s", "floor s (10^4 products x 10)", "analyze/floor", "peak RSS MiB"],
                           [[big["steps"], fmt(big["analyze_s"], 1), fmt(big["floor_s"], 1),
                             fmt(big["analyze_s"] / big["floor_s"]), fmt(big["peak_rss_mib"], 0)]]))
    return "\n\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
