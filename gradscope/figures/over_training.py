"""The figures of a training run's gradient flow (`gradscope track`): the growth rate,
lambda_1 (with its band over trials) and the horizon against the training step, beside
the metrics the user logged (loss, accuracy); and the gradient-flow map, the median
log10 gain over (training step x lag).

    series = [Series("lstm", steps, results, {"accuracy": [(100, 0.12), ...]})]
    figs = track_figures(series, lags=(30,))    # {"trajectory": (Figure, caption), "gain_map": ...}

One colour (and line style) per training run. A censored horizon (the gain never fell
below eps within the window) is an open triangle at the window's end; the lags a task
needs are dashed lines on the horizon panel and the map.

May import: `gradscope.figures.style`, `gradscope.results`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..results import HorizonKind, horizon_of
from .style import THEORY_COLOR, colorbar_extend, new_figure, series_style, style_context

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Result

#: The metrics drawn, at most (one panel each).
MAX_METRICS = 3
LAG_STYLE = (0, (4, 2))


@dataclass
class Series:
    """One training run: its label, the training step of each analysed checkpoint, their
    `Result`s (same order), and the metrics logged (`name -> [(step, value)]`)."""

    label: str
    steps: list[int]
    results: list[Result]
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)


def cell_edges(values: np.ndarray) -> np.ndarray:
    """Edges of the cells around sorted steps: midpoints, and half a gap beyond each end."""
    if len(values) == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    mid = 0.5 * (values[1:] + values[:-1])
    return np.concatenate(([values[0] - (mid[0] - values[0])], mid, [values[-1] + (values[-1] - mid[-1])]))


def _value(result: Result, key: str) -> float:
    v = result.summary.get(key)
    return math.nan if v is None or isinstance(v, (bool, str)) else float(v)


def lambda_band(result: Result) -> tuple[float, float]:
    """The smallest and largest lambda_1 over the trials (NaN without the spectrum)."""
    spec = result.curves.get("lyapunov_spectrum") if result.curves else None
    if spec is None or np.ndim(spec) != 2 or spec.shape[1] == 0:
        return math.nan, math.nan
    top = np.asarray(spec, dtype=np.float64)[:, 0]
    top = top[np.isfinite(top)]
    return (float(top.min()), float(top.max())) if top.size else (math.nan, math.nan)


def plot_rate(ax: Any, series: Sequence[Series], key: str = "growth_rate") -> Any:
    """The median growth rate (or `lambda_1`) against the training step, with the band
    over trials (growth rate: 10-90% of the per-trial rates; lambda_1: min to max)."""
    for i, s in enumerate(series):
        color, style = series_style(i)
        x = np.asarray(s.steps, dtype=float)
        y = np.array([_value(r, key) for r in s.results])
        if key == "lambda_1":
            lo, hi = np.array([lambda_band(r) for r in s.results]).T if s.results else (y, y)
        else:
            lo = np.array([_value(r, "growth_rate_q10") for r in s.results])
            hi = np.array([_value(r, "growth_rate_q90") for r in s.results])
        ax.fill_between(x, lo, hi, color=color, alpha=0.2, linewidth=0)
        ax.plot(x, y, color=color, linestyle=style, marker="o", markersize=2.5, label=s.label)
    ax.axhline(0.0, color=THEORY_COLOR, linewidth=0.6)
    return ax


def plot_horizons(ax: Any, series: Sequence[Series], lags: Sequence[int] = ()) -> Any:
    """The horizon against the training step; censored ones as open triangles at the
    window; the task's lags dashed."""
    censored_any = False
    for i, s in enumerate(series):
        color, style = series_style(i)
        x, y, cx, cy = [], [], [], []
        for step, r in zip(s.steps, s.results):
            h = horizon_of(r.summary, r.config.steps)
            x.append(step)  # the line breaks where no horizon was measured
            y.append(h.lag if h.kind == HorizonKind.MEASURED else math.nan)
            if h.kind == HorizonKind.CENSORED and h.lag is not None:
                cx.append(step)
                cy.append(h.lag)
        ax.plot(x, y, color=color, linestyle=style, marker="o", markersize=2.5)
        if cx:
            censored_any = True
            ax.plot(cx, cy, linestyle="none", marker="^", markerfacecolor="none", color=color, markersize=4)
    for lag in lags:
        ax.axhline(lag, color=THEORY_COLOR, linestyle=LAG_STYLE, linewidth=0.8)
    handles = []
    if censored_any:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], linestyle="none", marker="^", markerfacecolor="none", color="black",
                              label="beyond the window (censored)"))
    if lags:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color=THEORY_COLOR, linestyle=LAG_STYLE,
                              label=f"task lag{'s' * (len(lags) > 1)} {', '.join(map(str, lags))}"))
    if handles:
        ax.legend(handles=handles, loc="best")
    return ax


