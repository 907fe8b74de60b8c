"""Train a small RNN, GRU and LSTM on the adding problem and measure what training changed; write reports/training/.

    python examples/training.py              # hidden 64, lag 50: ~1-3 min of training on 2 cores
    python examples/training.py --reduced    # the small version, in seconds (what check.json holds)

The adding problem (Hochreiter & Schmidhuber 1997): a sequence of `lag` steps of
(value ~ U(0, 1), marker), two of the markers set, one in each half; the target is the
sum of the two marked values, read from the last state. Guessing 1 gives an MSE of
1/6; a prediction within 0.04 of the target counts as correct (accuracy).

Each network (`torch.nn.RNN/GRU/LSTM`, hidden 64, and a linear readout) is saved at
initialisation and after training (`checkpoints/{cell}-{init,trained}.pt`, the model's
`state_dict()`), and gradscope analyses the six checkpoints as they are (the recurrent
module is found in the state dict) on adding-problem inputs (`adding.npy`, one stream of
sequences per trial): growth rate, horizon and lambda_1, beside each model's accuracy.
Gradient flossing (Engelken 2023) and related work predict that training moves the
exponents of a model that learns a long-memory task towards zero. `check.json` holds the
same numbers at reduced size; tests/test_examples.py recomputes it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
REPORT = HERE.parent / "reports" / "training"
COMMAND = "python examples/training.py"
CELLS = ("rnn", "gru", "lstm")
MODULES = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
FULL = {"hidden": 64, "lag": 50, "batch": 64, "iterations": {"rnn": 800, "gru": 800, "lstm": 1600},
        "lr": {"rnn": 1e-3, "gru": 1e-2, "lstm": 1e-2}, "dtype": torch.float32,
        "steps": 2500, "transient": 100, "trials": 4, "exponents": 8}
REDUCED = {"hidden": 16, "lag": 20, "batch": 16, "iterations": {"rnn": 30, "gru": 30, "lstm": 30},
           "lr": {"rnn": 1e-3, "gru": 1e-2, "lstm": 1e-2}, "dtype": torch.float64,
           "steps": 150, "transient": 30, "trials": 2, "exponents": 4}
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


def train(cell: str, setting: dict, folder: Path, seed: int = 0) -> dict:
    """Train one model, saving its checkpoint before and after; its accuracies and time."""
    torch.manual_seed(seed)
    model = Model(cell, setting["hidden"]).to(setting["dtype"])
    test = adding_batch(1000, setting["lag"], torch.Generator().manual_seed(99), setting["dtype"])
    torch.save(model.state_dict(), folder / f"{cell}-init.pt")
    before = accuracy(model, *test)
    iterations = setting["iterations"][cell]
    optimizer = torch.optim.Adam(model.parameters(), lr=setting["lr"][cell])
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1 - i / (iterations + 1))
    data = torch.Generator().manual_seed(seed + 1)
    start = time.perf_counter()
    for _ in range(iterations):
        x, y = adding_batch(setting["batch"], setting["lag"], data, setting["dtype"])
        loss = ((model(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
    seconds = time.perf_counter() - start
    torch.save(model.state_dict(), folder / f"{cell}-trained.pt")
    return {"accuracy_init": before, "accuracy_trained": accuracy(model, *test), "seconds": seconds}


def adding_stream(path: Path, setting: dict, seed: int = 7) -> None:
    """The analysis input: per trial, adding-problem sequences one after another,
    `(transient + steps, trials, 2)` float32."""
    needed = setting["transient"] + setting["steps"]
    count = math.ceil(needed / setting["lag"])
    x, _ = adding_batch(count * setting["trials"], setting["lag"], torch.Generator().manual_seed(seed))
    x = x.reshape(setting["lag"], count, setting["trials"], 2).transpose(0, 1)
    np.save(path, x.reshape(count * setting["lag"], setting["trials"], 2)[:needed].numpy())


def measure(setting: dict, out: Path, cache=None) -> tuple[list, dict]:
    """Train the three models (checkpoints in `out/checkpoints/`), write the analysis
    input `out/adding.npy` and analyse the six checkpoints: `(results, task)`."""
    from gradscope import Config
    from gradscope.runs.execute import run_grid

    folder = out / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    task = {cell: train(cell, setting, folder) for cell in CELLS}
    adding_stream(out / "adding.npy", setting)
    configs = [Config(checkpoint=str(folder / f"{cell}-{when}.pt"), act="tanh", input=str(out / "adding.npy"),
                      steps=setting["steps"], transient=setting["transient"], trials=setting["trials"],
                      exponents=setting["exponents"])
               for cell in CELLS for when in ("init", "trained")]
    return run_grid(configs, cache=cache, errors="raise"), task


def _text(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def _horizon(result) -> str:
    h = result.summary["horizon"]
    return f"{h}" if h is not None else f"> {result.summary['analysed_lags']}"


def claims(results, task: dict) -> list[dict]:
    """Per cell: did it learn, and did training move its rate and lambda_1 towards zero?"""
    out = []
    for i, cell in enumerate(CELLS):
        init, trained = results[2 * i], results[2 * i + 1]
        acc = task[cell]
        numbers = {"accuracy_init": acc["accuracy_init"], "accuracy_trained": acc["accuracy_trained"]}
        for key in ("growth_rate", "lambda_1", "horizon"):
            numbers[f"{key}_init"], numbers[f"{key}_trained"] = init.summary[key], trained.summary[key]
        learned = acc["accuracy_trained"] >= LEARNED
        closer = (abs(trained.summary["lambda_1"]) < abs(init.summary["lambda_1"])
                  and abs(trained.summary["growth_rate"]) < abs(init.summary["growth_rate"]))
        verdict = ("learned; moved towards zero" if learned and closer else "learned; did not move towards zero"
                   if learned else "did not learn; moved towards zero" if closer
                   else "did not learn; did not move towards zero")
        text = (
            f"{MODULES[cell].__name__}: task accuracy {100 * acc['accuracy_init']:.0f}% at initialisation, "
            f"{100 * acc['accuracy_trained']:.0f}% after training ({verdict.split(';')[0]}). Training moved the "
            f"growth rate from {_text(init.summary['growth_rate'])} to {_text(trained.summary['growth_rate'])} "
            f"per step, lambda_1 from {_text(init.summary['lambda_1'])} to {_text(trained.summary['lambda_1'])}, "
            f"and the horizon from {_horizon(init)} to {_horizon(trained)} steps: "
            + ("towards zero, as gradient flossing predicts for a model that learns the task." if learned and closer
               else "towards zero, although the model did not learn the task." if closer
               else "not towards zero.")
        )
        out.append({"claim": cell, "verdict": verdict, "numbers": numbers, "text": text})
    return out


def check() -> dict:
    """The reduced run's numbers and verdicts, as committed in reports/training/check.json."""
    from gradscope.report.check_json import check_summary

    with tempfile.TemporaryDirectory() as tmp:
        results, task = measure(REDUCED, Path(tmp))
        found = [{k: v for k, v in c.items() if k != "text"} for c in claims(results, task)]
        return check_summary(results, found, name="training")


