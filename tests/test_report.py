"""Comparison reports: run_grid with a cache, every artefact of write_report, replot."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from gradscope.cache import RunCache
from gradscope.config import Config
from gradscope.config.naming import unique_labels
from gradscope.figures.curves import log_spaced_indices
from gradscope.report.latex import latex_escape
from gradscope.report.replot import replot
from gradscope.report.write import write_report
from gradscope.results import ENGINE_VERSION, SUMMARY_KEYS, Result
from gradscope.runs.execute import run_grid
from gradscope.text.reading import reading

LOG_EPS = math.log(1e-6)


def _result(
    cell: str = "rnn",
    act: str = "tanh",
    rate: float = -0.1,
    steps: int = 120,
    trials: int = 4,
    status: str = "ok",
    stop: int | None = None,
    config: Config | None = None,
    **fields: Any,
) -> Result:
    """A synthetic run whose log spectral gain falls exactly `rate` per step (per-trial
    slopes spread by 0.01), with every summary key filled in consistently; `config`
    (if given) replaces cell, act, steps, trials and fields."""
    if config is None:
        config = Config(**{"cell": cell, "act": act, "hidden": 8, "steps": steps, "trials": trials,
                           "transient": 10, **fields})
    config = config.resolved()
    cell, act, steps, trials = config.cell, config.act, config.steps, config.trials
    rng = np.random.default_rng(abs(hash((cell, act, rate, steps))) % 2**32)
    lag = np.arange(steps + 1, dtype=np.float64)
    slopes = rate + 0.01 * np.linspace(-1, 1, trials)[:, None]
    spectral = slopes * lag
    curves = {
        "lag": lag,
        "log_spectral": spectral,
        "log_rms": spectral - 0.2,
        "log_loss_grad": spectral - 0.5,
        "log_input_sensitivity": spectral - 1.0,
        "log_weight_grad": spectral - 0.7,
        "log_step_gain": rate + 0.01 * rng.standard_normal((trials, steps)),
        "log_step_rms": rate - 0.2 + 0.01 * rng.standard_normal((trials, steps)),
    }
    if stop is not None:
        for key in ("log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity", "log_weight_grad"):
            curves[key][:, stop + 1:] = np.nan
        curves["log_step_gain"][:, stop:] = np.nan
    median = np.median(spectral, axis=0)
    below = np.flatnonzero(median < LOG_EPS)
    above = np.flatnonzero(median > -LOG_EPS)
    summary: dict[str, Any] = {k: None for k in SUMMARY_KEYS}
    summary.update(
        status=status,
        growth_rate=rate,
        growth_rate_q10=float(np.quantile(slopes, 0.1)),
        growth_rate_q90=float(np.quantile(slopes, 0.9)),
        growth_rate_se=0.005,
        rms_growth_rate=rate,
        loss_grad_rate=rate,
        factor_per_step=math.exp(rate),
        half_life=math.log(2) / -rate if rate < 0 else None,
        doubling_time=math.log(2) / rate if rate > 0 else None,
        horizon=int(below[0]) if below.size else None,
        horizon_censored=not below.size and not above.size and rate <= 1e-3,
        explosion_lag=int(above[0]) if above.size else None,
        analysed_lags=steps if stop is None else stop,
        regime="vanishing" if rate < -1e-3 else ("exploding" if rate > 1e-3 else "marginal"),
        annealed_rate=rate + 0.05,
        gamma=0.25 if act == "sigmoid" else 1.0,
        sigma_max_whh=1.2,
        params=4 * 8 * 17 * 2 if cell == "lstm" else (3 * 8 * 17 * 2 if cell == "gru" else 8 * 17 * 2),
        warnings=[],
    )
    if cell == "rnn":
        summary.update(pascanu_rate=math.log(summary["gamma"] * 1.2) + abs(rate), mean_field_rate=rate * 1.02)
    if status == "nonfinite":
        summary.update(nonfinite_step=config.transient + (stop or 0) + 1,
                       warnings=["the state became non-finite at step 71: lower --gain or --steps"])
    return Result(config=config, summary=summary, curves=curves, provenance={"gradscope": "test", "engine": ENGINE_VERSION})


@pytest.fixture
def make_result() -> Callable[..., Result]:
    """Factory of synthetic results: `make_result(cell, act, rate, steps, ...)`."""
    return _result


def _grid(make: Callable[..., Result]) -> list[Result]:
    return [
        make("rnn", "sigmoid", rate=-1.2),
        make("rnn", "tanh", rate=-0.15),
        make("lstm", "tanh", rate=-0.02),  # censored: -2.4 > log(1e-6) within 120 steps
        make("gru", "tanh", rate=-0.05),
        make("rnn", "leaky_relu", rate=0.3, status="nonfinite", stop=60),
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], list[Result]]:
    results = _grid(_result)
    out = tmp_path_factory.mktemp("report") / "cells"
    manifest = write_report(
        results, out, name="cells", title="Cells & activations",
        command=["gradscope", "compare", "--cell", "rnn,lstm,gru"], notes=["skipped rnn exponents=100"],
    )
    return out, manifest, results


# -- run_grid -------------------------------------------------------------------------


def test_interrupted_grid_keeps_finished_runs_and_resumes(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    configs = [Config(cell=c, hidden=8, steps=50, trials=2) for c in ("rnn", "lstm", "gru")]
    configs.append(Config(cell="rnn", act="sigmoid", hidden=8, steps=50, trials=2))
    cache = RunCache(tmp_path / "cache")
    calls: list[str] = []

    def interrupted(config: Config) -> Result:
        calls.append(config.key())
        if len(calls) == 3:
            raise KeyboardInterrupt
        return make_result(config=config)

    with pytest.raises(KeyboardInterrupt):
        run_grid(configs, cache=cache, compute=interrupted)
    assert len(calls) == 3
    assert cache.keys() == sorted(c.key() for c in configs[:2])

    calls.clear()
    events = []

    def counting(config: Config) -> Result:
        calls.append(config.key())
        return make_result(config=config)

    results = run_grid(configs, cache=cache, compute=counting, progress=events.append)
    assert calls == [configs[2].key(), configs[3].key()]  # only the unfinished ones
    assert [r.config.key() for r in results] == [c.key() for c in configs]
    assert [e.cached for e in events if e.stage == "done"] == [True, True, False, False]
    calls.clear()
    run_grid(configs, cache=cache, compute=counting)
    assert calls == []  # everything cached now


def test_failing_configuration_keeps_its_row(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    configs = [Config(cell="rnn", act=a, hidden=8, steps=60, trials=2) for a in ("tanh", "relu", "sigmoid")]

    def compute(config: Config) -> Result:
        if config.act == "relu":
            return make_result(rate=0.4, status="nonfinite", stop=30, config=config)
        if config.act == "sigmoid":
            raise RuntimeError("boom")
        return make_result(config=config)

    cache = RunCache(tmp_path / "cache")
    results = run_grid(configs, cache=cache, compute=compute)
    assert [r.status for r in results] == ["ok", "nonfinite", "error"]
    assert "boom" in results[2].summary["warnings"][0]
    assert len(cache) == 2  # the error is not cached: it is retried next time
    with pytest.raises(RuntimeError):
        run_grid(configs, compute=compute, errors="raise")

    out = tmp_path / "report"
    write_report(results, out, name="mixed")
    rows = list(csv.DictReader(open(out / "summary.csv", encoding="utf-8")))
    assert [r["status"] for r in rows] == ["ok", "nonfinite", "error"]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "**nonfinite at step" in md and "**error**" in md
    assert "failed, so it has no numbers" in md
    assert (out / "figures" / "overlay.pdf").is_file()


# -- the report's files ---------------------------------------------------------------


def test_report_writes_every_artefact_with_hashes(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, manifest, results = report
    for name in ("report.md", "report.html", "summary.csv", "summary.json", "curves.csv", "table.tex", "manifest.json"):
        assert (out / name).is_file(), name
    for fig in ("overlay", "small_multiples", "horizon"):
        for ext in ("pdf", "svg", "png"):
            assert (out / "figures" / f"{fig}.{ext}").stat().st_size > 1000
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest))
    assert manifest["config_keys"] == [r.config.key() for r in results]
    assert manifest["command"] == "gradscope compare --cell rnn,lstm,gru"
    assert {"gradscope", "numpy", "torch", "python"} <= set(manifest["provenance"])
    paths = {a["path"] for a in manifest["artefacts"]}
    assert "figures/overlay.pdf" in paths and f"runs/{results[0].config.key()}/curves.npz" in paths
    for art in manifest["artefacts"]:
        assert hashlib.sha256((out / art["path"]).read_bytes()).hexdigest() == art["sha256"]


def test_summary_files_have_one_row_per_configuration(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, results = report
    rows = json.loads((out / "summary.json").read_text())
    assert [r["config_id"] for r in rows] == [r.config.key() for r in results]
    assert set(SUMMARY_KEYS) <= set(rows[0]) and {"cell", "act", "hidden", "gain"} <= set(rows[0])
    assert rows[4]["status"] == "nonfinite"
    assert rows[2]["horizon"] is None and rows[2]["horizon_censored"] is True
    with open(out / "summary.csv", encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert [r["config_id"] for r in csv_rows] == [r["config_id"] for r in rows]
    assert float(csv_rows[1]["growth_rate"]) == pytest.approx(-0.15)


def test_curves_csv_is_long_and_thinned(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    long = make_result("rnn", "tanh", rate=-0.001, steps=3000, trials=2)
    write_report([long], tmp_path, name="long")
    with open(tmp_path / "curves.csv", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["config_id", "trial", "lag", "quantity", "log_value"]
        rows = list(reader)
    spectral = [r for r in rows if r[3] == "log_spectral" and r[1] == "0"]
    lags = [int(r[2]) for r in spectral]
    assert len(lags) <= 500 and lags[0] == 0 and lags[-1] == 3000 and lags == sorted(set(lags))
    assert float(spectral[-1][4]) == pytest.approx(long.curves["log_spectral"][0, -1])
    assert {r[3] for r in rows} == {"log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity", "log_weight_grad"}


def test_log_spaced_indices() -> None:
    assert list(log_spaced_indices(5)) == [0, 1, 2, 3, 4]
    for n in (501, 1000, 10_001, 100_001):
        idx = log_spaced_indices(n, 500)
        assert 400 <= len(idx) <= 500, n
        assert idx[0] == 0 and idx[-1] == n - 1
        assert np.all(np.diff(idx) > 0)
    assert len(log_spaced_indices(0)) == 0


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "data", "action") and value is not None:
                self.refs.append(value)


def test_html_is_self_contained(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, results = report
    page = (out / "report.html").read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert parser.tags.count("svg") == 3  # every figure inline
    assert parser.tags.count("table") == 1 and "link" not in parser.tags and "img" not in parser.tags
    assert all(ref.startswith("#") for ref in parser.refs), [r for r in parser.refs if not r.startswith("#")]
    for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", page):
        assert target.startswith("#"), target
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # inlined figures do not clash
    assert all(f"#{i}" in ids or True for i in ids)
    for ref in parser.refs:
        assert ref[1:] in ids, ref  # every internal reference resolves
    assert "Cells &amp; activations" in page
    for label in unique_labels([r.config for r in results]):
        assert label in page


def test_markdown_links_resolve(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, results = report
    md = (out / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", md)
    assert len(links) >= 3 + 9  # three embedded figures, their format links, files
    for link in links:
        assert not re.match(r"[a-z]+://", link) and not link.startswith("/")
        assert (out / link).exists(), link
    assert "gradscope compare --cell rnn,lstm,gru" in md
    assert "skipped rnn exponents=100" in md
    assert "**nonfinite at step 71**" in md
    assert "| > 120 |" in md.replace("**", "")  # the censored LSTM horizon


def test_reading_compares_horizons_with_numbers(report: tuple[Path, dict[str, Any], list[Result]], make_result: Callable[..., Result]) -> None:
    out, _, results = report
    md = (out / "report.md").read_text(encoding="utf-8")
    # lstm is censored (> 120), rnn sigmoid has horizon 12: "at least 10x"
    assert "more than 120 steps" in md and "at least 10x as many as rnn sigmoid N=8 (12 steps)" in md
    assert "holds in every trial" in md
    same = [make_result("rnn", "tanh", rate=-0.2), make_result("gru", "tanh", rate=-0.2, seed=1)]
    text = " ".join(reading(same))
    assert "not supported" in text or "do not differ" in text
    censored = [make_result("lstm", "tanh", rate=-0.01), make_result("gru", "tanh", rate=-0.02)]
    assert "cannot be compared" in " ".join(reading(censored))


def test_table_tex_is_escaped_bold_and_aligned(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, results = report
    tex = (out / "table.tex").read_text(encoding="utf-8")
    assert tex.count(r"\begin{tabular}") == 1 and r"\begin{table}" not in tex
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"leaky\_relu" in tex and "leaky_relu" not in tex.replace(r"leaky\_relu", "")
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
    rows = [r for r in body.strip().splitlines()]
    assert len(rows) == len(results)
    assert all(r.count(" & ") == rows[0].count(" & ") for r in rows)
    lstm = rows[2]
    assert r"\textbf{$>$120}" in lstm  # longest horizon (censored) in bold
    assert r"\textbf{$-$0.020}" in lstm  # slowest decay in bold (3 decimals)
    assert "Bold: best value per column" in tex
    assert latex_escape("a_b & 50% #1 {x} ~ ^ \\") == (
        r"a\_b \& 50\% \#1 \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )


def test_table_tex_compiles(report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not on PATH: cannot compile table.tex")
    out, _, _ = report
    shutil.copy(out / "table.tex", tmp_path / "table.tex")
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
        "\\input{table.tex}\n\\end{document}\n"
    )
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_pdf_figures_have_no_type3_fonts(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, _ = report
    for pdf in (out / "figures").glob("*.pdf"):
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF")
        assert b"/Type3" not in data, pdf.name
        fonts = re.findall(rb"/Subtype\s*/(Type1|TrueType|Type0|CIDFontType2|Type3)", data)
        assert fonts, pdf.name  # text is embedded as real fonts (Type 42 = TrueType)


def test_report_figures_are_byte_identical(report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    out, _, results = report
    write_report(
        results, tmp_path / "again", name="cells", title="Cells & activations",
        command=["gradscope", "compare", "--cell", "rnn,lstm,gru"], notes=["skipped rnn exponents=100"],
    )
    first = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (out / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel


# -- replot ---------------------------------------------------------------------------


def test_replot_single_run(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    run = make_result("lstm", "tanh", rate=-0.05).save(tmp_path / "run")
    written = replot(run / "result.json", width="icml", formats=("pdf", "png"))
    assert sorted(p.name for p in written) == ["decay.pdf", "decay.png"]
    assert b"/Type3" not in (run / "decay.pdf").read_bytes()
    numbers = {name: (run / name).read_bytes() for name in ("result.json", "curves.npz")}
    written = replot(run, style="screen", formats=("svg",))  # the PDF and PNG there are redrawn too
    assert sorted(p.name for p in written) == ["decay.pdf", "decay.png", "decay.svg"]
    assert {name: (run / name).read_bytes() for name in numbers} == numbers
    copy = tmp_path / "copy"
    replot(run, out=copy, formats=("svg",))  # a new run folder: the numbers copied byte for byte
    assert sorted(p.name for p in copy.iterdir()) == ["curves.npz", "decay.svg", "result.json"]
    assert (copy / "curves.npz").read_bytes() == numbers["curves.npz"]
    with pytest.raises(ValueError, match="neither"):
        replot(tmp_path)


# -- the real engine ------------------------------------------------------------------


def test_tiny_real_grid(tmp_path: Path) -> None:
    analysis = pytest.importorskip("gradscope.analysis")
    if not hasattr(analysis, "analyze"):
        pytest.skip("gradscope.analysis.analyze is not written yet")
    configs = [Config(cell=c, hidden=8, steps=60, transient=20, trials=2) for c in ("rnn", "gru")]
    results = run_grid(configs, cache=tmp_path / "cache", compute=analysis.analyze)
    assert [r.config.key() for r in results] == [c.key() for c in configs]
    manifest = write_report(
        results, tmp_path / "report", name="tiny", command="gradscope compare --cell rnn,gru", formats=("svg",)
    )
    assert "keeps a gradient above 1e-6" in (tmp_path / "report" / "report.md").read_text()
    assert len(manifest["config_keys"]) == 2
    calls = []
    again = run_grid(configs, cache=tmp_path / "cache", compute=lambda c: calls.append(c) or analysis.analyze(c))
    assert calls == []
    assert [r.summary["growth_rate"] for r in again] == pytest.approx([r.summary["growth_rate"] for r in results])


# -- findings, the split, the sweep figure ---------------------------------------------


def test_findings_are_rendered_kept_and_replotted(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    results = [make_result("rnn", "tanh", rate=-0.2), make_result("gru", "tanh", rate=-0.05)]
    findings = ["The GRU keeps a gradient 4x as long as the RNN (horizon figure).", "A second <finding> & more."]
    out = tmp_path / "r"
    manifest = write_report(results, out, name="f", findings=findings, formats=("svg",))
    assert manifest["findings"] == findings
    md = (out / "report.md").read_text()
    assert md.index("## Summary") < md.index("## Findings") < md.index("## Figures")
    assert "- The GRU keeps a gradient 4x as long as the RNN (horizon figure)." in md
    page = (out / "report.html").read_text()
    assert "<h2>Findings</h2>" in page and "A second &lt;finding&gt; &amp; more." in page
    replot(out, style="screen", formats=("svg",))
    assert json.loads((out / "manifest.json").read_text())["findings"] == findings
    assert "## Findings" in (out / "report.md").read_text()
    write_report(results, tmp_path / "none", formats=("svg",))
    assert "Findings" not in (tmp_path / "none" / "report.md").read_text()


def test_sweep_figure_only_for_a_real_sweep(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    from gradscope.figures.along import plot_sweep, sweep_field, sweep_series
    from gradscope.figures.comparison import report_figures

    gains = [0.5, 1.0, 1.5, 2.0]
    sweep = [make_result("rnn", "tanh", rate=-0.3 + 0.15 * i, init="normal", gain=g) for i, g in enumerate(gains)]
    assert sweep_field(sweep) == "gain"
    assert sweep_series(sweep, "gain") == [("", [0, 1, 2, 3])]
    mixed = [make_result("rnn", "tanh", rate=-0.2), make_result("rnn", "relu", rate=-0.1, init="normal", gain=0.5),
             make_result("rnn", "relu", rate=0.1, init="normal", gain=2.0)]
    assert sweep_field(mixed) is None  # three gains, but never three with the rest fixed
    assert "sweep" not in report_figures(mixed)
    from gradscope.numerics.theory.critical import MeanFieldTheory

    figs = report_figures(sweep, theory=MeanFieldTheory())
    ax_rate, ax_hor = figs["sweep"].axes[:2]
    assert ax_hor.get_yscale() == "log" and ax_hor.get_xlabel() == "gain $g$"
    labels = [t.get_text() for t in figs["sweep"].legends[0].get_texts()]
    assert any(t.startswith("critical gain $g_c = 1.60") for t in labels)  # mean-field critical gain marked
    assert labels[0].startswith("spectral rate") and "RMS rate" in labels and any("mean field" in n for n in labels)
    manifest = write_report(sweep, tmp_path / "s", formats=("svg",), theory=MeanFieldTheory())
    assert any(a["path"] == "figures/sweep.svg" for a in manifest["artefacts"])
    assert "![sweep](figures/sweep.svg)" in (tmp_path / "s" / "report.md").read_text()
    write_report(sweep[:2], tmp_path / "s", formats=("svg",))  # no longer a sweep: no stale figure
    assert not (tmp_path / "s" / "figures" / "sweep.svg").exists()
    two = sweep + [make_result("rnn", "relu", rate=-0.4 + 0.1 * i, init="normal", gain=g) for i, g in enumerate(gains)]
    axes = plot_sweep(two, "gain")
    assert [label for label, _ in sweep_series(two, "gain")] == ["tanh", "relu"]  # named by value, once
    handles, names = axes[0]._gradscope_legend
    assert names[:2] == ["tanh", "relu"] and len(set(names)) == len(names)
    hidden = [make_result("rnn", "tanh", rate=-0.3 + 0.1 * i, init="normal", gain=g, hidden=h)
              for h in (8, 16) for i, g in enumerate(gains)]
    assert [label for label, _ in sweep_series(hidden, "gain")] == ["N=8", "N=16"]  # no "input_size=8"


# -- nothing overwritten by surprise ---------------------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_replot_select_leaves_every_byte_of_the_source(report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    out, _, results = report
    source = tmp_path / "source"
    shutil.copytree(out, source)
    before = _snapshot(source)
    with pytest.raises(ValueError, match="--select .* give --out"):
        replot(source, select=["lstm tanh N=8"])  # a subset never goes into the source
    sub = tmp_path / "subset"
    replot(source, select=["lstm tanh N=8", "rnn sigmoid N=8"], out=sub, width=3.25, formats=("svg",),
           command="gradscope replot source --select 'lstm tanh N=8,rnn sigmoid N=8' --out subset")
    assert _snapshot(source) == before  # not one byte of the source changed, nothing added
    manifest = json.loads((sub / "manifest.json").read_text())
    assert manifest["config_keys"] == [results[0].config.key(), results[2].config.key()]
    assert sorted(p.name for p in (sub / "runs").iterdir()) == sorted(manifest["config_keys"])
    md = (sub / "report.md").read_text()
    assert "gradscope compare --cell rnn,lstm,gru\ngradscope replot source --select" in md  # how to reproduce it
    assert "2 of the 5 configurations" in md
    for art in manifest["artefacts"]:
        assert hashlib.sha256((sub / art["path"]).read_bytes()).hexdigest() == art["sha256"]
    with pytest.raises(ValueError, match="is the folder being replotted"):
        replot(source, out=source)


def test_plain_replot_changes_the_figures_only_all_formats_at_once(report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    out, _, _ = report
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = _snapshot(copy)
    replot(copy, width=3.25, style="screen", formats=("png",))  # asks for PNG: PDF and SVG are redrawn too
    after = _snapshot(copy)
    assert set(after) == set(before)
    changed = {name for name in after if after[name] != before[name]}
    figures = {name for name in before if name.startswith("figures/")}
    assert figures <= changed  # every format of every figure, so they never disagree
    assert changed - figures == {"report.html", "manifest.json"}  # numbers, report.md, CSV, TeX, runs/: as they were
    strip = lambda page: re.sub(r"<figure .*?</figure>", "", page.decode(), flags=re.S)  # noqa: E731
    assert strip(after["report.html"]) == strip(before["report.html"])  # the page's text is untouched
    assert "<svg" in after["report.html"].decode()
    manifest = json.loads(after["manifest.json"])
    assert manifest["figure_options"]["style"] == "screen" and manifest["figure_options"]["width"] == 3.25
    for art in manifest["artefacts"]:
        assert hashlib.sha256(after[art["path"]]).hexdigest() == art["sha256"], art["path"]


def test_writing_a_report_replaces_an_earlier_one_whole(make_result: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "r"
    five = _grid(make_result)
    write_report(five, out, name="five", formats=("svg",))
    said: list[str] = []
    write_report(five[:3], out, name="three", formats=("svg",), on_replace=said.append)
    assert len(list((out / "runs").iterdir())) == 3  # no stale runs from the earlier report
    assert said == ["the earlier report 'five' (5 runs)"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(ValueError, match="gradscope did not write .*--force"):
        write_report(five[:1], mine, formats=("svg",))
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]  # refused before anything was written
    write_report(five[:1], mine, formats=("svg",), force=True)
    assert (mine / "notes.txt").read_text() == "my notes" and (mine / "report.md").is_file()

    # the inputs a script wrote beside its report (a training script's checkpoints) move
    # into the new report when asked; everything else of the earlier one goes
    write_report(five[:2], mine, formats=("svg",), keep=("notes.txt", "absent.pt"))
    assert (mine / "notes.txt").read_text() == "my notes" and len(list((mine / "runs").iterdir())) == 2
    write_report(five[:2], mine, formats=("svg",))
    assert not (mine / "notes.txt").exists()


def test_exploding_run_is_never_a_long_horizon(make_result: Callable[..., Result]) -> None:
    """An exploding configuration has no horizon: its table cell says so (never '> T'),
    it is never the 'longest horizon', and the reading gives its explosion lag."""
    from gradscope.text.report_table import report_table

    results = [make_result("rnn", "tanh", rate=-0.3), make_result("rnn", "relu", rate=0.4, init="normal", gain=6.0)]
    assert results[1].summary["horizon_censored"] is False and results[1].summary["explosion_lag"] is not None
    headers, rows, _ = report_table(results, unique_labels([r.config for r in results]))
    col = headers.index("horizon (steps)")
    assert rows[1][col][0] == "n/a (explodes)" and not rows[1][col][1]
    text = " ".join(reading(results))
    assert f"explodes: its median gain exceeds 1e+06 at lag {results[1].summary['explosion_lag']}, so it has no horizon" in text
    assert "> 120" not in text
    old = make_result("rnn", "relu", rate=0.4, init="normal", gain=6.0)
    old.summary["horizon_censored"] = True  # a summary written before exploding runs stopped counting as censored
    assert report_table([old], ["old"])[1][0][col][0] == "n/a (explodes)"


# -- damaged or hostile folders: one-line errors, nothing read from outside -------------


def _cli_replot(*args: str):
    from click.testing import CliRunner

    from gradscope.cli import main

    return CliRunner().invoke(main, ["replot", *args])


def _one_line_error(res, *needles: str) -> None:
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), res.output
    assert "Traceback" not in res.output and all(n in lines[0] for n in needles), lines[0]


def test_replot_refuses_damaged_runs_and_manifests_in_one_line(
        report: tuple[Path, dict[str, Any], list[Result]], make_result: Callable[..., Result], tmp_path: Path) -> None:
    run = make_result("rnn", "tanh", rate=-0.1).save(tmp_path / "run")
    doc = json.loads((run / "result.json").read_text())
    for name, change in (("no-summary", lambda d: d.pop("summary")), ("null-summary", lambda d: d.update(summary=None))):
        bad = tmp_path / name
        shutil.copytree(run, bad)
        d = json.loads(json.dumps(doc))
        change(d)
        (bad / "result.json").write_text(json.dumps(d))
        _one_line_error(_cli_replot(str(bad), "--out", str(tmp_path / f"{name}-out")), "summary")
    for name, curves in (("short", {"log_spectral": np.zeros(5)}), ("nan-lag", {"lag": np.full(3, np.nan)})):
        bad = tmp_path / name
        shutil.copytree(run, bad)
        with np.load(run / "curves.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
        np.savez(bad / "curves.npz", **{**arrays, **curves})
        _one_line_error(_cli_replot(str(bad), "--out", str(tmp_path / f"{name}-out")), "curves.npz")
    src, manifest, _ = report
    for name, change, needle in (
            ("figure-list", {"figure_options": [1, 2]}, "figure_options"),
            ("escape", {"config_keys": ["../../../etc"] + manifest["config_keys"][1:]}, "config key")):
        bad = tmp_path / name
        shutil.copytree(src, bad)
        (bad / "manifest.json").write_text(json.dumps({**manifest, **change}))
        _one_line_error(_cli_replot(str(bad), "--out", str(tmp_path / f"{name}-out")), needle)
        assert not (tmp_path / f"{name}-out").exists()


def test_replot_out_never_replaces_or_enters_the_folder_it_reads(
        report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    src = tmp_path / "cells"
    shutil.copytree(report[0], src)
    run = next((src / "runs").iterdir())
    before = sorted(p.relative_to(src) for p in src.rglob("*"))
    _one_line_error(_cli_replot(str(run), "--out", str(src)), "replaced whole")  # the report holding the run
    _one_line_error(_cli_replot(str(src), "--out", str(src / "redrawn")), "inside")
    _one_line_error(_cli_replot(str(src), "--out", str(src)), "drop --out")
    assert sorted(p.relative_to(src) for p in src.rglob("*")) == before


def test_ctrl_c_while_a_finished_report_replaces_the_old_one_waits_until_it_is_done(tmp_path, monkeypatch):
    """A SIGINT that lands between the two renames of the swap (or in the removal of the
    old folder) is held off: the new report stands whole, no hidden copy is left behind."""
    import os
    import signal

    from gradscope.report import folder as folder_mod

    target = tmp_path / "report"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps({"config_keys": [], "artefacts": {}, "which": "old"}))
    real_replace, calls = os.replace, []

    def replace_with_interrupt(src, dst):
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C right after the old report moved aside
        return real_replace(src, dst)

    monkeypatch.setattr(folder_mod.os, "replace", replace_with_interrupt)
    with folder_mod.output_folder(target) as out:
        (out.path / "manifest.json").write_text(json.dumps({"config_keys": [], "artefacts": {}, "which": "new"}))
    assert json.loads((target / "manifest.json").read_text())["which"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no .report.*.old or .partial left
