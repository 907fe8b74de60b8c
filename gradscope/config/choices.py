"""The names a configuration may use: cells, activations, initialisations, inputs,
numerics, and which options apply to which cell. Data only.

May import: nothing (the standard library only).
"""

from __future__ import annotations

import re

CELLS = ("rnn", "lstm", "gru", "indrnn", "minimalrnn", "antisymmetric", "cornn")
#: A custom cell: `package.module:Name` (imported only when asked: it runs the user's code).
CUSTOM_CELL = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
#: Files `checkpoint` reads: torch's own format (weights only) or safetensors.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".safetensors")
INITS = ("default", "xavier", "orthogonal", "identity", "normal")
INPUT_KINDS = ("noise", "zeros", "constant")
SPECTRAL_MODES = ("fast", "exact")
DTYPES = ("float64", "float32")
DEVICES = ("cpu", "cuda")
#: Names of `gradscope.activations.ACTIVATIONS`, kept here so that validating a Config
#: (and `gradscope --help`) never imports torch.
ACTIVATION_NAMES = (
    "sigmoid", "tanh", "relu", "identity", "leaky_relu", "elu",
    "gelu", "silu", "softplus", "softsign", "hardtanh",
)
#: Gate blocks of W_hh per cell, in PyTorch's order (the research cells' W_hh is one
#: block: see `gradscope.model.research_cells` for what W_hh means for each).
GATES = {"rnn": 1, "lstm": 4, "gru": 3, "indrnn": 1, "minimalrnn": 1, "antisymmetric": 1, "cornn": 1}
#: Cells whose state holds two N-vectors (LSTM `[h; c]`, coRNN `[y; z]`): D = 2N.
PAIR_STATE_CELLS = ("lstm", "cornn")
#: Cells with gates, where `--gate-act` applies.
GATED_CELLS = ("lstm", "gru", "minimalrnn")
#: Initialisations that apply to each cell (IndRNN's recurrent weight is a vector u).
CELL_INITS = {"indrnn": ("default", "normal", "orthogonal", "identity")}
#: The cell options beside the shared ones, with the cells they apply to and their
#: defaults there: antisymmetric (Chang et al. 2019, h' = h + eps phi((W - W^T - gamma I) h
#: + V x + b)) and coRNN (Rusch & Mishra 2021; the sMNIST values of the paper).
CELL_OPTIONS = {
    "step_size": {"antisymmetric": 0.01, "cornn": 0.042},  # eps / dt
    "diffusion": {"antisymmetric": 0.01},  # gamma of the antisymmetric cell
    "stiffness": {"cornn": 2.7},  # coRNN's gamma (the oscillators' restoring force)
    "damping": {"cornn": 4.7},  # coRNN's epsilon
}
#: `gradscope spectrum` without `--exponents`: every exponent up to this many.
SPECTRUM_CAP = 64
_FLOAT_FIELDS = ("gain", "bias_std", "forget_bias", "input_std", "input_value", "h0_std", "eps",
                 "step_size", "diffusion", "stiffness", "damping")
_COUNT_OR_WORD = ("exponents", "qr_every")
#: Fields that enter `Config.key()` only away from their default (see there): the cell
#: options, the spectrum's numerics and the user-network options came after the first
#: release.
LATER_FIELDS = ("step_size", "diffusion", "stiffness", "damping", "qr_every", "frame_transient",
                "cell_args", "checkpoint", "module", "layer", "input_loop")
#: What a checkpoint or a custom cell fixes: these options must keep their defaults.
_DRAW_FIELDS = ("init", "gain", "bias_std", "forget_bias")

#: Figure widths in inches that `--width` and the figure functions take. The narrowest
#: is one column (3.25 in), the narrowest width at which every figure is tested to fit in
#: both styles (`tests/test_layout.py`); at 2.5-3 in some legends cover curves and
#: labels, and near 1 in matplotlib gives up its layout altogether.
MIN_WIDTH, MAX_WIDTH = 3.25, 40.0
