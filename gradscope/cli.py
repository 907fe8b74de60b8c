"""The `gradscope` command line: a thin click layer over `gradscope.analysis`.

Only click and the torch-free `config` module are imported at module top, so
`gradscope --help` is instant; numpy, torch, matplotlib and rich load inside commands.

Exit codes: 0 ok (also for a non-finite run, reported in its status), 1 runtime or I/O
error, 2 usage error or bad value, 3 a non-finite run under `--strict`.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from .config import ACTIVATION_NAMES, CELLS, DEVICES, DTYPES, INITS, SPECTRAL_MODES, Config

EXIT_STRICT = 3
FIGURE_FORMATS = ("png", "pdf", "svg")
#: Same as `style.VENUE_WIDTHS` (kept here so `--help` never imports matplotlib;
#: a test keeps them equal).
VENUES = {"icml": 3.25, "one-column": 3.25, "ieee": 3.5, "neurips": 5.5,
          "icml2": 6.75, "two-column": 6.75, "ieee2": 7.16}


# -- value lists and ranges ----------------------------------------------------------
def parse_values(text: str, kind: str = "float") -> list[Any]:
    """Values of an option that takes several: `x,y,z`, `a:b` or `a:b:n`.

    - `x,y,z`: a list (each item may itself be a range);
    - `a:b` with integers: every integer from a to b inclusive;
    - `a:b:n`: n values evenly spaced from a to b inclusive (a linspace).

    `kind` is `int`, `float` or `str` (strings take lists only). One implementation
    serves the command line and experiment files: `gradscope.grid.parse_range`.
    Raises `ValueError` naming the bad part.
    """
    from .grid import parse_range

    return parse_range(text, kind)


# -- the shared configuration options ------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Spec:
    field: str  # Config field
    decls: tuple[str, ...]
    kind: str  # int | float | str
    group: str
    help: str
    choices: tuple[str, ...] | None = None


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Config)}
OPTION_SPECS: tuple[_Spec, ...] = (
    _Spec("cell", ("--cell",), "str", "Network", "Recurrent cell (PyTorch formulas and gate order).", CELLS),
    _Spec("act", ("--act",), "str", "Network", "Activation: rnn's phi; lstm/gru candidate tanh.", ACTIVATION_NAMES),
    _Spec("gate_act", ("--gate-act",), "str", "Network", "Gate activation of lstm/gru.", ACTIVATION_NAMES),
    _Spec("hidden", ("--hidden", "-n"), "int", "Network", "Hidden size N (LSTM state is 2N)."),
    _Spec("input_size", ("--input-size",), "int", "Network", "Input size [default: hidden]."),
    _Spec("init", ("--init",), "str", "Network", "Initialisation of each W_hh gate block.", INITS),
    _Spec("gain", ("--gain", "-g"), "float", "Network", "Initialisation gain g."),
    _Spec("bias_std", ("--bias-std",), "float", "Network",
          "b_ih ~ N(0, s^2), b_hh = 0 [default: PyTorch biases for default init, else 0]."),
    _Spec("forget_bias", ("--forget-bias",), "float", "Network", "Added to the LSTM forget-gate bias."),
    _Spec("steps", ("--steps", "-T"), "int", "Run", "Analysed steps T (lags 0..T)."),
    _Spec("transient", ("--transient",), "int", "Run", "Burn-in steps run first and dropped."),
    _Spec("trials", ("--trials", "-b"), "int", "Run", "Independent networks B (one batch)."),
    _Spec("seed", ("--seed",), "int", "Run", "Root seed of every draw."),
    _Spec("h0_std", ("--h0-std",), "float", "Run", "Initial state ~ N(0, s^2)."),
    _Spec("eps", ("--eps",), "float", "Run", "Horizon threshold: first lag with median gain < eps."),
    _Spec("input", ("--input",), "str", "Input", "noise | zeros | constant | a .npy/.csv file."),
    _Spec("input_std", ("--input-std",), "float", "Input", "Standard deviation of noise input."),
    _Spec("input_value", ("--input-value",), "float", "Input", "Value of constant input."),
    _Spec("spectral", ("--spectral",), "str", "Numerics", "Spectral norms: fast or exact (SVD every lag).", SPECTRAL_MODES),
    _Spec("exponents", ("--exponents",), "int", "Numerics", "Lyapunov exponents to estimate (0: none)."),
    _Spec("dtype", ("--dtype",), "str", "Numerics", "[default: float64 on cpu, float32 on cuda]", DTYPES),
    _Spec("device", ("--device",), "str", "Numerics", "Where to compute.", DEVICES),
)
SPEC_BY_FIELD = {s.field: s for s in OPTION_SPECS}
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


def config_options(multi: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding every configuration option (defined once, in `OPTION_SPECS`).

    `multi=False` (decay, spectrum): typed values, choices checked by click.
    `multi=True` (compare, sweep): every option is text taking lists and ranges
    (`a:b:n`, `a:b`, `x,y,z`); expand them with `expand_options`.
    """
    types = {"int": int, "float": float, "str": str}

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        for spec in reversed(OPTION_SPECS):
            default = _DEFAULTS[spec.field]
            if multi:
                ptype: Any = str
                help_ = spec.help + (" Lists x,y,z" + (" and ranges a:b, a:b:n." if spec.kind != "str" else "."))
                if spec.choices:
                    help_ += f" Choices: {', '.join(spec.choices)}."
                default = None
            else:
                ptype = click.Choice(spec.choices) if spec.choices else types[spec.kind]
                help_ = spec.help
                if spec.choices and len(spec.choices) > 5:
                    help_ += f" One of: {', '.join(spec.choices)}."
                    ptype.metavar = "NAME"  # keep the option column narrow
            f = click.option(
                *spec.decls, spec.field, cls=GroupedOption, group=spec.group, type=ptype,
                default=default, show_default=default is not None and not multi, help=help_,
            )(f)
        return f

    return decorate


