"""The `gradscope` command group: one-line usage errors, `--version`.

Exit codes: 0 ok (also for a non-finite run, reported in its status), 1 runtime or I/O
error, 2 usage error or bad value, 3 a non-finite run under `--strict`.

May import: click only (the commands register themselves in `gradscope.cli`).
"""

from __future__ import annotations

from typing import Any

import click


def _version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from .. import __version__

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
