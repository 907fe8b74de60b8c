"""Figures of one `Result`: decay curves, per-step gain, input sensitivity.

Every function takes `ax=None` (a fresh figure is made then) and returns the Axes; none
calls `show()`. Curves are natural logs in the `Result`; figures plot log10 values on a
linear axis labelled as powers of ten (`style.log10_axis`), because gains of 1e-800 are
real and lie far below the float64 range. Zero gains (`-inf`) are never plotted: the
curve stops and the lag is marked. Long curves are thinned to ~500 points for drawing;
every statistic is computed on the full arrays first.

May import: `gradscope.figures.style`, `gradscope.figures.curves`,
`gradscope.figures.spectrum`, `gradscope.results`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .curves import LN10, QUANTILES, drawing_indices, trial_quantiles
from .curves import eps_tex as _eps_text
from .spectrum import draw_lambda_asymptote
from .style import COLORS, LINESTYLES, THEORY_COLOR, THEORY_LINESTYLE, log10_axis

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results import Result


#: Measured series of the decay panel: curve key -> (legend label, colour, line style).
DECAY_SERIES: dict[str, tuple[str, str, Any]] = {
    "log_spectral": (r"spectral $\|P\|_2$", COLORS[0], LINESTYLES[0]),
    "log_rms": (r"RMS $\|P\|_F/\sqrt{D}$", COLORS[1], LINESTYLES[1]),
    "log_loss_grad": (r"loss grad. $\|\partial L/\partial s\|$", COLORS[2], LINESTYLES[2]),
}


# -- thinning ------------------------------------------------------------------------


# -- statistics ----------------------------------------------------------------------


def _finite_range(*arrays: np.ndarray) -> tuple[float, float] | None:
    vals = np.concatenate([np.ravel(a) for a in arrays]) if arrays else np.zeros(0)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return None
    return float(vals.min()), float(vals.max())


def _padded(lo: float, hi: float, frac: float = 0.06) -> tuple[float, float]:
    span = max(hi - lo, 0.5)
    return lo - frac * span, hi + frac * span


def _band(
    ax: Axes, x: np.ndarray, q10: np.ndarray, q50: np.ndarray, q90: np.ndarray,
    color: str, ls: Any, label: str | None, floor: float,
) -> None:
    """Median line and shaded 10-90% band; -inf is clipped to `floor` (below the axis)."""
    lo = np.where(np.isneginf(q10), floor, q10)
    hi = np.where(np.isneginf(q90), floor, q90)
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.fill_between(x, lo, hi, where=ok, color=color, alpha=0.18, linewidth=0, interpolate=False)
    med = np.where(np.isfinite(q50), q50, np.nan)
    ax.plot(x, med, color=color, linestyle=ls, label=label)


def _new_ax(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    from .style import new_figure

    _, ax = new_figure()
    return ax


def _summary(result: Result, key: str) -> Any:
    value = result.summary.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# -- panels --------------------------------------------------------------------------
def plot_decay(
    result: Result,
    ax: Axes | None = None,
    *,
    series: Sequence[str] = tuple(DECAY_SERIES),
    theory: bool = True,
    legend: bool = True,
    max_points: int = 500,
) -> Axes:
    """Gain against lag: median and 10-90% band over trials, theory dashed.

    Draws `log ||dS_T/ds_{T-k}||` (spectral and RMS) and the loss gradient against the
    lag k, the Pascanu bound `k log(gamma sigma_max)` and the mean-field line
    `k 0.5 ln chi` where they apply (else the annealed estimate), the threshold eps and
    the horizon, a zero gain (underflow of every trial's gain to exactly 0) and the lag
    where a non-finite state stopped the run.
    """
    ax = _new_ax(ax)
    curves = result.curves
    lag = np.asarray(curves["lag"], dtype=np.float64)
    idx = drawing_indices(len(lag), max_points)
    x = lag[idx]
    stats = {k: trial_quantiles(curves[k], columns=idx) / LN10 for k in series if k in curves}
    rng = _finite_range(*stats.values())
    lo, hi = rng if rng is not None else (-1.0, 1.0)
    eps = float(result.config.eps)
    leps = math.log10(eps)
    horizon = _summary(result, "horizon")
    censored = bool(_summary(result, "horizon_censored"))
    explosion = _summary(result, "explosion_lag")
    exploding = explosion is not None or result.summary.get("regime") == "exploding"
    # the threshold drawn: eps for vanishing gains, 1/eps for exploding ones
    level = -leps if exploding else leps
    if horizon is not None or explosion is not None or lo - 0.5 * max(hi - lo, 1.0) < level < hi + 0.5 * max(hi - lo, 1.0):
        lo, hi = min(lo, level, 0.0), max(hi, level, 0.0)
    ylo, yhi = _padded(lo, hi)
    floor = ylo - 10 * (yhi - ylo)
    for key, (q10, q50, q90) in stats.items():
        label, color, ls = DECAY_SERIES.get(key, (key, COLORS[3], LINESTYLES[3]))
        _band(ax, x, q10, q50, q90, color, ls, label, floor)

    kmax = float(x[-1]) if len(x) else 1.0
    if theory:
        kk = np.array([0.0, kmax])
        overlays = [
            ("pascanu_rate", "Pascanu bound", "black"),
            ("mean_field_rate", "mean field", COLORS[1]),
        ]
        if all(_summary(result, k) is None for k, _, _ in overlays):
            overlays = [("annealed_rate", "annealed estimate", THEORY_COLOR)]
        for key, label, color in overlays:
            rate = _summary(result, key)
            if rate is not None:
                ax.plot(kk, kk * rate / LN10, color=color, linestyle=THEORY_LINESTYLE,
                        linewidth=0.9, label=label, zorder=1.5)

    # threshold (eps or 1/eps) with the horizon or the explosion lag
    text_kw: dict[str, Any] = {"fontsize": "small", "color": "0.25"}
    if ylo <= level <= yhi:
        ax.axhline(level, color="0.45", linewidth=0.6, linestyle=(0, (1, 1)), zorder=1)
        name = (r"1/$\varepsilon$" if exploding else r"$\varepsilon$") + f" = {_eps_text(10 ** level)}"
        hit = explosion if exploding else horizon
        if hit is not None:
            msg = f"{name}: reached at lag {int(hit)}" if exploding else f"{name}: horizon {int(hit)} steps"
            ax.plot([hit], [level], marker="o", markersize=3, color="0.25", zorder=3)
        elif censored and not exploding:
            msg = f"{name}: not reached in {int(kmax)} steps"
        else:
            msg = name
        # vanishing curves lie under eps on the right, exploding ones over 1/eps
        below = (level - ylo) > 0.12 * (yhi - ylo) and not (exploding and (yhi - level) > 0.12 * (yhi - ylo))
        ax.annotate(msg, (1.0, level), xycoords=("axes fraction", "data"),
                    xytext=(-2, -2 if below else 2), textcoords="offset points",
                    ha="right", va="top" if below else "bottom", **text_kw)

    # zero gain (every trial's median underflowed to exactly 0) and non-finite stop
    if "log_spectral" in stats:
        med = stats["log_spectral"][1]
        zero = np.flatnonzero(np.isneginf(med))
        if zero.size:
            k0 = x[zero[0]]
            ax.plot([k0], [ylo], marker="v", markersize=5, color=COLORS[0], clip_on=False, zorder=4)
            ax.annotate(f"gain = 0 from lag {int(k0)}", (k0, ylo), xytext=(4, 3),
                        textcoords="offset points", ha="left", va="bottom", **text_kw)
        defined = np.flatnonzero(~np.isnan(med))
        if result.summary.get("status") == "nonfinite" and defined.size and defined[-1] < len(med) - 1:
            kstop = x[defined[-1]]
            ax.axvline(kstop, color="0.3", linewidth=0.8, linestyle=(0, (3, 1.5)), zorder=1)
            step = _summary(result, "nonfinite_step")
            where = f" at step {int(step)}" if step is not None else ""
            right = kstop < 0.55 * kmax  # write on the side with room, away from the curve
            last = med[defined[-1]]
            high = np.isfinite(last) and (last - ylo) > 0.5 * (yhi - ylo)
            ax.annotate(f"state non-finite{where}",
                        (kstop, 0.3 if high else 0.97), xycoords=("data", "axes fraction"),
                        xytext=(4 if right else -4, 0),
                        textcoords="offset points", ha="left" if right else "right", va="top",
                        bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 0.5}, **text_kw)

    ax.set_xlim(0, kmax)
    ax.set_ylim(ylo, yhi)
    log10_axis(ax, "y")
    ax.set_xlabel("lag $k$ (steps back from $T$)")
    ax.set_ylabel(r"gain of $P = \partial s_T/\partial s_{T-k}$")
    if legend:
        ax.legend(loc="best")
    return ax


def _binned_quantiles(values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """(centres, quantiles (3, bins)) over trials x consecutive steps, for long T."""
    b, t = values.shape
    steps = np.arange(1, t + 1, dtype=np.float64)
    if t <= max_points:
        return steps, trial_quantiles(values)
    edges = np.rint(np.linspace(0, t, max_points + 1)).astype(np.int64)
    qs = np.empty((len(QUANTILES), max_points))
    centres = np.empty(max_points)
    for i in range(max_points):
        block = values[:, edges[i]:edges[i + 1]].reshape(-1, 1)
        qs[:, i] = trial_quantiles(block)[:, 0]
        centres[i] = 0.5 * (steps[edges[i]] + steps[edges[i + 1] - 1])
    return centres, qs


def plot_step_gain(result: Result, ax: Axes | None = None, *, max_points: int = 500) -> Axes:
    """Per-step gain `||J_t||_2` along the trajectory: median and 10-90% band over trials.

    For a vanilla RNN the Pascanu per-step bound `gamma sigma_max(W_hh)` is drawn dashed.
    With more than `max_points` steps, the statistics are taken over trials and the
    steps of each of `max_points` consecutive bins.
    """
    ax = _new_ax(ax)
    values = np.asarray(result.curves["log_step_gain"], dtype=np.float64)
    if values.ndim == 1:
        values = values[None, :]
    x, q = _binned_quantiles(values, max_points)
    q = q / LN10
    bound = _summary(result, "pascanu_rate")
    extra = [0.0] + ([bound / LN10] if bound is not None else [])
    rng = _finite_range(q, np.array(extra))
    ylo, yhi = _padded(*(rng or (-1.0, 1.0)))
    if bound is not None:  # room above the bound line for its label
        yhi = max(yhi, bound / LN10 + 0.2 * (yhi - ylo))
    _band(ax, x, q[0], q[1], q[2], COLORS[0], LINESTYLES[0], r"$\|J_t\|_2$", ylo - 10 * (yhi - ylo))
    ax.axhline(0.0, color="0.6", linewidth=0.5, zorder=1)
    if bound is not None:
        ax.axhline(bound / LN10, color="black", linestyle=THEORY_LINESTYLE, linewidth=0.9,
                   label=r"bound $\gamma\,\sigma_{\max}(W_{hh})$")
        ax.annotate("bound", (1.0, bound / LN10), xycoords=("axes fraction", "data"),
                    xytext=(-2, 1.5), textcoords="offset points", ha="right", va="bottom",
                    fontsize="small", color="0.25")
    ax.set_xlim(0, values.shape[1])
    ax.set_ylim(ylo, yhi)
    log10_axis(ax, "y")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$\|J_t\|_2$")
    return ax


def plot_input_sensitivity(result: Result, ax: Axes | None = None, *, max_points: int = 500) -> Axes:
    """How strongly the input k steps back moves the final state, `||ds_T/dx_{T-k}||_2`."""
    ax = _new_ax(ax)
    lag = np.asarray(result.curves["lag"], dtype=np.float64)
    idx = drawing_indices(len(lag), max_points)
    q = trial_quantiles(result.curves["log_input_sensitivity"], columns=idx) / LN10
    rng = _finite_range(q)
    ylo, yhi = _padded(*(rng or (-1.0, 1.0)))
    _band(ax, lag[idx], q[0], q[1], q[2], COLORS[4], LINESTYLES[0],
          r"$\|\partial s_T/\partial x_{T-k}\|_2$", ylo - 10 * (yhi - ylo))
    ax.set_xlim(0, lag[idx][-1] if len(idx) else 1)
    ax.set_ylim(ylo, yhi)
    log10_axis(ax, "y")
    ax.set_xlabel("lag $k$")
    ax.set_ylabel(r"$\|\partial s_T/\partial x_{T-k}\|_2$")
    return ax


def decay_figure(
    result: Result,
    width: float | str = 3.25,
    height: float | None = None,
    style: str = "paper",
    fontsize: float | None = None,
    usetex: bool = False,
    max_points: int = 500,
) -> Figure:
    """The `gradscope decay` figure: (a) gain against lag (large), (b) per-step gain,
    (c) input sensitivity.

    Narrow figures (< 5 in, one column) put (a) on top and (b), (c) below; wide ones put
    (b) and (c) in a column to the right of (a). `width` is inches or a venue name of
    `style.VENUE_WIDTHS`. Save it with `style.save_figure`.
    """
    from .style import new_figure, resolve_width, style_context

    width = resolve_width(width)
    wide = width >= 5.0
    if height is None:
        height = width * 0.5 if wide else width * 1.05
    with style_context(style, fontsize=fontsize, usetex=usetex):
        fig, _ = new_figure(width, height)
        fig.clear()  # keep new_figure's size, canvas and recorded style; lay out anew
        if wide:
            gs = fig.add_gridspec(2, 3)
            ax_a = fig.add_subplot(gs[:, :2])
            ax_b = fig.add_subplot(gs[0, 2])
            ax_c = fig.add_subplot(gs[1, 2])
        else:
            gs = fig.add_gridspec(2, 2, height_ratios=[1.5, 1])
            ax_a = fig.add_subplot(gs[0, :])
            ax_b = fig.add_subplot(gs[1, 0])
            ax_c = fig.add_subplot(gs[1, 1])
        plot_decay(result, ax_a, legend=False, max_points=max_points)
        draw_lambda_asymptote(ax_a, result)
        plot_step_gain(result, ax_b, max_points=max_points)
        plot_input_sensitivity(result, ax_c, max_points=max_points)
        ax_a.set_title(f"(a) gradient gain, {result.config.label()}")
        ax_b.set_title("(b) per-step gain")
        ax_c.set_title("(c) input sensitivity")
        ax_b.set_xlabel("step $t$")
        ax_c.set_xlabel("lag $k$")
        handles, labels = ax_a.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=5 if wide else 3)
    return fig
