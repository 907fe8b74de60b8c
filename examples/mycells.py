"""A custom cell for `--cell examples.mycells:LeakyRNN`: a leaky (continuous-time) tanh RNN.

    gradscope decay --cell examples.mycells:LeakyRNN --cell-arg hidden_size=64 --cell-arg alpha=0.1

`h' = (1 - alpha) h + alpha tanh(W_ih x + b_ih + W_hh h + b_hh)`: the Euler step of
`tau dh/dt = -h + tanh(...)` with `alpha = dt / tau`, as models in computational
neuroscience write it. alpha = 1 is the vanilla tanh RNN; a small alpha keeps every
unit's own past, so gradients decay more slowly. gradscope differentiates it with
torch.func (`FuncCell`); the weight gradient is over `weight_hh`.

`lstm_step` is a cell written as a plain function, for the Python API:
`FuncCell(lstm_step, state_size=(N, N), input_size=I, params={"weight_ih": ..., ...})`.
"""

from __future__ import annotations

import math

import torch


class LeakyRNN(torch.nn.Module):
    """Called as PyTorch's cells are, `cell(x, h) -> h'`, on one example or a batch."""

    def __init__(self, hidden_size: int = 64, input_size: int | None = None, alpha: float = 0.1,
                 gain: float = 1.0) -> None:
        super().__init__()
        self.hidden_size, self.input_size = hidden_size, input_size or hidden_size
        self.state_size, self.alpha = hidden_size, alpha
        bound = 1 / math.sqrt(hidden_size)  # PyTorch's default U(-1/sqrt(N), 1/sqrt(N))
        self.weight_ih = torch.nn.Parameter(torch.empty(hidden_size, self.input_size).uniform_(-bound, bound))
        self.weight_hh = torch.nn.Parameter(gain * torch.empty(hidden_size, hidden_size).uniform_(-bound, bound))
        self.bias_ih = torch.nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))
        self.bias_hh = torch.nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        drive = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        return (1 - self.alpha) * h + self.alpha * torch.tanh(drive)


def lstm_step(state: tuple[torch.Tensor, torch.Tensor], x: torch.Tensor, p: dict) -> tuple:
    """One step of PyTorch's LSTM (gates i, f, g, o) for one example: `(h, c), x -> (h', c')`."""
    h, c = state
    i, f, g, o = (p["weight_ih"] @ x + p["bias_ih"] + p["weight_hh"] @ h + p["bias_hh"]).chunk(4)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