def expand_options(values: dict[str, Any]) -> dict[str, list[Any]]:
    """For `multi=True` options: field -> list of values (only the options given)."""
    out: dict[str, list[Any]] = {}
    for spec in OPTION_SPECS:
        text = values.get(spec.field)
        if text is None:
            continue
        name = spec.decls[0]
        try:
            items = parse_values(text, spec.kind)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=f"'{name}'") from None
        if spec.choices:
            bad = [v for v in items if v not in spec.choices]
            if bad:
                raise click.BadParameter(
                    f"{', '.join(map(str, bad))} not one of: {', '.join(spec.choices)}",
                    param_hint=f"'{name}'",
                )
        out[spec.field] = items
    return out


def config_from_options(values: dict[str, Any]) -> Config:
    """Build a `Config` from single-valued options; a bad value is a usage error (exit 2)
    naming the option."""
    fields = {s.field: values[s.field] for s in OPTION_SPECS if s.field in values}
    try:
        return Config(**fields)
    except ValueError as exc:
        raise usage_error_for(exc) from None


def usage_error_for(exc: ValueError) -> click.UsageError:
    """A library `ValueError` as a click usage error, naming the option when it can."""
    msg = str(exc)
    head = msg.split(" ", 1)[0].split("=", 1)[0]
    spec = SPEC_BY_FIELD.get(head)
    if spec is not None:
        return click.BadParameter(msg, param_hint=f"'{spec.decls[0]}'")
    return click.UsageError(msg)


# -- output options ------------------------------------------------------------------
def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in FIGURE_FORMATS]
    if bad or not items:
        raise click.BadParameter(
            f"{', '.join(bad) or '(none)'}: choose from {', '.join(FIGURE_FORMATS)}"
        )
    return tuple(dict.fromkeys(items))


