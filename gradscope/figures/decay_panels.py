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

#: Measured series of the decay figure: curve key -> (legend label, colour, line style,
#: z-order). Each has one colour and style of its own across the whole figure (the
#: per-step gain and the input sensitivity too: they are not the spectral gain).
#: The loss gradient is drawn on top of the spectral gain in a dotted line, so where
#: the two coincide both still show.
DECAY_SERIES: dict[str, tuple[str, str, Any, float]] = {
    "log_spectral": (r"spectral $\|P\|_2$", OKABE_ITO["blue"], "-", 3.0),
    "log_rms": (r"RMS $\|P\|_F/\sqrt{D}$", OKABE_ITO["vermillion"], (0, (6, 1.5, 1.2, 1.5)), 2.6),
    "log_loss_grad": (r"loss grad. $\|\partial L/\partial s\|$", OKABE_ITO["bluish_green"], (0, (1.2, 1.6)), 3.4),
    "log_step_gain": (r"per-step gain $\|J_t\|_2$", OKABE_ITO["orange"], "-", 3.0),
    "log_input_sensitivity": (r"input sens. $\|\partial s_T/\partial x_{T-k}\|_2$", OKABE_ITO["sky_blue"], "-", 3.0),
}
#: The series of the gain panels (a) and (b).
GAIN_SERIES = ("log_spectral", "log_rms", "log_loss_grad")
#: The shaded band around a median: what it spreads over.
BAND_LABEL = "10-90% of trials"
#: Line widths, relative to the style's: the spectral gain a little heavier, so the
#: dotted loss gradient drawn on it shows where the two coincide.
_WIDTHS = {"log_spectral": 1.4, "log_loss_grad": 1.0, "log_rms": 1.0}
#: Theory lines: summary key -> (legend label, colour, line style). The Pascanu bound
#: is the same series in (a) (k log(gamma sigma_max)) and in the per-step panel.
THEORY_SERIES: dict[str, tuple[str, str, Any]] = {
    "pascanu_rate": ("Pascanu bound", "black", THEORY_LINESTYLE),
    "mean_field_rate": (r"mean field $\frac{1}{2}\ln\chi$", OKABE_ITO["reddish_purple"], (0, (3, 1.5))),
    "annealed_rate": ("annealed estimate", THEORY_COLOR, THEORY_LINESTYLE),
}
REFERENCE_COLOR = "0.45"
#: The vertical line at the horizon (or explosion lag) of the first-lags panel.
HIT_LINESTYLE: Any = (0, (4, 2))


def _finite_range(*arrays: np.ndarray) -> tuple[float, float] | None:
    vals = np.concatenate([np.ravel(a) for a in arrays]) if arrays else np.zeros(0)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return None
    return float(vals.min()), float(vals.max())


def _padded(lo: float, hi: float, frac: float = 0.06) -> tuple[float, float]:
    span = max(hi - lo, 0.5)
    return lo - frac * span, hi + frac * span


def _band(ax: Axes, x: np.ndarray, q10: np.ndarray, q90: np.ndarray, color: str, floor: float,
          label: str = BAND_LABEL) -> None:
    """The shaded 10-90% band, named by what it spreads over; -inf is clipped to `floor`
    (below the axis)."""
    lo = np.where(np.isneginf(q10), floor, q10)
    hi = np.where(np.isneginf(q90), floor, q90)
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.fill_between(x, lo, hi, where=ok, color=color, alpha=0.2, linewidth=0, interpolate=False,
                    label=label)


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


def threshold_label(result: Result, kmax: int) -> tuple[float, str, str | None, int | None]:
    """`(log10 level, label of the threshold line, label of the marked lag, marked lag)`:
    eps with the horizon, or 1/eps with the explosion lag (the horizon does not apply
    then); no marked lag (None) when the threshold is not crossed."""
    eps = float(result.config.eps)
    state = horizon_of(result.summary, result.config.steps)
    if state.kind == HorizonKind.EXPLODING:
        name = r"1/$\varepsilon$ = " + _eps_text(1 / eps)
        if state.lag is not None:
            return -math.log10(eps), name, rf"1/$\varepsilon$ exceeded at lag {state.lag} (no horizon)", state.lag
        return -math.log10(eps), f"{name}: gain grows (no horizon)", None, None
    name = r"$\varepsilon$ = " + _eps_text(eps)
    if state.kind == HorizonKind.MEASURED:
        return math.log10(eps), name, rf"horizon {state.lag} steps (median gain < $\varepsilon$)", state.lag
    if state.kind == HorizonKind.CENSORED:
        return math.log10(eps), f"{name}: not reached in {kmax} lags", None, None
    return math.log10(eps), name, None, None


