"""The thread policy (`numerics.threads`): chosen from the size of the work, overridable,
refused when absurd. (Recorded by `analyze`: tests/analysis/test_analysis.py; the
`--threads` option: tests/cli/test_options.py.)"""

import pytest
import torch
from click.testing import CliRunner

from gradscope.cli import main
from gradscope.numerics.threads import (
    ThreadWatch,
    check_threads,
    choose_threads,
    torch_threads,
)


def test_the_suite_runs_on_one_thread():
    # conftest's policy, so that the tests do not slow 10x on a busy machine
    assert torch.get_num_threads() == 1


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(2) as n:
        assert n == 2 and torch.get_num_threads() == 2
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(2):
        raise RuntimeError("restored on error too")
    assert torch.get_num_threads() == before


def test_small_work_gets_one_thread_and_cuda_needs_none():
    assert choose_threads(64, trials=8) == 1  # 8 trials of N = 64: the default decay
    assert choose_threads(128, trials=8) == 1  # an LSTM's D = 128: a batch of small products
    assert choose_threads(1024, device="cuda") == 1


def test_a_run_that_slows_down_drops_to_one_thread():
    with torch_threads(2):
        watch = ThreadWatch()
        for seconds in (1.0, 0.5, 0.55):  # warm-up, then steady: nothing happens
            watch.tick(seconds, 256)
        assert torch.get_num_threads() == 2 and watch.dropped is None
        watch.tick(1.5, 256)  # 3x the best time per lag: the machine got busy
        assert torch.get_num_threads() == 1 and watch.dropped == 4


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        check_threads(bad)


def test_more_threads_than_four_per_core_are_refused_in_one_line():
    """1000 threads on 2 cores made libgomp abort with a line of its own."""
    import os

    too_many = 4 * (os.cpu_count() or 1) + 1
    with pytest.raises(ValueError, match="cores; use at most"):
        check_threads(too_many)
    res = CliRunner().invoke(main, ["decay", "-n", "8", "-T", "10", "--threads", str(too_many)])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), res.output
