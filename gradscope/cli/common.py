"""What the command bodies share: the command line as typed, a writable `--out`, the
progress bar, `analyze` with one-line errors, and writing one run's files.

May import: everything in gradscope (heavy modules inside functions only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import click

from ..config import Config
from .options import (
    EXIT_STRICT,
    GroupedCommand,
    config_options,
    output_options,
    threads_option,
    usage_error_for,
)


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
        if isinstance(param, click.Argument):
            parts.append(str(value))
        elif isinstance(param, click.Option) and param.is_flag:
            parts.append(flag)
        else:
            if isinstance(value, tuple):
                value = ",".join(map(str, value))
            parts += [flag, str(value)]
    return shlex.join(parts)


def _force(force: bool | None) -> bool:
    """`--force` of the command being run (every command with `--out` has it)."""
    if force is not None:
        return force
    ctx = click.get_current_context(silent=True)
    return bool(ctx.params.get("force")) if ctx is not None else False


def check_writable(directory: Path, force: bool | None = None) -> None:
    """Before any work: `--out` may be written (a new or empty folder, an earlier
    gradscope folder, which will be replaced whole, or any folder with `--force`), and a
    file can be created where it goes."""
    import tempfile

    from ..report.folder import check_output

    try:
        state = check_output(directory, _force(force))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except PermissionError as exc:
        raise click.ClickException(str(exc)) from None
    probe = directory if state == "foreign" else directory.parent
    try:
        probe.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".gradscope-", suffix=".probe"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot write to --out {str(directory)!r}: {reason}") from None


def check_apart(out: Path, other: Path | None, what: str, inside_ok: bool = False) -> None:
    """`--out` is replaced whole, so `other` (the cache, the folder being read) must not
    lie inside it or be it; and, unless `inside_ok`, `--out` must not lie inside `other`."""
    if other is None:
        return
    try:
        o, t = out.expanduser().resolve(), other.expanduser().resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a symlink loop
        raise click.UsageError(f"--out {str(out)!r} is not a usable path ({exc})") from None
    if o == t and not inside_ok:
        raise click.UsageError(f"--out {str(out)!r} is {what}: drop --out to redraw it in place, "
                               "or choose another folder")
    if o == t or o in t.parents:
        raise click.UsageError(f"--out {str(out)!r} holds {what} {str(other)!r}, and a folder written "
                               "by gradscope is replaced whole: choose another --out")
    if not inside_ok and t in o.parents:
        raise click.UsageError(f"--out {str(out)!r} lies inside {what} {str(other)!r}, which is never "
                               "changed: choose a folder outside it")


def report_folder(out: Path | None, name: str, cache_dir: Path | None, no_cache: bool,
                  check_cache: bool = True) -> Path:
    """`--out`, or `reports/NAME` (NAME must be one folder's name, never a path); and,
    with `check_cache`, not a folder that holds the run cache (it is replaced whole)."""
    if out is None:
        from ..config.checks import plain_name

        if not plain_name(name):
            raise click.BadParameter(f"{name!r} cannot name a folder under reports/: give a plain name "
                                     "(no '/', not '.' or '..') or --out DIR", param_hint="'--name'")
        out = Path("reports") / name
    if check_cache and not no_cache:
        from ..cache import default_cache_dir

        check_apart(out, cache_dir or default_cache_dir(), "the run cache", inside_ok=True)
    return out


def say_replaced(out: Path) -> Any:
    """The callback that says, in one line on stderr, what a write replaced."""
    return lambda what: click.echo(f"note: replaced {what} in {out}", err=True)


class _Progress:
    """`progress(stage, done, total)` drawn as a rich progress bar on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("{task.description:>10}"), BarColumn(),
                            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                            TextColumn("left"), TimeRemainingColumn(),
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


class LineProgress:
    """`progress(stage, done, total)` as a line on stderr every `every` seconds, for a
    stderr that is not a terminal (a log, a pipe): `unroll: 51,200 of 100,200 steps
    (51%), 12 s, about 11 s left`. The unroll counts the transient too, so a long
    burn-in is seen to move."""

    UNITS = {"unroll": "steps", "transport": "lags", "lyapunov": "steps"}

    def __init__(self, every: float = 10.0) -> None:
        import time

        self.every, self.clock = every, time.monotonic
        self.started = self.last = self.clock()
        self.stage_start: dict[str, tuple[float, int]] = {}

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __call__(self, stage: str, done: int, total: int) -> None:
        from ..runs.estimate import about_text, duration_text

        now = self.clock()
        began, first = self.stage_start.setdefault(stage, (now, done))
        if now - self.last < self.every:
            return
        self.last = now
        rate = (done - first) / (now - began) if now > began and done > first else None
        left = f", {about_text((total - done) / rate)} left" if rate else ""
        click.echo(f"{stage}: {done:,} of {total:,} {self.UNITS.get(stage, '')} ({100 * done / max(total, 1):.0f}%), "
                   f"{duration_text(now - self.started)} in all{left}", err=True)


def run_analysis(config: Config, show_progress: bool | str, command: str, what: str = "analyze",
                 threads: int | None = None, network: Any = None, lags: Any = None) -> Any:
    """`analysis.analyze` (or `analysis.spectrum`, `what="spectrum"`) with progress on
    stderr (`show_progress`: True a bar on a terminal, `lines` a line every 10 s, False
    none), on `threads` torch threads (None: the engine chooses); a run that may take
    more than a few seconds is timed on a short run first and the estimate printed.
    Library errors become one-line CLI errors."""
    import contextlib

    try:
        from .. import analysis

        if show_progress:
            from ..runs.estimate import describe_run, estimate_run

            est = estimate_run(config, what, threads)
            if est is not None and est.seconds >= 10:
                click.echo(describe_run(est), err=True)
        bar = _Progress() if show_progress is True else LineProgress() if show_progress else None
        with bar if bar is not None else contextlib.nullcontext():
            extra = {"lags": lags} if lags else {}  # the lags of `decay --at-lag`
            return getattr(analysis, what)(config, progress=bar, strict=False, command=command,
                                           threads=threads, network=network, **extra)
    except ValueError as exc:  # bad input file, values the library refuses
        raise usage_error_for(exc) from None
    except MemoryError:
        raise click.ClickException("out of memory: lower --hidden, --steps or --trials") from None
    except OverflowError:
        raise click.ClickException("a value overflowed a float (1e308) during the analysis: lower --gain, "
                                   "--input-std, --input-value or --bias-std") from None
    except RuntimeError as exc:  # torch's and gradscope's own messages say what happened
        raise click.ClickException(str(exc).replace("\n", " ")) from None
    except (OSError, ImportError, ArithmeticError) as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}".replace("\n", " ")) from None


