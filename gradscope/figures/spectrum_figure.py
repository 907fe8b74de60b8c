"""The spectrum figure of one `Result`: (a) the Lyapunov spectrum, (b) its convergence;
and the asymptote `k lambda_1` that the decay figure draws when a run has a spectrum.

Every panel function takes `ax=None` and returns the Axes; none calls `show()`.
Exponents are natural log per step on a linear axis with a zero line (the DESIGN's rule
for exponents); `-inf` exponents (directions the product lost exactly) are never
plotted as numbers: triangles on the floor of panel (a) mark them.

May import: `gradscope.figures.style`, `gradscope.figures.curves`, `gradscope.figures.multipanel`,
`gradscope.results`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .curves import LN10, trial_quantiles
from .style import AXIS_REFERENCE, COLORS, THEORY_COLOR, series_style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results import Result

#: The spectrum of panel (a): its median and band.
SPECTRUM_COLOR = "black"
#: How many of the top exponents panel (b) follows.
CONVERGENCE_LINES = 4
#: The asymptote `k lambda_1` on a decay panel: a colour and style no other series of
#: the decay figure has (the mean field line is reddish purple, the Pascanu bound
#: black dashed).
ASYMPTOTE_COLOR = "black"
ASYMPTOTE_STYLE: Any = (0, (1.5, 1.5, 5, 1.5))


def has_spectrum(result: Result) -> bool:
    spec = result.curves.get("lyapunov_spectrum")
    return spec is not None and np.ndim(spec) == 2 and np.shape(spec)[1] > 0


def _number(result: Result, key: str) -> float | None:
    value = result.summary.get(key)
    if value is None or isinstance(value, (bool, str)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _new_ax(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    from .style import new_figure

    return new_figure()[1]


def plot_spectrum(result: Result, ax: Axes | None = None, *, theory: bool = True) -> Axes:
    """Exponent `lambda_i` against `i / D`: median over trials with the 10-90% band, the
    zero line, and for a vanilla RNN the mean-field `lambda_1 = 0.5 ln chi` as one open
    diamond at `i = 1`: it predicts the top exponent only."""
    ax = _new_ax(ax)
    spec = np.asarray(result.curves["lyapunov_spectrum"], dtype=np.float64)
    dim = result.config.state_dim
    x = np.arange(1, spec.shape[1] + 1) / dim
    q10, q50, q90 = trial_quantiles(spec)
    finite = np.isfinite(q50)
    # black: the colours of the series go to the running exponents of panel (b)
    lo, hi = np.where(np.isfinite(q10), q10, np.nan), np.where(np.isfinite(q90), q90, np.nan)
    ax.fill_between(x, lo, hi, color=SPECTRUM_COLOR, alpha=0.2, linewidth=0, label="10-90% of trials")
    ax.plot(x[finite], q50[finite], color=SPECTRUM_COLOR, linestyle="-", marker="o" if len(x) <= 24 else None,
            markersize=2.5, label="median over trials")
    ax.axhline(0.0, color="0.35", linewidth=0.6, zorder=1, gid=AXIS_REFERENCE)
    mf = _number(result, "mean_field_rate") if theory else None
    if mf is not None:
        ax.plot([x[0]], [mf], linestyle="none", marker="D", markersize=4, markerfacecolor="white",
                markeredgecolor=THEORY_COLOR, markeredgewidth=0.9, color=THEORY_COLOR, zorder=4,
                label=r"mean field $\lambda_1$ (top exponent only)")
    lost = ~finite
    extra = np.array([0.0] + ([mf] if mf is not None else []))
    values = np.concatenate([q10[np.isfinite(q10)], q90[np.isfinite(q90)], extra])
    span = max(float(values.max() - values.min()), 1e-3)
    floor = float(values.min()) - 0.08 * span
    if lost.any():  # directions lost exactly: marked on the floor, never plotted as numbers
        ax.plot(x[lost], np.full(int(lost.sum()), floor), linestyle="none", marker="v", markersize=3,
                color=COLORS[1], clip_on=False, label=r"$-\infty$ (direction lost)", zorder=3)
    ax.set_ylim(floor, float(values.max()) + 0.12 * span)
    ax.set_xlim(0, max(float(x[-1]), 1e-9) * 1.02)
    ax.set_xlabel(f"index $i / D$ (D = {dim})")
    ax.set_ylabel(r"exponent $\lambda_i$ (ln/step)")
    return ax


def plot_convergence(result: Result, ax: Axes | None = None, *, lines: int = CONVERGENCE_LINES,
                     legend_cols: int = 4) -> Axes:
    """Running estimates of the top exponents against the counted steps (those after the
    frame transient), on a log time axis (medians over trials). The y range is that of
    the last two thirds of the lines (zero only if they reach it), so their drift shows.
    The legend sits in the lower right, below the converged part of the lines (room is
    made for it)."""
    ax = _new_ax(ax)
    hist = np.asarray(result.curves["lyapunov_history"], dtype=np.float64)  # (B, K, H)
    steps = np.asarray(result.curves["lyapunov_history_steps"], dtype=np.float64)
    keep = steps > 0
    shown = []
    for i in range(min(lines, hist.shape[1])):
        med = trial_quantiles(hist[:, i, :])[1]
        ok = keep & np.isfinite(med)
        if not ok.any():
            continue
        color, style = series_style(i)
        ax.plot(steps[ok], med[ok], color=color, linestyle=style, label=f"$\\lambda_{{{i + 1}}}$")
        shown.append(med[ok])
    ax.axhline(0.0, color="0.35", linewidth=0.6, zorder=1, gid=AXIS_REFERENCE)  # seen only if in range
    if steps[keep].size:
        ax.set_xscale("log")
        ax.set_xlim(max(steps[keep].min(), 1.0), max(steps[keep].max(), 2.0))
    if shown:
        # the converged part of the lines fills the panel (zero is not forced into view:
        # a drift of 0.01 must stay visible)
        tail = np.concatenate([s[len(s) // 3:] for s in shown])
        span = max(float(tail.max() - tail.min()), 1e-3)
        rows = -(-len(shown) // legend_cols)
        ax.set_ylim(float(tail.min()) - (0.15 + 0.3 * rows) * span, float(tail.max()) + 0.2 * span)
    ax.set_xlabel("counted steps")
    ax.set_ylabel(r"running $\lambda_i$ (ln/step)")
    if shown:
        ax.legend(loc="lower right", ncols=legend_cols, handlelength=1.8, columnspacing=0.8)
    return ax


def spectrum_figure(result: Result, width: float | str = 3.25, height: float | None = None,
                    style: str = "paper", fontsize: float | None = None, usetex: bool = False) -> Figure:
    """The `gradscope spectrum` figure: (a) the spectrum, (b) its convergence.

    Narrow figures (< 5 in) stack (a) over (b); wide ones put them side by side.
    `width` is inches or a venue name of `style.VENUE_WIDTHS`. Save it with
    `style.save_figure`.
    """
    import textwrap

    import matplotlib

    from .multipanel import figure_legend, finish
    from .style import new_figure, resolve_width, style_context

    width = resolve_width(width)
    wide = width >= 5.0
    if height is None:
        height = width * 0.42 if wide else width * 1.25
    with style_context(style, fontsize=fontsize, usetex=usetex):
        fig, axes = new_figure(width, height, nrows=1 if wide else 2, ncols=2 if wide else 1)
        ax_a, ax_b = axes
        plot_spectrum(result, ax_a)
        plot_convergence(result, ax_b, legend_cols=2 if wide else 4)
        k, dim = np.shape(result.curves["lyapunov_spectrum"])[1], result.config.state_dim
        ax_a.set_title("(a) Lyapunov spectrum" if k == dim else f"(a) top {k} of {dim} exponents")
        ax_b.set_title("(b) convergence")
        size = fig.get_figwidth() * 72 / (0.6 * float(matplotlib.rcParams["font.size"]))
        fig.suptitle("\n".join(textwrap.wrap(result.config.label(), width=max(20, int(size)))),
                     fontsize="medium")
        # (a)'s legend under the panels, measured: inside, it would cover the spectrum
        figure_legend(fig, *ax_a.get_legend_handles_labels())
        finish(fig, [ax_a, ax_b])
    return fig


def draw_lambda_asymptote(ax: Axes, result: Result) -> None:
    """On a decay panel (log10 gain against lag), the line `k lambda_1`: the rate that
    every gradient approaches for long lags (a non-normal transient sits above it)."""
    lam = _number(result, "lambda_1")
    if lam is None or "lag" not in result.curves:
        return
    kmax = float(ax.get_xlim()[1])
    kk = np.array([0.0, kmax])
    ax.plot(kk, kk * lam / LN10, color=ASYMPTOTE_COLOR, linestyle=ASYMPTOTE_STYLE, linewidth=0.9,
            label=r"$k\,\lambda_1$", zorder=1.6)

