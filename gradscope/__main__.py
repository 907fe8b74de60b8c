"""`python -m gradscope`: the same as the `gradscope` command."""

from .cli import run

run()
