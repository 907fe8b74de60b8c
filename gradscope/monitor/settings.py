"""What a training monitor measures and records, as data: the plan of one snapshot's
analysis (the options of `decay --checkpoint`, over `analysis.module.MODULE_DEFAULTS`),
its configuration, the command line that reproduces it from the snapshot, and the
scalars logged from its summary.

    plan = Plan.of(found, lags=(30,), steps=500)   # found: model.networks.memory.FoundModule
    config = plan.config("/runs/gs/snapshots/step-00000100.pt", inputs=None)
    argv = plan.command(config)     # ["gradscope", "decay", "--checkpoint", ..., "--json"]
    scalars_of(result.summary)      # {"gradscope/growth_rate": -0.41, ...}

The analysis runs on one torch thread (`--threads 1` in the command), so the command
gives the logged numbers to the last bit.

May import: `gradscope.config`, `gradscope.analysis` (inside functions).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from ..config import Config
from ..config.checks import check_lags

#: The lags whose gain is logged when none are asked for (those within the window).
DEFAULT_LAGS = (10, 100)
#: Summary keys logged as scalars, under `PREFIX`.
SCALAR_KEYS = ("growth_rate", "lambda_1", "horizon", "half_life", "median_step_gain")
#: (name in the scalar's tag, summary key) of the figures logged at each lag.
LAG_SCALARS = (("gain", "log_gain_at_lags"), ("loss_grad", "log_loss_grad_at_lags"),
               ("input_sensitivity", "log_input_sensitivity_at_lags"))
PREFIX = "gradscope/"
#: Fields the monitor sets from the module and its snapshot, never from options.
SET_HERE = ("checkpoint", "cell", "cell_args", "module", "input_loop")


@dataclass(frozen=True)
class Plan:
    """How every snapshot of one module is analysed.

    `kind` pytorch (`decay --checkpoint SNAPSHOT`) or custom (`--cell SPEC --checkpoint
    SNAPSHOT`, the class built with `cell_args`), `act` the nonlinearity of an `nn.RNN`
    (its state dict does not record it), `options` the other `Config` fields, `lags` the
    lags reported (`--at-lag`), `batch_first` the layout of the training inputs.
    """

    kind: str
    options: Mapping[str, Any]
    lags: tuple[int, ...]
    act: str | None = None
    cell: str | None = None
    cell_args: str | None = None
    batch_first: bool = False

    @classmethod
    def of(cls, found: Any, lags: Any = None, cell_args: Any = None, **options: Any) -> Plan:
        """The plan for `found` (`model.networks.memory.FoundModule`); raises
        `ValueError` (one line) for an option that does not fit it."""
        from ..analysis.module import MODULE_DEFAULTS

        bad = [k for k in options if k in SET_HERE]
        if bad:
            raise ValueError(f"{bad[0]} is set by the monitor (from the module and its snapshot): drop it")
        names = {f.name for f in dataclasses.fields(Config)}
        unknown = [k for k in options if k not in names]
        if unknown:
            raise ValueError(f"{unknown[0]} is not an analysis option (those of gradscope decay: steps, trials, "
                             "exponents, transient, seed, eps, input, spectral, dtype, ...)")
        options = {**MODULE_DEFAULTS, **options}
        steps = int(options.get("steps", Config().steps))
        asked = check_lags(lags) if lags is not None else (
            tuple(k for k in DEFAULT_LAGS if k <= steps) or (max(1, steps // 2),))
        if isinstance(cell_args, Mapping):
            cell_args = ";".join(f"{k}={v}" for k, v in cell_args.items()) or None
        if found.kind == "pytorch":
            act = options.pop("act", found.act if found.type_name.startswith("RNN") else None)
            return cls("pytorch", options, asked, act=act, batch_first=found.batch_first)
        if cell_args is not None and not isinstance(cell_args, str):
            raise ValueError(f"cell_args must be a dict or 'key=value;key=value', got {cell_args!r}")
        spec = found.cell_spec
        if spec.startswith("__main__:"):
            raise ValueError(f"{found.type_name} is defined in the script itself (__main__), which the analysis "
                             "cannot import: move the class to a module of its own")
        return cls("custom", options, asked, cell=spec, cell_args=cell_args, batch_first=found.batch_first)

    def config(self, checkpoint: str, inputs: str | None = None, input_loop: bool = False) -> Config:
        """The configuration that analyses the snapshot `checkpoint` (on the inputs file
        `inputs`, repeated when `input_loop`)."""
        fields = dict(self.options)
        if self.kind == "pytorch":
            if self.act is not None:
                fields["act"] = self.act
        else:
            fields.update(cell=self.cell, cell_args=self.cell_args)
        fields["checkpoint"] = checkpoint
        if inputs is not None:
            fields.update(input=inputs, input_loop=input_loop)
        return Config(**fields)

    def command(self, config: Config) -> list[str]:
        """`gradscope decay ... --threads 1 --json`: what gives `config`'s analysis, with
        this plan's lags, to the last bit."""
        return ["gradscope", "decay", *config_argv(config), "--at-lag", ",".join(map(str, self.lags)),
                "--threads", "1", "--json"]


def config_argv(config: Config) -> list[str]:
    """The options that make `config` on the command line: every field that differs from
    its default, as `--field-name VALUE` (`--cell-arg K=V` each, `--input-loop` a flag)."""
    defaults = Config()
    out: list[str] = []
    for f in dataclasses.fields(Config):
        value = getattr(config, f.name)
        if value == getattr(defaults, f.name) or value is None:
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.name == "cell_args":
            for part in str(value).split(";"):
                out += ["--cell-arg", part.strip()]
        elif isinstance(value, bool):
            out += [flag] if value else []
        else:
            out += [flag, repr(value) if isinstance(value, float) else str(value)]
    return out


def scalars_of(summary: Mapping[str, Any]) -> dict[str, float]:
    """The scalars logged for one analysis: `SCALAR_KEYS` and, at each lag asked for, the
    log10 of the gain, loss gradient and input sensitivity (`gradscope/log10_gain_lag30`).
    Figures that were not measured (a censored horizon, a lag beyond the window) are left
    out rather than logged as a made-up number."""
    out: dict[str, float] = {}
    for key in SCALAR_KEYS:
        value = summary.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[PREFIX + key] = float(value)
    lags = summary.get("at_lags") or []
    for name, key in LAG_SCALARS:
        values = summary.get(key) or []
        for lag, value in zip(lags, values):
            if isinstance(value, (int, float)) and math.isfinite(value):
                out[f"{PREFIX}log10_{name}_lag{lag}"] = float(value) / math.log(10)
    return out
