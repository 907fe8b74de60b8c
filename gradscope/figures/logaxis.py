"""Axes that hold log10 values on a linear scale, labelled as powers of ten.

Gains of 1e-800 are real and far below the float64 range, so figures plot log10 of
them on a linear axis; `log10_axis` makes its ticks read as the gains (`10^{-300}`,
`2x10^{-3}`, `0.5`), as many as the axis has room for, and `reach_ticks` extends the
view so that the ticks reach the curves' range.

May import: nothing of gradscope's (matplotlib inside functions).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


def log10_label(value: float, _pos: Any = None, mode: str = "power") -> str:
    """Label for a log10 value: `$10^{n}$`, `$m\times10^{n}$`, or a plain decimal."""
    if not math.isfinite(value):
        return ""
    n = round(value)
    if mode == "power" and abs(value - n) < 1e-6:
        return f"$10^{{{n}}}$"
    if mode == "plain":  # plain text: no mathtext to parse (10^x is never negative)
        return f"{10 ** value:.3g}"
    e = math.floor(value + 1e-9)
    m = 10 ** (value - e)
    return rf"${m:.3g}\times10^{{{e}}}$"


def _label_mode(locs: Sequence[float]) -> str:
    """`power` when every tick is a whole power of ten; `plain` when all lie in
    [1e-3, 1e3]; else `mantissa`."""
    locs = [v for v in locs if math.isfinite(v)]
    if all(abs(v - round(v)) < 1e-6 for v in locs):
        return "power"
    if all(-3 <= v <= 3 for v in locs):
        return "plain"
    return "mantissa"


def log10_ticks(vmin: float, vmax: float, nbins: int = 5) -> list[float]:
    """Tick positions (log10 values) between vmin and vmax: decades when the range allows."""
    from matplotlib.ticker import MaxNLocator

    if not (math.isfinite(vmin) and math.isfinite(vmax)) or vmax <= vmin:
        return []
    if vmax - vmin >= 1.5:
        loc = MaxNLocator(nbins=nbins, integer=True, steps=[1, 2, 2.5, 5, 10], min_n_ticks=2)
        ticks = sorted({float(round(t)) for t in loc.tick_values(vmin, vmax)
                        if vmin - 1e-9 <= t <= vmax + 1e-9 and abs(t - round(t)) < 1e-9})
        if len(ticks) >= 2:  # whole decades only (a locator short of room may offer halves)
            return ticks
    most = max(nbins, 3)
    for mantissas in ((1, 2, 5), (1, 3), (1,)):  # ever sparser, until they fit the axis
        ticks = [
            math.log10(m) + e
            for e in range(math.floor(vmin) - 1, math.ceil(vmax) + 1)
            for m in mantissas
            if vmin - 1e-9 <= math.log10(m) + e <= vmax + 1e-9
        ]
        if 2 <= len(ticks) <= most and (len(ticks) >= 3 or mantissas != (1, 2, 5)):
            return ticks
    # less than half a decade: nice values on the linear scale of the gains
    e = math.floor(vmin)
    lo, hi = 10 ** (vmin - e), 10 ** (vmax - e)
    lin = MaxNLocator(nbins=min(nbins, 4), steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return [math.log10(t) + e for t in lin if t > 0 and lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]


def log10_axis(ax: Axes, axis: str = "y") -> Axes:
    """Label an axis that holds log10 values as powers of ten (`10^{-300}`, ...).

    Gains of 1e-800 are real and far below the float64 range, so they are plotted as
    log10 values on a linear axis; this makes the tick labels read as the gains.
    """
    from matplotlib.ticker import Formatter, Locator, NullLocator

    class _Log10Formatter(Formatter):
        mode = "power"
        log10 = True  # `reach_ticks` and the figure builders recognise these axes

        def set_locs(self, locs: Sequence[float]) -> None:
            super().set_locs(locs)
            self.mode = _label_mode(locs)

        def __call__(self, x: float, pos: Any = None) -> str:
            return log10_label(x, pos, self.mode)

    class _Log10Locator(Locator):
        _last: tuple[Any, list[float]] = (None, [])

        def __call__(self) -> list[float]:
            lo, hi = self.axis.get_view_interval()
            return self.tick_values(lo, hi)

        def tick_values(self, vmin: float, vmax: float) -> list[float]:
            key = (min(vmin, vmax), max(vmin, vmax), _tick_bins(self.axis))
            if self._last[0] != key:  # a layout asks many times for the same ticks
                self._last = (key, log10_ticks(*key))
            return list(self._last[1])

    if axis not in ("x", "y", "both"):
        raise ValueError(f"axis must be x, y or both, got {axis!r}")
    for which in ("x", "y") if axis == "both" else (axis,):
        a = ax.yaxis if which == "y" else ax.xaxis
        a.set_major_locator(_Log10Locator())
        a.set_major_formatter(_Log10Formatter())
        a.set_minor_locator(NullLocator())
    return ax


def _tick_bins(axis: Any, most: int = 5) -> int:
    """How many tick intervals fit along `axis` with room between the labels (at most
    `most`): matplotlib's own estimate from the font size and the axis length."""
    if axis is None:
        return most
    try:
        space = int(axis.get_tick_space())
    except (AttributeError, TypeError, ValueError):
        return most
    return max(2, min(most, space))


def reach_ticks(ax: Axes, axis: str = "y", slack: float = 0.12) -> None:
    """Extend a log10 axis (`log10_axis`) by one tick interval at an end whose last tick
    lies more than `slack` of the span inside it, so the labels reach the curves'
    range (a curve at 10^130 gets a tick above 10^0). Call after a layout draw."""
    a = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = sorted(a.get_view_interval())
    ticks = sorted(t for t in a.get_major_locator()() if lo - 1e-9 <= t <= hi + 1e-9)
    if len(ticks) < 2 or hi <= lo:
        return
    step = ticks[1] - ticks[0]
    span = hi - lo
    new_lo = ticks[0] - step if ticks[0] - lo > slack * span else lo
    new_hi = ticks[-1] + step if hi - ticks[-1] > slack * span else hi
    if (new_lo, new_hi) != (lo, hi):
        # never beyond the next tick, and no more than the tick that covers the data
        (ax.set_ylim if axis == "y" else ax.set_xlim)(min(new_lo, lo), max(new_hi, hi))
