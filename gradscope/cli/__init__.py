"""The `gradscope` command line: a thin click layer over the library, one module per
command (`decay`, `spectrum`, `compare`, `sweep`, `replot`, `cells`) and the options they share.

Only click and the torch-free `config` module are imported here, so `gradscope --help`
is instant; numpy, torch, matplotlib and rich load inside the commands.

May import: everything in gradscope (heavy modules inside the commands only).
"""

from __future__ import annotations

from .cells import cells
from .compare import compare
from .decay import decay
from .main import main
from .replot import replot
from .spectrum import spectrum
from .sweep import sweep

for _command in (decay, spectrum, compare, sweep, replot, cells):
    main.add_command(_command)

__all__ = ["main"]
