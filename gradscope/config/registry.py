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
from typing import Any, Callable, Mapping

#: Initialisations of the N x N gate blocks of `W_hh` (the README's table).
INITS = ("default", "xavier", "orthogonal", "identity", "normal")

#: Structures of a step Jacobian that the numerics may exploit: `dense` (no structure),
#: `block-diagonal` (independent blocks: heads), `diagonal` (elementwise recurrences:
#: every product is a cumulative sum of `log|d_t|`).
STRUCTURES = ("dense", "block-diagonal", "diagonal")

#: Theory that applies to some cells (the annealed estimate and the spectrum apply to every one).
PASCANU, MEAN_FIELD = "pascanu", "mean_field"


def _pytorch_params(blocks: int) -> Callable[..., int]:
    """`G N (I + N) + 2 G N`: one PyTorch module's weights and both biases."""
    return lambda n, i, o=None: blocks * n * (i + n) + 2 * blocks * n


def default_heads(hidden: int) -> int:
    """sLSTM heads when `--heads` is not given: xLSTM's 4 where 4 divides N, else gcd(4, N)."""
    return math.gcd(4, hidden)


def dt_rank(hidden: int) -> int:
    """S6's rank of the Delta projection: Mamba's `ceil(d_model / 16)` with `d_model = N / 2`
    (Mamba's d_inner N is twice its d_model)."""
    return math.ceil(hidden / 32)


def _s6_params(n: int, i: int, o: Mapping[str, Any] | None = None) -> int:
    """`W_in` (only when I != N), `x_proj` `(R + 2 S) x N`, `dt_proj` `N x R` and its bias,
    `A_log` `N x S`, `D` `N`."""
    s, r = int((o or {}).get("state_size") or 16), dt_rank(n)
    return (n * i if i != n else 0) + (r + 2 * s) * n + n * r + n + n * s + n


