"""What every command's options share that is not the configuration: the help sections
(`GroupedOption`, `GroupedCommand`), the figure formats and widths, and the output options
of a command that measures one run (`output_options`) or writes a report
(`report_output_options`). `cli.options` makes them public beside the configuration's.

May import: `gradscope.config` (click and the standard library otherwise).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import click

from ..config.choices import MAX_WIDTH, MIN_WIDTH

FIGURE_FORMATS = ("png", "pdf", "svg")
#: Same as `style.VENUE_WIDTHS` (kept here so `--help` never imports matplotlib;
#: a test keeps them equal).
VENUES = {"icml": 3.25, "one-column": 3.25, "ieee": 3.5, "neurips": 5.5,
          "icml2": 6.75, "two-column": 6.75, "ieee2": 7.16}

GROUP_ORDER = ("Network", "Run", "Input", "Numerics", "Grid", "Output")


class GroupedOption(click.Option):
    """A click option that knows its help section."""

    def __init__(self, *args: Any, group: str = "Other", **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.group = group


class GroupedCommand(click.Command):
    """A command whose `--help` lists options in sections (Network, Run, ...)."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                sections.setdefault(getattr(param, "group", "Other"), []).append(record)
        order = [g for g in GROUP_ORDER if g in sections] + [g for g in sections if g not in GROUP_ORDER]
        for name in order:
            with formatter.section(f"{name} options"):
                formatter.write_dl(sections[name])


# -- output options ------------------------------------------------------------------
def parse_formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in FIGURE_FORMATS]
    if bad or not items:
        raise click.BadParameter(
            f"{', '.join(bad) or '(none)'}: choose from {', '.join(FIGURE_FORMATS)}"
        )
    return tuple(dict.fromkeys(items))


def parse_width(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    key = value.strip().lower()
    if key in VENUES:
        return VENUES[key]
    try:
        width = float(key.removesuffix("in"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither inches nor a venue ({', '.join(VENUES)})") from None
    if not (math.isfinite(width) and MIN_WIDTH <= width <= MAX_WIDTH):
        raise click.BadParameter(f"{value!r}: the width must be between {MIN_WIDTH:g} and {MAX_WIDTH:g} inches "
                                 "(narrower figures cannot hold their panels and labels)")
    return width


def _output_decorator(out_help: str, json_help: str, quiet_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--out --force --format --style --width --json --quiet --strict`, with the
    command's own words for what `--out`, `--json` and `--quiet` do."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        opts = [
            click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
                         help=out_help, metavar="DIR", cls=GroupedOption, group="Output"),
            click.option("--force", is_flag=True,
                         help="Write into --out even if it holds files gradscope did not write (they are "
                              "kept). An earlier gradscope folder there is always replaced whole.",
                         cls=GroupedOption, group="Output"),
            click.option("--format", "formats", default="pdf,svg,png", show_default=True, callback=parse_formats,
                         help="Figure formats, a comma list of png,pdf,svg.", cls=GroupedOption, group="Output"),
            click.option("--style", type=click.Choice(["paper", "screen"]), default="paper", show_default=True,
                         help="Figure style: paper (8 pt, Type-42 fonts) or screen (11 pt).",
                         cls=GroupedOption, group="Output"),
            click.option("--width", callback=parse_width, default=None, metavar="IN|VENUE",
                         help="Figure width in inches, or icml (3.25), ieee (3.5), neurips (5.5), "
                              "icml2 (6.75), ieee2 (7.16) [default: 3.25 paper, 6.75 screen].",
                         cls=GroupedOption, group="Output"),
            click.option("--json", "as_json", is_flag=True, help=json_help, cls=GroupedOption, group="Output"),
            click.option("--quiet", "-q", is_flag=True, help=quiet_help, cls=GroupedOption, group="Output"),
            click.option("--strict", is_flag=True,
                         help="Exit with status 3 when a state became non-finite (files are still written).",
                         cls=GroupedOption, group="Output"),
        ]
        for opt in reversed(opts):
            f = opt(f)
        return f

    return decorate


#: The output options of a command that measures one run (`decay`).
output_options = _output_decorator(
    out_help="Write result.json, curves.npz, summary.txt and the figures as the folder DIR.",
    json_help="Print the result as one JSON document on stdout, nothing else.",
    quiet_help="No progress bar and no table: print only the one-sentence summary.",
)
#: The output options of a command that writes a report (`compare`).
report_output_options = _output_decorator(
    out_help="Write the report as the folder DIR [default: reports/NAME].",
    json_help="Print the report's path, manifest and summary rows as one JSON document on stdout, nothing else.",
    quiet_help="No progress and no table: print only the path of report.md.",
)
