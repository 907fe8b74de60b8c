"""The track figures: one panel per quantity and per logged metric on a shared training-
step axis, every panel labelled, a legend naming the runs; the gradient-flow map with its
colour bar, the horizon and the task's lag named."""

from __future__ import annotations

from conftest import make_synthetic_result

from gradscope.figures.over_training import (
    Series,
    gain_map_figure,
    metric_names,
    trajectory_figure,
)


def _series() -> list[Series]:
    runs = []
    for label, kind in (("default", "vanishing"), ("forget bias 1", "lstm")):
        results = [make_synthetic_result(kind, steps=60, trials=3) for _ in range(3)]
        metrics = {"loss": [(s, 1.0 / (s + 1)) for s in range(0, 21)], "accuracy": [(0, 0.5), (10, 0.6), (20, 0.9)]}
        runs.append(Series(label, [0, 10, 20], results, metrics))
    return runs


def test_trajectory_panels_are_labelled_and_share_the_step_axis() -> None:
    fig = trajectory_figure(_series(), lags=(30,))
    axes = fig.axes
    labels = [ax.get_ylabel() for ax in axes]
    assert labels[0].startswith("growth rate") and labels[-2:] == ["accuracy", "loss (log scale)"]
    assert any("horizon" in label for label in labels)
    assert axes[-1].get_xlabel() == "training step"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["default", "forget bias 1"]
    horizon = next(ax for ax in axes if "horizon" in ax.get_ylabel())
    assert any("task lag 30" in t.get_text() for t in horizon.get_legend().get_texts())
    assert metric_names(_series()) == ["accuracy", "loss"]


def test_gain_map_names_its_colour_the_horizon_and_the_lag() -> None:
    fig = gain_map_figure(_series(), lags=(30,))
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 2 and panels[-1].get_xlabel() == "training step"
    bar = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"][0]
    assert "median gain" in bar.get_ylabel() and "log" in bar.get_ylabel()
    assert [t.get_text() for t in panels[0].get_legend().get_texts()] == ["horizon", "task lag 30"]