def _width(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    key = value.strip().lower()
    if key in VENUES:
        return VENUES[key]
    try:
        width = float(key.removesuffix("in"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither inches nor a venue ({', '.join(VENUES)})") from None
    if not (math.isfinite(width) and 1.0 <= width <= 40.0):
        raise click.BadParameter(f"{value!r}: the width must be between 1 and 40 inches")
    return width


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--out --format --style --width --json --quiet --strict`, shared by the commands
    that write figures."""
    opts = [
        click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Write result.json, curves.npz, summary.txt and figures into DIR (created).",
                     metavar="DIR", cls=GroupedOption, group="Output"),
        click.option("--format", "formats", default="pdf,svg,png", show_default=True, callback=_formats,
                     help="Figure formats, a comma list of png,pdf,svg.", cls=GroupedOption, group="Output"),
        click.option("--style", type=click.Choice(["paper", "screen"]), default="paper", show_default=True,
                     help="Figure style: paper (8 pt, Type-42 fonts) or screen (11 pt).",
                     cls=GroupedOption, group="Output"),
        click.option("--width", callback=_width, default=None, metavar="IN|VENUE",
                     help="Figure width in inches, or icml (3.25), ieee (3.5), neurips (5.5), "
                          "icml2 (6.75), ieee2 (7.16) [default: 3.25 paper, 6.75 screen].",
                     cls=GroupedOption, group="Output"),
        click.option("--json", "as_json", is_flag=True,
                     help="Print the result as one JSON document on stdout, nothing else.",
                     cls=GroupedOption, group="Output"),
        click.option("--quiet", "-q", is_flag=True,
                     help="No progress bar and no table: print only the one-sentence summary.",
                     cls=GroupedOption, group="Output"),
        click.option("--strict", is_flag=True,
                     help="Exit with status 3 when the state became non-finite (files are still written).",
                     cls=GroupedOption, group="Output"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


# -- helpers for the command bodies --------------------------------------------------
def command_line(ctx: click.Context) -> str:
    """The command as typed, rebuilt from the options given on the command line."""
    import shlex

    parts = ctx.command_path.split()
    parts[0] = "gradscope"
    for param in ctx.command.params:
        if ctx.get_parameter_source(param.name) != click.core.ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[param.name]
        flag = param.opts[0]
        if isinstance(param, click.Option) and param.is_flag:
            parts.append(flag)
        else:
            if isinstance(value, tuple):
                value = ",".join(map(str, value))
            parts += [flag, str(value)]
    return shlex.join(parts)


def check_writable(directory: Path) -> None:
    """Create `directory` and make sure a file can be written there, before any work."""
    import tempfile

    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".gradscope-", suffix=".probe"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot write to --out {str(directory)!r}: {reason}") from None


class _Progress:
    """`progress(stage, done, total)` drawn as a rich progress bar on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description:>10}"), BarColumn(),
                            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=True)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=max(total, 1))
        self.bar.update(self.tasks[stage], completed=done, total=max(total, 1))


def run_analysis(config: Config, show_progress: bool, command: str) -> Any:
    """`analysis.analyze` with a progress bar; library errors become one-line CLI errors."""
    import contextlib

    try:
        from .analysis import analyze

        bar = _Progress() if show_progress else None
        with bar if bar is not None else contextlib.nullcontext():
            return analyze(config, progress=bar, strict=False, command=command)
    except ValueError as exc:  # bad input file, values the library refuses
        raise usage_error_for(exc) from None
    except MemoryError:
        raise click.ClickException("out of memory: lower --hidden, --steps or --trials") from None
    except (OSError, RuntimeError, ImportError, ArithmeticError) as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}".replace("\n", " ")) from None


def write_outputs(result: Any, out: Path, formats: Sequence[str], style: str, width: float | None,
                  stem: str = "decay") -> list[Path]:
    """result.json + curves.npz + summary.txt + figures into `out`, each atomically."""
    from .plots import decay_figure
    from .results import write_text_atomic
    from .style import save_figure
    from .tables import plain_sentence, render_text, summary_table

    width = width if width is not None else (3.25 if style == "paper" else 6.75)
    try:
        fig = decay_figure(result, width=width, style=style)
        result.save(out)
        write_text_atomic(out / "summary.txt",
                          render_text(summary_table(result)) + "\n" + plain_sentence(result) + "\n")
        return [out / "result.json", out / "curves.npz", out / "summary.txt",
                *save_figure(fig, out / stem, formats=formats)]
    except OSError as exc:
        raise click.ClickException(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from None


# -- commands ------------------------------------------------------------------------
def _version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from . import __version__

        click.echo(f"gradscope {__version__}")
        ctx.exit()


class _Group(click.Group):
    """A click group whose usage errors are one line: `Error: ...` (exit 2), no usage dump."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            text = exc.format_message()
            if exc.ctx is not None:
                text += f" (see: {exc.ctx.command_path} --help)"
            one_line = click.UsageError(text)  # no context: click prints no usage block
            one_line.exit_code = exc.exit_code
            raise one_line from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version and exit.")
def main() -> None:
    """See gradients vanish or explode through time in recurrent networks.

    \b
    gradscope decay --cell rnn --act sigmoid --out runs/sigmoid
    gradscope compare --cell rnn,lstm,gru --act tanh --name cells
    gradscope replot reports/cells --width 6.75
    gradscope cells
    """


@main.command(cls=GroupedCommand)
@config_options()
@output_options
@click.pass_context
def decay(ctx: click.Context, out: Path | None, formats: tuple[str, ...], style: str,
          width: float | None, as_json: bool, quiet: bool, strict: bool, **options: Any) -> None:
    """Measure how a gradient decays (or grows) going back through time.

    Prints a table of growth rate, half-life, horizon and the theory beside them
    (Pascanu bound, mean field), and one plain sentence. With --out it writes
    result.json, curves.npz, summary.txt and decay.pdf/svg/png.

    \b
    Example:
      gradscope decay --cell rnn --act sigmoid -n 64 -T 1000 --out runs/sigmoid
    """
    config = config_from_options(options)
    if out is not None:
        check_writable(out)
    show_progress = not (quiet or as_json) and sys.stderr.isatty()
    result = run_analysis(config, show_progress, command_line(ctx))
    if out is not None:
        write_outputs(result, out, formats, style, width)
    if as_json:
        click.echo(result.to_json())
    else:
        from .tables import plain_sentence, summary_table

        if quiet:
            click.echo(plain_sentence(result))
        else:
            from rich.console import Console

            console = Console(highlight=False)
            console.print(summary_table(result))
            console.print(plain_sentence(result), soft_wrap=not console.is_terminal)
            if out is not None:
                console.print(f"wrote {out}/", style="dim")
    if strict and result.status != "ok":
        first = (result.summary.get('warnings') or [''])[0]
        click.echo(f"Error: status {result.status} (--strict): {first}",
                   err=True)
        ctx.exit(EXIT_STRICT)


def _grid_name(configs: Sequence[Config]) -> str:
    """A folder name from what the grid varies, e.g. `cell-rnn-lstm_act-tanh-relu`."""
    import re

    from .grid import varied_fields

    parts = []
    for name in varied_fields(configs)[:3]:
        values = list(dict.fromkeys(f"{getattr(c, name)}" for c in configs))
        shown = values if len(values) <= 4 else [values[0], values[-1]]
        parts.append("-".join([name.replace("_", "")] + shown))
    text = "_".join(parts) or f"{configs[0].cell}-{configs[0].act}"
    return re.sub(r"[^A-Za-z0-9._-]+", "", text)[:80] or "compare"


class _GridProgress:
    """`run_grid` events as one line per finished run on stderr (and a bar on a terminal)."""

    def __init__(self, show: bool) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.show = show

    def __call__(self, event: Any) -> None:
        if event.stage != "done" or not self.show:
            return
        how = "cached" if event.cached else f"{event.seconds:.1f} s"
        self.console.print(f"[{event.index + 1}/{event.total}] {event.config.label()}: "
                           f"{event.result.status} ({how})")


@main.command(cls=GroupedCommand)
@config_options(multi=True)
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE.toml", help="Experiment file (TOML, never executed): [grid] of option lists. "
              "Command-line values win over the file.", cls=GroupedOption, group="Grid")
@click.option("--name", default=None, help="Report name [default: the file's name, or one made from the grid].",
              cls=GroupedOption, group="Grid")
@click.option("--title", default=None, help="Report heading [default: the name].", cls=GroupedOption, group="Grid")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Run cache [default: ~/.cache/gradscope].", cls=GroupedOption, group="Grid")
@click.option("--no-cache", is_flag=True, help="Compute every run, store nothing.", cls=GroupedOption, group="Grid")
@output_options
@click.pass_context
def compare(ctx: click.Context, config_file: Path | None, name: str | None, title: str | None,
            cache_dir: Path | None, no_cache: bool, out: Path | None, formats: tuple[str, ...],
            style: str, width: float | None, as_json: bool, quiet: bool, strict: bool,
            **options: Any) -> None:
    """Run a grid of configurations and write a comparison report.

    Every option takes lists and ranges (x,y,z; a:b integers; a:b:n linspace); the grid
    is their cartesian product (invalid combinations are skipped with a note). Finished
    runs are cached, so an interrupted compare resumes where it stopped. Writes
    report.md, report.html, summary.csv/json, curves.csv, table.tex, figures/ and
    manifest.json into --out [default: reports/NAME].

    \b
    Example:
      gradscope compare --cell rnn,lstm,gru --act sigmoid,tanh -T 500 --name cells
    """
    from .grid import experiment_grid

    overrides = expand_options(options)
    try:
        experiment, expansion = experiment_grid(config_file, overrides=overrides)
    except ValueError as exc:
        raise usage_error_for(exc) from None
    if not expansion.configs:
        raise click.UsageError("no valid configuration in the grid: " + "; ".join(expansion.notes[:3]))
    name = name or (experiment.name if config_file is not None else _grid_name(expansion.configs))
    out = out if out is not None else Path("reports") / name
    check_writable(out)
    from .cache import RunCache
    from .compare import run_grid, summary_rows, write_report

    cache = None if no_cache else RunCache(cache_dir)
    progress = _GridProgress(show=not (quiet or as_json))
    try:
        results = run_grid(expansion.configs, cache=cache, progress=progress)
    except KeyboardInterrupt:
        click.echo("Interrupted: finished runs are in the cache; run the same command to resume.", err=True)
        ctx.exit(130)
    title = title or (experiment.title if config_file is not None and experiment.title != experiment.name else name)
    try:
        manifest = write_report(results, out, name=name, title=title, command=command_line(ctx),
                                notes=expansion.notes, width=width, style=style, formats=formats)
    except OSError as exc:
        raise click.ClickException(f"cannot write the report to {str(out)!r}: {exc.strerror or exc}") from None
    if as_json:
        import json

        click.echo(json.dumps({"report": str(out), "manifest": manifest,
                               "summary": summary_rows(results)}, indent=2, default=str))
    elif quiet:
        click.echo(str(out / "report.md"))
    else:
        _print_compare(results, out, expansion.notes)
    if strict and any(r.status != "ok" for r in results):
        bad = sum(r.status != "ok" for r in results)
        click.echo(f"Error: {bad} configuration(s) did not finish ok (--strict)", err=True)
        ctx.exit(EXIT_STRICT)


def _print_compare(results: Sequence[Any], out: Path, notes: Sequence[str]) -> None:
    from rich.console import Console

    from .compare import reading
    from .tables import comparison_table

    console = Console(highlight=False)
    if not console.is_terminal:  # a pipe or file: wide enough that no column is cut
        console = Console(highlight=False, width=200)
    console.print(comparison_table(results))
    for line in reading(results):
        console.print("- " + line, soft_wrap=not console.is_terminal)
    for note in notes:
        console.print(f"note: {note}", style="dim")
    console.print(f"wrote {out}/report.md, report.html, table.tex, figures/", style="dim")


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "formats", default=None, callback=lambda c, p, v: None if v is None else _formats(c, p, v),
              help="Figure formats, a comma list of png,pdf,svg [default: as before].")
@click.option("--style", type=click.Choice(["paper", "screen"]), default=None, help="Figure style [default: as before].")
@click.option("--width", callback=_width, default=None, metavar="IN|VENUE", help="Width in inches or a venue name.")
@click.option("--fontsize", type=click.FloatRange(4, 30), default=None, help="Base font size in points.")
@click.option("--select", default=None, help="Report only: comma list of config ids or labels to keep.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the redrawn figures here instead of in place.")
def replot(path: Path, formats: tuple[str, ...] | None, style: str | None, width: float | None,
           fontsize: float | None, select: str | None, out: Path | None) -> None:
    """Redraw the figures of a run (--out of decay) or of a report, without recomputing.

    \b
    Example:
      gradscope replot reports/textbook --width 6.75 --format pdf
    """
    from .replot import replot as redraw

    chosen = [s.strip() for s in select.split(",") if s.strip()] if select else None
    try:
        written = redraw(path, width=width, style=style, formats=formats, fontsize=fontsize,
                         select=chosen, out=out)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write: {exc.strerror or exc}") from None
    click.echo(f"redrew {len(written)} file(s) under {out or path}")


@main.command()
@click.option("--hidden", "-n", type=click.IntRange(min=1), default=_DEFAULTS["hidden"], show_default=True,
              help="Hidden size N for the parameter counts.")
@click.option("--input-size", type=click.IntRange(min=1), default=None,
              help="Input size [default: hidden].")
@click.option("--init", type=click.Choice(INITS), default="default", show_default=True,
              help="Initialisation, for the typical sigma_max(W_hh).")
@click.option("--gain", "-g", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Initialisation gain g.")
def cells(hidden: int, input_size: int | None, init: str, gain: float) -> None:
    """List cells (state size, gate blocks, parameters) and activations (sup|phi'|,
    the Pascanu per-step bound factor).

    \b
    Example:
      gradscope cells -n 128 --init orthogonal
    """
    from rich.console import Console

    from .tables import cells_table

    try:
        renderable = cells_table(hidden, input_size if input_size is not None else hidden, init, gain)
    except (ImportError, RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    Console(highlight=False).print(renderable)


if __name__ == "__main__":  # pragma: no cover
    main()
