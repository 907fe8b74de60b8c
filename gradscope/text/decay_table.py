"""The table and the sentence of one run (`gradscope decay`), built from a `Result`
(rich renderables).

`summary_table` is what `gradscope decay` prints (and writes to `summary.txt` through
`render_text`); `plain_sentence` says the result in one sentence a student follows,
with the numbers of the run; `quantity_table` is the frame `decay` and `spectrum` share.

May import: `gradscope.results`, `gradscope.provenance`, `gradscope.config`,
`gradscope.text.numbers`.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any, Sequence

from ..config import CELL_SPECS
from ..provenance import network_text
from ..results import HorizonKind, Status, horizon_of
from .numbers import (
    attractor_text,
    factor_text,
    fraction_text,
    get,
    log_text,
    number_text,
    sci,
)

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import RenderableType

    from ..results import Result

LN2 = math.log(2.0)


def params_count(result: Result) -> int:
    """Parameters of one network: the summary's count, else the model's
    (`G N (I + N) + 2 G N` for the PyTorch cells)."""
    from ..config.registry import params_of

    n = get(result, "params")
    if n is not None:
        return int(n)
    return params_of(result.config)


def theory_na(result: Result):
    """`na(key)`: e.g. `Pascanu bound n/a (why)` for a theory (`pascanu`, `mean_field`) that
    does not apply to the run's cell, where the registry says why; else ""."""
    spec = None if result.config.custom else CELL_SPECS.get(result.config.cell)
    words = {"pascanu": "Pascanu bound", "mean_field": "mean field"}
    return lambda key: f"{words[key]} {spec.theory_na(key)}" if spec is not None and spec.theory_na(key) else ""


def config_line(result: Result) -> str:
    """One line naming everything that determines the run."""
    c = result.config
    net = result.provenance.get("checkpoint") or result.provenance.get("custom_cell")  # a user's network
    spec = None if c.custom or c.checkpoint is not None and c.cell not in CELL_SPECS else CELL_SPECS.get(c.cell)
    parts = [c.cell if spec is None or not spec.act else f"{c.cell} act={c.act}"]
    if spec is not None and spec.gated:
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
    for name in spec.options if spec is not None else ():
        value = getattr(c, name, None)
        if value is not None and not (name == "forget_bias" and not value):
            parts.append(f"{name.replace('_', '-')}={value:g}")
    drive = {"noise": f"noise std={c.input_std:g}", "zeros": "zeros",
             "constant": f"constant {c.input_value:g}"}.get(c.input, c.input)
    parts += [f"input={drive}", f"h0-std={c.h0_std:g}", f"eps={sci(c.eps, 2)}",
              f"spectral={c.spectral}", f"{c.torch_dtype_name} {c.device}"]
    return ", ".join(parts)


