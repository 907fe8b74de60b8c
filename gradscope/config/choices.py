"""The names a configuration may use: inputs, numerics, files, figure widths, and the
cell registry's facts as the tables validation and the model read (which options apply
to which cell, gate blocks, state layout). Data only.

May import: `gradscope.config.registry`.
"""

from __future__ import annotations

import re

from .registry import (  # noqa: F401  (the registry's names, public here too)
    ACTIVATION_NAMES,
    CELL_SPECS,
    CELLS,
    INITS,
)

#: A custom cell: `package.module:Name` (imported only when asked: it runs the user's code).
CUSTOM_CELL = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
#: Files `checkpoint` reads: torch's own format (weights only) or safetensors.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".safetensors")
INPUT_KINDS = ("noise", "zeros", "constant")
SPECTRAL_MODES = ("fast", "exact")
DTYPES = ("float64", "float32")
DEVICES = ("cpu", "cuda")
# -- what the registry says, as the tables the rest of the package reads ------------
#: Gate blocks of W_hh per cell, in PyTorch's order.
GATES = {name: s.blocks for name, s in CELL_SPECS.items()}
#: Cells whose state holds two N-vectors (LSTM `[h; c]`, coRNN `[y; z]`): D = 2N.
PAIR_STATE_CELLS = tuple(name for name, s in CELL_SPECS.items() if len(s.state) == 2)
#: Cells with gates, where `--gate-act` applies.
GATED_CELLS = tuple(name for name, s in CELL_SPECS.items() if s.gated)
#: Initialisations of the cells that do not take all of them.
CELL_INITS = {name: s.inits for name, s in CELL_SPECS.items() if s.inits != INITS}
#: The cell options that `Config` stores as None (each cell's own default then applies):
#: option -> {cell: default}. (`forget_bias` is a cell option too, with 0 as its default
#: everywhere: `registry.cells_with_option("forget_bias")` says where it applies.)
OPTION_FIELDS = ("step_size", "diffusion", "stiffness", "damping", "r_min", "r_max", "max_phase", "state_size",
                 "heads")
CELL_OPTIONS = {name: {c: s.options[name] for c, s in CELL_SPECS.items() if name in s.options}
                for name in OPTION_FIELDS}
#: `gradscope spectrum` without `--exponents`: every exponent up to this many.
SPECTRUM_CAP = 64
FLOAT_FIELDS = ("gain", "bias_std", "forget_bias", "input_std", "input_value", "h0_std", "eps",
                 "step_size", "diffusion", "stiffness", "damping", "r_min", "r_max", "max_phase")
COUNT_OR_WORD = ("exponents", "qr_every")
#: Fields that enter `Config.key()` only away from their default (see there): the cell
#: options, the spectrum's numerics and the user-network options came after the first
#: release.
LATER_FIELDS = ("step_size", "diffusion", "stiffness", "damping", "qr_every", "frame_transient",
                "cell_args", "checkpoint", "module", "layer", "input_loop", "r_min", "r_max", "max_phase",
                "state_size", "heads")
#: What a checkpoint or a custom cell fixes: these options must keep their defaults.
DRAW_FIELDS = ("init", "gain", "bias_std", "forget_bias")

#: Figure widths in inches that `--width` and the figure functions take. The narrowest
#: is one column (3.25 in), the narrowest width at which every figure is tested to fit in
#: both styles (`tests/figures/test_layout.py`); at 2.5-3 in some legends cover curves and
#: labels, and near 1 in matplotlib gives up its layout altogether.
MIN_WIDTH, MAX_WIDTH = 3.25, 40.0
