"""`gradscope decay` (and compare) on the user's networks: checkpoints and custom cells
that cannot be analysed are refused in one line, with a non-zero exit, no traceback
and nothing written; a pickle that would run code is never run; a custom cell that
fails mid-run names its code; a checkpoint's provenance in JSON and reports."""

from __future__ import annotations

import numpy as np
import torch
from helpers import MODULE_HIDDEN, MODULE_INPUTS, make_module

I, N = MODULE_INPUTS, MODULE_HIDDEN


def _cli(*args: str):
    from click.testing import CliRunner

    from gradscope.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=True)


def assert_refused(args: list[str], out, *needles: str) -> str:
    """The command exits 2 with one `Error:` line naming the problem, and writes nothing."""
    res = _cli("decay", *args, "-T", "8", "--transient", "2", "--out", str(out))
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert res.exit_code == 2, res.output
    assert len(lines) == 1 and lines[0].startswith("Error:") and "Traceback" not in res.output, res.output
    assert not out.exists()
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_refuses_a_file_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "junk.pt").write_bytes(np.random.default_rng(0).bytes(600))
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "text.safetensors").write_text("not a safetensors file")
    assert_refused(["--checkpoint", str(tmp_path / "junk.pt")], tmp_path / "out", "junk.pt", "not a PyTorch checkpoint")
    assert_refused(["--checkpoint", str(tmp_path / "empty.pt")], tmp_path / "out", "empty.pt", "is empty")
    assert_refused(["--checkpoint", str(tmp_path / "text.safetensors")], tmp_path / "out", "not a safetensors file")
    assert_refused(["--checkpoint", str(tmp_path / "missing.pt")], tmp_path / "out", "does not exist")


def test_refuses_a_state_dict_without_a_recurrent_module(tmp_path):
    torch.save(torch.nn.Linear(3, 4).state_dict(), tmp_path / "linear.pt")
    assert_refused(["--checkpoint", str(tmp_path / "linear.pt")], tmp_path / "out", "no recurrent module", "2 tensors")


