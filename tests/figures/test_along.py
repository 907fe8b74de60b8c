"""The figure along a swept field (`figures.along`): drawn only for a real sweep (three
values with the rest fixed), with the mean-field critical gain, series named once by
value, and no stale figure when a report is no longer a sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from gradscope.report.write import write_report
from gradscope.results import Result


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
    assert labels[0].startswith("measured: spectral rate") and "RMS rate" in labels
    assert any("mean field" in n for n in labels)
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
