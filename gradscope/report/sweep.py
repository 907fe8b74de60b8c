"""The sweep figure of a report: growth rate and horizon against one numeric field,
with the mean-field prediction and critical gain beside the measurement.

May import: `gradscope.figures` and everything below it.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..config import FIELD_KINDS, varied_fields
from ..figures.style import series_style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..results import Result

#: Config fields that are never a sweep's x axis (numbers, but not a physical knob).
_NOT_SWEPT = ("seed",)


def sweep_field(results: Sequence[Result]) -> str | None:
    """The numeric `Config` field swept in `results`: one that takes >= 3 values while
    the other varied fields stay fixed (the one with the most values when several do;
    `None` when none does)."""
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
    from ..model.initialization import bias_variance, input_variance, recurrent_variance
    from ..model.inputs import config_mean_square

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

    from ..numerics.theory import mean_field

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
    from ..numerics.theory import critical_gain

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
    from ..figures.style import THEORY_COLOR, THEORY_LINESTYLE

    field = field or sweep_field(results)
    if field is None:
        raise ValueError("no numeric field takes three or more values: nothing to sweep")
    if axes is None:
        from ..figures.style import new_figure

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
        color = series_style(s_i)[0]
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
