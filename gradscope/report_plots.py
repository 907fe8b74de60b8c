"""The figures of a comparison report: overlay, small multiples, horizons, sweep.

Each `plot_*` function draws on the Axes it is given (or a new figure in the shared
`gradscope.style`), returns the Axes and never calls `show()`; `report_figures` builds
the figures of a report (the sweep figure only when one numeric field takes three or
more values). Gains are drawn from log-norms as log10 values on a
linear axis labelled in powers of ten (a gain of 1e-800 is real and below float64);
a zero gain (`-inf`) is never drawn, the point where the median underflows is marked.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .grid import varied_fields
from .plots import log_spaced_indices  # noqa: F401  (re-exported for report.py)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .results import Result

LN10 = math.log(10.0)
_BIG = 1e300  # stands in for +-inf inside quantiles (numpy's lerp turns -inf into nan)
FIGURES = ("overlay", "small_multiples", "horizon", "sweep")
#: Config fields that are never a sweep's x axis (numbers, but not a physical knob).
_NOT_SWEPT = ("seed",)
#: More runs than this along one swept field: overlays are coloured by its value.
MAX_LEGEND = 8


def trial_quantiles(
    log_curve: np.ndarray, qs: Sequence[float] = (0.1, 0.5, 0.9)
) -> np.ndarray:
    """Quantiles over trials of a `(B, K)` array of log-norms -> `(len(qs), K)`.

    `-inf` (a zero gain) and `+inf` are kept as such; NaN trials are ignored; a lag where
    every trial is NaN stays NaN.
    """
    arr = np.asarray(log_curve, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    clipped = np.clip(arr, -_BIG, _BIG)  # +-inf -> +-_BIG; NaN stays NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanquantile(clipped, list(qs), axis=0)
    out = np.where(out <= -_BIG / 1e50, -np.inf, out)
    return np.where(out >= _BIG / 1e50, np.inf, out)


def unique_labels(results: Sequence[Result]) -> list[str]:
    """`Config.label()` of each result, with the fields that tell equal labels apart
    appended (`seed=1`, `steps=500`)."""
    labels = [r.config.label() for r in results]
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    out = list(labels)
    for label, members in groups.items():
        if len(members) < 2:
            continue
        fields = varied_fields([results[i].config for i in members])
        for i in members:
            d = results[i].config.to_dict()
            extra = " ".join(f"{f}={d[f]}" for f in fields)
            out[i] = f"{label} {extra}".strip()
    counts = {label: out.count(label) for label in out}
    seen: dict[str, int] = {}
    for i, label in enumerate(list(out)):  # identical configurations: number them
        if counts[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            out[i] = f"{label} #{seen[label]}"
    return out


def _series_style(i: int) -> tuple[str, Any]:
    from .style import COLORS, LINESTYLES

    return COLORS[i % len(COLORS)], LINESTYLES[(i + i // len(COLORS)) % len(LINESTYLES)]


def _curve(result: Result, quantity: str) -> tuple[np.ndarray, np.ndarray] | None:
    curve = result.curves.get(quantity)
    if curve is None or np.size(curve) == 0:
        return None
    curve = np.asarray(curve, dtype=np.float64)
    if curve.ndim == 1:
        curve = curve[None, :]
    lag = result.curves.get("lag")
    lag = np.arange(curve.shape[1]) if lag is None else np.asarray(lag)
    return lag, curve


def _draw_band(
    ax: Axes, result: Result, quantity: str, color: str, ls: Any, label: str | None, band: bool = True
) -> None:
    data = _curve(result, quantity)
    if data is None:
        return
    lag, curve = data
    idx = log_spaced_indices(len(lag))
    q = trial_quantiles(curve[:, idx]) / LN10
    x = lag[idx].astype(np.float64)
    finite = np.isfinite(q)
    lo, med, hi = (np.where(f, v, np.nan) for f, v in zip(finite, q))
    both = finite[0] & finite[2]
    if band:
        ax.fill_between(x, lo, hi, where=both, color=color, alpha=0.18, linewidth=0, interpolate=False)
    ax.plot(x, med, color=color, linestyle=ls, label=label)
    # mark where the median underflows to a zero gain (-inf) or stops being finite
    bad = ~finite[1]
    if bad.any() and finite[1].any():
        last = int(np.flatnonzero(finite[1])[-1])
        if last + 1 < len(x) and bad[last + 1:].all():
            marker = "v" if np.isneginf(q[1][last + 1]) else "^"
            ax.plot([x[last]], [med[last]], marker=marker, color=color, linestyle="none")


def _eps_line(ax: Axes, results: Sequence[Result]) -> None:
    eps = {r.config.eps for r in results}
    if len(eps) == 1:
        (e,) = eps
        ax.axhline(math.log10(e), color="#777777", linewidth=0.6, linestyle=(0, (1, 1.5)), zorder=1)


def _gain_axes(ax: Axes, ylabel: bool = True, xlabel: bool = True) -> None:
    from .style import log10_axis

    log10_axis(ax, "y")
    if xlabel:
        ax.set_xlabel("lag $k$ (steps)")
    if ylabel:
        ax.set_ylabel(r"spectral gain $\|P(T, T-k)\|_2$")


def plot_overlay(
    results: Sequence[Result],
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    quantity: str = "log_spectral",
) -> Axes:
    """Median (line) and 10-90% band over trials of `quantity` against lag, every
    configuration on one Axes; the dotted line is the horizon threshold `eps`."""
    if ax is None:
        from .style import new_figure

        _, ax = new_figure()
    labels = list(labels) if labels is not None else unique_labels(results)
    field = sweep_field(results) if len(results) > MAX_LEGEND else None
    if field is not None:  # many runs along one knob: colour by its value, no legend
        _overlay_by_field(ax, results, quantity, field)
    else:
        for i, (result, label) in enumerate(zip(results, labels)):
            color, ls = _series_style(i)
            _draw_band(ax, result, quantity, color, ls, label)
    _eps_line(ax, results)
    _gain_axes(ax)
    if results and field is None:
        ax.legend(loc="best", ncols=1 if len(results) <= 6 else 2)
    return ax


def _overlay_by_field(ax: Axes, results: Sequence[Result], quantity: str, field: str) -> None:
    """Medians coloured by the value of `field` (a colour bar, no bands); one line
    style per combination of the other varied fields (legend when there are several)."""
    import matplotlib as mpl

    values = np.array([float(getattr(r.config, field)) for r in results])
    norm = mpl.colors.Normalize(values.min(), values.max())
    cmap = mpl.colormaps["viridis"]
    series = sweep_series(results, field)
    for s_i, (label, idx) in enumerate(series):
        ls = _series_style(s_i)[1] if len(series) > 1 else "-"
        for j, i in enumerate(idx):
            _draw_band(ax, results[i], quantity, cmap(norm(values[i])), ls,
                       (label if j == 0 and len(series) > 1 else None), band=False)
    bar = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01, aspect=30)
    bar.set_label(_field_label(field))
    if len(series) > 1:
        ax.legend(loc="best")


def _grid_layout(results: Sequence[Result]) -> tuple[list[str], list[str]]:
    cells = list(dict.fromkeys(r.config.cell for r in results))
    acts = list(dict.fromkeys(r.config.act for r in results))
    return cells, acts


def _rest_labels(results: Sequence[Result]) -> list[str]:
    """Labels from the fields that vary besides cell and act (empty when none do)."""
    fields = [f for f in varied_fields([r.config for r in results]) if f not in ("cell", "act")]
    out = []
    for r in results:
        d = r.config.to_dict()
        out.append(" ".join(f"{f}={d[f]}" for f in fields))
    return out


def plot_small_multiples(
    results: Sequence[Result],
    axes: Any = None,
    quantity: str = "log_spectral",
) -> np.ndarray:
    """A grid of panels, one row per cell and one column per activation, with shared
    axes; configurations that differ in other fields share a panel, one style each.

    Returns the `(rows, cols)` array of Axes (created with `new_figure` when `axes` is
    None)."""
    cells, acts = _grid_layout(results)
    if axes is None:
        from .style import new_figure

        _, axes = new_figure(
            width=6.75, height=1.2 + 1.35 * max(1, len(cells)),
            nrows=max(1, len(cells)), ncols=max(1, len(acts)),
            sharex=True, sharey=True, squeeze=False,
        )
    axes = np.asarray(axes, dtype=object).reshape(max(1, len(cells)), max(1, len(acts)))
    rest = _rest_labels(results)
    styles = {label: i for i, label in enumerate(dict.fromkeys(rest))}
    field = sweep_field(results) if len(results) > MAX_LEGEND else None
    if field is not None and len(cells) * len(acts) == 1:  # one panel, many runs: as the overlay
        ax = axes[0, 0]
        _overlay_by_field(ax, results, quantity, field)
        _eps_line(ax, results)
        ax.set_title(f"{cells[0]}, {acts[0]}")
        _gain_axes(ax)
        return axes
    for r_i, cell in enumerate(cells):
        for c_i, act in enumerate(acts):
            ax = axes[r_i, c_i]
            members = [i for i, r in enumerate(results) if r.config.cell == cell and r.config.act == act]
            for i in members:
                color, ls = _series_style(styles[rest[i]])
                _draw_band(ax, results[i], quantity, color, ls, rest[i] or None)
            if not members:
                ax.text(0.5, 0.5, "not run", transform=ax.transAxes, ha="center", va="center", color="#777777")
            _eps_line(ax, results)
            ax.set_title(f"{cell}, {act}")
            _gain_axes(ax, ylabel=c_i == 0, xlabel=r_i == len(cells) - 1)
    if any(rest):
        handles, names = [], []
        for ax in axes.flat:
            for h, n in zip(*ax.get_legend_handles_labels()):
                if n not in names:
                    handles.append(h)
                    names.append(n)
        axes.flat[0].figure.legend(handles, names, loc="outside lower center", ncols=_legend_cols(names))
    return axes


def _legend_cols(names: Sequence[str]) -> int:
    """Columns of a figure legend below the panels: fewer when the names are long."""
    longest = max((len(n) for n in names), default=1)
    return max(1, min(4, len(names), 110 // (longest + 8)))


def plot_horizon(
    results: Sequence[Result],
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
) -> Axes:
    """Horizon (first lag with median gain < eps) per configuration as a dot chart.

    A censored horizon (the gain never fell below eps within T steps) is an open marker
    at T with an arrow: the true horizon is longer. A run without a horizon (an error,
    no data) is written as `n/a`.
    """
    if ax is None:
        from .style import new_figure

        _, ax = new_figure(height=0.8 + 0.22 * max(1, len(results)))
    labels = list(labels) if labels is not None else unique_labels(results)
    n = len(results)
    ys = np.arange(n)[::-1].astype(float)
    values = []
    for result in results:
        h = result.summary.get("horizon")
        values.append(float(h) if h is not None else float(result.config.steps))
    positive = [v for v in values if v > 0]
    use_log = bool(positive) and max(positive) / max(min(positive), 1.0) > 30
    right = max(values) if values else 1.0
    for i, (result, y) in enumerate(zip(results, ys)):
        color, _ = _series_style(i)
        h = result.summary.get("horizon")
        censored = bool(result.summary.get("horizon_censored"))
        if h is not None:
            ax.plot([h], [y], marker="o", color=color, linestyle="none")
        elif censored:
            t = float(result.config.steps)
            ax.plot([t], [y], marker="o", markerfacecolor="white", markeredgecolor=color, linestyle="none")
            end = t * 1.6 if use_log else t + 0.12 * right
            ax.annotate(
                "", xy=(end, y), xytext=(t, y),
                arrowprops=dict(arrowstyle="-|>", color=color, linewidth=0.8, shrinkA=3, shrinkB=0),
            )
        else:
            lag = result.summary.get("explosion_lag")
            why = f"explodes (lag {lag})" if lag is not None else ("failed" if result.status == "error" else "n/a")
            ax.text(0.01, y, f" {why}", transform=ax.get_yaxis_transform(), va="center", color="#777777")
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.7, n - 0.3)
    if use_log:
        ax.set_xscale("log")
        ax.set_xlim(min(positive) / 1.5, right * 2.2)
    else:
        ax.set_xlim(0, right * 1.25 if right > 0 else 1)
    eps = {r.config.eps for r in results}
    what = _eps_tex(next(iter(eps))) if len(eps) == 1 else r"$\epsilon$"
    ax.set_xlabel(f"horizon (steps): first lag with median gain < {what}")
    ax.grid(axis="y", visible=False)
    return ax


def _eps_tex(eps: float) -> str:
    e = math.floor(math.log10(eps))
    m = eps / 10**e
    return f"$10^{{{e}}}$" if abs(m - 1) < 1e-9 else rf"${m:.3g}\times10^{{{e}}}$"


# -- sweep: growth rate and horizon against one numeric field -------------------------


def sweep_field(results: Sequence[Result]) -> str | None:
    """The numeric `Config` field swept in `results`: one that takes >= 3 values while
    the other varied fields stay fixed (the one with the most values when several do;
    `None` when none does)."""
    from .grid import FIELD_KINDS

    configs = [r.config for r in results]
    best, most = None, 2
    for name in varied_fields(configs):
        kind, _ = FIELD_KINDS[name]
        if kind is str or name in _NOT_SWEPT:
            continue
        values = {getattr(c, name) for c in configs}
        if None in values:
            continue
        # the field must take >= 3 values with every other field held fixed (a gain of
        # 0.5 and 2 for one cell and 1 for another is no sweep)
        along = max(len({getattr(results[i].config, name) for i in idx}) for _, idx in sweep_series(results, name))
        if along > most:
            best, most = name, along
    return best


def sweep_series(results: Sequence[Result], field: str) -> list[tuple[str, list[int]]]:
    """Indices of `results` grouped by the values of the other varied fields, each
    group sorted by `field`: `[(label, indices)]` (label `""` when nothing else varies)."""
    others = [f for f in varied_fields([r.config for r in results]) if f != field]
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(results):
        d = r.config.to_dict()
        label = " ".join(f"{f}={d[f]:g}" if isinstance(d[f], float) else f"{f}={d[f]}" for f in others)
        groups.setdefault(label, []).append(i)
    return [(lab, sorted(idx, key=lambda i: getattr(results[i].config, field))) for lab, idx in groups.items()]


def mean_field_inputs(config: Any) -> tuple[float, float, float] | None:
    """`(sigma_w^2, sigma_u^2, sigma_b^2)` of a vanilla RNN config, as
    `gradscope.analysis` computes them; `None` for gated cells, identity init or an
    input file."""
    from .initialization import bias_variance, input_variance, recurrent_variance
    from .inputs import config_mean_square

    if config.cell != "rnn":
        return None
    sigma_w2 = recurrent_variance(config)
    ms = config_mean_square(config.input, config.input_std, config.input_value)
    if sigma_w2 is None or ms is None:
        return None
    return sigma_w2, input_variance(config, ms), bias_variance(config)


def mean_field_curve(config: Any, field: str, values: np.ndarray) -> np.ndarray | None:
    """The mean-field rate `0.5 ln chi` of `config` with `field` set to each of
    `values` (`None` when mean field does not apply)."""
    import dataclasses

    from .theory import mean_field

    out = []
    for v in values:
        kind = type(getattr(config, field))
        try:
            c = dataclasses.replace(config, **{field: kind(round(v) if kind is int else v)})
        except (ValueError, TypeError):
            out.append(np.nan)
            continue
        inputs = mean_field_inputs(c)
        if inputs is None:
            return None
        with _one_thread():
            out.append(mean_field(c.act, *inputs)["rate"])
    return np.asarray(out, dtype=np.float64)


@contextlib.contextmanager
def _one_thread():
    """Mean-field quadratures are 4,000-element dot products: more threads only add
    overhead (and fight over a shared machine), so run them on one."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@functools.lru_cache(maxsize=64)
