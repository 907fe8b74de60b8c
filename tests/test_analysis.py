"""The pipeline end to end: Config validation, figures, theory, Lyapunov oracles, files."""

import json
import math

import numpy as np
import pytest
import torch
from helpers import trajectory

from gradscope import Config, NonFiniteStateError, Result, analyze
from gradscope.numerics.metrics import (
    decay_figures,
    kaplan_yorke,
    median,
    quantiles,
    rate_figures,
    regime,
    slope,
)
from gradscope.numerics.spectrum import lyapunov_spectrum
from gradscope.numerics.theory.mean_field import critical_gain, mean_field
from gradscope.results import SUMMARY_KEYS

SMALL = dict(hidden=8, steps=120, trials=3, transient=20)


# -- Config ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field,value,words",
    [
        ("cell", "lstmx", ["cell", "rnn, lstm, gru"]),
        ("act", "swish", ["act", "sigmoid", "hardtanh"]),
        ("hidden", 0, ["hidden", ">= 1"]),
        ("steps", -5, ["steps"]),
        ("gain", float("nan"), ["gain", "finite"]),
        ("init", "he", ["init", "orthogonal"]),
        ("eps", 2.0, ["eps"]),
        ("input", "file.txt", ["input", ".npy/.csv"]),
        ("exponents", 9, ["exponents", "state dimension 8"]),
        ("dtype", "float16", ["dtype", "float32"]),
        ("trials", True, ["trials"]),
    ],
)
def test_config_rejects_bad_values_naming_field_and_choices(field, value, words):
    with pytest.raises(ValueError) as info:
        Config(**{**SMALL, field: value})
    for w in words:
        assert w in str(info.value)


def test_config_round_trips_and_hashes_stably():
    c = Config(cell="gru", gain=2, bias_std=0.1)
    assert Config.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert c.key() == Config(cell="gru", gain=2.0, bias_std=0.1).key()
    assert c.key() != Config(cell="gru", gain=2.5, bias_std=0.1).key()
    with pytest.raises(ValueError, match="unknown configuration key"):
        Config.from_dict({"cel": "rnn"})


# -- metrics --------------------------------------------------------------------------
def test_rates_horizon_and_regime_from_known_lines():
    k = np.arange(401.0)
    curves = np.stack([-0.5 * k, -0.6 * k, -0.7 * k])
    f = decay_figures(curves, eps=1e-6)
    assert f["growth_rate"] == pytest.approx(-0.6)
    assert f["growth_rate_q10"] == pytest.approx(-0.68) and f["growth_rate_q90"] == pytest.approx(-0.52)
    assert f["half_life"] == pytest.approx(math.log(2) / 0.6)
    assert f["horizon"] == math.ceil(math.log(1e6) / 0.6 + 1e-12)
    assert f["regime"] == "vanishing" and f["explosion_lag"] is None
    up = decay_figures(0.2 * k[None].repeat(2, 0), eps=1e-6)
    assert up["regime"] == "exploding" and up["explosion_lag"] == 70
    assert up["horizon"] is None and up["horizon_censored"] is False  # no horizon applies: not censored
    flat = decay_figures(-1e-5 * k[None].repeat(2, 0), eps=1e-6)  # neither falls below eps nor explodes
    assert flat["horizon"] is None and flat["horizon_censored"] is True
    assert up["doubling_time"] == pytest.approx(math.log(2) / 0.2)
    assert regime(5e-4, 0.0) == "marginal" and regime(-0.01, 0.01) == "marginal"


def test_fit_ignores_unmeasured_lags_and_zero_gain():
    k = np.arange(101.0)
    curve = -0.3 * k
    curve[60:] = np.nan  # a run that stopped at lag 59
    assert rate_figures(curve[None])["rate"] == pytest.approx(-0.3)
    assert slope(np.where(k < 50, -k, -np.inf), 0, 100) == pytest.approx(-1.0)


def test_median_and_quantiles_are_numpys_to_the_last_bit():
    """Our sort-based median and linear quantiles (which spare a bare `decay` the import of
    numpy.ma) against numpy's own: odd and even counts, NaN, infinities, a huge range."""
    rng = np.random.default_rng(3)
    inf, nan = np.inf, np.nan
    cases = [rng.normal(size=(8, 50)), rng.normal(size=(7, 30)) * 1e5, rng.normal(size=(1, 4)),
             np.array([[1.0, inf, nan], [2.0, inf, 0.0], [-inf, -inf, 1.0], [3.0, inf, 2.0]]),
             np.array([[inf, -inf]]).T, rng.normal(size=5) * 1e300, np.full((3, 2), -inf),
             np.array([1e308, 1e308, -1e308, 1e308]),  # the middle pair's sum overflows, as numpy's does
             rng.normal(size=(6, 9)).astype(np.float32), np.array([3, 1, 2, 8]), np.array([[2.5]])]
    for values in cases:
        for axis in (None, 0, -1):
            with np.errstate(invalid="ignore", over="ignore"):
                want, got = np.median(values, axis=axis), median(values, axis=axis)
            assert np.array_equal(want, got, equal_nan=True), (values, axis)
            assert np.asarray(got).dtype == np.asarray(want).dtype and np.ndim(got) == np.ndim(want)
    for n in (1, 2, 3, 8, 9, 31, 1000):
        for _ in range(20):
            x = rng.normal(size=n) * rng.choice([1e-3, 1.0, 1e6])
            for qs in ([0.1, 0.9], [0.0, 0.5, 1.0], [0.25]):
                assert np.array_equal(np.quantile(x, qs), quantiles(x, qs)), (x, qs)