def _slstm_params(n: int, i: int, o: Mapping[str, Any] | None = None) -> int:
    """`W` `4N x I`, `R` block-diagonal over H heads (`4 N^2 / H`), bias `4N`."""
    heads = int((o or {}).get("heads") or default_heads(n))
    return 4 * n * i + 4 * n * (n // heads) + 4 * n


@dataclass(frozen=True)
class CellSpec:
    """What gradscope knows of one cell, before any tensor exists."""

    name: str  # the `--cell` value
    title: str  # a few words: "vanilla RNN"
    step: str  # the step as one line of text
    paper: str  # where it comes from
    module: str  # `module:Class` under `gradscope.model.cells` that implements it
    params: Callable[..., int]  # parameters of one network, from (hidden N, input size I[, options])
    state: tuple[str, ...] = ("h",)  # the parts of the state, each N wide, h first
    blocks: int = 1  # N x N blocks of `weight_hh` (gates, in PyTorch's order)
    gates: tuple[str, ...] = ()  # the gates' names, in that order
    act: str = "phi"  # what `--act` is in this cell ("": it has none, `act_note` says why)
    gated: bool = False  # whether `--gate-act` applies
    options: Mapping[str, Any] = field(default_factory=dict)  # cell options -> default here (or a
    # function of N)
    symbols: Mapping[str, str] = field(default_factory=dict)  # an option's name in labels (never eps or
    # gamma, which name the horizon threshold and sup|phi'| beside it)
    inits: tuple[str, ...] = INITS  # the initialisations that apply
    inits_note: str = ""  # why the others do not
    theory: tuple[str, ...] = ()  # PASCANU, MEAN_FIELD where they apply
    theory_note: str = ""  # e.g. "gamma max|u|"
    structure: str = "dense"  # one of STRUCTURES
    family: str = "research"  # pytorch (follows a torch.nn module exactly) | research | modern
    act_note: str = ""  # why `--act` does not apply (cells with act "")
    no_theory: str = ""  # why neither the Pascanu bound nor mean field applies (tables say n/a, this)
    fixed: tuple[str, ...] = ()  # draw options (gain, bias_std, forget_bias) that do not apply: `inits_note`
    width: str = ""  # the option whose value multiplies each state part's width (s6: state_size)
    checkpoint: str = ""  # whose state dicts `--checkpoint` recognises as this cell

    @property
    def pytorch(self) -> bool:
        """Whether the cell is a torch.nn module's, exactly (its checkpoints load)."""
        return self.family == "pytorch"

    def option_values(self, hidden: int, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The cell options at hidden size N: those `given` (not None), else the defaults."""
        out = {}
        for name, default in self.options.items():
            value = (given or {}).get(name)
            out[name] = value if value is not None else (default(hidden) if callable(default) else default)
        return out

    def state_dim(self, hidden: int, options: Mapping[str, Any] | None = None) -> int:
        """D: the width of the whole state (s6: N x state_size)."""
        scale = int(self.option_values(hidden, options)[self.width]) if self.width else 1
        return len(self.state) * hidden * scale

    def count_params(self, hidden: int, inputs: int, options: Mapping[str, Any] | None = None) -> int:
        """Parameters of one network at these sizes and options."""
        if not self.options:
            return self.params(hidden, inputs)
        return self.params(hidden, inputs, self.option_values(hidden, options))

    def state_text(self, hidden: int) -> str:
        """`h 64`, `[h; c] 128`, `h 64x16 1024`."""
        parts = self.state[0] if len(self.state) == 1 else "[" + "; ".join(self.state) + "]"
        if self.width:
            parts += f" {hidden}x{self.option_values(hidden)[self.width]}"
        return f"{parts} {self.state_dim(hidden)}"

    def applies(self, field: str) -> bool:
        """Whether a `Config` field means something for this cell: `act` where the cell
        has an activation, a draw option (gain, bias_std, forget_bias) unless `fixed`, a
        cell option (forget_bias, r_max, ...) where it is this cell's; any other field."""
        if field == "act":
            return bool(self.act)
        if field in self.fixed:
            return False
        if cells_with_option(field):
            return field in self.options
        return True

    def option_symbol(self, name: str) -> str:
        """The paper's name of a cell option (`eps` for the antisymmetric step size)."""
        return self.symbols.get(name, name)

    def theory_text(self) -> str:
        """The theory overlays drawn for this cell, in words (`-` for none)."""
        words = {PASCANU: "Pascanu bound", MEAN_FIELD: "mean field"}
        text = ", ".join(words[t] for t in self.theory) or "-"
        if self.no_theory:
            return f"n/a ({self.no_theory})"
        return f"{text} ({self.theory_note})" if self.theory_note else text

    def theory_na(self, key: str) -> str:
        """`n/a (why)` for a theory (PASCANU, MEAN_FIELD) that does not apply to this cell
        where the registry says why, else "" (tables then leave the column blank)."""
        return f"n/a ({self.no_theory})" if self.no_theory and key not in self.theory else ""


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
        "indrnn:IndRNNCell", lambda n, i, o=None: n * i + 2 * n,
        inits=("default", "normal", "orthogonal", "identity"), inits_note="its recurrent weight is a vector u",
        theory=(PASCANU,), theory_note="gamma max|u|", structure="diagonal"),
    CellSpec(
        "minimalrnn", "MinimalRNN", "e = act(W_x x), u = gate(W_h h + W_e e + b), h' = u h + (1-u) e",
        "Chen, Pennington & Schoenholz 2018", "minimalrnn:MinimalRNNCell",
        lambda n, i, o=None: n * i + 2 * n * n + n, gates=("u",), act="input map act(W_x x)", gated=True,
        options={"forget_bias": 0.0}),
    CellSpec(
        "antisymmetric", "antisymmetric RNN", "h' = h + eps act((W - W^T - gamma I) h + V x + b)",
        "Chang et al. 2019", "antisymmetric:AntisymmetricCell", lambda n, i, o=None: n * i + n * n + n,
        options={"step_size": 0.01, "diffusion": 0.01}, symbols={"step_size": "step", "diffusion": "diffusion"}),
    CellSpec(
        "cornn", "coRNN", "z' = z + dt (act(W y + W_z z + V x + b) - gamma y - eps z), y' = y + dt z'",
        "Rusch & Mishra 2021", "cornn:CoRNNCell", lambda n, i, o=None: n * i + 2 * n * n + n,
        state=("y", "z"), options={"step_size": 0.042, "stiffness": 2.7, "damping": 4.7},
        symbols={"step_size": "dt", "stiffness": "stiffness", "damping": "damping"}),
    CellSpec(
        "lru", "Linear Recurrent Unit", "h' = lambda * h + gamma * (B x), lambda = exp(-exp(nu) + i exp(theta)), "
        "gamma = sqrt(1 - |lambda|^2); state [Re h; Im h]",
        "Orvieto et al. 2023", "lru:LRUCell", lambda n, i, o=None: 3 * n + 2 * n * i,
        state=("Re h", "Im h"), act="", act_note="a linear recurrence: no activation in it",
        options={"r_min": 0.0, "r_max": 1.0, "max_phase": 6.28},
        symbols={"r_min": "r_min", "r_max": "r_max", "max_phase": "phase"},
        inits=("default",), inits_note="ring init: |lambda| area-uniform on [--r-min, --r-max], phase up to --max-phase",
        fixed=("gain", "bias_std", "forget_bias"), structure="diagonal", family="modern",
        no_theory="a linear recurrence: its exponents are ln|lambda_j|, exactly", checkpoint="lru"),
    CellSpec(
        "mingru", "minGRU", "z = sigmoid(W_z x), h' = (1 - z) h + z g(W_h x), g(a) = a + 1/2 (a >= 0), sigmoid(a)",
        "Feng et al. 2024", "mingru:MinGRUCell", lambda n, i, o=None: 2 * n * i,
        act="", act_note="its candidate g(W_h x) is fixed by the paper's log-space model and gates come from x only",
        inits=("default",), inits_note="PyTorch's nn.Linear init of W_z, W_h (no recurrent weight)",
        fixed=("gain", "bias_std", "forget_bias"), structure="diagonal", family="modern",
        no_theory="no recurrent weight: J = diag(1 - z_t), z from the input only",
        checkpoint="mingru-pytorch minGRU"),
    CellSpec(
        "minlstm", "minLSTM", "f, i = sigmoid(W_f x), sigmoid(W_i x), h' = f/(f+i) h + i/(f+i) g(W_h x)",
        "Feng et al. 2024", "minlstm:MinLSTMCell", lambda n, i, o=None: 3 * n * i,
        act="", act_note="its candidate g(W_h x) is fixed by the paper's log-space model and gates come from x only",
        inits=("default",), inits_note="PyTorch's nn.Linear init of W_f, W_i, W_h (no recurrent weight)",
        fixed=("gain", "bias_std", "forget_bias"), structure="diagonal", family="modern",
        no_theory="no recurrent weight: J = diag(f_t / (f_t + i_t)), from the input only"),
    CellSpec(
        "s6", "Mamba selective SSM (S6)", "Delta = softplus(W_dt W_r x + b), B = W_B x, "
        "h'[c,n] = exp(Delta_c A_cn) h[c,n] + Delta_c B_n x_c, y = C h (C = W_C x)",
        "Gu & Dao 2023", "s6:S6Cell", _s6_params, act="", act_note="a selective linear recurrence: no activation in it",
        options={"state_size": 16}, symbols={"state_size": "S"}, width="state_size",
        inits=("default",), inits_note="Mamba's init: A = -(n+1) (S4D-real), softplus(b) log-uniform in [1e-3, 1e-1]",
        fixed=("gain", "bias_std", "forget_bias"), structure="diagonal", family="modern",
        no_theory="no recurrent weight: J = diag(exp(Delta_t A)), Delta from the input only",
        checkpoint="mambapy MambaBlock (its SSM)"),
    CellSpec(
        "slstm", "sLSTM (xLSTM)", "exponential input gate, normaliser n, stabiliser m = max(log f + m, i~); "
        "h' = o c'/n', R block-diagonal over heads", "Beck et al. 2024", "slstm:SLSTMCell", _slstm_params,
        state=("h", "c", "n", "m"), blocks=4, gates=("i", "f", "z", "o"), act="candidate tanh (z)",
        options={"heads": default_heads}, symbols={"heads": "heads"},
        structure="block-diagonal", family="modern",
        no_theory="exponential gating: no bound of the Pascanu or mean-field kind"),
)}

CELLS = tuple(CELL_SPECS)


def cell_spec(name: str) -> CellSpec:
    """The record of `name`; ValueError listing the cells for an unknown one."""
    try:
        return CELL_SPECS[name]
    except KeyError:
        raise ValueError(f"cell={name!r} is not one of: {', '.join(CELLS)}") from None


def params_of(config: Any) -> int:
    """Parameters of one drawn network of a configuration (`Config`: its cell, sizes and
    the cell's options)."""
    spec = cell_spec(config.cell)
    return spec.count_params(config.hidden, config.n_input, {k: getattr(config, k, None) for k in spec.options})


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