def main(argv=None) -> int:
    from gradscope import write_report
    from gradscope.cache import RunCache
    from gradscope.results import write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="the small version, in seconds")
    parser.add_argument("--out", type=Path, default=None, help=f"report folder [default: {REPORT}]")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small matrices: one thread beats two fighting for two cores
    setting = REDUCED if args.reduced else FULL
    out = args.out or (REPORT.parent / "training-reduced" if args.reduced else REPORT)
    if out.resolve().is_relative_to(Path.cwd()):  # the reports name files as a user types them
        out = Path(os.path.relpath(out))
    results, task = measure(setting, out, cache=None if args.reduced else RunCache())
    found = claims(results, task)
    seconds = sum(t["seconds"] for t in task.values())
    notes = [f"Training: adding problem, lag {setting['lag']}, hidden {setting['hidden']}, batch "
             f"{setting['batch']}, Adam with linear decay, gradient norm clipped at 1; "
             + ", ".join(f"{c} {setting['iterations'][c]} steps (lr {setting['lr'][c]:g})" for c in CELLS)
             + f"; {seconds:.0f} s of training in all on this machine. Accuracy: |prediction - target| < "
             f"{TOLERANCE} on 1000 test sequences."]
    write_report(results, out, name="training", title="What training changed: RNN, GRU and LSTM on the adding "
                 "problem", command=COMMAND + (" --reduced" if args.reduced else ""), notes=notes,
                 findings=[c["text"] for c in found],
                 force=True, keep=("checkpoints", "adding.npy"))  # what the runs read stays
    write_text_atomic(out / "task.json", json.dumps(task, indent=2) + "\n")
    if not args.reduced:
        write_text_atomic(out / "check.json", json.dumps(check(), indent=2) + "\n")
    for c in found:
        print(c["text"])
    print(f"training took {seconds:.0f} s; wrote {out}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