def plot_metric(ax: Any, series: Sequence[Series], name: str) -> Any:
    for i, s in enumerate(series):
        points = s.metrics.get(name) or []
        if points:
            color, style = series_style(i)
            ax.plot([p[0] for p in points], [p[1] for p in points], color=color, linestyle=style,
                    linewidth=0.7 if len(points) > 200 else None)
    ax.set_ylabel(name.replace("_", " ") + (" (log scale)" if _log_scale(series, name) else ""))
    if _log_scale(series, name):
        from matplotlib.ticker import NullFormatter

        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
    return ax


def _log_scale(series: Sequence[Series], name: str) -> bool:
    """A loss spanning more than a decade, all positive: drawn on a log axis."""
    values = [v for s in series for _, v in s.metrics.get(name, []) if math.isfinite(v)]
    return "loss" in name.lower() and bool(values) and min(values) > 0 and max(values) > 10 * min(values)


def metric_names(series: Sequence[Series]) -> list[str]:
    """The metrics drawn: accuracy-like ones first, then loss-like ones, at most `MAX_METRICS`."""
    names = list(dict.fromkeys(n for s in series for n in s.metrics))
    names.sort(key=lambda n: (0 if "acc" in n.lower() else 1 if "loss" in n.lower() else 2))
    return names[:MAX_METRICS]


def trajectory_figure(series: Sequence[Series], lags: Sequence[int] = (), width: float = 6.75,
                      style: str = "paper", fontsize: float | None = None) -> Any:
    """Growth rate, lambda_1 and horizon (and each logged metric) against the training
    step, one panel each, sharing the step axis; one legend for the runs."""
    metrics = metric_names(series)
    has_lambda = any(not math.isnan(_value(r, "lambda_1")) for s in series for r in s.results)
    panels = ["growth_rate"] + (["lambda_1"] if has_lambda else []) + ["horizon"] + metrics
    with style_context(style, fontsize):
        fig, axes = new_figure(width=width, height=0.4 + 1.15 * len(panels) * (6.75 / max(width, 3.25)) ** 0.3,
                               nrows=len(panels), sharex=True)
        axes = np.atleast_1d(axes)
        for ax, panel in zip(axes, panels):
            if panel == "growth_rate":
                plot_rate(ax, series)
                ax.set_ylabel("growth rate\n(ln/step)")
            elif panel == "lambda_1":
                plot_rate(ax, series, "lambda_1")
                ax.set_ylabel("$\\lambda_1$ (ln/step)")
            elif panel == "horizon":
                plot_horizons(ax, series, lags)
                ax.set_ylabel("horizon\n(steps)")
            else:
                plot_metric(ax, series, panel)
        axes[-1].set_xlabel("training step")
        handles = [ax_line for ax_line in axes[0].get_lines() if not ax_line.get_label().startswith("_")]
        if len(series) > 1 or series[0].label:
            fig.legend(handles=handles, labels=[h.get_label() for h in handles], loc="outside upper center",
                       ncols=min(len(handles), 4))
    return fig


def gain_matrix(s: Series) -> tuple[np.ndarray, np.ndarray]:
    """`(lags, log10 gain (checkpoints, lags))`: each checkpoint's median spectral gain
    (NaN where not measured), on the lags of the longest window."""
    width = max((len(r.curves.get("lag", ())) for r in s.results if r.curves), default=0)
    z = np.full((len(s.results), width), np.nan)
    for i, r in enumerate(s.results):
        curve = r.curves.get("log_spectral") if r.curves else None
        if curve is not None and np.ndim(curve) == 2 and np.size(curve):
            with np.errstate(all="ignore"):
                med = np.median(np.asarray(curve, dtype=np.float64), axis=0) / math.log(10)
            z[i, : med.size] = med
    return np.arange(width), z


