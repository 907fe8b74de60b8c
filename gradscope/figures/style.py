"""Paper figure style shared by every gradscope figure.

What people who embed figures in papers expect: exact venue widths, TrueType (Type 42)
fonts in PDF/PS and real text in SVG (checkers reject Type 3 fonts), no LaTeX needed
(mathtext), a colour-blind-safe palette with a redundant line style per series, and
reproducible bytes (no timestamps, fixed SVG hash salt).

    with style_context("paper"):
        fig, ax = new_figure(width=VENUE_WIDTHS["icml"])
        ax.plot(...)
        save_figure(fig, "out/decay", formats=("pdf", "png"))

Figures are built on `matplotlib.figure.Figure` with an Agg canvas, never through
pyplot, so nothing global (backend, open-figure list) is touched. `new_figure` records
the active style on the figure and `save_figure` re-applies it while writing, so a
figure saved outside the `with` block still gets its fonts.

May import: `gradscope.figures.logaxis`, `gradscope.config` (the allowed widths).
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from ..config.choices import MAX_WIDTH, MIN_WIDTH
from .logaxis import log10_axis, log10_label, log10_ticks, reach_ticks  # noqa: F401  (public here too)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: Text widths in inches: one column (ICML 3.25, IEEE 3.5), NeurIPS text 5.5, two
#: columns (ICML 6.75, IEEE 7.16).
VENUE_WIDTHS: dict[str, float] = {
    "icml": 3.25,
    "one-column": 3.25,
    "ieee": 3.5,
    "neurips": 5.5,
    "icml2": 6.75,
    "two-column": 6.75,
    "ieee2": 7.16,
}

#: Okabe-Ito palette (Okabe & Ito 2008), in cycle order; readable with every common
#: colour-vision deficiency.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS: tuple[str, ...] = tuple(OKABE_ITO.values())

#: One line style per series (same index as `COLORS`), so black-and-white prints still
#: read. Plain dashes ("--") are kept for theory overlays, see `THEORY_LINESTYLE`.
LINESTYLES: tuple[Any, ...] = (
    "-",
    (0, (6, 1.5, 1.2, 1.5)),  # dash-dot
    (0, (1.2, 1.2)),  # dotted
    (0, (6, 1.5, 1.2, 1.5, 1.2, 1.5)),  # dash-dot-dot
    (0, (3, 1, 3, 1, 1, 1)),
    (0, (8, 2)),
    (0, (1, 2.5)),
    (0, (4, 1, 1, 1, 1, 1, 1, 1)),
)
THEORY_LINESTYLE: Any = (0, (4, 2))
THEORY_COLOR = "#555555"

#: The gid of a reference line that its axis names with a tick label (the zero line of a
#: rate axis, the gain-1 line): it needs no legend entry (tests/figures/legend_check.py).
AXIS_REFERENCE = "axis-reference"
#: The gid of a legend of keys: coloured entries name colours (a cell, a hidden size),
#: grey entries name shapes (a line style, a marker, a band); a mark is read from one of
#: each (tests/figures/legend_check.py).
LEGEND_KEYS = "legend-keys"


#: Colours for lines, in order: Okabe-Ito without yellow (a thin yellow line on white
#: is nearly invisible).
SERIES_COLORS: tuple[str, ...] = tuple(c for c in COLORS if c != OKABE_ITO["yellow"])


def series_style(i: int) -> tuple[str, Any]:
    """Colour and line style of the i-th series: the colours first, then each colour
    again with the next line style, so no two of the first 56 series look alike."""
    n = len(SERIES_COLORS)
    return SERIES_COLORS[i % n], LINESTYLES[(i % n + i // n) % len(LINESTYLES)]


GOLDEN = (1 + math.sqrt(5)) / 2
STYLES = ("paper", "screen")
FORMATS = ("pdf", "svg", "png")

# Settings needed for correct, reproducible files whatever the style.
_FILE_RC: dict[str, Any] = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": "gradscope",
    "svg.id": "gradscope",
    "pdf.compression": 6,
    "path.simplify": True,
}
_METADATA: dict[str, dict[str, Any]] = {
    "pdf": {"CreationDate": None, "Creator": "gradscope", "Producer": None},
    "svg": {"Date": None, "Creator": "gradscope"},
    "png": {"Software": "gradscope"},
}
# The style now active (set by `style_context`, recorded on figures by `new_figure`).
_ACTIVE: list[dict[str, Any]] = []


def colorbar_extend(values: Any, vmin: float, vmax: float) -> str:
    """The `extend` of a colour bar whose limits clip `values`: a triangle at each end that
    some value lies beyond (drawn in the end colour), so a clipped map says so."""
    import numpy as np

    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    low, high = bool(finite.size and finite.min() < vmin), bool(finite.size and finite.max() > vmax)
    return {(True, True): "both", (True, False): "min", (False, True): "max"}.get((low, high), "neither")


def style_rc(style: str = "paper", fontsize: float | None = None, usetex: bool = False) -> dict[str, Any]:
    """The rcParams of a style: `paper` (8 pt, Times-like STIX) or `screen` (11 pt, sans)."""
    if style not in STYLES:
        raise ValueError(f"style={style!r} is not one of: {', '.join(STYLES)}")
    from cycler import cycler

    paper = style == "paper"
    size = float(fontsize if fontsize is not None else (8.0 if paper else 11.0))
    if not (math.isfinite(size) and 3 <= size <= 40):
        raise ValueError(f"fontsize must be between 3 and 40 pt, got {fontsize!r}")
    small = size - 1 if paper else size - 2
    lw = 1.0 if paper else 1.6
    rc: dict[str, Any] = dict(_FILE_RC)
    rc.update(
        {
            "font.size": size,
            "axes.labelsize": size,
            "axes.titlesize": size,
            "xtick.labelsize": small,
            "ytick.labelsize": small,
            "legend.fontsize": small,
            "figure.titlesize": size + 1,
            "font.family": "serif" if paper else "sans-serif",
            "font.serif": ["STIXGeneral", "DejaVu Serif"],
            "font.sans-serif": ["DejaVu Sans"],
            "mathtext.fontset": "stix" if paper else "dejavusans",
            "text.usetex": bool(usetex),
            "axes.prop_cycle": cycler(color=list(COLORS)) + cycler(linestyle=list(LINESTYLES)),
            "axes.linewidth": 0.6 if paper else 0.9,
            "axes.grid": True,
            "axes.axisbelow": True,
            "grid.linewidth": 0.4 if paper else 0.6,
            "grid.alpha": 0.35,
            "grid.color": "#b0b0b0",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlelocation": "left",
            "axes.titlepad": 3.0,
            "lines.linewidth": lw,
            "lines.markersize": 3.5 if paper else 5.0,
            "xtick.major.width": 0.6,
            "ytick.major.width": 0.6,
            "xtick.major.size": 2.5 if paper else 3.5,
            "ytick.major.size": 2.5 if paper else 3.5,
            "xtick.major.pad": 2.0,
            "ytick.major.pad": 2.0,
            "legend.frameon": False,
            "legend.handlelength": 2.6,
            "legend.columnspacing": 1.0,
            "legend.borderaxespad": 0.3,
            "figure.dpi": 100,
            "savefig.dpi": 300,
            "figure.constrained_layout.use": True,
            "figure.constrained_layout.h_pad": 0.02,
            "figure.constrained_layout.w_pad": 0.02,
            "axes.formatter.use_mathtext": True,
        }
    )
    if usetex:
        rc["text.latex.preamble"] = r"\usepackage{amsmath}"
    return rc


@contextlib.contextmanager
def style_context(
    style: str = "paper", fontsize: float | None = None, usetex: bool = False
) -> Iterator[dict[str, Any]]:
    """Apply a figure style to matplotlib's rcParams inside a `with` block.

    Arguments:
        style: `paper` (8 pt serif, thin lines, for PDFs) or `screen` (11 pt sans).
        fontsize: base font size in points (default 8 paper, 11 screen).
        usetex: typeset text with a LaTeX installation (off: mathtext, no LaTeX needed).

    Yields the dict of rcParams applied.
    """
    import matplotlib

    rc = style_rc(style, fontsize, usetex)
    with matplotlib.rc_context(rc):
        _ACTIVE.append(rc)
        try:
            yield rc
        finally:
            _ACTIVE.pop()


def new_figure(
    width: float = 3.25,
    height: float | None = None,
    nrows: int = 1,
    ncols: int = 1,
    **kw: Any,
) -> tuple[Figure, Any]:
    """A figure of an exact size (inches) with `nrows x ncols` axes, constrained layout.

    `height` defaults to `width / golden ratio` (per row of a one-row figure: the whole
    figure keeps the golden ratio). `kw` goes to `Figure.subplots` (`sharex`, ...).
    Returns `(fig, axes)` as `Figure.subplots` gives them (one Axes or an array).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width = resolve_width(width)
    if height is None:
        height = width / GOLDEN
    if not (math.isfinite(height) and 0.5 <= height <= 40):
        raise ValueError(f"height must be between 0.5 and 40 inches, got {height!r}")
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    fig._gradscope_rc = dict(_ACTIVE[-1]) if _ACTIVE else dict(_FILE_RC)  # type: ignore[attr-defined]
    axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes


