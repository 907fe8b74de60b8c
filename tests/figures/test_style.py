"""The house style (`figures.style`, `figures.logaxis`): rc settings set and restored,
the palette and venues, figure sizes, log10 tick labels that reach the curves, and
figures saved reproducibly, atomically and with embeddable fonts."""

from __future__ import annotations

import math
import re

import matplotlib
import pytest

from gradscope.figures.style import (
    COLORS,
    LINESTYLES,
    SERIES_COLORS,
    VENUE_WIDTHS,
    log10_axis,
    log10_label,
    new_figure,
    reach_ticks,
    save_figure,
    series_style,
    style_context,
)


def test_style_context_sets_and_restores_rc():
    before = matplotlib.rcParams["pdf.fonttype"]
    with style_context("paper"):
        assert matplotlib.rcParams["pdf.fonttype"] == 42
        assert matplotlib.rcParams["ps.fonttype"] == 42
        assert matplotlib.rcParams["svg.fonttype"] == "none"
        assert matplotlib.rcParams["mathtext.fontset"] in ("cm", "stix")
        assert matplotlib.rcParams["font.size"] == 8
    with style_context("screen", fontsize=12):
        assert matplotlib.rcParams["font.size"] == 12
    assert matplotlib.rcParams["pdf.fonttype"] == before
    with pytest.raises(ValueError):
        with style_context("poster"):
            pass


def test_palette_and_venues():
    assert COLORS[0] == "#0072B2" and len(set(COLORS)) == 8
    assert "#F0E442" not in SERIES_COLORS  # no yellow line (nearly invisible on white)
    styles = [series_style(i) for i in range(40)]
    assert len({(c, str(ls)) for c, ls in styles}) == 40  # nine series never share a colour and style
    assert len(LINESTYLES) == len(COLORS) and len(set(map(str, LINESTYLES))) == len(LINESTYLES)
    assert VENUE_WIDTHS == {"icml": 3.25, "one-column": 3.25, "ieee": 3.5, "neurips": 5.5,
                            "icml2": 6.75, "two-column": 6.75, "ieee2": 7.16}


def test_new_figure_size():
    fig, ax = new_figure(3.25)
    w, h = fig.get_size_inches()
    assert w == 3.25 and math.isclose(h, 3.25 / ((1 + 5**0.5) / 2))
    fig, axes = new_figure("ieee2", 2.0, nrows=1, ncols=2)
    assert tuple(fig.get_size_inches()) == (7.16, 2.0) and len(axes) == 2


def test_log10_labels():
    assert log10_label(-300.0) == "$10^{-300}$"
    assert log10_label(0.0) == "$10^{0}$"
    assert log10_label(math.log10(2e-3), mode="mantissa") == r"$2\times10^{-3}$"
    with style_context():
        fig, ax = new_figure()
        ax.plot([0, 1000], [0, -800])
        log10_axis(ax)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"\$10\^\{-?\d+\}\$", s) for s in labels), labels


def test_log10_ticks_reach_the_curves():
    """A curve reaching 1e130 gets a tick above 1e0 (the critical-init overlay had none)."""
    with style_context():
        fig, ax = new_figure()
        ax.plot([0, 1000], [-300, 130])
        ax.set_ylim(-320, 140)
        log10_axis(ax)
        reach_ticks(ax)
        fig.canvas.draw()
        top = max(t.get_loc() for t in ax.yaxis.get_major_ticks() if ax.get_ylim()[0] <= t.get_loc() <= ax.get_ylim()[1])
    assert top >= 100


def test_save_figure_reproducible_atomic_and_embeddable(tmp_path):
    paths = []
    for name in ("a", "b"):
        with style_context():
            fig, ax = new_figure()
            ax.plot([0, 1], [0, -300], label=r"$\|\partial s_T/\partial s_t\|_2$")
            log10_axis(ax)
            ax.legend()
        paths.append(save_figure(fig, tmp_path / name))
    for pa, pb in zip(*paths):
        assert pa.read_bytes() == pb.read_bytes(), pa.suffix
    pdf = paths[0][0].read_bytes()
    assert b"/Type3" not in pdf and b"CreationDate" not in pdf
    assert "<text" in paths[0][1].read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.{f}" for n in "ab" for f in ("pdf", "svg", "png"))  # no temporary files left
    with pytest.raises(ValueError):
        save_figure(fig, tmp_path / "c", formats=("gif",))


def test_saved_outside_context_still_type42(tmp_path):
    with style_context():
        fig, ax = new_figure()
        ax.set_xlabel(r"lag $k$")
    (path,) = save_figure(fig, tmp_path / "f", formats=("pdf",))
    assert b"/Type3" not in path.read_bytes()
