"""The thread policy: chosen from the size of the work, overridable, recorded."""

import pytest
import torch
from click.testing import CliRunner

from gradscope import Config, analyze
from gradscope.cli import main
from gradscope.numerics.threads import PARALLEL_WORK, check_threads, choose_threads, torch_threads


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
    assert choose_threads(8 * 64**3) == 1  # 8 trials of N = 64: the default decay
    assert choose_threads(PARALLEL_WORK * 64, device="cuda") == 1


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        check_threads(bad)


def test_analyze_records_the_threads_it_used():
    config = Config(hidden=8, steps=40, trials=2, transient=10)
    assert analyze(config, threads=2).provenance["threads"] == 2
    assert analyze(config).provenance["threads"] == 1  # chosen: small matrices
    assert torch.get_num_threads() == 1  # and given back
    with pytest.raises(ValueError, match="threads"):
        analyze(config, threads=0)


def test_threads_option():
    runner = CliRunner()
    ok = runner.invoke(main, ["decay", "-n", "8", "-T", "40", "--transient", "10", "--threads", "1", "--json"])
    assert ok.exit_code == 0, ok.output
    assert '"threads": 1' in ok.output
    bad = runner.invoke(main, ["decay", "--threads", "0"])
    assert bad.exit_code == 2 and "--threads" in bad.output