class _RunsCode:
    """Unpickling this runs `open(MARKER, "w")`: a pickle that tries to run code."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_that_runs_code_is_refused_and_never_run(tmp_path):
    import subprocess
    import sys

    _RunsCode.marker = str(tmp_path / "code-ran")
    torch.save({"rnn.weight_hh_l0": torch.zeros(4, 4), "payload": _RunsCode()}, tmp_path / "evil.pt")
    line = assert_refused(["--checkpoint", str(tmp_path / "evil.pt")], tmp_path / "out", "pickled Python objects",
                          "never loads")
    assert not (tmp_path / "code-ran").exists(), line
    torch.save(torch.nn.LSTM(3, 4), tmp_path / "whole.pt")  # a whole module, not its state dict
    assert_refused(["--checkpoint", str(tmp_path / "whole.pt")], tmp_path / "out", "torch.nn.modules.rnn.LSTM",
                   "state_dict()")
    proc = subprocess.run([sys.executable, "-m", "gradscope", "decay", "--checkpoint", str(tmp_path / "evil.pt"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr
    assert not (tmp_path / "code-ran").exists() and not (tmp_path / "out").exists()


def test_rnn_state_dict_needs_act(tmp_path):
    torch.save(make_module("rnn", "relu").state_dict(), tmp_path / "rnn.pt")
    assert_refused(["--checkpoint", str(tmp_path / "rnn.pt")], tmp_path / "out", "--act tanh or --act relu")
    assert_refused(["--checkpoint", str(tmp_path / "rnn.pt"), "--act", "sigmoid"], tmp_path / "out",
                   "--act", "tanh or relu")
    res = _cli("decay", "--checkpoint", str(tmp_path / "rnn.pt"), "--act", "relu", "-T", "8", "--transient", "2", "-q")
    assert res.exit_code == 0, res.output


def test_refuses_by_name_what_it_cannot_analyse(tmp_path):
    torch.save(torch.nn.LSTM(3, 4, bidirectional=True).state_dict(), tmp_path / "bi.pt")
    torch.save(torch.nn.LSTM(3, 4, proj_size=2).state_dict(), tmp_path / "proj.pt")
    torch.save({"enc": torch.nn.GRU(3, 4).state_dict(), "dec": torch.nn.LSTM(4, 4, 2).state_dict()},
               tmp_path / "two.pt")
    torch.save(torch.nn.GRU(3, 4, 2).state_dict(), tmp_path / "gru2.pt")
    out = tmp_path / "out"
    assert_refused(["--checkpoint", str(tmp_path / "bi.pt")], out, "bidirectional")
    assert_refused(["--checkpoint", str(tmp_path / "proj.pt")], out, "proj_size=2")
    assert_refused(["--checkpoint", str(tmp_path / "two.pt")], out, "2 recurrent modules", "'enc' (nn.GRU",
                   "'dec' (nn.LSTM, 2 layers", "--module")
    assert_refused(["--checkpoint", str(tmp_path / "two.pt"), "--module", "decoder"], out, "--module", "'enc'")
    assert_refused(["--checkpoint", str(tmp_path / "gru2.pt"), "--layer", "2"], out, "--layer", "2 layers (0..1)")
    assert_refused(["--checkpoint", str(tmp_path / "gru2.pt"), "--gain", "2"], out, "--gain", "weights are fixed")
    assert_refused(["--checkpoint", str(tmp_path / "gru2.pt"), "--cell", "lstm"], out, "--cell", "nn.GRU")
    assert_refused(["--checkpoint", str(tmp_path / "gru2.pt"), "--act", "relu"], out, "--act", "nn.GRU")
    assert_refused(["--checkpoint", str(tmp_path / "gru2.pt"), "--exponents", "9"], out, "--exponents", "8")
    assert_refused(["--checkpoint", str(tmp_path / "gru2.pt"), "--input", "zeros", "--input-size", "5"], out,
                   "--input-size", "takes 3 inputs")


def test_refuses_damaged_weights_in_one_line(tmp_path):
    """No units, a stack whose first layer is missing, sparse or meta tensors."""
    rnn2 = make_module("rnn", layers=2).state_dict()
    cases = {
        "zero.pt": ({"weight_hh": torch.zeros(0, 0), "weight_ih": torch.zeros(0, 3)}, "no units"),
        "gap.pt": ({k: v for k, v in rnn2.items() if not k.endswith("_l0")}, "weight_hh_l0 is missing"),
        "sparse.pt": ({**rnn2, "weight_hh_l0": rnn2["weight_hh_l0"].to_sparse()}, "not dense"),
        "meta.pt": ({**rnn2, "weight_hh_l0": rnn2["weight_hh_l0"].to("meta")}, "not dense"),
    }
    for name, (state, needle) in cases.items():
        torch.save(state, tmp_path / name)
        assert_refused(["--checkpoint", str(tmp_path / name), "--act", "tanh"], tmp_path / "out", name, needle)


def test_refuses_a_cell_and_a_module_under_one_name(tmp_path):
    state = {**torch.nn.RNNCell(I, N).state_dict(), **make_module("rnn").state_dict()}
    torch.save(state, tmp_path / "mixed.pt")
    assert_refused(["--checkpoint", str(tmp_path / "mixed.pt"), "--act", "tanh"], tmp_path / "out",
                   "both a cell's weight_hh and a module's weight_hh_l0")


def test_checkpoint_in_json_and_compare_side_by_side(tmp_path):
    import json

    torch.save(make_module("gru", seed=0).state_dict(), tmp_path / "init.pt")
    torch.save(make_module("gru", seed=1).state_dict(), tmp_path / "trained.pt")
    res = _cli("decay", "--checkpoint", str(tmp_path / "init.pt"), "-T", "10", "--transient", "2", "--json")
    doc = json.loads(res.output)
    ck = doc["provenance"]["checkpoint"]
    assert ck["path"] == str(tmp_path / "init.pt") and len(ck["sha256"]) == 64 and ck["module_type"] == "nn.GRU"
    assert "fixed" in ck["weights"] and doc["config"]["h0_std"] == 0.0
    res = _cli("compare", "--checkpoint", f"{tmp_path / 'init.pt'},{tmp_path / 'trained.pt'}", "-T", "10",
               "--transient", "2", "--no-cache", "--format", "svg", "--out", str(tmp_path / "report"), "-q")
    assert res.exit_code == 0, res.output
    md = (tmp_path / "report" / "report.md").read_text()
    assert "init.pt (nn.GRU, sha256" in md.replace("\\_", "_") and "trained.pt (nn.GRU, sha256" in md


# -- custom cells --------------------------------------------------------------------
def test_custom_cell_on_the_command_line(cells_module):
    from click.testing import CliRunner

    from gradscope.cli import main

    res = CliRunner().invoke(main, ["decay", "--cell", f"{cells_module}:MyGRU", "--cell-arg", "input_size=3",
                                    "--cell-arg", "hidden_size=4", "-T", "20", "--transient", "5", "-q"])
    assert res.exit_code == 0, res.output
    for args, needle in [
        ([f"{cells_module}:Nope"], "gs_test_cells has no Nope"),
        (["no_such_module_xyz:Cell"], "cannot import no_such_module_xyz"),
        ([f"{cells_module}:wrong_shape"], "returned (8,) per example; the declared state has 4 numbers"),
        ([f"{cells_module}:fused"], "LSTMCell, whose fused kernel torch.func cannot batch"),
        ([f"{cells_module}:MyGRU", "--cell-arg", "size=3"], "MyGRU(**{'size': 3}) raised TypeError"),
    ]:
        res = CliRunner().invoke(main, ["decay", "--cell", *args, "-T", "5", "--transient", "1"])
        lines = res.output.strip().splitlines()
        assert res.exit_code == 2 and len(lines) == 1 and needle in lines[0], res.output


FAILS_LATER = """
import torch

