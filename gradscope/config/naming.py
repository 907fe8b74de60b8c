"""The one place that names configurations: the label of one (`label`, what
`Config.label` returns), labels that tell several apart (`unique_labels`), names in
figures and legends (only what varies, each value in its own short form: `lstm`,
`tanh`, `g=2`, `N=64`, never a field that merely follows another, such as the input size
that follows the hidden size) and the axis label of a field (`field_label`).

Every function takes `Config`s (a list of results passes `[r.config for r in results]`).

May import: `gradscope.config.registry`, `gradscope.config.choices`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Sequence

from .registry import CELL_SPECS, cells_with_option

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
    if name == "input" and isinstance(value, str) and value not in ("noise", "zeros", "constant"):
        value = value.replace("\\", "/").rsplit("/", 1)[-1]  # a file: its name (the report says its path)
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    # a no-break space inside a name: a wrapped label never splits "forget bias=1"
    return f"{SHORT.get(name, name.replace('_', ' '))}={shown}".replace(" ", "\u00a0")


def varied_fields(configs: Iterable[Any]) -> list[str]:
    """The `Config` fields whose values differ between `configs`, in `Config` order."""
    configs = list(configs)
    if not configs:
        return []
    dicts = [dataclasses.asdict(c) for c in configs]
    return [f.name for f in dataclasses.fields(configs[0]) if len({repr(d[f.name]) for d in dicts}) > 1]


def _follows_the_cell(name: str, configs: Sequence[Any]) -> bool:
    """Whether `name` is a cell option that takes one value per cell among `configs`."""
    if not cells_with_option(name):
        return False
    per_cell: dict[str, set[str]] = {}
    for c in configs:
        per_cell.setdefault(c.cell, set()).add(repr(getattr(c, name)))
    return all(len(v) == 1 for v in per_cell.values())


def display_fields(configs: Sequence[Any]) -> list[str]:
    """The varied fields worth naming: a field that always moves with an earlier one
    (the input size that follows the hidden size) is left out."""
    configs = [c.resolved() for c in configs]
    fields = varied_fields(configs)
    keep: list[str] = []
    for name in fields:
        values = [getattr(c, name) for c in configs]
        if "cell" in keep and _follows_the_cell(name, configs):
            continue  # a cell's own option at its one value (None where it does not apply)
        redundant = False
        for other in keep:
            others = [getattr(c, other) for c in configs]
            if len(set(zip(values, others))) == len(set(values)) == len(set(others)):
                redundant = True  # one-to-one with a field already named
                break
        if not redundant:
            keep.append(name)
    return keep


def _applies(name: str, c: Any) -> bool:
    """Whether the field `name` means something for the configuration's cell
    (`CellSpec.applies`; every field for a custom cell)."""
    spec = CELL_SPECS.get(c.cell)
    return spec is None or c.custom or spec.applies(name)


def labels_of(configs: Sequence[Any], fields: Sequence[str]) -> list[str]:
    """Per configuration, the values of `fields` as one label (`lstm tanh`, `g=0.5`)."""
    return [" ".join(value_text(f, getattr(c, f)) for f in fields) for c in configs]


def common_label(configs: Sequence[Any], fields: Sequence[str]) -> str:
    """What every configuration shares, as the start of `Config.label()` minus the
    varied parts (`rnn tanh N=128 normal`)."""
    if not configs:
        return ""
    c = configs[0]
    parts = [("cell", c.cell), ("act", c.act), ("hidden", c.hidden), ("init", c.init), ("gain", c.gain)]
    if not all(_applies("act", x) for x in configs):  # lru, s6, ...: an activation they do not have
        parts = [p for p in parts if p[0] not in ("act", "init", "gain")]
    out = []
    for name, value in parts:
        if name in fields or (name == "init" and value == "default"):
            continue
        out.append(value_text(name, value))
    return " ".join(out)


def short_names(configs: Sequence[Any], keep: Sequence[str] = (), fields: Sequence[str] | None = None) -> list[str]:
    """Per configuration, what sets it apart: the varied fields' values, leaving out a value
    that is the field's default (`g=1`, `forget bias=0`, `default` init) unless the field
    is the cell or activation, or is in `keep` and varies among the configurations of the
    same cell (`N=64` beside `N=32`: every value named) (`fields`: the fields to name,
    default every varied one). A field that does not apply to a cell is never named for
    it (no forget bias for a vanilla RNN). Falls back to every varied value that applies
    when that would name two results alike, and for a result at every default."""
    defaults = {f.name: f.default for f in dataclasses.fields(configs[0])} if configs else {}
    fields = display_fields(configs) if fields is None else list(fields)

    def swept(f: str, c: Any) -> bool:
        return f in keep and len({repr(getattr(x, f)) for x in configs if x.cell == c.cell}) > 1

    names = []
    for c in configs:
        parts = [value_text(f, getattr(c, f)) for f in fields if _applies(f, c)
                 and (f in ("cell", "act") or swept(f, c) or getattr(c, f) != defaults.get(f))]
        names.append(" ".join(parts))
    full = [" ".join(value_text(f, getattr(c, f)) for f in fields if _applies(f, c)) for c in configs]
    if len(set(names)) < len(set(full)):
        return full
    return [name or whole for name, whole in zip(names, full)]  # all defaults: say which


def label(c: Any) -> str:
    """Short human label of one configuration, e.g. `lstm tanh N=64 g=2`,
    `gru tanh N=64 trained.pt`, `cornn tanh N=64 dt=0.05`."""
    import os

    from .choices import CELL_OPTIONS, GATED_CELLS

    if c.custom:
        return " ".join([c.cell, f"N={c.hidden}", *(c.cell_args or "").split(";")]).strip()
    parts = [c.cell, c.act] if CELL_SPECS[c.cell].act else [c.cell]  # lru, s6, ...: no activation to name
    if c.cell in GATED_CELLS and c.gate_act != "sigmoid":
        parts.append(f"gates={c.gate_act}")
    parts.append(f"N={c.hidden}")
    if c.init != "default":
        parts.append(c.init)
    if c.gain != 1.0:
        parts.append(f"g={c.gain:g}")
    for name in CELL_OPTIONS:
        if getattr(c, name) is not None:
            parts.append(f"{CELL_SPECS[c.cell].option_symbol(name)}={getattr(c, name):g}")
    if c.checkpoint is not None:
        parts.append(os.path.basename(c.checkpoint) + (f"[{c.module}]" if c.module else ""))
        if c.layer is not None:
            parts.append(f"layer {c.layer}")
    return " ".join(parts)


def unique_labels(configs: Sequence[Any]) -> list[str]:
    """`label` of each configuration, with the fields that tell equal labels apart
    appended (`seed=1`, `steps=500`), and identical configurations numbered."""
    labels = [label(c) for c in configs]
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(labels):
        groups.setdefault(text, []).append(i)
    out = list(labels)
    for text, members in groups.items():
        if len(members) < 2:
            continue
        fields = varied_fields([configs[i] for i in members])
        for i in members:
            d = configs[i].to_dict()
            extra = " ".join(f"{f}={d[f]}" for f in fields)
            out[i] = f"{text} {extra}".strip()
    counts = {text: out.count(text) for text in out}
    seen: dict[str, int] = {}
    for i, text in enumerate(list(out)):  # identical configurations: number them
        if counts[text] > 1:
            seen[text] = seen.get(text, 0) + 1
            out[i] = f"{text} #{seen[text]}"
    return out


#: Axis labels of the fields a sweep or a colour bar runs along (mathtext).
FIELD_LABELS = {
    "gain": "gain $g$", "hidden": "hidden size $N$", "bias_std": r"bias std $\sigma_b$",
    "input_std": r"input std $\sigma_x$", "forget_bias": "forget-gate bias",
    "steps": "steps $T$", "h0_std": "initial-state std",
}


def field_label(field: str, plain: bool = False) -> str:
    """The axis label of a field (`gain $g$`); `plain`: without mathtext (`gain g`)."""
    text = FIELD_LABELS.get(field, field.replace("_", " "))
    return text.replace("$", "").replace("\\", "") if plain else text