def write_outputs(result: Any, out: Path, formats: Sequence[str], style: str, width: float | None,
                  stem: str = "decay", force: bool | None = None) -> list[Path]:
    """result.json + curves.npz + summary.txt + figures as the folder `out`, written
    whole: an earlier gradscope folder there is replaced (said on stderr), a folder
    gradscope did not write only with `--force` (its other files kept). `stem` decay:
    the decay figure and table; spectrum: the spectrum's."""
    from ..figures.style import save_figure
    from ..report.folder import output_folder
    from ..results import write_text_atomic
    from ..text.decay_table import render_text

    figure, summary_table, plain_sentence = presentation(stem)
    width = width if width is not None else (3.25 if style == "paper" else 6.75)
    drawable = True
    if stem == "spectrum":
        from ..figures.spectrum_figure import has_spectrum

        drawable = has_spectrum(result)
        if not drawable:  # the state went non-finite before any exponent was accumulated
            click.echo(f"no figure: no exponent was accumulated ({result.status}); "
                       "the summary and result.json say where the run stopped", err=True)
    try:
        fig = figure(result, width=width, style=style) if drawable else None
        with output_folder(out, force=_force(force)) as folder:
            result.save(folder.path)
            write_text_atomic(folder.path / "summary.txt",
                              render_text(summary_table(result)) + "\n" + plain_sentence(result) + "\n")
            names = [] if fig is None else [p.name for p in save_figure(fig, folder.path / stem, formats=formats)]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from None
    if folder.replaced:
        say_replaced(out)(folder.replaced)
    return [out / n for n in ("result.json", "curves.npz", "summary.txt", *names)]


