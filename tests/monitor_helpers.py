"""Helpers of the monitor's tests (imported from any folder of the suite): a tiny
recurrent model trained for a few steps with a `Monitor` on it, the analysis sizes that
keep each analysis to a fraction of a second, and the recorded command run in this
process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

#: Analysis options small enough for the suite (each analysis well under a second).
SMALL = {"steps": 40, "transient": 10, "trials": 2, "exponents": 2}


class TinyModel(torch.nn.Module):
    """An `nn.LSTM` (or RNN, GRU) of 8 units on 2 inputs, and a linear readout."""

    def __init__(self, kind: str = "lstm", hidden: int = 8, layers: int = 1) -> None:
        super().__init__()
        self.rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind](2, hidden, layers)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][-1]).squeeze(-1)


def batch(generator: torch.Generator, length: int = 12, size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences `(length, size, 2)` and the sum of their first column as the target."""
    x = torch.rand(length, size, 2, generator=generator)
    return x, x[:, :, 0].sum(0)


def train(monitor: Any, model: TinyModel, steps: int = 20, seed: int = 0, with_inputs: bool = True,
          metrics: bool = True) -> list[float]:
    """A few steps of Adam on `batch`, `monitor.update` after each (inputs and loss
    given); the losses."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(1, steps + 1):
        x, y = batch(gen)
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        kw = {"loss": losses[-1]} if metrics else {}
        monitor.update(step, inputs=x if with_inputs else None, **kw)
    return losses


def analyses(log_dir: str | Path) -> list[dict[str, Any]]:
    """The analysis documents of a monitor's gradscope.jsonl, in the order written."""
    lines = (Path(log_dir) / "gradscope.jsonl").read_text(encoding="utf-8").splitlines()
    return [d for d in map(json.loads, lines) if "summary" in d]


def run_command(argv: list[str]) -> dict[str, Any]:
    """The recorded `gradscope decay ... --json` command, run in this process: its document."""
    from click.testing import CliRunner

    from gradscope.cli import main

    assert argv[:2] == ["gradscope", "decay"] and argv[-1] == "--json", argv
    res = CliRunner().invoke(main, argv[1:], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)
