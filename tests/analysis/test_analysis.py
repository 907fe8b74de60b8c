"""`analyze` end to end: a run whose state overflows stops, keeps what came before and
says so (or raises, strict); every summary key present and JSON-clean; seeded runs
repeat exactly; the threads it used recorded; no GPU a clear error."""

import json

import numpy as np
import pytest
import torch

from gradscope import Config, NonFiniteStateError, analyze
from gradscope.results import SUMMARY_KEYS

SMALL = dict(hidden=8, steps=120, trials=3, transient=20)
EXPLODING = dict(cell="rnn", act="relu", init="normal", gain=6.0, hidden=16, steps=600, trials=2)


def test_nonfinite_run_stops_keeps_what_came_before_and_says_so():
    r = analyze(Config(**EXPLODING))
    s = r.summary
    assert s["status"] == "nonfinite" and s["nonfinite_step"] is not None
    kept = s["analysed_lags"]
    assert 0 < kept < 600 and s["nonfinite_step"] == 200 + kept + 1
    assert np.isfinite(r.curves["log_spectral"][:, : kept + 1]).all()
    assert np.isnan(r.curves["log_spectral"][:, kept + 1 :]).all()
    assert s["regime"] == "exploding" and s["growth_rate"] > 0
    assert "non-finite at step" in s["warnings"][0] and "lower --gain" in s["warnings"][0]
    json.loads(r.to_json())  # no NaN or inf leaks into JSON
    with pytest.raises(NonFiniteStateError) as info:
        analyze(Config(**EXPLODING), strict=True)
    assert info.value.result.status == "nonfinite"


def test_nonfinite_during_the_transient_leaves_an_empty_window():
    r = analyze(Config(**{**EXPLODING, "transient": 2000, "steps": 50}))
    assert r.status == "nonfinite" and r.summary["analysed_lags"] == 0
    assert r.summary["growth_rate"] is None and np.isnan(r.curves["log_spectral"]).all()


def test_every_summary_key_present_and_json_clean():
    r = analyze(Config(**SMALL))
    assert list(r.summary) == list(SUMMARY_KEYS)
    doc = json.loads(r.to_json())
    assert doc["schema_version"] == 1 and doc["config"]["dtype"] == "float64"
    for key in ("gradscope", "torch", "numpy", "python", "seed", "dtype", "device", "threads", "time_utc", "command"):
        assert key in doc["provenance"]


def test_seeded_runs_repeat_exactly():
    a, b = analyze(Config(**SMALL)), analyze(Config(**SMALL))
    np.testing.assert_array_equal(a.curves["log_spectral"], b.curves["log_spectral"])
    c = analyze(Config(**{**SMALL, "seed": 1}))
    assert not np.array_equal(a.curves["log_spectral"], c.curves["log_spectral"])


def test_analyze_records_the_threads_it_used():
    config = Config(hidden=8, steps=40, trials=2, transient=10)
    assert analyze(config, threads=2).provenance["threads"] == 2
    assert analyze(config).provenance["threads"] == 1  # chosen: small matrices
    assert torch.get_num_threads() == 1  # and given back
    with pytest.raises(ValueError, match="threads"):
        analyze(config, threads=0)


def test_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        analyze(Config(device="cuda", **SMALL))