def resolve_width(width: float | str) -> float:
    """Width in inches from a number or a venue name of `VENUE_WIDTHS`."""
    if isinstance(width, str):
        key = width.strip().lower()
        if key in VENUE_WIDTHS:
            return VENUE_WIDTHS[key]
        try:
            width = float(key.removesuffix("in"))
        except ValueError:
            raise ValueError(
                f"width {width!r} is neither inches nor a venue: {', '.join(VENUE_WIDTHS)}"
            ) from None
    width = float(width)
    if not (math.isfinite(width) and MIN_WIDTH <= width <= MAX_WIDTH):
        raise ValueError(f"width must be between {MIN_WIDTH:g} and {MAX_WIDTH:g} inches (narrower figures cannot "
                         f"hold their panels and labels), got {width!r}")
    return width


def save_figure(
    fig: Figure,
    path_stem: str | Path,
    formats: Sequence[str] = ("pdf", "svg", "png"),
    dpi: int = 300,
) -> list[Path]:
    """Write `fig` as `path_stem.<fmt>` for each format, atomically and reproducibly.

    Every format is first written to a temporary name beside its target; only when all
    are written are they renamed into place, so an interrupted save leaves no half-written
    figure and no PDF that disagrees with its PNG. Metadata carries no dates, so the
    same figure gives byte-identical files. Returns the paths written.
    """
    return save_figures([(fig, path_stem)], formats, dpi)


def save_figures(figures: Sequence[tuple[Figure, str | Path]], formats: Sequence[str] = FORMATS,
                 dpi: int = 300) -> list[Path]:
    """`save_figure` for several figures at once: every file of every figure is written
    to a temporary name first and all are renamed into place at the end (on an error,
    none is), so the figures of a folder never disagree. Returns the paths written."""
    import contextlib
    import os
    import tempfile

    import matplotlib

    formats = tuple(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(
            f"figure format(s) {', '.join(bad) or '(none)'} not supported; "
            f"choose from: {', '.join(FORMATS)}"
        )
    mask = os.umask(0)
    os.umask(mask)
    pending: list[tuple[str, Path]] = []
    try:
        for fig, path_stem in figures:
            stem = Path(path_stem)
            rc = dict(getattr(fig, "_gradscope_rc", {}))
            rc.update(_FILE_RC)
            with matplotlib.rc_context(rc):
                for fmt in formats:
                    target = stem.with_name(f"{stem.name}.{fmt}")
                    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
                    os.close(fd)
                    pending.append((tmp, target))
                    fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_METADATA[fmt])
                    os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600: the usual mode
        for tmp, target in pending:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in pending:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    return [target for _, target in pending]