def presentation(stem: str) -> tuple[Any, Any, Any]:
    """(figure, table, sentence) functions of a run kind: `decay` or `spectrum`."""
    if stem == "spectrum":
        from ..figures.spectrum_figure import spectrum_figure
        from ..text.spectrum_table import spectrum_sentence, spectrum_table

        return spectrum_figure, spectrum_table, spectrum_sentence
    from ..figures.decay_figure import decay_figure
    from ..text.decay_table import plain_sentence, summary_table

    return decay_figure, summary_table, plain_sentence


def run_and_show(ctx: click.Context, stem: str, options: dict[str, Any]) -> None:
    """The body of `decay` (`stem` decay: `analyze`) and `spectrum` (`spectrum`): build
    the config from the options, run, write `--out`, print the table and the sentence
    (or `--json`, or `--quiet`'s sentence), and exit 3 under `--strict` when the run did
    not finish `ok`."""
    import sys

    from .at_lag import parse_lags
    from .options import config_from_options

    out, force, formats, style, width, as_json, quiet, strict, threads = (
        options.pop(k) for k in ("out", "force", "formats", "style", "width", "as_json", "quiet", "strict",
                                 "threads"))
    lags = parse_lags(options.pop("at_lag", ()))
    config, network = config_from_options(options)
    if out is not None:
        check_writable(out, force)
    show_progress = False if quiet else (True if sys.stderr.isatty() and not as_json else "lines")
    what = "spectrum" if stem == "spectrum" else "analyze"
    result = run_analysis(config, show_progress, command_line(ctx), what=what, threads=threads, network=network,
                          lags=lags)
    if out is not None:
        write_outputs(result, out, formats, style, width, stem=stem, force=force)
    _, table, sentence = presentation(stem)
    if as_json:
        click.echo(result.to_json())
    elif quiet:
        click.echo(sentence(result))
    else:
        from rich.console import Console

        console = Console(highlight=False)
        console.print(table(result))
        console.print(sentence(result), soft_wrap=not console.is_terminal)
        if out is not None:
            console.print(f"wrote {out}/", style="dim")
    from ..results import Status

    if strict and result.status != Status.OK:
        first = (result.summary.get("warnings") or [""])[0]
        click.echo(f"Error: status {result.status} (--strict): {first}", err=True)
        ctx.exit(EXIT_STRICT)


def one_run_command(f: Any) -> click.Command:
    """A command over one configuration (`decay`, `spectrum`): every configuration option,
    `--threads`, the output options, the context first; its body calls `run_and_show`."""
    return click.command(cls=GroupedCommand)(
        config_options()(threads_option()(output_options(click.pass_context(f)))))


def interrupted(ctx: click.Context, what: str) -> None:
    """Ctrl-C: one line that says what was kept, exit 130 (no "Aborted!")."""
    import signal

    try:  # a second Ctrl-C must not cut the message short
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread (the command called from a thread of a program)
        previous = None
    try:
        click.echo(f"Interrupted: {what}", err=True)
    finally:
        if previous is not None:  # the process may go on (the command called from Python, a test)
            signal.signal(signal.SIGINT, previous)
    ctx.exit(130)


def grid_from_options(config_file: Path | None, overrides: dict[str, list[Any]]) -> tuple[Any, Any, list[Any]]:
    """`(experiment, expansion, configs)` of `compare` and `sweep`: the TOML file (if any)
    and the command line's lists expanded, one-line errors for a bad or empty grid, and
    the checkpoints and custom cells loaded and checked before anything is written."""
    from ..runs.grid import experiment_grid
    from .options import check_networks, refuse_fixed

    try:
        experiment, expansion = experiment_grid(config_file, overrides=overrides)
    except ValueError as exc:
        raise usage_error_for(exc) from None
    if not expansion.configs:
        raise click.UsageError("no valid configuration in the grid: " + "; ".join(expansion.notes[:3]))
    configs = check_networks(expansion.configs, act_given=all("act" in g for g in experiment.grids),
                             notes=expansion.notes)
    refuse_fixed(configs, set(overrides))
    return experiment, expansion, configs
