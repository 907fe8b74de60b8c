"""The cell registry: one torch-free record per cell that every other layer reads.

A `CellSpec` says what a cell is (its step, the paper it comes from), how its state is
laid out, how its recurrent weight is cut into gate blocks, which options apply to it
and with what defaults, which initialisations it takes, which theory applies to it, the
structure of its step Jacobian and how many parameters one network has. Validation,
initialisation, theory, tables, labels, help texts and `gradscope cells` all read it,
so adding a cell means its module under `gradscope.model.cells` and its record here.

The activations' constants (`sup|phi'|`, smoothness, a description) are here too, so
that tables and validation never import torch.

May import: nothing (the standard library only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

#: Initialisations of the N x N gate blocks of `W_hh` (the README's table).
INITS = ("default", "xavier", "orthogonal", "identity", "normal")

#: Structures of a step Jacobian that the numerics may exploit: `dense` (no structure),
#: `block-diagonal` (independent blocks: heads), `diagonal` (elementwise recurrences:
#: every product is a cumulative sum of `log|d_t|`).
STRUCTURES = ("dense", "block-diagonal", "diagonal")

#: Theory that applies to some cells (the annealed estimate and the spectrum apply to every one).
PASCANU, MEAN_FIELD = "pascanu", "mean_field"


def _pytorch_params(blocks: int) -> Callable[[int, int], int]:
    """`G N (I + N) + 2 G N`: one PyTorch module's weights and both biases."""
    return lambda n, i: blocks * n * (i + n) + 2 * blocks * n


@dataclass(frozen=True)
class CellSpec:
    """What gradscope knows of one cell, before any tensor exists."""

    name: str  # the `--cell` value
    title: str  # a few words: "vanilla RNN"
    step: str  # the step as one line of text
    paper: str  # where it comes from
    module: str  # `module:Class` under `gradscope.model.cells` that implements it
    params: Callable[[int, int], int]  # parameters of one network, from (hidden N, input size I)
    state: tuple[str, ...] = ("h",)  # the parts of the state, each N wide, h first
    blocks: int = 1  # N x N blocks of `weight_hh` (gates, in PyTorch's order)
    gates: tuple[str, ...] = ()  # the gates' names, in that order
    act: str = "phi"  # what `--act` is in this cell
    gated: bool = False  # whether `--gate-act` applies
    options: Mapping[str, float] = field(default_factory=dict)  # cell options -> default here
    symbols: Mapping[str, str] = field(default_factory=dict)  # an option's symbol in the paper
    inits: tuple[str, ...] = INITS  # the initialisations that apply
    inits_note: str = ""  # why the others do not
    theory: tuple[str, ...] = ()  # PASCANU, MEAN_FIELD where they apply
    theory_note: str = ""  # e.g. "gamma max|u|"
    structure: str = "dense"  # one of STRUCTURES
    family: str = "research"  # pytorch (follows a torch.nn module exactly) | research | modern

    @property
    def pytorch(self) -> bool:
        """Whether the cell is a torch.nn module's, exactly (its checkpoints load)."""
        return self.family == "pytorch"

    def state_dim(self, hidden: int) -> int:
        """D: the width of the whole state."""
        return len(self.state) * hidden

    def state_text(self, hidden: int) -> str:
        """`h 64`, `[h; c] 128`."""
        parts = self.state[0] if len(self.state) == 1 else "[" + "; ".join(self.state) + "]"
        return f"{parts} {self.state_dim(hidden)}"

    def option_symbol(self, name: str) -> str:
        """The paper's name of a cell option (`eps` for the antisymmetric step size)."""
        return self.symbols.get(name, name)

    def theory_text(self) -> str:
        """The theory overlays drawn for this cell, in words (`-` for none)."""
        words = {PASCANU: "Pascanu bound", MEAN_FIELD: "mean field"}
        text = ", ".join(words[t] for t in self.theory) or "-"
        return f"{text} ({self.theory_note})" if self.theory_note else text


