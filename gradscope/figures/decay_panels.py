"""The panels of one run's decay figure: gain against lag (all lags, and the first lags
around the horizon), per-step gain, input sensitivity.

Every function takes `ax=None` (a fresh figure is made then) and returns the Axes; none
calls `show()`. Curves are natural logs in the `Result`; panels plot log10 values on a
linear axis labelled as powers of ten (`style.log10_axis`), because gains of 1e-800 are
real and lie far below the float64 range. Zero gains (`-inf`) are never plotted: the
curve stops and the lag is marked. Long curves are thinned to ~500 points for drawing;
every statistic is computed on the full arrays first. Lags (steps back from T) and
steps (along the trajectory) never share an axis.

May import: `gradscope.figures.style`, `gradscope.figures.curves`,
`gradscope.results`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..results import HorizonKind, Status, horizon_of, number
from .curves import LN10, drawing_indices, trial_quantiles
from .curves import eps_tex as _eps_text
from .style import OKABE_ITO, THEORY_COLOR, THEORY_LINESTYLE, log10_axis

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..results import Result

#: Measured series of the gain panels: curve key -> (legend label, colour, line style,
#: z-order). The spectral gain carries the 10-90% band; the loss gradient is drawn on
#: top in a dotted line, so where it coincides with the spectral gain both still show.
DECAY_SERIES: dict[str, tuple[str, str, Any, float]] = {
    "log_spectral": (r"spectral $\|P\|_2$", OKABE_ITO["blue"], "-", 3.0),
    "log_rms": (r"RMS $\|P\|_F/\sqrt{D}$", OKABE_ITO["vermillion"], (0, (6, 1.5, 1.2, 1.5)), 2.6),
    "log_loss_grad": (r"loss grad. $\|\partial L/\partial s\|$", OKABE_ITO["bluish_green"], (0, (1.2, 1.6)), 3.4),
}
BAND_LABEL = "10-90% of trials"
#: Line widths, relative to the style's: the spectral gain a little heavier, so the
#: dotted loss gradient drawn on it shows where the two coincide.
_WIDTHS = {"log_spectral": 1.4, "log_loss_grad": 1.0, "log_rms": 1.0}
#: Theory lines: summary key -> (legend label, colour, line style).
THEORY_SERIES: dict[str, tuple[str, str, Any]] = {
    "pascanu_rate": ("Pascanu bound", "black", THEORY_LINESTYLE),
    "mean_field_rate": (r"mean field $\frac{1}{2}\ln\chi$", OKABE_ITO["reddish_purple"], (0, (3, 1.5))),
    "annealed_rate": ("annealed estimate", THEORY_COLOR, THEORY_LINESTYLE),
}
REFERENCE_COLOR = "0.45"


def _finite_range(*arrays: np.ndarray) -> tuple[float, float] | None:
    vals = np.concatenate([np.ravel(a) for a in arrays]) if arrays else np.zeros(0)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return None
    return float(vals.min()), float(vals.max())


def _padded(lo: float, hi: float, frac: float = 0.06) -> tuple[float, float]:
    span = max(hi - lo, 0.5)
    return lo - frac * span, hi + frac * span


def _band(ax: Axes, x: np.ndarray, q10: np.ndarray, q90: np.ndarray, color: str, floor: float) -> None:
    """The shaded 10-90% band; -inf is clipped to `floor` (below the axis)."""
    lo = np.where(np.isneginf(q10), floor, q10)
    hi = np.where(np.isneginf(q90), floor, q90)
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.fill_between(x, lo, hi, where=ok, color=color, alpha=0.2, linewidth=0, interpolate=False,
                    label=BAND_LABEL)


def _new_ax(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    from .style import new_figure

    _, ax = new_figure()
    return ax


def measured_lags(result: Result) -> int:
    """The last lag the figure shows: the window, or the last finite lag of a run whose
    state became non-finite (the lags beyond it were never measured)."""
    lag = np.asarray(result.curves["lag"])
    last = int(lag[-1]) if len(lag) else 0
    if result.summary.get("status") == Status.NONFINITE:
        analysed = number(result.summary, "analysed_lags")
        if analysed is not None:
            return max(1, min(last, int(analysed)))
    return max(last, 1)


def theory_rates(result: Result) -> dict[str, float]:
    """The theory lines that apply: Pascanu and mean field for a vanilla RNN, else the
    annealed estimate."""
    out = {k: number(result.summary, k) for k in ("pascanu_rate", "mean_field_rate")}
    out = {k: v for k, v in out.items() if v is not None}
    if not out and number(result.summary, "annealed_rate") is not None:
        out["annealed_rate"] = number(result.summary, "annealed_rate")
    return out


def threshold_label(result: Result, kmax: int) -> tuple[float, str, int | None]:
    """`(log10 level, legend label, marked lag)` of the threshold line: eps with the
    horizon, or 1/eps with the explosion lag (the horizon does not apply then)."""
    eps = float(result.config.eps)
    state = horizon_of(result.summary, result.config.steps)
    if state.kind == HorizonKind.EXPLODING:
        name = r"1/$\varepsilon$ = " + _eps_text(1 / eps)
        if state.lag is not None:
            return -math.log10(eps), f"{name}: exceeded at lag {state.lag} (no horizon)", state.lag
        return -math.log10(eps), f"{name}: gain grows (no horizon)", None
    name = r"$\varepsilon$ = " + _eps_text(eps)
    if state.kind == HorizonKind.MEASURED:
        return math.log10(eps), f"{name}: horizon {state.lag} steps", state.lag
    if state.kind == HorizonKind.CENSORED:
        return math.log10(eps), f"{name}: not reached in {kmax} lags", None
    return math.log10(eps), name, None


def gain_panel(
    result: Result,
    ax: Axes | None = None,
    *,
    last_lag: int | None = None,
    series: Sequence[str] = tuple(DECAY_SERIES),
    theory: bool = True,
    legend: bool = True,
    max_points: int = 500,
    mark: bool = False,
) -> Axes:
    """Gain against lag k = 0..`last_lag`: medians, the spectral gain's 10-90% band over
    trials, the theory lines, the threshold eps (or 1/eps for a growing gain) with the
    horizon (or explosion lag) as a dot, and a zero gain's first lag as a triangle.
    `mark` also draws a vertical line at the horizon (the first-lags panel)."""
    import matplotlib as mpl

    ax = _new_ax(ax)
    curves = result.curves
    lag = np.asarray(curves["lag"], dtype=np.float64)
    kmax = measured_lags(result) if last_lag is None else max(1, min(int(last_lag), measured_lags(result)))
    stop = int(np.searchsorted(lag, kmax, side="right"))
    idx = drawing_indices(stop, max_points)
    x = lag[idx]
    stats = {k: trial_quantiles(curves[k], columns=idx) / LN10 for k in series if k in curves}
    shown = [q[1] for q in stats.values()] + ([stats["log_spectral"][[0, 2]]] if "log_spectral" in stats else [])
    data = _finite_range(*shown)
    lo, hi = data if data is not None else (-1.0, 1.0)
    rates = theory_rates(result) if theory else {}
    span = max(hi - lo, 1.0)
    for rate in rates.values():  # theory lines count, within half a data span more
        end = kmax * rate / LN10
        lo, hi = min(lo, max(end, lo - 0.5 * span)), max(hi, min(end, hi + 0.5 * span))
    level, level_label, hit = threshold_label(result, int(kmax))
    if hit is not None or lo - 0.5 * span < level < hi + 0.5 * span:
        lo, hi = min(lo, level), max(hi, level)
    lo, hi = min(lo, 0.0), max(hi, 0.0)  # a gain of 1 at lag 0
    ylo, yhi = _padded(lo, hi)
    floor = ylo - 10 * (yhi - ylo)

    if "log_spectral" in stats:
        q = stats["log_spectral"]
        _band(ax, x, q[0], q[2], DECAY_SERIES["log_spectral"][1], floor)
    for key, q in stats.items():
        label, color, ls, z = DECAY_SERIES.get(key, (key, THEORY_COLOR, "-", 2.0))
        ax.plot(x, np.where(np.isfinite(q[1]), q[1], np.nan), color=color, linestyle=ls, label=label,
                zorder=z, linewidth=_WIDTHS.get(key, 1.0) * float(mpl.rcParams["lines.linewidth"]))
    kk = np.array([0.0, float(kmax)])
    for key, rate in rates.items():
        label, color, ls = THEORY_SERIES[key]
        ax.plot(kk, kk * rate / LN10, color=color, linestyle=ls, linewidth=0.9, label=label, zorder=1.8)

    if ylo <= level <= yhi:
        ax.axhline(level, color=REFERENCE_COLOR, linewidth=0.6, linestyle=(0, (1, 1)), zorder=1)
        # the legend's entry for the threshold: a dotted line with the dot on it
        ax.plot([], [], color=REFERENCE_COLOR, linewidth=0.6, linestyle=(0, (1, 1)), marker="o",
                markersize=3, markerfacecolor="0.2", markeredgecolor="0.2", label=level_label)
        if hit is not None and hit <= kmax:
            ax.plot([hit], [level], marker="o", markersize=3, color="0.2", linestyle="none", zorder=5)
            if mark:
                ax.axvline(hit, color="0.2", linewidth=0.7, linestyle=(0, (4, 2)), zorder=1)
    if "log_spectral" in stats:
        zero = np.flatnonzero(np.isneginf(stats["log_spectral"][1]))
        if zero.size:
            k0 = x[zero[0]]
            ax.plot([k0], [ylo], marker="v", markersize=5, color=DECAY_SERIES["log_spectral"][1],
                    clip_on=False, zorder=4, linestyle="none", label=f"gain exactly 0 from lag {int(k0)}")
    ax.set_xlim(0, kmax)
    ax.set_ylim(ylo, yhi)
    log10_axis(ax, "y")
    ax.set_xlabel("lag $k$ (steps back from $T$)")
    ax.set_ylabel(r"gain of $P = \partial s_T/\partial s_{T-k}$")
    if legend:
        ax.legend(loc="best")
    return ax


def plot_decay(result: Result, ax: Axes | None = None, *, series: Sequence[str] = tuple(DECAY_SERIES),
               theory: bool = True, legend: bool = True, max_points: int = 500) -> Axes:
    """Gain against lag over every measured lag: median and 10-90% band over trials,
    theory dashed, the threshold eps (or 1/eps) with the horizon (or explosion lag).

    Draws `log ||ds_T/ds_{T-k}||` (spectral and RMS) and the loss gradient against the
    lag k, the Pascanu bound `k log(gamma sigma_max)` and the mean-field line
    `k 0.5 ln chi` where they apply (else the annealed estimate). A run whose state
    became non-finite is drawn up to its last measured lag.
    """
    return gain_panel(result, ax, series=series, theory=theory, legend=legend, max_points=max_points)


def first_lags(result: Result, factor: float = 4.0, least: int = 12, default: int = 60) -> int:
    """The lags the close-up shows: `factor` times the horizon (or explosion lag), at
    least `least`, else `default`; never beyond the measured lags."""
    hit = horizon_of(result.summary, result.config.steps)
    event = hit.lag if hit.kind in (HorizonKind.MEASURED, HorizonKind.EXPLODING) and hit.lag is not None else None
    span = max(least, math.ceil(factor * event)) if event is not None else default
    return int(min(span, measured_lags(result)))


def plot_first_lags(result: Result, ax: Axes | None = None, *, factor: float = 4.0) -> Axes:
    """The first lags up to a few horizons (or explosion lags), where the threshold is
    crossed: the same curves as `plot_decay`, with the horizon marked by a vertical line."""
    ax = gain_panel(result, ax, last_lag=first_lags(result, factor), legend=False, mark=True)
    ax.set_xlabel("lag $k$")
    ax.set_ylabel("gain")
    return ax


def _binned_quantiles(values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """(centres, quantiles (3, bins)) over trials x consecutive steps, for long T."""
    b, t = values.shape
    steps = np.arange(1, t + 1, dtype=np.float64)
    if t <= max_points:
        return steps, trial_quantiles(values)
    edges = np.rint(np.linspace(0, t, max_points + 1)).astype(np.int64)
    width = int(np.max(np.diff(edges)))
    # one (bins, trials x width) table, NaN-padded where a bin is one step short
    pos = edges[:-1, None] + np.arange(width)[None, :]
    inside = pos < edges[1:, None]
    table = np.where(inside[:, None, :], values[:, np.minimum(pos, t - 1)].transpose(1, 0, 2), np.nan)
    qs = trial_quantiles(table.reshape(max_points, -1).T)
    centres = 0.5 * (steps[edges[:-1]] + steps[edges[1:] - 1])
    return centres, qs


def _median_and_band(ax: Axes, x: np.ndarray, q: np.ndarray, color: str, label: str, ylo: float, yhi: float) -> None:
    _band(ax, x, q[0], q[2], color, ylo - 10 * (yhi - ylo))
    ax.plot(x, np.where(np.isfinite(q[1]), q[1], np.nan), color=color, label=label, zorder=3)


def plot_step_gain(result: Result, ax: Axes | None = None, *, max_points: int = 500) -> Axes:
    """Per-step gain `||J_t||_2` along the trajectory (x: step t, not lag): median and
    10-90% band over trials.

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
    bound = number(result.summary, "pascanu_rate")
    extra = [0.0] + ([bound / LN10] if bound is not None else [])
    rng = _finite_range(q, np.array(extra))
    ylo, yhi = _padded(*(rng or (-1.0, 1.0)))
    _median_and_band(ax, x, q, DECAY_SERIES["log_spectral"][1], r"$\|J_t\|_2$", ylo, yhi)
    ax.axhline(0.0, color="0.6", linewidth=0.5, zorder=1)
    if bound is not None:
        ax.axhline(bound / LN10, color="black", linestyle=THEORY_LINESTYLE, linewidth=0.9,
                   label=r"bound $\gamma\,\sigma_{\max}(W_{hh})$")
    finite = np.flatnonzero(np.isfinite(q[1]))
    ax.set_xlim(0, x[finite[-1]] if finite.size and result.summary.get("status") == Status.NONFINITE else values.shape[1])
    ax.set_ylim(ylo, yhi)
    log10_axis(ax, "y")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$\|J_t\|_2$")
    return ax


def plot_input_sensitivity(result: Result, ax: Axes | None = None, *, max_points: int = 500) -> Axes:
    """How strongly the input k steps back moves the final state, `||ds_T/dx_{T-k}||_2`."""
    ax = _new_ax(ax)
    lag = np.asarray(result.curves["lag"], dtype=np.float64)
    kmax = measured_lags(result)
    idx = drawing_indices(int(np.searchsorted(lag, kmax, side="right")), max_points)
    q = trial_quantiles(result.curves["log_input_sensitivity"], columns=idx) / LN10
    rng = _finite_range(q)
    ylo, yhi = _padded(*(rng or (-1.0, 1.0)))
    _median_and_band(ax, lag[idx], q, OKABE_ITO["reddish_purple"], r"$\|\partial s_T/\partial x_{T-k}\|_2$", ylo, yhi)
    ax.set_xlim(0, kmax)
    ax.set_ylim(ylo, yhi)
    log10_axis(ax, "y")
    ax.set_xlabel("lag $k$")
    ax.set_ylabel(r"$\|\partial s_T/\partial x_{T-k}\|_2$")
    return ax
