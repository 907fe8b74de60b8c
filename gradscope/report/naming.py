"""Names of configurations in figures and legends: only what varies, each value in its
own short form (`lstm`, `tanh`, `g=2`, `N=64`), never a field that merely follows
another (the input size that follows the hidden size).

May import: `gradscope.results`, `gradscope.config`.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..config import varied_fields
from ..results import Result

#: Short names of numeric fields in labels (`g=2`, `N=64`).
SHORT = {"gain": "g", "hidden": "N", "steps": "T", "trials": "B", "input_size": "I",
         "bias_std": "bias std", "input_std": "input std", "input_value": "input",
         "forget_bias": "forget bias", "h0_std": "h0 std", "transient": "transient"}
#: Fields whose value is a word that names itself (`lstm`, `tanh`, `orthogonal`).
SELF_NAMED = ("cell", "act", "init")


def value_text(name: str, value: Any) -> str:
    """`lstm`, `tanh`, `g=2`, `N=64`, `gates=relu`: a field's value as a label."""
    if name in SELF_NAMED:
        return str(value)
    if name == "gate_act":
        return f"gates={value}"
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    # a no-break space inside a name: a wrapped label never splits "forget bias=1"
    return f"{SHORT.get(name, name.replace('_', ' '))}={shown}".replace(" ", "\u00a0")


def display_fields(results: Sequence[Result]) -> list[str]:
    """The varied fields worth naming: a field that always moves with an earlier one
    (the input size that follows the hidden size) is left out."""
    configs = [r.config.resolved() for r in results]
    fields = varied_fields(configs)
    keep: list[str] = []
    for name in fields:
        values = [getattr(c, name) for c in configs]
        redundant = False
        for other in keep:
            others = [getattr(c, other) for c in configs]
            if len(set(zip(values, others))) == len(set(values)) == len(set(others)):
                redundant = True  # one-to-one with a field already named
                break
        if not redundant:
            keep.append(name)
    return keep


def labels_of(results: Sequence[Result], fields: Sequence[str]) -> list[str]:
    """Per result, the values of `fields` as one label (`lstm tanh`, `g=0.5`)."""
    return [" ".join(value_text(f, getattr(r.config, f)) for f in fields) for r in results]


def common_label(results: Sequence[Result], fields: Sequence[str]) -> str:
    """What every configuration shares, as the start of `Config.label()` minus the
    varied parts (`rnn tanh N=128 normal`)."""
    if not results:
        return ""
    c = results[0].config
    parts = [("cell", c.cell), ("act", c.act), ("hidden", c.hidden), ("init", c.init), ("gain", c.gain)]
    out = []
    for name, value in parts:
        if name in fields or (name == "init" and value == "default"):
            continue
        out.append(value_text(name, value))
    return " ".join(out)


def short_names(results: Sequence[Result], keep: Sequence[str] = (), fields: Sequence[str] | None = None) -> list[str]:
    """Per result, what sets it apart: the varied fields' values, leaving out a value
    that is the field's default (`g=1`, `forget bias=0`, `default` init) unless the field
    is in `keep` (a swept field: every value named) or is the cell or activation
    (`fields`: the fields to name, default every varied one). Falls back to every varied
    value when that would name two results alike, and for a result at every default."""
    import dataclasses

    from ..config import Config

    defaults = {f.name: f.default for f in dataclasses.fields(Config)}
    fields = display_fields(results) if fields is None else list(fields)
    names = []
    for r in results:
        parts = [value_text(f, getattr(r.config, f)) for f in fields
                 if f in ("cell", "act") or f in keep or getattr(r.config, f) != defaults.get(f)]
        names.append(" ".join(parts))
    full = labels_of(results, fields)
    if len(set(names)) < len(set(full)):
        return full
    return [name or whole for name, whole in zip(names, full)]  # all defaults: say which
