"""Nothing outlives the training: a training script that ends without `close()`, is
interrupted (SIGINT, as Ctrl-C sends it to the whole process group, or to the script
alone) or is killed (SIGKILL) leaves no monitor worker behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = textwrap.dedent("""
    import sys, time
    from gradscope import Monitor  # before torch, which imports multiprocessing's exit function
    import torch
    sys.path.insert(0, {tests!r})
    from monitor_helpers import SMALL, TinyModel, batch

    model = TinyModel()
    monitor = Monitor(model.rnn, every=2, log_dir={log_dir!r}, cache=False, tensorboard=False, max_pending=100,
                      **SMALL)
    print(monitor.worker_pid, flush=True)
    gen = torch.Generator().manual_seed(0)
    for step in range(1, {steps}):
        x, y = batch(gen)
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        monitor.update(step, inputs=x)
        if step == 4:
            print("training", flush=True)
        time.sleep({pause})
    print("done", flush=True)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (ended, not yet reaped by its parent) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _signals(pid: int) -> str:
    """The signal masks of a process (SigBlk, SigIgn, SigCgt; SIGINT is 0x2), for a message."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as exc:
        return f"(no status: {exc})"
    return ", ".join(line.replace("\t", " ") for line in lines if line.startswith(("SigBlk", "SigIgn", "SigCgt")))


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _ctrl_c_as_in_a_terminal() -> None:
    """In the script's process before it starts: SIGINT at its default, as a script started
    from a terminal has it. The suite itself may run with SIGINT ignored (a shell starts a
    background job, `pytest &`, so), and the script would inherit that and never see the
    Ctrl-C these tests send (it did: both SIGINT cases hung)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path: Path, steps: int, pause: float = 0.05) -> tuple[subprocess.Popen, int]:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(tests=str(ROOT / "tests"), log_dir=str(tmp_path / "gs"), steps=steps,
                                    pause=pause))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path, start_new_session=True, preexec_fn=_ctrl_c_as_in_a_terminal,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)})
    first = proc.stdout.readline()
    if not first.strip().isdigit():
        proc.kill()
        raise AssertionError(f"the training script did not start: {first!r}\n{proc.stderr.read()}")
    pid = int(first)
    assert proc.stdout.readline().strip() == "training"
    assert _alive(pid)
    return proc, pid


@pytest.mark.slow
@pytest.mark.parametrize("how", ["sigkill", "sigint-group", "sigint-script"])
def test_a_killed_or_interrupted_script_leaves_no_worker(tmp_path: Path, how: str) -> None:
    proc, worker = _start(tmp_path, steps=100_000)
    try:
        if how == "sigkill":
            proc.kill()
        elif how == "sigint-group":  # Ctrl-C: the whole foreground group gets it
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:  # say why: a signal ignored or blocked (inherited?)
            raise AssertionError(f"the script did not end within 30 s of {how}: script {_signals(proc.pid)}; "
                                 f"the test's process {_signals(os.getpid())}") from None
        assert _gone_within(worker, 10), f"worker {worker} still running after {how}"
        if how != "sigkill":
            err = proc.stderr.read()
            assert "KeyboardInterrupt" in err and err.count("Traceback") == 1, err  # the script's own, once
    finally:
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)
        proc.kill()


@pytest.mark.slow
def test_a_script_that_never_closes_finishes_and_leaves_no_worker(tmp_path: Path) -> None:
    # no pause: training ends before the worker has analysed anything, so all four wait at
    # exit (and multiprocessing's own exit function, which ends daemon workers, runs after
    # the monitor's: it once ran first and the four were lost)
    proc, worker = _start(tmp_path, steps=9, pause=0)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.strip().endswith("done"), err
    assert _gone_within(worker, 10)
    logged = [json.loads(line) for line in (tmp_path / "gs" / "gradscope.jsonl").read_text().splitlines()]
    analysed = [entry["step"] for entry in logged if "summary" in entry]
    assert analysed == [2, 4, 6, 8], err  # the pending ones finished at exit