class FailsLater(torch.nn.Module):
    def __init__(self, hidden_size=4, input_size=4, how="key"):
        super().__init__()
        self.hidden_size, self.input_size, self.how, self.calls = hidden_size, input_size, how, 0
        self.weight_hh = torch.nn.Parameter(0.1 * torch.eye(hidden_size))

    def forward(self, x, h):
        self.calls += 1
        if self.calls > 3 and self.how == "key":
            raise KeyError("a key the cell lost")
        if self.calls > 3 and self.how == "tuple":
            return (h, h)
        return torch.tanh(h @ self.weight_hh + x)
"""


def test_a_custom_cell_that_fails_mid_run_is_one_line_naming_its_code(tmp_path, monkeypatch):
    """What the user's step raises after the first steps (or returns), with file:line, exit 1."""
    from click.testing import CliRunner

    from gradscope.cli import main

    (tmp_path / "gs_fails_later.py").write_text(FAILS_LATER)
    monkeypatch.chdir(tmp_path)
    try:
        for how, needle in (("key", "its step raised KeyError: 'a key the cell lost' (at gs_fails_later.py:13)"),
                            ("tuple", "its step returned tuple per example")):
            res = CliRunner().invoke(main, ["decay", "--cell", "gs_fails_later:FailsLater", "--cell-arg",
                                            f"how={how}", "-T", "10", "--transient", "2", "-b", "2",
                                            "--out", str(tmp_path / how)])
            lines = res.output.strip().splitlines()
            assert res.exit_code == 1 and len(lines) == 1 and needle in lines[0], res.output
            assert not (tmp_path / how).exists()
    finally:
        import sys

        sys.modules.pop("gs_fails_later", None)
