"""Run one case of the thread lane (`tests/cli/test_thread_lane.py`) on several thread
settings, in this process, as users run it: no thread variable set, the gradscope
command through its click entry point, `--json` output collected per setting.

    python tests/thread_lane_driver.py CASE WORKDIR    # prints {"1": ..., "2": ..., ...} as JSON

Settings: `1`, `2`, `4` (`--threads N`) and `auto`: the engine's own choice with its
probe forced to say that more threads pay, and for matrices of any size (on a quiet
machine it would say so for large ones: that is where users met the batched-LU hang).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

SMALL = ["--transient", "20", "--seed", "3", "--dtype", "float64"]

#: case -> (command, settings, per-run --threads is meaningful)
CASES = {
    # the command, smaller: every exponent of a 300-unit RNN (batched log|det| of W_hh)
    "spectrum-rnn-300": (["spectrum", "--cell", "rnn", "--act", "tanh", "--init", "normal", "--gain", "1.5",
                          "--bias-std", "0", "--input", "zeros", "-n", "300", "--steps", "60", "--exponents", "all",
                          "--trials", "2", *SMALL], ("1", "2", "4", "auto")),
    # materialised Jacobians of D = 160 (log|det J| of every step), exact mode
    "decay-lstm-exact": (["decay", "--cell", "lstm", "-n", "80", "--steps", "60", "--trials", "3",
                          "--exponents", "all", "--spectral", "exact", *SMALL], ("1", "2", "4", "auto")),
    # fast mode: blocks, Lanczos, self-checks; the per-step gains
    "decay-gru-fast": (["decay", "--cell", "gru", "-n", "64", "--steps", "400", "--trials", "2", *SMALL],
                       ("1", "2", "4", "auto")),
    # a research cell, every exponent (its own log|det|), D = 160
    "decay-cornn": (["decay", "--cell", "cornn", "-n", "80", "--steps", "80", "--exponents", "all",
                     "--trials", "2", *SMALL], ("1", "2", "auto")),
    # a trained checkpoint: two stacked LSTM layers (a stacked state of 2 x 2 x 48)
    "decay-checkpoint": (["decay", "--checkpoint", "{work}/lstm2.pt", "--steps", "80", "--trials", "2",
                          "--exponents", "all", "--spectral", "exact", "--transient", "20", "--seed", "3"],
                         ("1", "2", "auto")),
    # a custom cell, differentiated by torch.func
    "decay-custom": (["decay", "--cell", "examples.mycells:LeakyRNN", "--cell-arg", "hidden_size=48",
                      "--steps", "80", "--trials", "2", "--exponents", "8", "--transient", "20", "--seed", "3"],
                     ("1", "2", "auto")),
    # a grid in this process, and a sweep on a pool of two workers (each run on --threads)
    "compare": (["compare", "--cell", "rnn,lstm", "-n", "48", "--steps", "80", "--trials", "2", "--jobs", "1",
                 "--no-cache", "--format", "svg", "--out", "{work}/compare-{setting}", *SMALL], ("1", "2", "4")),
    "sweep-pool": (["sweep", "--gain", "0.5:1.5:3", "-n", "48", "--steps", "80", "--trials", "2", "--jobs", "2",
                    "--no-cache", "--format", "svg", "--out", "{work}/sweep-{setting}", *SMALL], ("1", "2", "4")),
}


def force_parallel() -> None:
    """The engine's choice, with its probe saying that threads pay for any size."""
    import gradscope.numerics.threads as threads

    threads.PARALLEL_DIM = 1
    threads.parallel_pays = lambda *args, **kw: True


def checkpoint(path: Path) -> None:
    import torch

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(8, 48, num_layers=2)
    torch.save({"lstm": lstm.state_dict()}, path)


def main(case: str, work: Path) -> dict[str, object]:
    from gradscope.cli import main as cli

    args, settings = CASES[case]
    if case == "decay-checkpoint":
        checkpoint(work / "lstm2.pt")
    out: dict[str, object] = {}
    for setting in settings:
        argv = [a.format(work=work, setting=setting) for a in args] + ["--json"]
        if setting == "auto":
            force_parallel()
        else:
            argv += ["--threads", setting]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                cli(argv, standalone_mode=False)
            except SystemExit as exc:  # click's exits
                if exc.code not in (0, None):
                    raise
        out[setting] = json.loads(buf.getvalue())
    return out


if __name__ == "__main__":
    sys.path.append(str(Path(__file__).resolve().parents[1]))  # examples.mycells (after an installed gradscope)
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]))))
