"""A float32 retain-grad BPTT loop reads exactly 0 beyond lag ~26 for a sigmoid RNN; gradscope's log-space curve keeps going."""

import sys

import numpy as np
import torch

from gradscope import Config, analyze


def bptt_norms(steps: int, hidden: int, seed: int = 0) -> np.ndarray:
    """||dL/dh_{T-k}|| for k = 0..steps from a plain float32 autograd loop (nn.RNNCell weights, sigmoid)."""
    torch.manual_seed(seed)
    cell = torch.nn.RNNCell(hidden, hidden, nonlinearity="tanh")
    h = torch.randn(1, hidden)
    states = []
    for _ in range(steps):
        h = torch.sigmoid(cell.weight_ih @ torch.randn(hidden) + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh)
        h.retain_grad()
        states.append(h)
    readout = torch.randn(hidden)
    (h[0] @ (readout / readout.norm())).backward()
    return np.array([float(s.grad.norm()) for s in reversed(states)])


def main(quick: bool = "--quick" in sys.argv) -> None:
    torch.set_num_threads(1)
    steps, hidden = (100, 16) if quick else (300, 64)
    naive = bptt_norms(steps, hidden)
    zero_from = int(np.argmax(naive == 0.0)) if (naive == 0.0).any() else None
    result = analyze(Config(cell="rnn", act="sigmoid", hidden=hidden, steps=steps, trials=2))
    log10 = np.median(result.curves["log_loss_grad"], axis=0) / np.log(10)
    print(f"float32 BPTT: the gradient is exactly 0 from lag {zero_from} on")
    print(f"gradscope: lag {steps - 1} still reads 10^{log10[steps - 1]:.0f} (log space, float64 scale)")
    assert zero_from is not None and zero_from < 60, zero_from
    assert np.isfinite(log10[steps - 1]) and log10[steps - 1] < -40
    print("ok")


if __name__ == "__main__":
    main()
