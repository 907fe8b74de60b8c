"""Why did my LSTM not learn? A task with a lag of 30, a default LSTM and one with forget-gate bias 1, watched by the Monitor; write reports/forget-bias/.

    python examples/forget_bias.py             # hidden 64, 1000 steps each: about a minute on 2 cores
    python examples/forget_bias.py --reduced   # the small version, in seconds (what check.json holds)

The task: remember a bit for 30 steps. Step 0 shows the bit (+1 or -1) with a marker;
the 30 steps after it show N(0, 1) noise; after the last one the model says the bit
(logistic loss; accuracy 50% is chance). Its gradient must reach 30 steps back. Two
`nn.LSTM`s (hidden 64, same seed) train on it: PyTorch's default initialisation, and
the same with 1 added to the forget-gate bias (Gers et al. 2000; Jozefowicz et al.
2015). A `Monitor` on each (every 25 steps, on the training batch, `lags=(30,)`,
`eps=1e-4`: the horizon is the first lag at which the median gain falls below 1e-4)
shows whether and when its horizon passes 30, against the step at which its accuracy
rises. `check.json` holds the same numbers at reduced size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPORT = HERE.parent / "reports" / "forget-bias"
COMMAND = "python examples/forget_bias.py"
RUNS = {"default": 0.0, "forget-bias-1": 1.0}
FULL = {"hidden": 64, "lag": 30, "batch": 64, "iterations": 1000, "lr": 2e-3, "every": 25, "dtype": torch.float32,
        "background": True, "analysis": {"steps": 300, "transient": 100, "trials": 4, "exponents": 4, "eps": 1e-4}}
REDUCED = {"hidden": 16, "lag": 8, "batch": 16, "iterations": 40, "lr": 2e-3, "every": 10, "dtype": torch.float64,
           "background": False, "analysis": {"steps": 60, "transient": 20, "trials": 2, "exponents": 2, "eps": 1e-4}}


def recall_batch(n: int, lag: int, generator: torch.Generator, dtype=torch.float32):
    """`(x (lag + 1, n, 2), bit (n,))`: the bit as +-1 with a marker at step 0, noise after."""
    x = torch.zeros(lag + 1, n, 2, dtype=dtype)
    x[:, :, 0] = torch.randn(lag + 1, n, generator=generator, dtype=dtype)
    bit = torch.randint(0, 2, (n,), generator=generator).to(dtype)
    x[0, :, 0], x[0, :, 1] = 2 * bit - 1, 1.0
    return x, bit


class Model(torch.nn.Module):
    """An `nn.LSTM` (its forget-gate bias raised by `forget_bias`) and a linear readout."""

    def __init__(self, hidden: int, forget_bias: float) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(2, hidden)
        self.head = torch.nn.Linear(hidden, 1)
        with torch.no_grad():  # PyTorch's gate order is (i, f, g, o): the second block
            self.lstm.bias_ih_l0[hidden: 2 * hidden] += forget_bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(x)[0][-1]).squeeze(-1)


def accuracy(model: Model, x: torch.Tensor, bit: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((model(x) > 0).to(bit.dtype) == bit).double().mean())


def train(forget_bias: float, setting: dict, log_dir: Path, cache, seed: int = 0) -> dict:
    """Train one LSTM with a Monitor on it: its accuracies and time."""
    from gradscope import Monitor

    torch.manual_seed(seed)
    model = Model(setting["hidden"], forget_bias).to(setting["dtype"])
    lag, every, iterations = setting["lag"], setting["every"], setting["iterations"]
    test = recall_batch(1000, lag, torch.Generator().manual_seed(99), setting["dtype"])
    optimizer = torch.optim.Adam(model.parameters(), lr=setting["lr"])
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1 - i / (iterations + 1))
    data = torch.Generator().manual_seed(seed + 1)
    start = time.perf_counter()
    with Monitor(model.lstm, every=every, log_dir=log_dir, lags=(lag,), cache=cache, background=setting["background"],
                 max_pending=iterations // every + 2, **setting["analysis"]) as monitor:
        x, _ = recall_batch(setting["batch"], lag, torch.Generator().manual_seed(seed + 2), setting["dtype"])
        monitor.update(0, inputs=x, accuracy=accuracy(model, *test))
        for step in range(1, iterations + 1):
            x, bit = recall_batch(setting["batch"], lag, data, setting["dtype"])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), bit)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            metrics = {"loss": loss.item()}
            if step % every == 0:
                metrics["accuracy"] = accuracy(model, *test)
            monitor.update(step, inputs=x, **metrics)
        seconds = time.perf_counter() - start
    return {"accuracy_trained": accuracy(model, *test), "seconds": seconds, "analysed": len(monitor.analysed)}


def measure(setting: dict, logs: Path, cache) -> tuple[list, dict]:
    from gradscope.monitor.tracking import track_runs

    task = {name: train(fb, setting, logs / name, cache) for name, fb in RUNS.items()}
    _, series, _ = track_runs([str(logs / name) for name in RUNS], lags=(setting["lag"],), cache=cache, jobs=1)
    return series, task


def claims(series: list, task: dict, lag: int) -> list[dict]:
    """Per LSTM: when its horizon passed the lag and when its accuracy rose, in numbers."""
    import math

    from gradscope.text.track_findings import track_findings, track_numbers

    out = []
    for s, name, line in zip(series, RUNS, track_findings(series, [lag])):
        (row,) = track_numbers([s], [lag])
        gains = [r.summary["log_gain_at_lags"][0] for r in s.results]
        first, last = (None if g is None else g / math.log(10) for g in (gains[0], gains[-1]))
        verdict = ("horizon passed the lag" if row["passed_at"] is not None else "horizon never passed the lag") + (
            "; accuracy rose" if row["rose_at"] is not None else "; accuracy stayed at chance")
        numbers = {k: row[k] for k in ("passed_at", "rose_at", "horizon_first", "horizon_last", "accuracy_first",
                                       "accuracy_best")}
        numbers.update(log10_gain_at_lag_first=first, log10_gain_at_lag_last=last,
                       accuracy_trained=task[name]["accuracy_trained"])
        text = (f"{line} Its gain at lag {lag} went from 10^{first:.1f} to 10^{last:.1f}; final accuracy "
                f"{100 * task[name]['accuracy_trained']:.0f}%.")
        out.append({"claim": name, "verdict": verdict, "numbers": numbers, "text": text})
    return out


def check() -> dict:
    """The reduced run's numbers and verdicts, as committed in reports/forget-bias/check.json."""
    from gradscope.report.check_json import check_summary, files_relative

    with tempfile.TemporaryDirectory() as tmp:
        series, task = measure(REDUCED, Path(tmp) / "logs", Path(tmp) / "cache")
        found = [{k: v for k, v in c.items() if k != "text"} for c in claims(series, task, REDUCED["lag"])]
        results = [files_relative(r, Path(tmp) / "logs") for s in series for r in s.results]
        return check_summary(results, found, name="forget-bias")


