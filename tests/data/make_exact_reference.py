"""Write `exact_reference.npz`: what `--spectral exact` returned before the fast-mode
rewrite (engine 3, commit c5056ee), for `tests/numerics/test_transport.py` to compare with.

Run against that commit's code, from a checkout or export of it:

    git -C /path/to/gradscope archive c5056ee gradscope | tar -x -C /tmp/engine3
    PYTHONPATH=/tmp/engine3 python tests/data/make_exact_reference.py
"""

import platform
from pathlib import Path

import numpy as np
import torch

from gradscope.analysis import simulate
from gradscope.config import Config
from gradscope.numerics.transport import transport

ALL = ("spectral", "rms", "loss_grad", "input_sensitivity", "weight_grad", "step_gain")
SOME = ("spectral", "rms", "loss_grad", "input_sensitivity", "weight_grad")  # RNN: J never formed


def cases():
    for cell in ("rnn", "lstm", "gru"):
        for dtype in ("float64", "float32"):
            for name, quantities in (("all", ALL), ("some", SOME)):
                yield f"{cell}-{dtype}-{name}", dict(cell=cell, hidden=8, input_size=5, steps=80, trials=2,
                                                     seed=3, dtype=dtype), quantities


def compute(config_kw, quantities):
    torch.set_num_threads(1)
    cell, traj, readout, _ = simulate(Config(**config_kw).resolved())
    with torch.no_grad():
        return transport(cell, traj.states, traj.inputs, readout, "exact", quantities=quantities)


if __name__ == "__main__":
    arrays = {}
    for name, kw, quantities in cases():
        for key, value in compute(kw, quantities).items():
            if key.startswith("log_"):
                arrays[f"{name}/{key}"] = value
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    arrays["platform"] = np.array(f"{cpu} | torch {torch.__version__}")
    np.savez_compressed(Path(__file__).with_name("exact_reference.npz"), **arrays)
