"""The options the commands share, defined once: every `Config` field as an option
(`config_options`), the output options (`output_options`), and the conversion of a
library `ValueError` into a one-line usage error naming the option.

Only click and the torch-free `config` module are imported, so `--help` is instant.
A configuration that names a user's network (`--checkpoint`, `--cell pkg.mod:Name`) is
loaded and checked when the options are read (`check_networks`), so that a bad file
is refused before anything is written.

May import: `gradscope.config`, `gradscope.runs.ranges`, `gradscope.analysis` (inside
functions).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import click

from ..config import (
    ACTIVATION_NAMES,
    CELLS,
    DEVICES,
    DTYPES,
    INITS,
    SPECTRAL_MODES,
    Config,
)
from .outputs import (  # noqa: F401  (public here too: the commands import them from options)
    FIGURE_FORMATS,
    GROUP_ORDER,
    VENUES,
    GroupedCommand,
    GroupedOption,
    output_options,
    parse_formats,
    parse_width,
    report_output_options,
)

EXIT_STRICT = 3


# -- value lists and ranges ----------------------------------------------------------
def parse_values(text: str, kind: str = "float") -> list[Any]:
    """Values of an option that takes several: `x,y,z`, `a:b` or `a:b:n`.

    - `x,y,z`: a list (each item may itself be a range);
    - `a:b` with integers: every integer from a to b inclusive;
    - `a:b:n`: n values evenly spaced from a to b inclusive (a linspace).

    `kind` is `int`, `float` or `str` (strings take lists only). One implementation
    serves the command line and experiment files: `gradscope.runs.ranges.parse_range`.
    Raises `ValueError` naming the bad part.
    """
    from ..runs.ranges import parse_range

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
    metavar: str | None = None
    multiple: bool = False  # repeatable; the values are joined with ";" into one


DEFAULTS = {f.name: f.default for f in dataclasses.fields(Config)}
OPTION_SPECS: tuple[_Spec, ...] = (
    _Spec("cell", ("--cell",), "str", "Network", "Recurrent cell (rnn, lstm, gru: PyTorch's; the others: `gradscope cells`), or "
          "package.module:Name, a cell of yours (imports and runs your code).", CELLS,
          metavar="[" + "|".join(CELLS) + "|pkg.mod:Name]"),
    _Spec("cell_args", ("--cell-arg",), "str", "Network", "key=value for a custom cell's constructor "
          "(repeatable).", metavar="KEY=VALUE", multiple=True),
    _Spec("checkpoint", ("--checkpoint",), "str", "Network", "A trained network: .pt/.pth/.safetensors state "
          "dict of nn.RNN/LSTM/GRU (weights only, never code); cell and sizes come from it.", metavar="PATH"),
    _Spec("module", ("--module",), "str", "Network", "The recurrent module in the checkpoint, when it "
          "holds several (the error lists them).", metavar="NAME"),
    _Spec("layer", ("--layer",), "int", "Network", "One layer of a stacked checkpoint, driven by the layers "
          "below [default: the whole stack]."),
    _Spec("act", ("--act",), "str", "Network", "Activation: rnn's phi; lstm/gru/slstm candidate tanh "
          "(lru, s6, mingru, minlstm have none to set).", ACTIVATION_NAMES),
    _Spec("gate_act", ("--gate-act",), "str", "Network", "Gate activation of lstm/gru.", ACTIVATION_NAMES),
    _Spec("hidden", ("--hidden", "-n"), "int", "Network", "Hidden size N (LSTM state is 2N)."),
    _Spec("input_size", ("--input-size",), "int", "Network", "Input size [default: hidden]."),
    _Spec("init", ("--init",), "str", "Network", "Initialisation of each W_hh gate block.", INITS),
    _Spec("gain", ("--gain", "-g"), "float", "Network", "Initialisation gain g."),
    _Spec("bias_std", ("--bias-std",), "float", "Network",
          "b_ih ~ N(0, s^2), b_hh = 0 [default: PyTorch biases for default init, else 0]."),
    _Spec("forget_bias", ("--forget-bias",), "float", "Network", "Added to the LSTM forget-gate bias "
          "(minimalrnn: to the bias of its gate u)."),
    _Spec("step_size", ("--step-size",), "float", "Network",
          "antisymmetric: eps; cornn: dt [default: 0.01; 0.042]."),
    _Spec("diffusion", ("--diffusion",), "float", "Network", "antisymmetric: gamma [default: 0.01]."),
    _Spec("stiffness", ("--stiffness",), "float", "Network", "cornn: gamma, the restoring force [default: 2.7]."),
    _Spec("damping", ("--damping",), "float", "Network", "cornn: epsilon, the damping [default: 4.7]."),
    _Spec("r_min", ("--r-min",), "float", "Network", "lru: smallest |lambda| of the ring init, in [0, 1) [default: 0]."),
    _Spec("r_max", ("--r-max",), "float", "Network", "lru: largest |lambda| of the ring init, in (0, 1] [default: 1]."),
    _Spec("max_phase", ("--max-phase",), "float", "Network", "lru: phases of lambda in [0, max-phase) [default: 6.28]."),
    _Spec("state_size", ("--state-size",), "int", "Network", "s6: states per channel, D = N x it [default: 16]."),
    _Spec("heads", ("--heads",), "int", "Network", "slstm: heads of the block-diagonal R, dividing N [default: 4]."),
    _Spec("steps", ("--steps", "-T"), "int", "Run", "Analysed steps T (lags 0..T)."),
    _Spec("transient", ("--transient",), "int", "Run", "Burn-in steps run first and dropped."),
    _Spec("trials", ("--trials", "-b"), "int", "Run", "Independent networks B (one batch)."),
    _Spec("seed", ("--seed",), "int", "Run", "Root seed of every draw."),
    _Spec("h0_std", ("--h0-std",), "float", "Run", "Initial state ~ N(0, s^2) [default: 1; 0 with "
          "--checkpoint or a custom cell]."),
    _Spec("eps", ("--eps",), "float", "Run", "Horizon threshold: first lag with median gain < eps."),
    _Spec("input", ("--input",), "str", "Input", "noise | zeros | constant | a .npy/.csv file."),
    _Spec("input_std", ("--input-std",), "float", "Input", "Standard deviation of noise input."),
    _Spec("input_value", ("--input-value",), "float", "Input", "Value of constant input."),
    _Spec("input_loop", ("--input-loop",), "bool", "Input", "Repeat an input file shorter than transient + steps."),
    _Spec("spectral", ("--spectral",), "str", "Numerics", "Spectral norms: fast or exact (SVD every lag).", SPECTRAL_MODES),
    _Spec("exponents", ("--exponents",), "str", "Numerics",
          "Lyapunov exponents to estimate: K (the top K) or all [decay: default 0, none; "
          "spectrum: K >= 1, default every exponent up to 64].",
          metavar="K|all"),
    _Spec("qr_every", ("--qr-every",), "str", "Numerics",
          "Steps between QR re-orthonormalisations: M, or auto (the frame's spread kept within "
          "eps^-1/2 of the dtype).", metavar="M|auto"),
    _Spec("frame_transient", ("--frame-transient",), "int", "Numerics",
          "Steps that align the QR frame before exponents are accumulated [default: steps // 10]."),
    _Spec("dtype", ("--dtype",), "str", "Numerics",
          "Floating-point precision of the computation [default: float64 on cpu, float32 on cuda].", DTYPES),
    _Spec("device", ("--device",), "str", "Numerics", "Where to compute.", DEVICES),
)
SPEC_BY_FIELD = {s.field: s for s in OPTION_SPECS}


class _CellChoice(click.Choice):
    """A choice of the built-in cells, or `package.module:Name`."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and ":" in value:
            return value
        return super().convert(value, param, ctx)