CELL_SPECS: dict[str, CellSpec] = {s.name: s for s in (
    CellSpec(
        "rnn", "vanilla RNN", "h' = act(W_ih x + b_ih + W_hh h + b_hh)", "torch.nn.RNNCell (Elman 1990)",
        "rnn:RNNCell", _pytorch_params(1), theory=(PASCANU, MEAN_FIELD), family="pytorch"),
    CellSpec(
        "lstm", "LSTM", "gates i, f, g, o; the c path keeps gradients alive",
        "torch.nn.LSTMCell (Hochreiter & Schmidhuber 1997)", "lstm:LSTMCell", _pytorch_params(4),
        state=("h", "c"), blocks=4, gates=("i", "f", "g", "o"), act="candidate and cell-output tanh",
        gated=True, options={"forget_bias": 0.0}, family="pytorch"),
    CellSpec(
        "gru", "GRU", "gates r, z, n", "torch.nn.GRUCell (Cho et al. 2014)", "gru:GRUCell",
        _pytorch_params(3), blocks=3, gates=("r", "z", "n"), act="candidate tanh", gated=True, family="pytorch"),
    CellSpec(
        "indrnn", "IndRNN", "h' = act(W_ih x + b + u * h), u a vector", "Li et al. 2018",
        "indrnn:IndRNNCell", lambda n, i: n * i + 2 * n,
        inits=("default", "normal", "orthogonal", "identity"), inits_note="its recurrent weight is a vector u",
        theory=(PASCANU,), theory_note="gamma max|u|", structure="diagonal"),
    CellSpec(
        "minimalrnn", "MinimalRNN", "e = act(W_x x), u = gate(W_h h + W_e e + b), h' = u h + (1-u) e",
        "Chen, Pennington & Schoenholz 2018", "minimalrnn:MinimalRNNCell",
        lambda n, i: n * i + 2 * n * n + n, gates=("u",), act="input map act(W_x x)", gated=True,
        options={"forget_bias": 0.0}),
    CellSpec(
        "antisymmetric", "antisymmetric RNN", "h' = h + eps act((W - W^T - gamma I) h + V x + b)",
        "Chang et al. 2019", "antisymmetric:AntisymmetricCell", lambda n, i: n * i + n * n + n,
        options={"step_size": 0.01, "diffusion": 0.01}, symbols={"step_size": "eps", "diffusion": "gamma"}),
    CellSpec(
        "cornn", "coRNN", "z' = z + dt (act(W y + W_z z + V x + b) - gamma y - eps z), y' = y + dt z'",
        "Rusch & Mishra 2021", "cornn:CoRNNCell", lambda n, i: n * i + 2 * n * n + n,
        state=("y", "z"), options={"step_size": 0.042, "stiffness": 2.7, "damping": 4.7},
        symbols={"step_size": "dt", "stiffness": "gamma", "damping": "eps"}),
)}

CELLS = tuple(CELL_SPECS)


def cell_spec(name: str) -> CellSpec:
    """The record of `name`; ValueError listing the cells for an unknown one."""
    try:
        return CELL_SPECS[name]
    except KeyError:
        raise ValueError(f"cell={name!r} is not one of: {', '.join(CELLS)}") from None


def cells_with_option(name: str) -> tuple[str, ...]:
    """The cells a cell option applies to."""
    return tuple(c for c, s in CELL_SPECS.items() if name in s.options)


# -- activations ----------------------------------------------------------------------
@dataclass(frozen=True)
class ActivationSpec:
    name: str
    gamma: float  # sup |phi'|: the gamma of the Pascanu et al. bound
    smooth: bool  # C^1 everywhere (the sum rule of the exponents needs it)
    description: str


LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default

ACTIVATION_SPECS: dict[str, ActivationSpec] = {a.name: a for a in (
    ActivationSpec("sigmoid", 0.25, True, "1/(1+e^-x); slope at most 1/4"),
    ActivationSpec("tanh", 1.0, True, "hyperbolic tangent"),
    ActivationSpec("relu", 1.0, False, "max(0, x)"),
    ActivationSpec("identity", 1.0, True, "linear cell"),
    ActivationSpec("leaky_relu", 1.0, False, f"max(x, {LEAKY_SLOPE} x)"),
    ActivationSpec("elu", 1.0, True, "x if x > 0 else e^x - 1"),
    ActivationSpec("gelu", 1.1289041451825208, True, "x Phi(x) (exact erf form)"),
    ActivationSpec("silu", 1.0998393201285284, True, "x sigmoid(x)"),
    ActivationSpec("softplus", 1.0, True, "log(1 + e^x)"),
    ActivationSpec("softsign", 1.0, True, "x / (1 + |x|)"),
    ActivationSpec("hardtanh", 1.0, False, "clamp(x, -1, 1)"),
)}

ACTIVATION_NAMES = tuple(ACTIVATION_SPECS)

#: sigma_max of an N x N block of `W_hh` for large N, by initialisation, at gain 1
#: (random matrices: 2 x entry std x sqrt(N); orthogonal and identity: exactly g).
SIGMA_MAX_AT_INIT = {"default": 2 / math.sqrt(3), "xavier": 2.0, "normal": 2.0,
                     "orthogonal": 1.0, "identity": 1.0}
