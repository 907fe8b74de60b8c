"""A quantity over time and channels as a heatmap: the per-step decay rates of a gated or
selective cell (`-log|d_t[j]|`: S6's `Delta_t[c] (n+1)`, minGRU's `-log(1 - z_t)`), one
panel per run, on one shared logarithmic colour scale with one colour bar, so that the
panels compare. Where the rates are small and steady, the decay curve is slow and
straight; where they jump with the input, it bends.

    fig = rate_heatmap([("s6, zero input", rates0), ("s6, weather", rates1)])

May import: `gradscope.figures` and everything below it.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .style import colorbar_extend, new_figure, style_context


def rate_heatmap(panels: Sequence[tuple[str, np.ndarray]], width: float | str = 6.75, style: str = "paper",
                 fontsize: float | None = None, label: str = r"decay rate $-\ln|d_t|$ per step",
                 cmap: str = "viridis") -> Any:
    """One heatmap per `(title, values (T, channels))`, time along x, channels along y
    (sorted by their mean, slowest at the bottom), one logarithmic colour bar.

    Arguments:
        panels: the panels' titles and arrays (positive values; zeros and non-finite
            values are left blank).
        width, style, fontsize: the figure options (`figures.style`).
        label: the colour bar's label.

    Returns:
        The `Figure`.
    """
    from matplotlib.colors import LogNorm

    arrays = [np.asarray(a, dtype=np.float64) for _, a in panels]
    if not arrays:
        raise ValueError("rate_heatmap needs at least one panel")
    positive = np.concatenate([a[np.isfinite(a) & (a > 0)].ravel() for a in arrays])
    lo, hi = (np.quantile(positive, [0.001, 0.999]) if positive.size else (1e-3, 1.0))
    hi = max(hi, lo * 1.0001)
    norm = LogNorm(vmin=lo, vmax=hi)
    cols = min(2, len(panels))
    rows = -(-len(panels) // cols)
    with style_context(style, fontsize):
        fig, axes = new_figure(width, height=1.25 + 1.35 * rows, nrows=rows, ncols=cols, squeeze=False)
        image = None
        for k, (ax, (title, values)) in enumerate(zip(axes.ravel(), panels)):
            values = np.asarray(values, dtype=np.float64)
            order = np.argsort(np.nanmean(np.where(values > 0, values, np.nan), axis=0))
            shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)[:, order].T
            image = ax.imshow(shown, aspect="auto", origin="lower", interpolation="antialiased", norm=norm, cmap=cmap,
                              extent=(0.5, values.shape[0] + 0.5, -0.5, values.shape[1] - 0.5))
            ax.set_title(title)
            ax.grid(False)
            if k // cols == rows - 1:
                ax.set_xlabel("step $t$")
            if k % cols == 0:
                ax.set_ylabel("channel (slowest first)")
        for ax in axes.ravel()[len(panels):]:
            ax.set_visible(False)
        fig.colorbar(image, ax=list(axes.ravel()[: len(panels)]), label=label, shrink=0.9,
                     extend=colorbar_extend(positive, lo, hi))
    return fig
