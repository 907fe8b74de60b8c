"""Terminal tables and sentences built from a `Result` (rich renderables).

`summary_table` is what `gradscope decay` prints (and writes to `summary.txt` through
`render_text`); `plain_sentence` says the result in one sentence a student follows,
with the numbers of the run.

May import: `gradscope.results`, `gradscope.provenance`, `gradscope.model`, `gradscope.config`,
`gradscope.figures.summary`.
"""

from __future__ import annotations

import io
import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Sequence

from ..provenance import network_text
from .summary import CENSORED, EXPLODING, horizon_of

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import RenderableType

    from ..results import Result

LN2 = math.log(2.0)


# -- number formatting ---------------------------------------------------------------
def _num(value: Any, digits: int = 3) -> str:
    """Compact number: `-1.95`, `0.000412`, `3.2e-07`, `12345`; `-` for None."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:.{digits}g}" if abs(v) < 1 else f"{v:.{digits}g}".rstrip(".")
    return _sci(v, digits - 1)


def _sci(v: float, digits: int = 1) -> str:
    """`1e-6`, `2.5e+12` style without zero-padded exponents."""
    mant, exp = f"{v:.{digits}e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def _factor(f: float) -> str:
    """A growth or shrink factor >= 1 as a student would say it: `7`, `2.5`, `1.3`."""
    if f >= 100:
        return _sci(f, 1) if f >= 1e4 else f"{f:.0f}"
    if f >= 9.5:
        return f"{f:.0f}"
    return f"{f:.2g}"


def _fraction(x: float) -> str:
    """`1/4` for 0.25, `1` for 1.0, else three significant digits."""
    fr = Fraction(x).limit_denominator(8)
    if abs(float(fr) - x) < 1e-9:
        return str(fr)
    return f"{x:.3g}"


def _get(result: Result, key: str) -> Any:
    value = result.summary.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def params_count(result: Result) -> int:
    """Parameters of one network: the summary's count, else the model's
    (`G N (I + N) + 2 G N` for the PyTorch cells)."""
    from ..config import cell_spec

    n = _get(result, "params")
    if n is not None:
        return int(n)
    c = result.config
    return cell_spec(c.cell).params(c.hidden, c.n_input)


def config_line(result: Result) -> str:
    """One line naming everything that determines the run."""
    c = result.config
    net = result.provenance.get("checkpoint") or result.provenance.get("custom_cell")  # a user's network
    parts = [c.cell if c.custom else f"{c.cell} act={c.act}"]
    if c.cell != "rnn" and not c.custom:
        parts.append(f"gates={c.gate_act}")
    parts += [
        f"N={c.hidden}",
        f"inputs={c.n_input}",
        f"state D={net['state_dim'] if net else c.state_dim}",
        f"T={c.steps} (+{c.transient} transient)",
        f"trials={c.trials}",
        f"seed={c.seed}",
        network_text(result.provenance) if net else f"init={c.init} g={c.gain:g}",
    ]
    if c.bias_std is not None:
        parts.append(f"bias-std={c.bias_std:g}")
    if c.cell == "lstm" and c.forget_bias:
        parts.append(f"forget-bias={c.forget_bias:g}")
    drive = {"noise": f"noise std={c.input_std:g}", "zeros": "zeros",
             "constant": f"constant {c.input_value:g}"}.get(c.input, c.input)
    parts += [f"input={drive}", f"h0-std={c.h0_std:g}", f"eps={_sci(c.eps, 2)}",
              f"spectral={c.spectral}", f"{c.torch_dtype_name} {c.device}"]
    return ", ".join(parts)


# -- the summary table ---------------------------------------------------------------
def _rows(result: Result) -> list[tuple[str, str, str, str]]:
    """(quantity, measured, theory / context, unit) rows of the summary table."""
    g = lambda k: _get(result, k)  # noqa: E731
    rows: list[tuple[str, str, str, str]] = []
    rate = g("growth_rate")
    pascanu = g("pascanu_rate")
    rows.append(("growth rate, spectral", _num(rate),
                 f"Pascanu bound {_num(pascanu)}" if pascanu is not None else "", "ln/step"))
    if g("growth_rate_q10") is not None and g("growth_rate_q90") is not None:
        se = f", SE {_num(g('growth_rate_se'), 2)}" if g("growth_rate_se") is not None else ""
        rows.append(("  trials 10% .. 90%", f"{_num(g('growth_rate_q10'))} .. {_num(g('growth_rate_q90'))}",
                     se.lstrip(", "), "ln/step"))
    f = g("factor_per_step")
    rows.append(("factor per step", _num(f),
                 f"bound {_num(math.exp(pascanu))}" if pascanu is not None else "", "x/step"))
    mf = g("mean_field_rate")
    rows.append(("growth rate, RMS gain", _num(g("rms_growth_rate")),
                 f"mean field {_num(mf)}" if mf is not None else "", "ln/step"))
    rows.append(("growth rate, loss gradient", _num(g("loss_grad_rate")),
                 f"annealed {_num(g('annealed_rate'))}" if g("annealed_rate") is not None else "", "ln/step"))
    if g("half_life") is not None:
        rows.append(("half-life", _num(g("half_life")), "", "steps"))
    if g("doubling_time") is not None:
        rows.append(("doubling time", _num(g("doubling_time")), "", "steps"))
    eps = _sci(result.config.eps, 2)
    state = horizon_of(result.summary, result.config.steps)
    context = {CENSORED: f"not below {eps} in the window", EXPLODING: "the gain grows: no horizon"}
    rows.append((f"horizon (gain < {eps})", "n/a" if state.kind == EXPLODING else state.text,
                 context.get(state.kind, ""), "steps"))
    rows.append((f"explosion lag (gain > {_sci(1 / result.config.eps, 2)})", _num(g("explosion_lag")), "", "steps"))
    if g("nonfinite_step") is not None:
        rows.append(("state non-finite at step", _num(g("nonfinite_step")), "counting the transient", "step"))
    rows.append(("analysed lags", _num(g("analysed_lags")), f"of {result.config.steps}", "steps"))
    rows.append(("gamma = sup |phi'|", _fraction(g("gamma")) if g("gamma") is not None else "-",
                 result.config.act, ""))
    rows.append(("sigma_max(W_hh) (median)", _num(g("sigma_max_whh")), "", ""))
    if g("mean_field_chi") is not None:
        rows.append(("mean-field chi, q*", "", f"{_num(g('mean_field_chi'))}, {_num(g('mean_field_q'))}", ""))
    rows.append(("parameters per network", f"{params_count(result):,}", "", ""))
    if result.config.exponents:
        rows.append(("top Lyapunov exponent lambda_1", _num(g("lambda_1")), "", "ln/step"))
        rows.append(("Kaplan-Yorke dimension", _num(g("kaplan_yorke_dim")), "", ""))
        rows.append(("sum of exponents", _num(g("sum_exponents")),
                     f"mean log|det J| {_num(g('mean_log_det'))}", "ln/step"))
    return rows


def summary_table(result: Result) -> RenderableType:
    """The terminal summary of one run: configuration, every figure with its unit,
    theory beside measurement, status and warnings."""
    from rich.text import Text

    status = result.summary.get("status", "?")
    regime = result.summary.get("regime") or "-"
    title = Text.assemble(  # figures are medians over trials

        ("gradscope decay: ", "bold"), (result.config.label(), "bold"),
        "   status ", (status, "bold green" if status == "ok" else "bold red"),
        "   regime ", (regime, "bold"),
    )
    return quantity_table(result, title, _rows(result))


def quantity_table(result: Result, title: Any, rows: list[tuple[str, str, str, str]],
                   notes: Sequence[Any] = ()) -> RenderableType:
    """The title, the configuration line, a `quantity | measured | theory | unit` table
    of `rows` (rich markup), `notes`, and the run's warnings: the frame of the terminal
    summaries of `decay` and `spectrum`."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    head = Text(config_line(result), style="dim")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
    table.add_column("quantity")
    table.add_column("measured", justify="right", no_wrap=True)
    table.add_column("theory, context", no_wrap=True)
    table.add_column("unit", style="dim", min_width=7, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    parts: list[Any] = [title, head, table, *notes]
    for w in result.summary.get("warnings") or []:
        parts.append(Text(f"warning: {w}", style="yellow"))
    return Group(*parts)


# -- the sentence --------------------------------------------------------------------
def _pascanu_clause(result: Result) -> str:
    bound, gamma, sigma = _get(result, "pascanu_rate"), _get(result, "gamma"), _get(result, "sigma_max_whh")
    rate = _get(result, "growth_rate")
    if bound is None or gamma is None or sigma is None or rate is None:
        return ""
    name = result.config.act
    what = (f"the Pascanu bound of {_num(math.exp(bound), 2)}x per step "
            f"(the {name}'s slope at most {_fraction(gamma)} times sigma_max(W_hh) = {_num(sigma, 3)})")
    if rate <= bound + 1e-3 + 1e-2 * abs(bound):  # fast spectral norms are within 1%
        return f"; {what} holds"
    return f"; the measured rate exceeds {what}: please report this"


def plain_sentence(result: Result) -> str:
    """One sentence with the run's numbers, e.g. "gradients shrink about 7x per step; ..."."""
    g = lambda k: _get(result, k)  # noqa: E731
    c = result.config
    eps = _sci(c.eps, 2)
    rate, regime = g("growth_rate"), g("regime")
    head = ""
    if result.summary.get("status") == "nonfinite":
        step = g("nonfinite_step")
        where = f" at step {step}" if step is not None else ""
        head = (f"the network's state blew up to inf/NaN{where}, so only "
                f"{_num(g('analysed_lags'))} of {c.steps} lags could be measured "
                "(lower --gain or use a bounded activation)")
        if rate is None:
            return head + "."
        head += "; before that, "
    if rate is None:
        horizon = g("horizon")
        tail = f"; {horizon} steps back less than {eps} of a gradient is left" if horizon is not None else ""
        return head + ("no growth rate could be fitted: the gradient is exactly zero after a few steps "
                       "(every unit is switched off)" if any("zero" in w for w in g("warnings") or [])
                       else "no growth rate could be fitted (too few finite lags: raise --steps)") + tail + "."
    factor = math.exp(rate)
    if regime == "marginal":
        kl = g("analysed_lags") or c.steps
        text = (f"gradients neither clearly shrink nor grow (about {factor:.3f}x per step, "
                f"{_num(rate)} per step in natural log): the network sits near the edge of chaos, "
                f"and a gradient sent {kl} steps back keeps about {_num(math.exp(rate * kl), 2)} of its size")
    elif rate < 0:
        shrink = 1 / factor
        if shrink >= 1.1:
            text = f"gradients shrink about {_factor(shrink)}x per step"
        else:
            text = (f"gradients shrink about {100 * (1 - factor):.2g}% per step "
                    f"(half of a gradient is lost every {_num(LN2 / -rate, 2)} steps)")
        horizon = g("horizon")
        if horizon is not None:
            text += f"; {horizon} steps back less than {eps} of a gradient is left"
        elif g("horizon_censored"):
            text += (f"; even {_num(g('analysed_lags'))} steps back more than {eps} of a gradient "
                     "is left (the horizon lies beyond the window: raise --steps to see it)")
    else:
        text = (f"gradients grow about {_factor(factor)}x per step" if factor >= 1.1 else
                f"gradients grow about {100 * (factor - 1):.2g}% per step "
                f"(they double every {_num(LN2 / rate, 2)} steps)")
        lag = g("explosion_lag")
        if lag is not None:
            text += f"; {lag} steps back a gradient is already more than {_sci(1 / c.eps, 2)} times larger"
        text += ", so no horizon applies (exploding gradients: clip them, or lower --gain)"
    return head + text + _pascanu_clause(result) + "."


def render_text(renderable: RenderableType, width: int = 100) -> str:
    """Plain text of a rich renderable (no colour, no control codes), for summary.txt."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False,
                      no_color=True, highlight=False, emoji=False, legacy_windows=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


# -- cells and activations -----------------------------------------------------------
def cells_table(hidden: int = 64, input_size: int | None = None, init: str = "default",
                gain: float = 1.0) -> RenderableType:
    """Cells (state size, parameter count, the options that apply to each, the theory
    overlays drawn for it, its step and paper), all read from the cell registry, and
    activations (sup|phi'|, the Pascanu per-step bound for a vanilla RNN at the given
    initialisation)."""
    from rich import box
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from ..config import ACTIVATION_SPECS, CELL_SPECS, INITS
    from ..config.registry import SIGMA_MAX_AT_INIT

    n, i = hidden, input_size if input_size is not None else hidden
    cells = Table(title=f"cells (N={n}, input size {i})", box=box.SIMPLE_HEAD, title_justify="left")
    for col, kw in (("cell", {"no_wrap": True}), ("state", {"no_wrap": True}),
                    ("parameters", {"justify": "right"}), ("options that apply", {}), ("theory", {})):
        cells.add_column(col, **kw)
    steps = []
    for name, spec in CELL_SPECS.items():
        options = ["--act"] + (["--gate-act"] if spec.gated else [])
        options += [f"--{k.replace('_', '-')}" for k in spec.options]
        missing = [x for x in INITS if x not in spec.inits]
        if missing:
            options.append(f"--init (not {', '.join(missing)})")
        cells.add_row(name, escape(spec.state_text(n)), f"{spec.params(n, i):,}", " ".join(options),
                      spec.theory_text())
        paper = "" if spec.pytorch else f" ({spec.paper})"
        steps.append(Text(f"  {name}: {spec.step}{paper}", style="dim"))
    sigma = SIGMA_MAX_AT_INIT[init] * gain
    acts = Table(title=f"activations (Pascanu bound per step for rnn: gamma x sigma_max(W_hh), "
                       f"sigma_max ~ {sigma:.3g} for init={init} g={gain:g}, large N)",
                 box=box.SIMPLE_HEAD, title_justify="left")
    for col, kw in (("act", {}), ("gamma = sup|phi'|", {"justify": "right"}),
                    ("bound / step", {"justify": "right"}), ("smooth", {}), ("", {"style": "dim"})):
        acts.add_column(col, **kw)
    for a in ACTIVATION_SPECS.values():
        acts.add_row(a.name, _fraction(a.gamma), f"{a.gamma * sigma:.3g}", "yes" if a.smooth else "no",
                     a.description)
    foot = Text("A bound below 1 guarantees vanishing gradients (rnn; for indrnn gamma max|u|; the other cells have no such bound).",
                style="dim")
    every = Text("Every cell: all activations (--act), the annealed estimate, the Lyapunov spectrum; "
                 "steps:", style="dim")
    return Group(cells, every, *steps, Text(""), acts, foot)