# -- the summary table ---------------------------------------------------------------
def _rows(result: Result) -> list[tuple[str, str, str, str]]:
    """(quantity, measured, theory / context, unit) rows of the summary table."""
    g = lambda k: get(result, k)  # noqa: E731
    rows: list[tuple[str, str, str, str]] = []
    rate = g("growth_rate")
    pascanu = g("pascanu_rate")
    na = theory_na(result)
    rows.append(("growth rate, spectral", number_text(rate),
                 f"Pascanu bound {number_text(pascanu)}" if pascanu is not None else na("pascanu"), "ln/step"))
    q10, q90 = g("growth_rate_q10"), g("growth_rate_q90")
    if result.config.trials > 1 and q10 is not None and q90 is not None and abs(q90 - q10) <= 1e-9 * max(1.0, abs(q10)):
        rows.append(("  trials", "all alike", identical_trials(result), ""))
    elif g("growth_rate_q10") is not None and g("growth_rate_q90") is not None:
        se = f", SE {number_text(g('growth_rate_se'), 2)}" if g("growth_rate_se") is not None else ""
        rows.append(("  trials 10% .. 90%", f"{number_text(g('growth_rate_q10'))} .. {number_text(g('growth_rate_q90'))}",
                     se.lstrip(", "), "ln/step"))
    f = g("factor_per_step")
    rows.append(("factor per step", number_text(f),
                 f"bound {number_text(math.exp(pascanu))}" if pascanu is not None else "", "x/step"))
    mf = g("mean_field_rate")
    rows.append(("growth rate, RMS gain", number_text(g("rms_growth_rate")),
                 f"mean field {number_text(mf)}" if mf is not None else na("mean_field"), "ln/step"))
    rows.append(("growth rate, loss gradient", number_text(g("loss_grad_rate")),
                 f"annealed {number_text(g('annealed_rate'))}" if g("annealed_rate") is not None else "", "ln/step"))
    rows += lag_rows(result)
    if g("half_life") is not None:
        rows.append(("half-life", number_text(g("half_life")), "", "steps"))
    if g("doubling_time") is not None:
        rows.append(("doubling time", number_text(g("doubling_time")), "", "steps"))
    eps = sci(result.config.eps, 2)
    state = horizon_of(result.summary, result.config.steps)
    context = {HorizonKind.CENSORED: f"not below {eps} in the window", HorizonKind.EXPLODING: "the gain grows: no horizon"}
    rows.append((f"horizon (gain < {eps})", "n/a" if state.kind == HorizonKind.EXPLODING else state.text,
                 context.get(state.kind, ""), "steps"))
    rows.append((f"explosion lag (gain > {sci(1 / result.config.eps, 2)})", number_text(g("explosion_lag")), "", "steps"))
    if g("nonfinite_step") is not None:
        rows.append(("state non-finite at step", number_text(g("nonfinite_step")), "counting the transient", "step"))
    rows.append(("analysed lags", number_text(g("analysed_lags")), f"of {result.config.steps}", "steps"))
    if g("gamma") is not None:  # only where gradscope knows the activation (not a custom cell's)
        rows.append(("gamma = sup |phi'|", fraction_text(g("gamma")), result.config.act, ""))
    rows.append(("sigma_max(W_hh) (median)", number_text(g("sigma_max_whh")), "", ""))
    if g("median_step_gain") is not None:
        rows.append(("per-step gain ||J_t||_2 (median)", number_text(g("median_step_gain")), "", "x/step"))
    if g("mean_field_chi") is not None:
        rows.append(("mean-field chi, q*", "", f"{number_text(g('mean_field_chi'))}, {number_text(g('mean_field_q'))}", ""))
    rows.append(("parameters per network", f"{params_count(result):,}", "", ""))
    if result.config.exponents:
        rows.append(("top Lyapunov exponent lambda_1", number_text(g("lambda_1")), "", "ln/step"))
        rows.append(("Kaplan-Yorke dimension", number_text(g("kaplan_yorke_dim")), "", ""))
        rows.append(("sum of exponents", number_text(g("sum_exponents")),
                     f"mean log|det J| {number_text(g('mean_log_det'))}", "ln/step"))
    return rows


def lag_rows(result: Result) -> list[tuple[str, str, str, str]]:
    """One row per lag asked for (`decay --at-lag`): the median spectral gain there, the
    loss gradient and the input sensitivity beside it."""
    lags = get(result, "at_lags") or []
    values = {k: get(result, k) or [None] * len(lags)
              for k in ("log_gain_at_lags", "log_loss_grad_at_lags", "log_input_sensitivity_at_lags")}
    rows = []
    for i, lag in enumerate(lags):
        gain, loss, sens = (values[k][i] if i < len(values[k]) else None for k in values)
        rows.append((f"gain at lag {lag}", log_text(gain), f"loss grad. {log_text(loss)}, input {log_text(sens)}", "x"))
    return rows


def identical_trials(result: Result) -> str:
    """Why every trial gave the same rate, in a few words."""
    c = result.config
    if c.fixed_weights and c.input not in ("noise",) and not c.h0_std:
        return "one network, inputs, h0: readout differs"
    return "every trial gave the same rate"


