"""Custom cells (`FuncCell`, torch.func; a module of the user's named by `--cell`)
reproduce the built-in cells they re-implement: every curve of the transport and the
Lyapunov spectrum, to 1e-10 in float64. (On the command line:
tests/cli/test_decay_networks.py.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from gradscope import (
    Config,
    FuncCell,
    ReplayDrive,
    analyze,
    lyapunov_spectrum,
    simulate,
    transport,
    unroll,
)

ROOT = Path(__file__).resolve().parents[2]


def _example_cells():
    """examples/mycells.py, loaded by path (the examples are no package)."""
    spec = importlib.util.spec_from_file_location("example_mycells", ROOT / "examples" / "mycells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lstm_step = _example_cells().lstm_step  # a plain-function LSTM, as a user writes one


def rnn_step(s, x, p):
    return torch.tanh(p["weight_ih"] @ x + p["bias_ih"] + p["weight_hh"] @ s + p["bias_hh"])


def every_curve(cell, traj, readout) -> dict[str, np.ndarray]:
    out = transport(cell, traj.states, traj.inputs, readout, spectral="exact")
    out.update(lyapunov_spectrum(cell, traj.states, traj.inputs, cell.state_dim))
    return out


def assert_same_curves(a: dict, b: dict, atol: float = 1e-10) -> None:
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=0, atol=atol, err_msg=key)
        assert not np.isnan(np.asarray(a[key], dtype=float)).all() or key == "fast_check", key


@pytest.mark.parametrize("cell_name, step, sizes", [("rnn", rnn_step, 6), ("lstm", lstm_step, (6, 6))])
def test_plain_function_reproduces_the_builtin_cell(cell_name, step, sizes):
    """Per-trial weights drawn by gradscope, the same trajectory, every curve."""
    config = Config(cell=cell_name, hidden=6, input_size=3, steps=40, transient=10, trials=3, seed=5)
    builtin, traj, readout, _ = simulate(config)
    custom = FuncCell(step, sizes, 3, params=builtin.parameters(), per_trial=True, trials=3, chunk_size=7)
    replay = unroll(custom, traj.states[0], ReplayDrive(traj.inputs), 0, config.steps)
    np.testing.assert_allclose(replay.states.numpy(), traj.states.numpy(), rtol=0, atol=1e-12)
    assert_same_curves(every_curve(custom, replay, readout), every_curve(builtin, traj, readout))


def test_module_cell_with_checkpoint_reproduces_the_analytic_gru(cells_module, tmp_path):
    """`--cell gs_test_cells:MyGRU --cell-arg ... --checkpoint gru.pt` against the same
    checkpoint through the built-in GRU: every curve."""
    torch.manual_seed(0)
    torch.save(torch.nn.GRUCell(3, 4).double().state_dict(), tmp_path / "gru.pt")
    common = dict(checkpoint=str(tmp_path / "gru.pt"), steps=30, transient=5, trials=2, spectral="exact",
                  exponents=4, input_std=2.0)
    custom = analyze(Config(cell=f"{cells_module}:MyGRU", cell_args="input_size=3;hidden_size=4", **common))
    builtin = analyze(Config(**common))
    assert custom.provenance["custom_cell"]["recurrent"] == ["weight_hh"]
    assert (custom.config.hidden, custom.config.input_size, custom.config.h0_std) == (4, 3, 0.0)
    keys = [k for k in builtin.curves if k != "lag"]
    assert_same_curves({k: custom.curves[k] for k in keys}, {k: builtin.curves[k] for k in keys})
    for key in ("growth_rate", "horizon", "lambda_1", "sum_exponents"):
        assert custom.summary[key] == pytest.approx(builtin.summary[key], abs=1e-10)


def test_funccell_without_parameters_has_no_weight_gradient():
    w = torch.randn(5, 5, dtype=torch.float64) / 3
    cell = FuncCell(lambda s, x: torch.tanh(w @ s + x), state_size=5, input_size=5, trials=2)
    s, x = torch.randn(4, 2, 5, dtype=torch.float64), torch.randn(4, 2, 5, dtype=torch.float64)
    lin = cell.linearize(s, x)
    expected = (1 - torch.tanh(s @ w.T + x) ** 2).unsqueeze(-1) * w
    torch.testing.assert_close(cell.jacobian(lin), expected)
    torch.testing.assert_close(cell.input_jacobian(lin), torch.diag_embed(1 - torch.tanh(s @ w.T + x) ** 2))
    assert torch.isnan(cell.weight_grad_norms(lin, torch.ones_like(s))).all()


def test_example_leaky_rnn_at_alpha_1_is_the_vanilla_rnn(tmp_path, monkeypatch):
    """`examples/mycells.py:LeakyRNN` (the README's custom cell) with alpha = 1 is a tanh
    RNN; loaded from its own state dict it gives every curve of the analytic RNN."""
    import sys

    monkeypatch.chdir(ROOT)  # --cell examples.mycells:LeakyRNN, as the README runs it
    LeakyRNN = _example_cells().LeakyRNN

    torch.manual_seed(3)
    torch.save(LeakyRNN(hidden_size=5, input_size=3, alpha=1.0, gain=2.0).state_dict(), tmp_path / "leaky.pt")
    common = dict(checkpoint=str(tmp_path / "leaky.pt"), steps=25, transient=5, trials=2, spectral="exact",
                  exponents=5, h0_std=0.5)
    custom = analyze(Config(cell="examples.mycells:LeakyRNN", cell_args="hidden_size=5;input_size=3;alpha=1",
                            **common))
    builtin = analyze(Config(act="tanh", **common))
    assert builtin.provenance["checkpoint"]["module_type"] == "nn.RNNCell"
    keys = [k for k in builtin.curves if k != "lag"]
    assert_same_curves({k: custom.curves[k] for k in keys}, {k: builtin.curves[k] for k in keys})
    sys.modules.pop("examples.mycells", None)


def test_readme_custom_cell_example_runs():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Custom cells", 1)[1].split("\n### ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README", "exec"), namespace)
    cell = namespace["cell"]
    s0 = torch.zeros(8, 32, dtype=torch.float64)
    x = torch.randn(20, 8, 4, dtype=torch.float64)
    traj = unroll(cell, s0, ReplayDrive(x), 0, 20)
    out = transport(cell, traj.states, traj.inputs, torch.eye(32, dtype=torch.float64)[:8])
    assert np.isfinite(out["log_spectral"]).all() and out["log_spectral"].shape == (8, 21)


def test_a_state_size_that_is_no_number_is_named():
    from gradscope.model.networks.funccell import FuncCell

    with pytest.raises(ValueError, match="state_size must be a number or a tuple of numbers, got 'abc'"):
        FuncCell(lambda s, x: s, state_size="abc", input_size=2)