def _critical_gain(act: str, init: str, sigma_u2: float, sigma_b2: float) -> float | None:
    from .theory import critical_gain

    with _one_thread():
        return critical_gain(act, init, sigma_u2, sigma_b2)


def critical_gain_of(config: Any) -> float | None:
    """The mean-field critical gain (chi = 1) of a vanilla RNN config, or `None`."""
    inputs = mean_field_inputs(config)
    if inputs is None:
        return None
    return _critical_gain(config.act, config.init, inputs[1], inputs[2])


def _field_label(field: str) -> str:
    return {
        "gain": "gain $g$", "hidden": "hidden size $N$", "bias_std": r"bias std $\sigma_b$",
        "input_std": r"input std $\sigma_x$", "forget_bias": "forget-gate bias",
        "steps": "steps $T$", "h0_std": "initial-state std",
    }.get(field, field.replace("_", " "))


def plot_sweep(
    results: Sequence[Result],
    field: str | None = None,
    axes: Any = None,
    theory_points: int = 61,
) -> np.ndarray:
    """Growth rate (top) and horizon (bottom) against one numeric config `field`.

    Top: median spectral rate per configuration (filled circles, error bars: the
    10-90% range of the per-trial rates), the RMS rate (open squares) and, for vanilla
    RNNs, the mean-field prediction `0.5 ln chi` over a fine grid of the field (dashed).
    Bottom: horizon on a log axis; a censored horizon is an open marker at T with an
    upward arrow. For a gain sweep of a vanilla RNN the mean-field critical gain (chi =
    1) is a dotted vertical line. One colour per combination of the other varied fields.

    Returns the two Axes `(rate, horizon)`.
    """
    from .style import THEORY_COLOR, THEORY_LINESTYLE

    field = field or sweep_field(results)
    if field is None:
        raise ValueError("no numeric field takes three or more values: nothing to sweep")
    if axes is None:
        from .style import new_figure

        _, axes = new_figure(width=5.5, height=4.2, nrows=2, sharex=True)
    ax_rate, ax_hor = axes
    series = sweep_series(results, field)
    xs_all = np.array([float(getattr(r.config, field)) for r in results])
    logx = bool(np.all(xs_all > 0)) and xs_all.max() / xs_all.min() >= 8 and field in ("hidden", "steps")
    if logx:
        fine = np.geomspace(xs_all.min(), xs_all.max(), theory_points)
    else:
        fine = np.linspace(xs_all.min(), xs_all.max(), theory_points)
    steps_max = max(r.config.steps for r in results)
    any_censored = any_theory = any_rms = False
    hor_values = []
    crit: list[tuple[float, str]] = []
    for s_i, (label, idx) in enumerate(series):
        color = _series_style(s_i)[0]
        members = [results[i] for i in idx if results[i].status != "error"]
        if not members:
            continue
        x = np.array([float(getattr(r.config, field)) for r in members])
        rate = np.array([_num(r.summary.get("growth_rate")) for r in members])
        q10 = np.array([_num(r.summary.get("growth_rate_q10")) for r in members])
        q90 = np.array([_num(r.summary.get("growth_rate_q90")) for r in members])
        rms = np.array([_num(r.summary.get("rms_growth_rate")) for r in members])
        err = np.vstack([np.clip(rate - q10, 0, None), np.clip(q90 - rate, 0, None)])
        err = np.where(np.isfinite(err), err, 0.0)
        if np.isfinite(rms).any():  # under the spectral markers, a size larger: both read
            any_rms = True
            ax_rate.plot(
                x, rms, color=color, marker="s", markersize=4.6, markerfacecolor="white",
                markeredgewidth=0.8, linestyle="none", zorder=3,
                label=None if label else "RMS rate",
            )
        ax_rate.errorbar(
            x, rate, yerr=err, color=color, marker="o", markersize=2.8, linestyle="-",
            linewidth=0.9, elinewidth=0.6, capsize=1.5, zorder=4,
            label=label or "spectral rate (median; bars: trials 10-90%)",
        )
        theory = mean_field_curve(members[0].config, field, fine)
        if theory is not None and np.isfinite(theory).any():
            any_theory = True
            lo, hi = x.min(), x.max()
            keep = (fine >= lo - 1e-12) & (fine <= hi + 1e-12)
            ax_rate.plot(
                fine[keep], theory[keep], color=color if label else THEORY_COLOR,
                linestyle=THEORY_LINESTYLE, linewidth=0.9, zorder=2,
                label=None if label else r"mean field $\frac{1}{2}\ln\chi$",
            )
        if field == "gain":
            g_c = critical_gain_of(members[0].config)
            if g_c is not None and x.min() <= g_c <= x.max():
                crit.append((g_c, color if label else THEORY_COLOR))
        for r, xv in zip(members, x):
            h = r.summary.get("horizon")
            if h is not None and h > 0:
                ax_hor.plot([xv], [h], marker="o", markersize=3.2, color=color, linestyle="none", zorder=3)
                hor_values.append(float(h))
            elif r.summary.get("horizon_censored"):
                any_censored = True
                t = float(r.config.steps)
                ax_hor.plot([xv], [t], marker="o", markersize=3.6, markerfacecolor="white",
                            markeredgecolor=color, markeredgewidth=0.8, linestyle="none", zorder=3)
                ax_hor.annotate(
                    "", xy=(xv, t * 1.9), xytext=(xv, t),
                    arrowprops=dict(arrowstyle="-|>", color=color, linewidth=0.7, shrinkA=2.5,
                                    shrinkB=0, mutation_scale=5),
                )
                hor_values.append(t)
        hx = [float(getattr(r.config, field)) for r in members if r.summary.get("horizon") is not None]
        hy = [float(r.summary["horizon"]) for r in members if r.summary.get("horizon") is not None]
        if len(hx) > 1:
            ax_hor.plot(hx, hy, color=color, linestyle="-", linewidth=0.7, alpha=0.6, zorder=2)
    ax_rate.axhline(0.0, color="#999999", linewidth=0.6, zorder=1)
    for g_c, color in crit:
        for ax in (ax_rate, ax_hor):
            ax.axvline(g_c, color=color, linestyle=(0, (1, 1.5)), linewidth=0.9, zorder=1)
        ax_rate.annotate(
            rf"$g_c = {g_c:.2f}$" + "\n(mean field)", xy=(g_c, 1.0), xycoords=("data", "axes fraction"),
            xytext=(3, -3), textcoords="offset points", ha="left", va="top", fontsize="small",
            color="#333333",
        )
    ax_rate.set_ylabel("growth rate (per step)")
    ax_hor.set_ylabel("horizon (steps)")
    ax_hor.set_xlabel(_field_label(field))
    if hor_values:
        ax_hor.set_yscale("log")
        lo = max(min(hor_values), 1.0)
        top = steps_max * 2.6 if any_censored else max(hor_values) * 1.6
        ax_hor.set_ylim(lo / 1.6, top)
        _plain_log_ticks(ax_hor)
        if any_censored:
            ax_hor.axhline(steps_max, color="#999999", linewidth=0.5, linestyle=(0, (3, 2)), zorder=1)
            ax_hor.annotate(f"$T$ = {steps_max}", xy=(0.0, steps_max), xycoords=("axes fraction", "data"),
                            xytext=(3, 2), textcoords="offset points", ha="left", va="bottom",
                            fontsize="small", color="#555555")
    if logx:
        ax_hor.set_xscale("log")
    handles, names = ax_rate.get_legend_handles_labels()
    if len(series) == 1:  # spectral first, then RMS, then theory
        order = sorted(range(len(names)), key=lambda i: (not names[i].startswith("spectral"), names[i] != "RMS rate"))
        handles, names = [handles[i] for i in order], [names[i] for i in order]
    if len(series) > 1:  # colours name the series; add what the marker kinds mean
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="#333333", marker="o", markersize=3.2, linestyle="-", linewidth=0.9))
        names.append("spectral rate (median; bars: trials 10-90%)")
        if any_rms:
            handles.append(Line2D([], [], color="#333333", marker="s", markersize=3.4,
                                  markerfacecolor="white", linestyle="none"))
            names.append("RMS rate")
        if any_theory:
            handles.append(Line2D([], [], color="#333333", linestyle=THEORY_LINESTYLE, linewidth=0.9))
            names.append(r"mean field $\frac{1}{2}\ln\chi$")
    if handles:
        ax_rate.legend(handles, names, loc="best", ncols=1 if len(names) <= 4 else 2)
    return np.array([ax_rate, ax_hor], dtype=object)


