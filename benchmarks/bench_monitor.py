"""The training monitor's cost to training: a 64-unit LSTM trained on the adding problem
with `Monitor(every=100)` at its defaults, against the same training without it (ratios
in one run, the two taking turns), idle and with one busy background process; and
`update()` itself, on a step it does not analyse and on one it does.

Run from the repository root:

    python benchmarks/bench_monitor.py              # ~3 min
    python benchmarks/bench_monitor.py --steps 300  # shorter

Rows:

    training  wall time of `steps` training steps (nn.LSTM(2, 64) + a linear readout,
              adding problem of lag 50, batch 64, Adam), one torch thread for training
              (as the examples set it), without and with `Monitor(model.lstm, every=100,
              log_dir=tmp)` (background worker, analysis defaults, update(step, inputs=x)
              on every step); `loop` is the training loop with the monitor's start (the
              worker spawned) included, `+close` adds `close()` waiting for the last
              analyses. Best of `repeat` rounds. Target: loop ratio <= 1.1 idle.
    update    `update(step)` on a step it does not analyse (median of 200,000 calls,
              target < 10 us) and `update(step, inputs=x)` on a step it does (snapshot of
              the LSTM's weights and the batch, and the hand-over; median and max of 50,
              target < 5 ms).

JSON to benchmarks/results/monitor.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, busy, fmt, machine, table, write_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


def training(steps: int, monitor_dir: Path | None) -> dict[str, float]:
    """One training run, timed: `loop` (with the monitor's start) and `total` (+ close)."""
    import torch
    from training import Model, adding_batch  # examples/training.py

    from gradscope import Monitor

    torch.manual_seed(0)
    model = Model("lstm", 64)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    data = torch.Generator().manual_seed(1)
    start = time.perf_counter()
    monitor = None if monitor_dir is None else Monitor(model.rnn, every=100, log_dir=monitor_dir,
                                                       cache=monitor_dir / "cache")
    for step in range(1, steps + 1):
        x, y = adding_batch(64, 50, data)
        loss = ((model(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if monitor is not None:
            monitor.update(step, inputs=x)
    loop = time.perf_counter() - start
    if monitor is not None:
        monitor.close()
    return {"loop": loop, "total": time.perf_counter() - start,
            "analysed": len(monitor.analysed) if monitor else 0, "skipped": len(monitor.skipped) if monitor else 0}


def compare(steps: int, repeat: int) -> dict[str, float]:
    best: dict[str, float] = {}
    counts = {}
    for _ in range(repeat):
        for kind in ("without", "with"):
            with tempfile.TemporaryDirectory() as tmp:
                t = training(steps, None if kind == "without" else Path(tmp) / "gs")
            best[f"{kind}_loop"] = min(best.get(f"{kind}_loop", 1e9), t["loop"])
            best[f"{kind}_total"] = min(best.get(f"{kind}_total", 1e9), t["total"])
            if kind == "with":
                counts = {"analysed": t["analysed"], "skipped": t["skipped"]}
    best["ratio_loop"] = best["with_loop"] / best["without_loop"]
    best["ratio_total"] = best["with_total"] / best["without_total"]
    return {**best, **counts}


def update_costs() -> dict[str, float]:
    import torch
    from training import Model, adding_batch

    from gradscope import Monitor

    model = Model("lstm", 64)
    x, _ = adding_batch(64, 50, torch.Generator().manual_seed(1))
    with tempfile.TemporaryDirectory() as tmp:
        monitor = Monitor(model.rnn, every=10_000_000, log_dir=Path(tmp) / "a", cache=False)
        per = []
        for block in range(20):
            start = time.perf_counter()
            for step in range(1 + block * 10_000, 1 + (block + 1) * 10_000):
                monitor.update(step)
            per.append((time.perf_counter() - start) / 10_000)
        monitor.close(cancel=True)
        skip = statistics.median(per)
        monitor = Monitor(model.rnn, every=1, log_dir=Path(tmp) / "b", cache=False, max_pending=1000,
                          tensorboard=False)
        time.sleep(3)  # the worker started
        costs = []
        for step in range(1, 51):
            start = time.perf_counter()
            monitor.update(step, inputs=x)
            costs.append(time.perf_counter() - start)
            time.sleep(0.02)
        monitor.close(cancel=True)
    return {"skip_us": skip * 1e6, "analysed_ms_median": statistics.median(costs) * 1e3,
            "analysed_ms_max": max(costs) * 1e3}


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = {"machine": machine(), "steps": args.steps, "repeat": args.repeat}
    out["update"] = update_costs()
    out["idle"] = compare(args.steps, args.repeat)
    with busy():
        out["busy"] = compare(args.steps, args.repeat)
    rows = [[load, fmt(r["without_loop"]), fmt(r["with_loop"]), fmt(r["ratio_loop"], 3), fmt(r["without_total"]),
             fmt(r["with_total"]), fmt(r["ratio_total"], 3), f"{r['analysed']} / {r['skipped']}"]
            for load, r in (("idle", out["idle"]), ("one busy process", out["busy"]))]
    print(table(["load", "without (s)", "with (s)", "loop ratio", "without +close", "with +close", "ratio +close",
                 "analysed / skipped"], rows))
    u = out["update"]
    print(f"\nupdate() on a step it does not analyse: {u['skip_us']:.2f} us (median); on one it does: "
          f"{u['analysed_ms_median']:.2f} ms median, {u['analysed_ms_max']:.2f} ms max")
    print(f"wrote {write_json(RESULTS / 'monitor.json', out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