def test_analysis_does_not_import_numpy_ma():
    """numpy's median and quantile import numpy.ma on first use (~0.1 s of a bare decay)."""
    import subprocess
    import sys

    code = ("import sys\nfrom gradscope import Config, analyze\n"
            "analyze(Config(hidden=8, steps=60, trials=3, transient=5), command='t', threads=1)\n"
            "print('MA', 'numpy.ma' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "MA False" in out.stdout, out.stderr


def test_kaplan_yorke_dimension():
    assert kaplan_yorke(np.array([0.5, -0.2, -1.0])) == pytest.approx(2.3)
    assert kaplan_yorke(np.array([-0.1, -0.2])) == 0.0
    assert kaplan_yorke(np.array([0.3, 0.1])) is None


# -- theory ---------------------------------------------------------------------------
def test_mean_field_closed_forms():
    # linear cell: q* = sigma_u^2 / (1 - sigma_w^2), chi = sigma_w^2
    mf = mean_field("identity", 0.64, sigma_u2=0.36)
    assert mf["q"] == pytest.approx(1.0) and mf["chi"] == pytest.approx(0.64)
    # relu: chi = sigma_w^2 / 2 whatever q; the edge of chaos at sigma_w^2 = 2
    assert mean_field("relu", 1.5, 0.2)["chi"] == pytest.approx(0.75)
    assert critical_gain("relu", "normal") == pytest.approx(math.sqrt(2), abs=1e-6)
    # tanh without drive: the transition is at sigma_w = 1
    assert mean_field("tanh", 0.81)["chi"] == pytest.approx(0.81, abs=1e-6)


@pytest.mark.parametrize("gain,init", [(1.0, "default"), (0.5, "normal")])
def test_mean_field_predicts_the_measured_rms_rate_at_large_width(gain, init):
    r = analyze(Config(cell="rnn", act="tanh", init=init, gain=gain, hidden=128, steps=150,
                       trials=2, transient=100))
    assert r.summary["rms_growth_rate"] == pytest.approx(r.summary["mean_field_rate"], abs=0.03)


def test_pascanu_bound_holds_and_uses_the_largest_singular_value():
    config = Config(cell="rnn", act="sigmoid", init="normal", gain=3.0, **SMALL)
    r = analyze(config)
    assert r.summary["growth_rate"] <= r.summary["pascanu_rate"]
    # independently: the median over trials of log(sigma_max(W_hh) / 4), not the spectral radius
    from gradscope.model.draws import trial_streams
    from gradscope.model.initialization import build

    cell = build(config.resolved(), trial_streams(config.seed, config.trials))[0]
    w = cell.w.weight_hh
    smax = np.linalg.svd(w.numpy(), compute_uv=False)[:, 0]
    radius = np.abs(np.linalg.eigvals(w.numpy())).max(axis=1)
    assert r.summary["pascanu_rate"] == pytest.approx(float(np.median(np.log(smax / 4))), abs=1e-12)
    assert (smax > radius * 1.05).all()  # the two readings differ for these non-normal W
    assert analyze(Config(cell="lstm", **SMALL)).summary["pascanu_rate"] is None


# -- Lyapunov spectrum ----------------------------------------------------------------
def test_lyapunov_exponents_of_a_linear_cell_are_log_eigenvalue_moduli():
    config, cell, traj, _ = trajectory(cell="rnn", act="identity", init="normal", gain=0.9,
                                       hidden=6, steps=4000, trials=2, input="zeros", transient=0)
    out = lyapunov_spectrum(cell, traj.states, traj.inputs, exponents=6)
    for b in range(2):
        expected = np.sort(np.log(np.abs(torch.linalg.eigvals(cell.w.weight_hh[b]).numpy())))[::-1]
        np.testing.assert_allclose(out["lyapunov_spectrum"][b], expected, atol=5e-3)
        assert out["lyapunov_spectrum"][b].sum() == pytest.approx(out["mean_log_det"][b], abs=1e-9)
    assert out["lyapunov_history"].shape[:2] == (2, 6)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sum_of_all_exponents_equals_mean_log_det(cell):
    config = Config(cell=cell, exponents=16 if cell == "lstm" else 8, **SMALL)
    s = analyze(config).summary
    assert s["sum_exponents"] == pytest.approx(s["mean_log_det"], rel=1e-9)
    assert s["lambda_1"] is not None and s["kaplan_yorke_dim"] is not None


def test_top_exponent_is_the_growth_rate_of_the_product():
    s = analyze(Config(cell="rnn", act="tanh", hidden=16, steps=1500, trials=2, exponents=1)).summary
    assert s["lambda_1"] == pytest.approx(s["growth_rate"], abs=0.02)


# -- non-finite states, strictness ----------------------------------------------------
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


def test_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        analyze(Config(device="cuda", **SMALL))


# -- results on disk ------------------------------------------------------------------
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


# -- inputs ---------------------------------------------------------------------------
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


def test_a_gradient_that_reaches_exactly_zero_is_vanishing():
    k = np.arange(50.0)
    curves = np.where(k < 2, -k, -np.inf)[None].repeat(3, 0)  # exactly zero from lag 2
    f = decay_figures(curves, eps=1e-6)
    assert f["growth_rate"] is None and f["regime"] == "vanishing" and f["horizon"] == 2


def test_huge_ranges_are_refused_before_they_are_built():
    from gradscope.runs.ranges import parse_range

    with pytest.raises(ValueError, match="limit"):
        parse_range("1:2:1000000000", float)
    with pytest.raises(ValueError, match="limit"):
        parse_range("1:100000000", int)