def _allowed(spec: _Spec, value: Any) -> bool:
    return value in spec.choices or (spec.field == "cell" and ":" in str(value))




def config_options(multi: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding every configuration option (defined once, in `OPTION_SPECS`).

    `multi=False` (decay, spectrum): typed values, choices checked by click.
    `multi=True` (compare, sweep): every option is text taking lists and ranges
    (`a:b:n`, `a:b`, `x,y,z`); expand them with `expand_options`.
    """
    types = {"int": int, "float": float, "str": str}

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        for spec in reversed(OPTION_SPECS):
            default = DEFAULTS[spec.field]
            if spec.kind == "bool" or spec.multiple:  # flags and repeatable options: alike in both
                f = click.option(*spec.decls, spec.field, cls=GroupedOption, group=spec.group, help=spec.help,
                                 is_flag=spec.kind == "bool", multiple=spec.multiple, metavar=spec.metavar)(f)
                continue
            if multi:
                ptype: Any = str
                help_ = spec.help + (" Lists x,y,z" + (" and ranges a:b, a:b:n." if spec.kind != "str" else "."))
                if spec.choices:
                    help_ += f" Choices: {', '.join(spec.choices)}."
                default = None
            else:
                ptype = (_CellChoice if spec.field == "cell" else click.Choice)(spec.choices) \
                    if spec.choices else types[spec.kind]
                help_ = spec.help
                if spec.choices and len(spec.choices) > 5:
                    help_ += f" One of: {', '.join(spec.choices)}."
                    ptype.metavar = "NAME"  # keep the option column narrow
            f = click.option(
                *spec.decls, spec.field, cls=GroupedOption, group=spec.group, type=ptype,
                default=default, show_default=default is not None and not multi, help=help_,
                metavar=spec.metavar,
            )(f)
        return f

    return decorate


def expand_options(values: dict[str, Any]) -> dict[str, list[Any]]:
    """For `multi=True` options: field -> list of values (only the options given)."""
    out: dict[str, list[Any]] = {}
    for spec in OPTION_SPECS:
        text = values.get(spec.field)
        if spec.kind == "bool" or spec.multiple:  # a flag given, or repeated values as one
            if text:
                out[spec.field] = [True] if spec.kind == "bool" else [";".join(text).replace(",", ";")]
            continue
        if text is None:
            continue
        name = spec.decls[0]
        try:
            items = parse_values(text, spec.kind)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=f"'{name}'") from None
        if spec.choices:
            bad = [v for v in items if not _allowed(spec, v)]
            if bad:
                raise click.BadParameter(
                    f"{', '.join(map(str, bad))} not one of: {', '.join(spec.choices)}",
                    param_hint=f"'{name}'",
                )
        out[spec.field] = items
    return out


def config_from_options(values: dict[str, Any]) -> tuple[Config, Any]:
    """Build a `Config` from single-valued options; a bad value is a usage error (exit 2)
    naming the option. A user's network (checkpoint, custom cell) is loaded and checked
    here, once: the configuration comes back with its cell and sizes, and the network,
    to hand to the analysis (None for a drawn one)."""
    fields = {s.field: values[s.field] for s in OPTION_SPECS if s.field in values}
    for spec in OPTION_SPECS:
        if spec.multiple and spec.field in fields:
            fields[spec.field] = ";".join(fields[spec.field]) or None
    try:
        config = Config(**fields)
    except ValueError as exc:
        raise usage_error_for(exc) from None
    ctx = click.get_current_context(silent=True)
    typed = set() if ctx is None else {f for f in fields if ctx.get_parameter_source(f) == click.core.ParameterSource.COMMANDLINE}
    act_given = ctx is None or "act" in typed
    loaded = load_networks([config], act_given)[0]  # a value that differs is refused there, naming the network
    refuse_fixed([loaded[0]], typed)
    return loaded


#: What a checkpoint or a custom cell fixes (the network's own), beyond `config.DRAW_FIELDS`.
NETWORK_FIELDS = ("cell", "hidden", "input_size")


def refuse_fixed(configs: list[Config], typed: set[str]) -> None:
    """An option the user typed that a checkpoint or a custom cell fixes (its cell and
    sizes) is a usage error, whatever its value: a default would otherwise give way while
    a typed value that happens to differ is refused."""
    for config in configs:
        if not config.fixed_weights:
            continue
        what = "the checkpoint" if config.checkpoint is not None else "the custom cell"
        for name in NETWORK_FIELDS:
            if name in typed and not (name == "cell" and config.custom):
                flag = SPEC_BY_FIELD[name].decls[0]
                noun = {"hidden": "hidden size", "input_size": "input size"}.get(name, name)
                own = f" (its own: {getattr(config, name)})" if not config.custom or name != "cell" else ""
                raise click.BadParameter(f"{what} fixes the {noun}{own}: drop {flag}",
                                         param_hint=f"'{flag}'")


def check_networks(configs: list[Config], act_given: bool, notes: list[str] | None = None) -> list[Config]:
    """`load_networks`' configurations (their networks' cells and sizes): a grid's runs
    load their networks where they run. With `notes`, a configuration whose network or
    input file does not fit is skipped with a note there (a grid goes on with the others,
    as it does for other invalid combinations); a grid left empty is a usage error."""
    if notes is None:
        return [config for config, _ in load_networks(configs, act_given)]
    out = []
    for config in configs:
        try:
            out.append(load_networks([config], act_given)[0][0])
        except click.UsageError as exc:
            notes.append(f"skipped {config.label()}: {exc.format_message()}")
    if not out:
        raise click.UsageError("no valid configuration in the grid: " + "; ".join(notes[-3:]))
    return out


def load_networks(configs: list[Config], act_given: bool) -> list[tuple[Config, Any]]:
    """Load every checkpoint or custom cell of `configs` and check its options and input
    file (`analysis.resolve_network`), before any work or writing: a problem is a one-line
    usage error. Returns each configuration with its network's cell and sizes, and the
    network (None for a drawn one).

    `act_given`: whether `--act` was given; an `nn.RNN` state dict does not record its
    nonlinearity, so it must be.
    """
    out = []
    for config in configs:
        if not config.fixed_weights and config.input in ("noise", "zeros", "constant"):
            out.append((config, None))
            continue
        from ..analysis import resolve_network

        try:
            resolved, network = resolve_network(config)
        except ValueError as exc:
            raise usage_error_for(exc) from None
        module_type = (network.record if network is not None else {}).get("module_type", "")
        if module_type.startswith("nn.RNN") and not act_given:
            raise click.UsageError(f"checkpoint {config.checkpoint!r} holds an {module_type}, whose state dict "
                                   "does not record its nonlinearity: give --act tanh or --act relu")
        out.append((resolved, network))
    return out


def usage_error_for(exc: ValueError) -> click.UsageError:
    """A library `ValueError` as a click usage error, naming the option when it can."""
    msg = str(exc)
    head = msg.split(" ", 1)[0].split("=", 1)[0]
    spec = SPEC_BY_FIELD.get(head)
    if spec is not None:
        return click.BadParameter(msg, param_hint=f"'{spec.decls[0]}'")
    return click.UsageError(msg)


def threads_option(per_run: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--threads N`, torch threads (an execution setting, not in `Config`): for one run
    (`decay`, `spectrum`: default, the engine chooses from the size of the work), or per
    run of a grid (`per_run`: default 1, the parallelism is across runs)."""
    if per_run:
        return click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
                             help="torch threads per run (the parallelism is across runs: --jobs).",
                             cls=GroupedOption, group="Grid")
    return click.option("--threads", type=click.IntRange(min=1), default=None, metavar="N",
                        help="torch threads [default: chosen from the size of the work: one for "
                             "small matrices, the cores for large products when they pay].",
                        cls=GroupedOption, group="Numerics")


# -- helpers for the command bodies --------------------------------------------------
