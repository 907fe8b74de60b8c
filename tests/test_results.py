"""Results on disk (`results`): save then load gives back every summary and array; an
interrupted save leaves the earlier files whole; what is not a result is refused (and
never unpickled)."""

import json

import numpy as np
import pytest

from gradscope import Config, Result, analyze

SMALL = dict(hidden=8, steps=120, trials=3, transient=20)


def test_save_then_load_gives_equal_summaries_and_arrays(tmp_path):
    r = analyze(Config(exponents=2, **SMALL))
    r.save(tmp_path / "run")
    back = Result.load(tmp_path / "run")
    assert back.summary == json.loads(r.to_json())["summary"]
    assert back.config == r.config
    assert set(back.curves) == set(r.curves)
    for k, v in r.curves.items():
        np.testing.assert_array_equal(back.curves[k], v)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["curves.npz", "result.json"]


def test_interrupted_save_leaves_no_half_written_file(tmp_path, monkeypatch):
    r = analyze(Config(**SMALL))
    r.save(tmp_path)
    before = (tmp_path / "result.json").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        analyze(Config(**{**SMALL, "seed": 5})).save(tmp_path)
    assert (tmp_path / "result.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.npz", "result.json"]


def test_load_refuses_what_is_not_a_result(tmp_path):
    (tmp_path / "result.json").write_text("{\"hello\": 1}")
    with pytest.raises(ValueError, match="not a gradscope result"):
        Result.load(tmp_path)
    r = analyze(Config(**SMALL))
    r.save(tmp_path)
    (tmp_path / "curves.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ValueError, match="cannot read"):
        Result.load(tmp_path)
    np.savez(tmp_path / "curves.npz", lag=np.array([{"pickled": 1}], dtype=object))
    with pytest.raises(ValueError, match="cannot read"):  # never unpickled
        Result.load(tmp_path)