def gain_panel(
    result: Result,
    ax: Axes | None = None,
    *,
    last_lag: int | None = None,
    series: Sequence[str] = GAIN_SERIES,
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
    level, level_label, hit_label, hit = threshold_label(result, int(kmax))
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
        ax.plot([], [], color=REFERENCE_COLOR, linewidth=0.6, linestyle=(0, (1, 1)), label=level_label)  # its entry
        if hit is not None and hit <= kmax:
            ax.plot([hit], [level], marker="o", markersize=3, color="0.2", linestyle="none", zorder=5)
            # the entry of the marked lag: the dot, and the vertical line where one is drawn
            ax.plot([], [], marker="o", markersize=3, color="0.2", linewidth=0.7,
                    linestyle=HIT_LINESTYLE if mark else "none", label=hit_label)
            if mark:
                ax.axvline(hit, color="0.2", linewidth=0.7, linestyle=HIT_LINESTYLE, zorder=1)
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


def plot_decay(result: Result, ax: Axes | None = None, *, series: Sequence[str] = GAIN_SERIES,
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


#: The close-up of the first lags is drawn only when it shows at most this share of the
#: lags of (a); else it would repeat (a).
CLOSE_UP_SHARE = 0.5


def has_close_up(result: Result, factor: float = 4.0) -> bool:
    """Whether the first-lags panel shows something (a) does not: a window several
    times longer than the horizon (or the explosion lag, or 60 lags without either)."""
    return first_lags(result, factor) <= CLOSE_UP_SHARE * measured_lags(result)


def plot_first_lags(result: Result, ax: Axes | None = None, *, factor: float = 4.0) -> Axes:
    """The first lags up to a few horizons (or explosion lags), where the threshold is
    crossed: the same curves as `plot_decay`, with the horizon marked by a vertical line."""
    ax = gain_panel(result, ax, last_lag=first_lags(result, factor), legend=False, mark=True)
    ax.set_xlabel("lag $k$")
    ax.set_ylabel("gain")
    return ax


def _binned_steps(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """For a long trajectory: `(steps, medians, band, width)`. The median over trials at
    every step, thinned to the lowest and the highest step of each of `bins` bins (in
    order of their steps: every vertex drawn is a real step's median, and a sequence
    that alternates keeps both of its values); the band per bin runs from the lowest
    10% to the highest 90% quantile over trials of its steps. `width`: steps per bin."""
    t = values.shape[1]
    q = trial_quantiles(values)
    edges = np.rint(np.linspace(0, t, bins + 1)).astype(np.int64)
    width = int(np.max(np.diff(edges)))
    pos = np.minimum(edges[:-1, None] + np.arange(width)[None, :], t - 1)  # (bins, width)
    inside = pos < edges[1:, None]
    med = np.where(inside, q[1][pos], np.nan)
    lo_i = np.take_along_axis(pos, np.nanargmin(np.where(np.isnan(med), np.inf, med), axis=1)[:, None], 1)[:, 0]
    hi_i = np.take_along_axis(pos, np.nanargmax(np.where(np.isnan(med), -np.inf, med), axis=1)[:, None], 1)[:, 0]
    picks = np.unique(np.concatenate([lo_i, hi_i]))
    q10 = np.where(inside, q[0][pos], np.inf).min(axis=1)
    q90 = np.where(inside, q[2][pos], -np.inf).max(axis=1)
    # the band as steps: each bin's values from its first step to its last
    bx = np.column_stack([edges[:-1] + 1, edges[1:]]).ravel().astype(np.float64)
    band = np.vstack([np.repeat(q10, 2), np.repeat(q90, 2)])
    return picks + 1.0, q[1][picks], np.vstack([bx, band]), width


def plot_step_gain(result: Result, ax: Axes | None = None, *, max_points: int = 500) -> Axes:
    """Per-step gain `||J_t||_2` along the trajectory (x: step t, not lag): median over
    trials at each step and its 10-90% band over trials.

    With more than `max_points` steps, the median is drawn through the lowest and the
    highest step of each of `max_points / 2` bins (a sequence that alternates between
    two values is drawn alternating, never as a level between them), and the band of a
    bin spans its steps too; its legend label says so. For a vanilla RNN the Pascanu
    per-step bound `gamma sigma_max(W_hh)` is drawn dashed.
    """
    ax = _new_ax(ax)
    values = np.asarray(result.curves["log_step_gain"], dtype=np.float64)
    if values.ndim == 1:
        values = values[None, :]
    label, color, style, z = DECAY_SERIES["log_step_gain"]
    if values.shape[1] <= max_points:
        q = trial_quantiles(values)
        x = bx = np.arange(1, values.shape[1] + 1, dtype=np.float64)
        med, band, band_label = q[1], q[[0, 2]], BAND_LABEL
    else:
        x, med, packed, width = _binned_steps(values, max(max_points // 2, 2))
        bx, band = packed[0], packed[1:]
        band_label = f"per-step gain: {BAND_LABEL} and of the {width} steps in each bin"
    med, band = med / LN10, band / LN10
    bound = number(result.summary, "pascanu_rate")
    extra = [0.0] + ([bound / LN10] if bound is not None else [])
    rng = _finite_range(med, band, np.array(extra))
    ylo, yhi = _padded(*(rng or (-1.0, 1.0)))
    _band(ax, bx, band[0], band[1], color, ylo - 10 * (yhi - ylo), band_label)
    ax.plot(x, np.where(np.isfinite(med), med, np.nan), color=color, linestyle=style, label=label, zorder=z)
    ax.axhline(0.0, color="0.6", linewidth=0.5, zorder=1, label=r"$\|J_t\|_2 = 1$")  # neither grows nor shrinks
    if bound is not None:
        name, bcolor, bstyle = THEORY_SERIES["pascanu_rate"]
        ax.axhline(bound / LN10, color=bcolor, linestyle=bstyle, linewidth=0.9, label=name)
    finite = np.flatnonzero(np.isfinite(med))
    ax.set_xlim(0, x[finite[-1]] if finite.size and result.summary.get("status") == Status.NONFINITE else values.shape[1])
    ax.set_ylim(ylo, yhi)
    log10_axis(ax, "y")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$\|J_t\|_2$")
    return ax


def plot_input_sensitivity(result: Result, ax: Axes | None = None, *, max_points: int = 500) -> Axes:
    """How strongly the input k steps back moves the final state, `||ds_T/dx_{T-k}||_2`:
    median and 10-90% band over trials."""
    ax = _new_ax(ax)
    lag = np.asarray(result.curves["lag"], dtype=np.float64)
    kmax = measured_lags(result)
    idx = drawing_indices(int(np.searchsorted(lag, kmax, side="right")), max_points)
    q = trial_quantiles(result.curves["log_input_sensitivity"], columns=idx) / LN10
    rng = _finite_range(q)
    ylo, yhi = _padded(*(rng or (-1.0, 1.0)))
    label, color, style, z = DECAY_SERIES["log_input_sensitivity"]
    _band(ax, lag[idx], q[0], q[2], color, ylo - 10 * (yhi - ylo))
    ax.plot(lag[idx], np.where(np.isfinite(q[1]), q[1], np.nan), color=color, linestyle=style, label=label, zorder=z)
    ax.set_xlim(0, kmax)
    ax.set_ylim(ylo, yhi)
    log10_axis(ax, "y")
    ax.set_xlabel("lag $k$")
    ax.set_ylabel(r"$\|\partial s_T/\partial x_{T-k}\|_2$")
    return ax
