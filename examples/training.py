"""Train a small RNN, GRU and LSTM on the adding problem with gradscope's Monitor on, and report their gradient flow over training; write reports/training/.

    python examples/training.py                      # hidden 64, lag 50: a few minutes on 2 cores
    python examples/training.py --reduced            # the small version, in seconds (what check.json holds)
    python examples/training.py --logs runs/training # keep the monitors' logs (tensorboard --logdir runs/training)

The adding problem (Hochreiter & Schmidhuber 1997): a sequence of `lag` steps of
(value ~ U(0, 1), marker), two of the markers set, one in each half; the target is the
sum of the two marked values, read from the last state, so the task needs gradients
that reach `lag` steps back. Guessing 1 gives an MSE of 1/6; a prediction within 0.04
of the target counts as correct (accuracy).

Each network (`torch.nn.RNN/GRU/LSTM`, hidden 64, a linear readout) trains with a
`Monitor` on its recurrent module, written as a user would write it (see `train`): every
`every` steps the monitor snapshots the weights and the training batch and analyses
them in its background worker, while the loop logs the loss and, on those steps, the
accuracy. `gradscope.monitor.track` then reads the three monitors' logs (their analyses
come from the run cache) and writes the report: growth rate, lambda_1 and horizon over
training beside the accuracy, the gradient-flow map, and the findings in numbers: when
each model's horizon passed the task's lag, and whether that came before its accuracy
rose. `check.json` holds the same numbers at reduced size; tests/test_examples.py
recomputes it.
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
REPORT = HERE.parent / "reports" / "training"
COMMAND = "python examples/training.py"
CELLS = ("rnn", "gru", "lstm")
MODULES = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
FULL = {"hidden": 64, "lag": 50, "batch": 64, "iterations": {"rnn": 800, "gru": 800, "lstm": 1600},
        "lr": {"rnn": 1e-3, "gru": 1e-2, "lstm": 1e-2}, "dtype": torch.float32, "every": 50, "background": True,
        "analysis": {"steps": 300, "transient": 100, "trials": 4, "exponents": 4}}
REDUCED = {"hidden": 16, "lag": 20, "batch": 16, "iterations": {"rnn": 30, "gru": 30, "lstm": 30},
           "lr": {"rnn": 1e-3, "gru": 1e-2, "lstm": 1e-2}, "dtype": torch.float64, "every": 10, "background": False,
           "analysis": {"steps": 60, "transient": 20, "trials": 2, "exponents": 2}}
TOLERANCE = 0.04  # a prediction this close to the target is correct
LEARNED = 0.9  # accuracy above which a model has learned the task


def adding_batch(n: int, lag: int, generator: torch.Generator, dtype=torch.float32):
    """`(x (lag, n, 2), y (n,))`: values U(0, 1) and two markers, one in each half."""
    x = torch.zeros(lag, n, 2, dtype=dtype)
    x[:, :, 0] = torch.rand(lag, n, generator=generator, dtype=dtype)
    first = torch.randint(0, lag // 2, (n,), generator=generator)
    second = torch.randint(lag // 2, lag, (n,), generator=generator)
    rows = torch.arange(n)
    x[first, rows, 1] = x[second, rows, 1] = 1.0
    return x, x[first, rows, 0] + x[second, rows, 0]


class Model(torch.nn.Module):
    """A recurrent module and a linear readout of its last `h`."""

    def __init__(self, cell: str, hidden: int) -> None:
        super().__init__()
        self.rnn = MODULES[cell](2, hidden)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][-1]).squeeze(-1)


def accuracy(model: Model, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((model(x) - y).abs() < TOLERANCE).double().mean())


def train(cell: str, setting: dict, log_dir: Path, cache, seed: int = 0, save: Path | None = None) -> dict:
    """Train one model with a Monitor on it; its accuracies, time and what was analysed.
    With `save`, the model's `state_dict()` at initialisation and after training go to
    `save/{cell}-init.pt` and `save/{cell}-trained.pt`."""
    from gradscope import Monitor

    torch.manual_seed(seed)
    model = Model(cell, setting["hidden"]).to(setting["dtype"])
    lag, every, iterations = setting["lag"], setting["every"], setting["iterations"][cell]
    test = adding_batch(1000, lag, torch.Generator().manual_seed(99), setting["dtype"])
    optimizer = torch.optim.Adam(model.parameters(), lr=setting["lr"][cell])
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1 - i / (iterations + 1))
    data = torch.Generator().manual_seed(seed + 1)
    before = accuracy(model, *test)
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), save / f"{cell}-init.pt")
    start = time.perf_counter()
    # every `every` steps: the weights and the batch, analysed beside training; nothing skipped here
    with Monitor(model.rnn, every=every, log_dir=log_dir, lags=(lag,), cache=cache, background=setting["background"],
                 max_pending=iterations // every + 2, **setting["analysis"]) as monitor:
        x, _ = adding_batch(setting["batch"], lag, torch.Generator().manual_seed(seed + 2), setting["dtype"])
        monitor.update(0, inputs=x, accuracy=before)  # the initial weights
        for step in range(1, iterations + 1):
            x, y = adding_batch(setting["batch"], lag, data, setting["dtype"])
            loss = ((model(x) - y) ** 2).mean()
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
    if save is not None:
        torch.save(model.state_dict(), save / f"{cell}-trained.pt")
    return {"accuracy_init": before, "accuracy_trained": accuracy(model, *test), "seconds": seconds,
            "seconds_with_analyses": time.perf_counter() - start, "analysed": len(monitor.analysed),
            "skipped": len(monitor.skipped)}


def adding_stream(path: Path, setting: dict, seed: int = 7) -> None:
    """An analysis input for `--checkpoint` runs of the saved models: per trial,
    adding-problem sequences one after another, `(1200, trials, 2)` float32: the rows of
    gradscope's default `--transient 200 --steps 1000`."""
    import numpy as np

    lag, trials = setting["lag"], setting["analysis"]["trials"]
    needed = 200 + 1000
    count = -(-needed // lag)
    x, _ = adding_batch(count * trials, lag, torch.Generator().manual_seed(seed))
    x = x.reshape(lag, count, trials, 2).transpose(0, 1).reshape(count * lag, trials, 2)
    np.save(path, x[:needed].numpy())


def measure(setting: dict, logs: Path, cache, save: Path | None = None) -> tuple[list, dict]:
    """Train the three models (monitor logs in `logs/<cell>/`, the models' state dicts
    before and after training in `save/`) and read them back through the run cache:
    `(series, task)`."""
    from gradscope.monitor.tracking import track_runs

    task = {cell: train(cell, setting, logs / cell, cache, save=save) for cell in CELLS}
    _, series, _ = track_runs([str(logs / cell) for cell in CELLS], lags=(setting["lag"],), cache=cache, jobs=1)
    for s, cell in zip(series, CELLS):
        s.label = MODULES[cell].__name__
    return series, task


def _text(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def claims(series: list, task: dict, lag: int) -> list[dict]:
    """Per model: did it learn, when did its horizon pass the lag, and was that before its
    accuracy rose?"""
    from gradscope.text.track_findings import track_findings, track_numbers

    out = []
    for s, cell, (row,), line in zip(series, CELLS, (track_numbers([x], [lag]) for x in series),
                                      track_findings(series, [lag])):
        acc = task[cell]
        first, last = s.results[0].summary, s.results[-1].summary
        learned = acc["accuracy_trained"] >= LEARNED
        passed = "horizon passed the lag" if row["passed_at"] is not None else "horizon never passed the lag"
        order = {"before": "before its accuracy rose", "after": "after its accuracy rose",
                 "same step": "as its accuracy rose"}.get(row.get("order"), "")
        verdict = f"{'learned' if learned else 'did not learn'}; {passed}" + (f" {order}" if order else "")
        numbers = {"accuracy_init": acc["accuracy_init"], "accuracy_trained": acc["accuracy_trained"],
                   "passed_at": row["passed_at"], "rose_at": row.get("rose_at"),
                   "horizon_first": row["horizon_first"], "horizon_last": row["horizon_last"]}
        for key in ("growth_rate", "lambda_1"):
            numbers[f"{key}_first"], numbers[f"{key}_last"] = first[key], last[key]
        text = (f"{line} Over training its growth rate went from {_text(first['growth_rate'])} to "
                f"{_text(last['growth_rate'])} per step and lambda_1 from {_text(first['lambda_1'])} to "
                f"{_text(last['lambda_1'])}; final accuracy {100 * acc['accuracy_trained']:.0f}%.")
        out.append({"claim": cell, "verdict": verdict, "numbers": numbers, "text": text})
    return out


def check() -> dict:
    """The reduced run's numbers and verdicts, as committed in reports/training/check.json."""
    from gradscope.report.check_json import check_summary, files_relative

    with tempfile.TemporaryDirectory() as tmp:
        series, task = measure(REDUCED, Path(tmp) / "logs", cache=Path(tmp) / "cache")
        found = [{k: v for k, v in c.items() if k != "text"} for c in claims(series, task, REDUCED["lag"])]
        results = [files_relative(r, Path(tmp) / "logs") for s in series for r in s.results]
        return check_summary(results, found, name="training")


def main(argv=None) -> int:
    from gradscope.cache import RunCache
    from gradscope.report.track_report import write_track_report
    from gradscope.results import write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="the small version, in seconds")
    parser.add_argument("--out", type=Path, default=None, help=f"report folder [default: {REPORT}]")
    parser.add_argument("--logs", type=Path, default=None, help="keep the monitors' logs here [default: a temporary "
                        "folder]")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small matrices: one thread beats two fighting for two cores
    setting = REDUCED if args.reduced else FULL
    out = args.out or (REPORT.parent / "training-reduced" if args.reduced else REPORT)
    if out.resolve().is_relative_to(Path.cwd()):  # the reports name files as a user types them
        out = Path(os.path.relpath(out))
    with tempfile.TemporaryDirectory() as tmp:
        logs = args.logs or Path(tmp) / "logs"
        cache = RunCache(Path(tmp) / "cache") if args.reduced else RunCache()
        saved = Path(tmp) / "checkpoints"
        series, task = measure(setting, logs, cache.directory, save=saved)
        found = claims(series, task, setting["lag"])
        adding_stream(saved / "adding.npy", setting)
        checkpoints = {p.name: p.read_bytes() for p in sorted(saved.iterdir())}
    seconds = sum(t["seconds"] for t in task.values())
    notes = [f"Training: adding problem, lag {setting['lag']}, hidden {setting['hidden']}, batch "
             f"{setting['batch']}, Adam with linear decay, gradient norm clipped at 1; "
             + ", ".join(f"{c} {setting['iterations'][c]} steps (lr {setting['lr'][c]:g})" for c in CELLS)
             + f"; {seconds:.0f} s of training in all on this machine, the monitor on ("
             + ", ".join(f"{c} {task[c]['analysed']} analyses" for c in CELLS)
             + f", every {setting['every']} steps, on the training batch). Accuracy: |prediction - target| < "
             f"{TOLERANCE} on 1000 test sequences, measured at the analysed steps."]
    if args.logs is None:
        notes.append("The monitors' logs (snapshots, gradscope.jsonl, TensorBoard events) went to a temporary "
                     "folder; --logs DIR keeps them.")
    write_track_report(series, out, (setting["lag"],), name="training",
                       title="Gradient flow over training: RNN, GRU and LSTM on the adding problem",
                       command=COMMAND + (" --reduced" if args.reduced else ""), notes=notes,
                       findings=[c["text"] for c in found], force=True, where=args.logs is not None)
    write_text_atomic(out / "task.json", json.dumps(task, indent=2) + "\n")
    # the models as a user saves them, to try `--checkpoint` on (README: "Trained checkpoints")
    (out / "checkpoints").mkdir(exist_ok=True)
    for name, data in checkpoints.items():
        (out / ("adding.npy" if name == "adding.npy" else f"checkpoints/{name}")).write_bytes(data)
    if not args.reduced:
        write_text_atomic(out / "check.json", json.dumps(check(), indent=2) + "\n")
    for c in found:
        print(c["text"])
    print(f"training took {seconds:.0f} s; wrote {out}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