def _plain_log_ticks(ax: Axes) -> None:
    """Log y axis ticks at 1, 2, 5 x 10^k written as plain numbers (20, 50, 100)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.get_ylim()
    subs = (1.0, 2.0, 5.0) if hi / max(lo, 1e-300) < 1e3 else (1.0,)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _num(value: Any) -> float:
    if value is None or isinstance(value, (bool, str)):
        return math.nan
    return float(value)


def report_figures(
    results: Sequence[Result],
    labels: Sequence[str] | None = None,
    width: float | str | None = None,
    style: str | None = None,
    fontsize: float | None = None,
) -> dict[str, Figure]:
    """The report figures `{"overlay", "small_multiples", "horizon"}`, plus `"sweep"`
    when one numeric field takes >= 3 values (`sweep_field`), built in `style` (default
    `paper`) at `width` inches (default 5.5, NeurIPS text width; the small multiples
    default to 6.75)."""
    from .style import new_figure, resolve_width, style_context

    labels = list(labels) if labels is not None else unique_labels(results)
    style = style or "paper"
    figs: dict[str, Figure] = {}
    with style_context(style, fontsize=fontsize):
        w = resolve_width(width) if width is not None else 5.5
        fig, ax = new_figure(width=w)
        plot_overlay(results, ax=ax, labels=labels)
        figs["overlay"] = fig

        cells, acts = _grid_layout(results)
        rows, cols = max(1, len(cells)), max(1, len(acts))
        wm = resolve_width(width) if width is not None else 6.75
        panel_height = min(wm / cols / 1.25, 2.0)
        rest = [r for r in dict.fromkeys(_rest_labels(results)) if r]
        legend = 0.1 + 0.17 * math.ceil(len(rest) / _legend_cols(rest)) if rest else 0.0
        fig, axes = new_figure(
            width=wm, height=min(40.0, 0.5 + legend + rows * panel_height),
            nrows=rows, ncols=cols, sharex=True, sharey=True, squeeze=False,
        )
        plot_small_multiples(results, axes=axes)
        figs["small_multiples"] = fig

        fig, ax = new_figure(width=w, height=min(40.0, 0.9 + 0.24 * max(1, len(results))))
        plot_horizon(results, ax=ax, labels=labels)
        figs["horizon"] = fig

        field = sweep_field(results)
        if field is not None:
            fig, axes = new_figure(width=w, height=min(40.0, w * 0.78), nrows=2, sharex=True,
                                   gridspec_kw={"height_ratios": [1.25, 1.0]})
            plot_sweep(results, field, axes=axes)
            figs["sweep"] = fig
    return figs