def main(argv=None) -> int:
    from gradscope.cache import RunCache
    from gradscope.report.track_report import write_track_report
    from gradscope.results import write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="the small version, in seconds")
    parser.add_argument("--out", type=Path, default=None, help=f"report folder [default: {REPORT}]")
    parser.add_argument("--logs", type=Path, default=None, help="keep the monitors' logs here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    setting = REDUCED if args.reduced else FULL
    out = args.out or (REPORT.parent / "forget-bias-reduced" if args.reduced else REPORT)
    if out.resolve().is_relative_to(Path.cwd()):
        out = Path(os.path.relpath(out))
    with tempfile.TemporaryDirectory() as tmp:
        cache = RunCache(Path(tmp) / "cache") if args.reduced else RunCache()
        series, task = measure(setting, args.logs or Path(tmp) / "logs", cache.directory)
    found = claims(series, task, setting["lag"])
    notes = [f"Task: recall a bit shown {setting['lag']} steps earlier through N(0, 1) noise; nn.LSTM hidden "
             f"{setting['hidden']}, batch {setting['batch']}, Adam lr {setting['lr']:g} with linear decay, gradient "
             f"norm clipped at 1, {setting['iterations']} steps each, the same seed; accuracy on 1000 test sequences. "
             f"Monitor every {setting['every']} steps on the training batch, eps {setting['analysis']['eps']:g}; "
             + ", ".join(f"{n}: {t['seconds']:.0f} s of training" for n, t in task.items()) + "."]
    if args.logs is None:
        notes.append("The monitors' logs (snapshots, gradscope.jsonl, TensorBoard events) went to a temporary "
                     "folder; --logs DIR keeps them.")
    write_track_report(series, out, (setting["lag"],), name="forget-bias",
                       title="Why did my LSTM not learn? The forget-gate bias and a lag of 30",
                       command=COMMAND + (" --reduced" if args.reduced else ""), notes=notes,
                       findings=[c["text"] for c in found], force=True, where=args.logs is not None)
    write_text_atomic(out / "task.json", json.dumps(task, indent=2) + "\n")
    if not args.reduced:
        write_text_atomic(out / "check.json", json.dumps(check(), indent=2) + "\n")
    for c in found:
        print(c["text"])
    print(f"wrote {out}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
