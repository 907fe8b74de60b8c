"""Input files: a real file is read as written; a wrong one says what is wrong with it
(naming the file, in the user's terms), in one line, before anything is written."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from gradscope import Config, analyze
from gradscope.cli import main
from gradscope.model.inputs import load_input_file


def _refusal(path, needed=10, trials=2, width=3, loop=False) -> str:
    with pytest.raises(ValueError) as info:
        load_input_file(str(path), needed, trials, width, loop)
    message = str(info.value)
    assert "\n" not in message and repr(str(path)) in message
    return message


def test_wrong_files_say_what_is_wrong(tmp_path):
    rng = np.random.default_rng(0)
    cases = {}
    (tmp_path / "random.npy").write_bytes(rng.bytes(400))
    cases["random.npy"] = "is not a NumPy .npy file"
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    cases["objects.npy"] = "holds Python objects (dtype object), which gradscope never unpickles"
    np.save(tmp_path / "complex.npy", np.ones((12, 3), dtype=complex))
    cases["complex.npy"] = "holds complex128, not real numbers"
    np.save(tmp_path / "short.npy", np.ones((4, 3)))
    cases["short.npy"] = "has 4 steps; transient + steps = 10"
    np.save(tmp_path / "wide.npy", np.ones((12, 5)))
    cases["wide.npy"] = "has 5 columns; the network takes 3 inputs per step"
    bad = np.ones((12, 3))
    bad[6, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    cases["nan.npy"] = "holds nan at row 6 (step 7)"
    (tmp_path / "empty.csv").write_text("")
    cases["empty.csv"] = "is empty"
    (tmp_path / "words.csv").write_text("1,2,3\n4,five,6\n")
    cases["words.csv"] = "is not a table of numbers: line 2 (column 2) holds 'five'"
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n")
    cases["ragged.csv"] = "line 2 has 2 values where the lines before have 3"
    (tmp_path / "inf.csv").write_text("a,b,c\n" + "1,2,3\n" * 4 + "1,inf,3\n" + "1,2,3\n" * 6)
    cases["inf.csv"] = "holds inf at line 6 (step 5)"
    with open(tmp_path / "truncated.npy", "wb") as fh:
        np.save(fh, np.ones((50, 3)))
    (tmp_path / "truncated.npy").write_bytes((tmp_path / "truncated.npy").read_bytes()[:300])
    cases["truncated.npy"] = "is truncated"
    for name, needle in cases.items():
        message = _refusal(tmp_path / name)
        assert needle in message, (name, message)
        assert "allow_pickle" not in message and "memory-mapped" not in message


def test_a_real_csv_with_a_header_and_input_loop(tmp_path):
    rows = np.arange(12.0).reshape(4, 3)
    (tmp_path / "data.csv").write_text("time,temperature,humidity\n" + "\n".join(",".join(map(str, r)) for r in rows))
    assert "--input-loop" in _refusal(tmp_path / "data.csv")
    out = load_input_file(str(tmp_path / "data.csv"), 10, 2, 3, loop=True)
    assert out.shape == (10, 2, 3)
    np.testing.assert_array_equal(out[:, 1], np.concatenate([rows, rows, rows])[:10])


def test_input_loop_equals_the_file_written_out(tmp_path):
    x = np.random.default_rng(1).standard_normal((30, 4))
    np.save(tmp_path / "short.npy", x)
    np.save(tmp_path / "long.npy", np.concatenate([x, x, x]))
    kw = dict(cell="gru", hidden=4, input_size=4, steps=60, transient=10, trials=2, exponents=2)
    looped = analyze(Config(input=str(tmp_path / "short.npy"), input_loop=True, **kw))
    whole = analyze(Config(input=str(tmp_path / "long.npy"), **kw))
    for key in ("log_spectral", "log_loss_grad", "lyapunov_spectrum"):
        np.testing.assert_array_equal(looped.curves[key], whole.curves[key])


@pytest.mark.parametrize("content, needle", [
    (np.ones((40, 2)), "has 2 columns; the network takes 3 inputs"),
    (np.where(np.arange(120).reshape(40, 3) == 50, np.nan, 1.0), "holds nan at row 16"),
    (None, "is empty"),
])
def test_cli_refuses_the_input_before_writing(tmp_path, content, needle):
    path = tmp_path / ("x.npy" if content is not None else "x.csv")
    if content is None:
        path.write_text("")
    else:
        np.save(path, content)
    res = CliRunner().invoke(main, ["decay", "-n", "4", "--input-size", "3", "-T", "20", "--transient", "5",
                                    "--input", str(path), "--out", str(tmp_path / "out")])
    lines = res.output.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), res.output
    assert needle in lines[0] and "'--input'" in lines[0]
    assert not (tmp_path / "out").exists()