def gain_map_figure(series: Sequence[Series], lags: Sequence[int] = (), width: float = 6.75,
                    style: str = "paper", fontsize: float | None = None) -> Any:
    """The gradient-flow map of each run: median log10 gain over (training step x lag),
    one panel per run, the horizon drawn over it and the task's lags dashed."""
    import matplotlib as mpl

    mats = [gain_matrix(s) for s in series]
    finite = np.concatenate([z[np.isfinite(z)] for _, z in mats] or [np.zeros(1)])
    vmin = float(max(np.percentile(finite, 1) if finite.size else -12, -30))
    vmax = float(min(finite.max() if finite.size else 0, 30))
    vmax = max(vmax, vmin + 1)
    norm = mpl.colors.Normalize(vmin=vmin, vmax=vmax)
    with style_context(style, fontsize):
        fig, axes = new_figure(width=width, height=0.7 + 1.6 * len(series), nrows=len(series), sharex=True)
        axes = np.atleast_1d(axes)
        for ax, s, (lag_axis, z) in zip(axes, series, mats):
            if z.size == 0:
                continue
            x = cell_edges(np.asarray(s.steps, dtype=float))
            y = np.arange(z.shape[1] + 1) - 0.5
            mesh = ax.pcolormesh(x, y, np.ma.masked_invalid(z).T, cmap="viridis", norm=norm, shading="flat",
                                 rasterized=True)
            hy = [math.nan if r.summary.get("horizon") is None else r.summary["horizon"] for r in s.results]
            ax.plot(s.steps, hy, color="white", marker="o", markersize=2, linewidth=0.8)
            for lag in lags:
                ax.axhline(lag, color="white", linestyle=LAG_STYLE, linewidth=0.8)
            ax.set_ylim(-0.5, z.shape[1] - 0.5)
            if ax is axes[0]:
                from matplotlib.lines import Line2D

                handles = [Line2D([], [], color="white", marker="o", markersize=2, linewidth=0.8, label="horizon")]
                handles += [Line2D([], [], color="white", linestyle=LAG_STYLE, linewidth=0.8,
                                   label=f"task lag{'s' * (len(lags) > 1)} {', '.join(map(str, lags))}")] if lags else []
                ax.legend(handles=handles, loc="upper right", frameon=True, facecolor="#3a3a3a", edgecolor="none",
                          labelcolor="white", framealpha=0.85)
            ax.set_ylabel(f"lag (steps)\n{s.label}" if len(series) > 1 else "lag (steps)")
            ax.grid(False)
        axes[-1].set_xlabel("training step")
        bar = fig.colorbar(mesh, ax=list(axes), shrink=0.9, extend=colorbar_extend(finite, vmin, vmax))
        bar.set_label(r"median gain $\|P(T, T-k)\|_2$ (log$_{10}$)")
    return fig


TRAJECTORY_CAPTION = ("Against the training step: the growth rate of the median spectral gain (band: 10-90% of "
                      "the trials' rates), the top Lyapunov exponent lambda_1 (band: smallest to largest over "
                      "the trials), the horizon (first lag with median gain below eps; an open triangle: beyond "
                      "the window, censored; dashed: the task's lag), and the metrics logged during training.")
GAIN_MAP_CAPTION = ("The gradient-flow map of the training run: the median spectral gain ||P(T, T-k)||_2 "
                    "(log10, colour) over the training step (x) and the lag k (y); white dots: the horizon, "
                    "absent where it lies beyond the window; white dashes: the task's lag. A triangle at an end "
                    "of the colour bar: some gains lie beyond it and are drawn in its end colour.")


def track_figures(series: Sequence[Series], lags: Sequence[int] = (), width: Any = None, style: str | None = None,
                  fontsize: float | None = None) -> dict[str, tuple[Any, str]]:
    """`{"trajectory": (Figure, caption), "gain_map": (Figure, caption)}`."""
    from .style import resolve_width

    style = style or "paper"
    width = resolve_width(width) if width is not None else 6.75
    return {"trajectory": (trajectory_figure(series, lags, width, style, fontsize), TRAJECTORY_CAPTION),
            "gain_map": (gain_map_figure(series, lags, width, style, fontsize), GAIN_MAP_CAPTION)}