def summary_table(result: Result) -> RenderableType:
    """The terminal summary of one run: configuration, every figure with its unit,
    theory beside measurement, status and warnings."""
    from rich.text import Text

    status = result.summary.get("status", "?")
    regime = result.summary.get("regime") or "-"
    title = Text.assemble(  # figures are medians over trials

        ("gradscope decay: ", "bold"), (result.config.label(), "bold"),
        "   status ", (status, "bold green" if status == Status.OK else "bold red"),
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
    for n in result.summary.get("notes") or []:
        parts.append(Text(f"note: {n}", style="dim"))
    return Group(*parts)


# -- the sentence --------------------------------------------------------------------
def _pascanu_clause(result: Result) -> str:
    bound, gamma, sigma = get(result, "pascanu_rate"), get(result, "gamma"), get(result, "sigma_max_whh")
    rate = get(result, "growth_rate")
    if bound is None or gamma is None or sigma is None or rate is None:
        return ""
    name = result.config.act
    what = (f"the Pascanu bound of {number_text(math.exp(bound), 2)}x per step "
            f"(the {name}'s slope at most {fraction_text(gamma)} times sigma_max(W_hh) = {number_text(sigma, 3)})")
    if rate <= bound + 1e-3 + 1e-2 * abs(bound):  # fast spectral norms are within 1%
        return f"; {what} holds"
    return f"; the measured rate exceeds {what}: please report this"


def plain_sentence(result: Result) -> str:
    """One sentence with the run's numbers, e.g. "gradients shrink about 7x per step; ..."."""
    g = lambda k: get(result, k)  # noqa: E731
    c = result.config
    eps = sci(c.eps, 2)
    rate, regime = g("growth_rate"), g("regime")
    head = ""
    if result.summary.get("status") == Status.NONFINITE:
        step = g("nonfinite_step")
        where = f" at step {step}" if step is not None else ""
        head = (f"the network's state blew up to inf/NaN{where}, so only "
                f"{number_text(g('analysed_lags'))} of {c.steps} lags could be measured "
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
        where = attractor_text(result.summary) or "the network sits near the edge of chaos"
        text = (f"gradients neither clearly shrink nor grow (about {factor:.3f}x per step, "
                f"{number_text(rate)} per step in natural log): {where}, "
                f"and a gradient sent {kl} steps back keeps about {number_text(math.exp(rate * kl), 2)} of its size")
    elif rate < 0:
        shrink = 1 / factor
        if shrink >= 1.1:
            text = f"gradients shrink about {factor_text(shrink)}x per step"
        else:
            text = (f"gradients shrink about {100 * (1 - factor):.2g}% per step "
                    f"(half of a gradient is lost every {number_text(LN2 / -rate, 2)} steps)")
        horizon = g("horizon")
        if horizon is not None:
            text += f"; {horizon} steps back less than {eps} of a gradient is left"
        elif g("horizon_censored"):
            text += (f"; even {number_text(g('analysed_lags'))} steps back more than {eps} of a gradient "
                     "is left (the horizon lies beyond the window: raise --steps to see it)")
    else:
        text = (f"gradients grow about {factor_text(factor)}x per step" if factor >= 1.1 else
                f"gradients grow about {100 * (factor - 1):.2g}% per step "
                f"(they double every {number_text(LN2 / rate, 2)} steps)")
        lag = g("explosion_lag")
        if lag is not None:
            text += f"; {lag} steps back a gradient is already more than {sci(1 / c.eps, 2)} times larger"
        text += ", so no horizon applies (exploding gradients: clip them, or lower --gain)"
    if regime != "marginal" and result.summary.get("attractor") in ("fixed point", "periodic", "chaotic"):
        text += f"; {attractor_text(result.summary)}"
    return head + text + _pascanu_clause(result) + "."


def render_text(renderable: RenderableType, width: int = 100) -> str:
    """Plain text of a rich renderable (no colour, no control codes), for summary.txt."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False,
                      no_color=True, highlight=False, emoji=False, legacy_windows=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


