"""The `gradscope` command line: a thin click layer over the library, one module per
command (`decay`, `spectrum`, `compare`, `sweep`, `track`, `replot`, `cells`) and the options they share.

Only click and the torch-free `config` module are imported here, so `gradscope --help`
is instant; numpy, torch, matplotlib and rich load inside the commands.

May import: everything in gradscope (heavy modules inside the commands only).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

from .cells import cells
from .compare import compare
from .decay import decay
from .main import main
from .replot import replot
from .spectrum import spectrum
from .sweep import sweep
from .track import track

for _command in (decay, spectrum, compare, sweep, track, replot, cells):
    main.add_command(_command)

__all__ = ["main", "run"]


def run(args: list[str] | None = None) -> None:
    """The `gradscope` console script: `main`, then an exit that skips the interpreter's
    teardown of its modules.

    Once torch is imported, that teardown takes ~0.4 s (a bare `decay` is ~2 s in all)
    and does nothing for the user: everything was written and closed by then. The exit
    handlers still run (pools, temporary files, logging), and the streams are flushed; a
    command that left other threads running exits the ordinary way.
    """
    try:
        main(args=args, prog_name="gradscope")
        code = 0
    except SystemExit as exc:  # click's standalone mode always ends here
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing more to show
            code = code or 1
    os._exit(code)
