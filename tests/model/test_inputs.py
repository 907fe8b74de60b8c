"""Input files and generated drives: a real file is read as written; a wrong one says
what is wrong with it (naming the file, in the user's terms), in one line; .npy and
.csv of the same numbers give the same run; zeros and a constant 0 are the same drive.
(Refused on the command line before anything is written: tests/cli/test_decay.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from gradscope import Config, analyze
from gradscope.model.inputs import load_input_file

SMALL = dict(hidden=8, steps=120, trials=3, transient=20)


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


def test_input_files(tmp_path):
    steps = SMALL["steps"] + SMALL["transient"]
    x = np.random.default_rng(0).standard_normal((steps, 3))
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    a = analyze(Config(input=str(tmp_path / "x.npy"), input_size=3, **SMALL))
    b = analyze(Config(input=str(tmp_path / "x.csv"), input_size=3, **SMALL))
    np.testing.assert_allclose(a.curves["log_spectral"], b.curves["log_spectral"], rtol=1e-12)
    bad = {
        "short.npy": (np.zeros((5, 3)), "transient \\+ steps"),
        "wide.npy": (np.zeros((steps, 4)), "4 columns"),
        "nan.npy": (np.full((steps, 3), np.nan), "holds nan at row 0"),
    }
    for name, (arr, msg) in bad.items():
        np.save(tmp_path / name, arr)
        with pytest.raises(ValueError, match=msg):
            analyze(Config(input=str(tmp_path / name), input_size=3, **SMALL))
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="holds Python objects"):
        analyze(Config(input=str(tmp_path / "obj.npy"), input_size=3, **SMALL))
    with pytest.raises(ValueError, match="does not exist"):
        analyze(Config(input=str(tmp_path / "missing.csv"), **SMALL))


def test_constant_and_zero_inputs():
    z = analyze(Config(input="zeros", **SMALL))
    c = analyze(Config(input="constant", input_value=0.0, **SMALL))
    np.testing.assert_array_equal(z.curves["log_spectral"], c.curves["log_spectral"])
