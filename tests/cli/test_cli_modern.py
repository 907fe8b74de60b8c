"""The modern cells on the command line: every command runs on each of them with the same
outputs as every other cell, `gradscope cells` lists them, the theory columns say n/a
with the registry's reason, a bad option is one line, exit 2, nothing written, and
`--checkpoint` reads a mambapy Mamba layer's SSM and mingru-pytorch's minGRU; the stacked
Mamba model of examples/mamba_stack.py runs as a custom cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from cli_helpers import assert_clean_error, run

from gradscope.config import CELL_SPECS
from gradscope.results import Result

MODERN = ("lru", "mingru", "minlstm", "s6", "slstm")
TINY = ["--hidden", "8", "--steps", "40", "--trials", "2", "--transient", "10"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("cell", MODERN)
def test_decay_and_spectrum_run_on_each_modern_cell(cell, tmp_path):
    extra = ["--state-size", "2"] if cell == "s6" else []
    res = run("decay", "--cell", cell, *TINY, *extra, "--exponents", "4", "--quiet",
              "--format", "png", "--out", str(tmp_path / "d"))
    assert res.exit_code == 0, res.output
    result = Result.load(tmp_path / "d")
    for key in ("log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity", "log_weight_grad",
                "log_step_gain", "lyapunov_spectrum"):
        assert key in result.curves, key
    assert result.summary["params"] == CELL_SPECS[cell].count_params(8, 8, result.config.to_dict())
    text = (tmp_path / "d" / "summary.txt").read_text()
    assert "Pascanu bound n/a (" in text and "mean field n/a (" in text  # the registry's reason
    res = run("spectrum", "--cell", cell, *TINY, *extra, "--exponents", "3", "--quiet", "--format", "png",
              "--out", str(tmp_path / "s"))
    assert res.exit_code == 0, res.output
    assert len(Result.load(tmp_path / "s").summary["lyapunov"]) == 3


def test_compare_and_sweep_put_classic_and_modern_cells_side_by_side(tmp_path):
    res = run("compare", "--cell", "lstm,lru,mingru,minlstm,s6,slstm", *TINY, "--no-cache",
              "--quiet", "--format", "png", "--out", str(tmp_path / "c"))
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "c" / "summary.json").read_text())
    assert {r["cell"] for r in rows} == {"lstm", "lru", "mingru", "minlstm", "s6", "slstm"}
    md = (tmp_path / "c" / "report.md").read_text()
    assert "Theory n/a for lru: a linear recurrence" in md and "| n/a |" in md
    res = run("sweep", "--cell", "lru", "--r-max", "0.5:0.9:3", *TINY, "--no-cache", "--quiet", "--format", "png",
              "--out", str(tmp_path / "w"))
    assert res.exit_code == 0, res.output
    rates = {r["r_max"]: r["growth_rate"] for r in json.loads((tmp_path / "w" / "summary.json").read_text())}
    assert rates[0.5] < rates[0.7] < rates[0.9] < 0  # the ring sets the horizon


def test_cells_lists_each_modern_cell_with_its_parameters_and_paper():
    res = run("cells", "-n", "16")
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    for cell in MODERN:
        spec = CELL_SPECS[cell]
        assert f"{spec.count_params(16, 16):,}" in flat and spec.paper in flat, cell
    assert all(f"--{o}" in flat for o in ("r-min", "r-max", "max-phase", "state-size", "heads"))


@pytest.mark.parametrize("args,needle", [
    (["--cell", "gru", "--r-min", "0.5"], "r_min applies to lru only, not to gru"),
    (["--cell", "lstm", "--state-size", "4"], "state_size applies to s6 only, not to lstm"),
    (["--cell", "s6", "--heads", "2"], "heads applies to slstm only, not to s6"),
    (["--cell", "lru", "--r-min", "0.9", "--r-max", "0.5"], "r_min=0.9 must be below r_max=0.5"),
    (["--cell", "lru", "--r-max", "1.5"], "r_max must be in (0, 1]"),
    (["--cell", "lru", "--r-max", "0"], "r_max must be in (0, 1]"),
    (["--cell", "lru", "--r-min", "-0.1"], "r_min must be >= 0"),
    (["--cell", "lru", "--r-min", "1"], "r_min must be in [0, 1)"),
    (["--cell", "s6", "--state-size", "0"], "state_size must be an integer >= 1"),
    (["--cell", "slstm", "--heads", "5"], "heads=5 must divide hidden=64"),
    (["--cell", "lru", "--act", "relu"], "act='relu' does not apply to lru (a linear recurrence"),
    (["--cell", "s6", "--gain", "2"], "gain=2.0 does not apply to s6"),
    (["--cell", "mingru", "--init", "orthogonal"], "init='orthogonal' does not apply to mingru"),
])
def test_bad_options_are_one_line_exit_2_and_nothing_written(args, needle, tmp_path):
    out = tmp_path / "out"
    res = run("decay", *args, "--steps", "20", "--out", str(out))
    assert needle in assert_clean_error(res, 2)
    assert not out.exists()


def test_checkpoints_of_a_mamba_ssm_and_a_mingru(tmp_path):
    from mambapy.mamba import Mamba, MambaBlock, MambaConfig
    from minGRU_pytorch import minGRU

    torch.manual_seed(0)
    block = MambaBlock(MambaConfig(d_model=4, n_layers=1, d_state=3))
    torch.save(block.state_dict(), tmp_path / "ssm.pt")
    torch.save(Mamba(MambaConfig(d_model=4, n_layers=2, d_state=3)).state_dict(), tmp_path / "mamba.pt")
    torch.save(minGRU(5).state_dict(), tmp_path / "mingru.pt")
    res = run("decay", "--checkpoint", str(tmp_path / "ssm.pt"), "--steps", "30", "--trials", "2", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["config"]["cell"] == "s6" and doc["config"]["hidden"] == 8 and doc["config"]["state_size"] == 3
    assert doc["provenance"]["checkpoint"]["module_type"] == "mambapy MambaBlock (its SSM)"
    res = run("decay", "--checkpoint", str(tmp_path / "mamba.pt"), "--steps", "30")
    assert "holds 2 recurrent modules" in assert_clean_error(res, 2)
    res = run("decay", "--checkpoint", str(tmp_path / "mamba.pt"), "--module", "layers.1.mixer", "--steps", "30",
              "--trials", "2", "--json")
    assert res.exit_code == 0 and json.loads(res.output)["provenance"]["checkpoint"]["module"] == "layers.1.mixer"
    res = run("decay", "--checkpoint", str(tmp_path / "mingru.pt"), "--steps", "30", "--trials", "2", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["config"]["cell"] == "mingru" and doc["config"]["hidden"] == 5
    res = run("decay", "--checkpoint", str(tmp_path / "mingru.pt"), "--cell", "s6", "--steps", "30")
    assert "holds a mingru-pytorch minGRU: drop --cell" in assert_clean_error(res, 2)


def test_the_checkpointed_cells_step_as_the_modules_do(tmp_path):
    """The mapping of the keys: our cell built from the state dict steps as the module."""
    from minGRU_pytorch import minGRU

    from gradscope.config import Config
    from gradscope.model.networks import user_network

    torch.manual_seed(1)
    module = minGRU(4).double()
    torch.save(module.state_dict(), tmp_path / "g.pt")
    net = user_network(Config(checkpoint=str(tmp_path / "g.pt"), trials=1))
    x = torch.randn(1, 1, 4, dtype=torch.float64)
    h = torch.randn(1, 1, 4, dtype=torch.float64)
    with torch.no_grad():
        _, ref = module(x, h, return_next_prev_hidden=True)
    assert torch.allclose(net.custom.step(h[:, 0], x[:, 0]), ref[:, 0], atol=1e-12, rtol=0)


def test_a_stacked_mamba_model_runs_as_a_custom_cell(monkeypatch):
    monkeypatch.chdir(ROOT)
    res = run("decay", "--cell", "examples.mamba_stack:MambaStack", "--cell-arg", "n_layers=2",
              "--cell-arg", "d_model=4", "--steps", "30", "--trials", "2", "--transient", "5", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["provenance"]["custom_cell"]["state_dim"] == 2 * 8 * 4 + 2 * 8 * 3
    assert doc["summary"]["growth_rate"] < 0
