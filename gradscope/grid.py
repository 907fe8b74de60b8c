"""Grids of configurations: option -> values, ranges, and TOML experiment files.

A grid maps `Config` field names to lists of values; `expand_grid` takes their
cartesian product in a stable order (fields in `Config` order, the first one varying
slowest; values in the order given). Combinations that `Config` rejects are skipped
with a note, never raised, so `--cell rnn,lstm --exponents 128 --hidden 64` still runs
the combinations that make sense.

An experiment file is TOML (read with `tomllib`, never executed):

    name = "cells"                    # optional; default: the file's stem
    title = "Cells x activations"     # optional
    [grid]
    cell = ["rnn", "lstm", "gru"]
    act = ["sigmoid", "tanh"]
    hidden = 64                       # a scalar is a one-value list
    gain = "0.5:2.0:4"                # a string takes the command-line range syntax

An experiment may also be a union of grids, with shared values in `[base]`:

    [base]                            # scalars applied to every grid
    hidden = 64
    steps = 1000
    [[grid]]                          # vanilla RNNs at PyTorch's default init
    cell = "rnn"
    act = ["sigmoid", "tanh", "relu"]
    [[grid]]                          # gated cells
    cell = ["lstm", "gru"]

The configurations are each `[[grid]]` table's cartesian product, in the order of the
tables (a configuration already listed is skipped with a note). A grid's own key wins
over `[base]`; values given on the command line win over both and apply to every grid
(`merge_grids`, `experiment_grid`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from .config import Config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Top-level keys of an experiment file.
EXPERIMENT_KEYS = ("name", "title", "base", "grid")

#: Most configurations one grid may expand to (a typo such as `1:100000` fails early).
MAX_CONFIGS = 10_000

_NONE_WORDS = ("none", "null", "default", "auto")


def _field_kinds() -> dict[str, tuple[type, bool]]:
    """`Config` field -> (scalar type, whether `None` is allowed)."""
    kinds: dict[str, tuple[type, bool]] = {}
    for f in dataclasses.fields(Config):
        text = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        parts = [p.strip() for p in text.split("|")]
        base = {"int": int, "float": float, "str": str}[parts[0]]
        kinds[f.name] = (base, "None" in parts)
    return kinds


#: Every `Config` field with its value type and whether it may be `None`.
FIELD_KINDS: dict[str, tuple[type, bool]] = _field_kinds()


class Expansion(NamedTuple):
    """The configurations of a grid and the notes about what was skipped."""

    configs: list[Config]
    notes: list[str]


@dataclass(frozen=True)
class Experiment:
    """An experiment file: a name, a title and its grids (field -> list of values).

    `grids` holds one grid per `[[grid]]` table (one for a plain `[grid]`), `base` the
    scalar values of `[base]`; `grid` is the first grid, for files with only one.
    """

    name: str
    title: str
    grid: dict[str, list[Any]] = field(default_factory=dict)
    path: Path | None = None
    grids: list[dict[str, list[Any]]] = field(default_factory=list)
    base: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.grids:  # built with `grid=` only: that is the one grid
            object.__setattr__(self, "grids", [dict(self.grid)])


# -- ranges ---------------------------------------------------------------------------


def _kind_type(kind: type | str) -> type:
    if isinstance(kind, str):
        table = {"int": int, "float": float, "str": str}
        if kind not in table:
            raise ValueError(f"kind must be one of int, float, str, got {kind!r}")
        return table[kind]
    if kind not in (int, float, str):
        raise ValueError(f"kind must be int, float or str, got {kind!r}")
    return kind


def _number(text: str, kind: type, whole: str) -> int | float:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{whole!r}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{whole!r}: {text!r} is not a finite number")
    if kind is int:
        if value != int(value):
            raise ValueError(f"{whole!r}: {text!r} is not an integer")
        return int(value)
    return value


def _tidy(value: float) -> float:
    """Round a linspace value to 12 significant digits: 0.6, not 0.6000000000000001.

    The cache key hashes the value's repr, so `0.5:3.0:26` must give the same 0.6 as
    typing `0.6`.
    """
    return float(f"{value:.12g}")


def _parse_piece(piece: str, kind: type, whole: str) -> list[Any]:
    if kind is str:
        return [piece]
    parts = piece.split(":")
    if len(parts) == 1:
        return [_number(parts[0], kind, whole)]
    if len(parts) == 2:
        a, b = (_number(p, float, whole) for p in parts)
        if a != int(a) or b != int(b):
            raise ValueError(
                f"{whole!r}: a:b takes integers (every integer from a to b); "
                f"use a:b:n for n evenly spaced values"
            )
        a, b = int(a), int(b)
        if abs(b - a) + 1 > MAX_CONFIGS:
            raise ValueError(f"{whole!r}: {abs(b - a) + 1} values, more than the limit of {MAX_CONFIGS}")
        step = 1 if b >= a else -1  # 5:2 counts down, as `cli.parse_values` does
        return [kind(v) for v in range(a, b + step, step)]
    if len(parts) == 3:
        a, b = (_number(p, float, whole) for p in parts[:2])
        n = _number(parts[2], int, whole)
        if n < 1:
            raise ValueError(f"{whole!r}: a:b:n needs n >= 1")
        if n > MAX_CONFIGS:
            raise ValueError(f"{whole!r}: {n} values, more than the limit of {MAX_CONFIGS}")
        if n == 1:
            if a != b:
                raise ValueError(f"{whole!r}: one value cannot span {a:g} to {b:g}")
            values = [a]
        else:
            values = [a + (b - a) * i / (n - 1) for i in range(n)]
        if kind is int:
            out = []
            for v in values:
                r = round(v)
                if abs(v - r) > 1e-9 * max(1.0, abs(v)):
                    raise ValueError(
                        f"{whole!r}: a:b:n gives the non-integer value {v:g}; "
                        f"choose n so that the step (b-a)/(n-1) is whole"
                    )
                out.append(int(r))
            return out
        return [_tidy(v) for v in values]
    raise ValueError(f"{whole!r}: a range is a:b or a:b:n")


def parse_range(text: str, kind: type | str = float) -> list[Any]:
    """Parse a command-line value list.

    Arguments:
        text: `a:b:n` (inclusive linspace of n values), `a:b` (every integer from a to
            b inclusive, counting down when b < a), `x,y,z` (a list; each item may itself
            be a range), or one value. Same rules as `gradscope.cli.parse_values`.
        kind: `int`, `float` or `str` (or their names). Strings are only split on commas.

    Returns:
        The values, in the order written.

    Raises:
        ValueError naming the text and what is expected.
    """
    kind = _kind_type(kind)
    if not isinstance(text, str):
        raise ValueError(f"expected text, got {text!r}")
    pieces = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in pieces):
        raise ValueError(f"{text!r}: empty value in list")
    values: list[Any] = []
    for piece in pieces:
        values.extend(_parse_piece(piece, kind, text))
    return values


def parse_option(name: str, text: str) -> list[Any]:
    """Parse the text of option `name` (a `Config` field) into its list of values.

    Optional fields (`bias_std`, `input_size`, `dtype`) accept `none` for `None`.
    """
    kind, nullable = _kind(name)
    values: list[Any] = []
    for piece in parse_range(text, str):
        if nullable and piece.lower() in _NONE_WORDS:
            values.append(None)
        elif kind is str:
            values.append(piece)
        else:
            values.extend(parse_range(piece, kind))
    return values


def _kind(name: str) -> tuple[type, bool]:
    if name not in FIELD_KINDS:
        raise ValueError(
            f"unknown configuration key {name!r}; allowed: {', '.join(sorted(FIELD_KINDS))}"
        )
    return FIELD_KINDS[name]


def normalize_values(name: str, values: Any) -> list[Any]:
    """The list of values of `name`: scalars become one-value lists, strings are parsed
    with the range syntax, and whole floats given for float fields stay floats (so that
    `gain = 1` and `gain = 1.0` hash to the same cache key)."""
    kind, nullable = _kind(name)
    if isinstance(values, (list, tuple)):
        items = list(values)
    else:
        items = [values]
    if not items:
        raise ValueError(f"{name}: no values given")
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.extend(parse_option(name, item))
        elif item is None and nullable:
            out.append(None)
        elif isinstance(item, (dict, list, tuple)):
            raise ValueError(f"{name}: nested values are not allowed, got {item!r}")
        elif kind is float and isinstance(item, int) and not isinstance(item, bool):
            out.append(float(item))
        else:
            out.append(item)
    return out


# -- expansion ------------------------------------------------------------------------


def _describe(combo: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in combo.items()) or "the base configuration"


def expand_grid(
    grid: Mapping[str, Any],
    base: Config | Mapping[str, Any] | None = None,
    limit: int = MAX_CONFIGS,
) -> Expansion:
    """Cartesian product of a grid into `Config`s.

    Arguments:
        grid: `Config` field -> value or list of values (strings take the range syntax).
        base: values for the fields the grid does not name (a `Config` or a mapping).
        limit: the most combinations allowed (ValueError beyond it).

    Returns:
        `Expansion(configs, notes)`: the valid configurations in a stable order (fields
        in `Config` order, the first varying slowest), duplicates removed, and one note
        per skipped combination saying why.

    Raises:
        ValueError for an unknown field, an empty value list or a grid above `limit`.
    """
    if isinstance(base, Config):
        base_dict = base.to_dict()
    else:
        base_dict = dict(base or {})
        for key in base_dict:
            _kind(key)
    values = {name: normalize_values(name, v) for name, v in grid.items()}
    names = [f.name for f in dataclasses.fields(Config) if f.name in values]
    size = math.prod(len(values[n]) for n in names)
    if size > limit:
        raise ValueError(
            f"the grid has {size} combinations, more than the limit of {limit}; "
            f"narrow the ranges"
        )
    varied = [n for n in names if len(values[n]) > 1]
    configs: list[Config] = []
    notes: list[str] = []
    seen: set[str] = set()
    for combo in itertools.product(*(values[n] for n in names)):
        chosen = dict(zip(names, combo))
        shown = {n: chosen[n] for n in varied}
        try:
            config = Config.from_dict({**base_dict, **chosen})
        except (ValueError, TypeError) as exc:
            notes.append(f"skipped {_describe(shown)}: {exc}")
            continue
        key = config.key()
        if key in seen:
            notes.append(f"skipped {_describe(shown)}: the same configuration as an earlier one")
            continue
        seen.add(key)
        configs.append(config)
    return Expansion(configs, notes)


def expand_grids(
    grids: Sequence[Mapping[str, Any]],
    base: Config | Mapping[str, Any] | None = None,
    limit: int = MAX_CONFIGS,
) -> Expansion:
    """The union of several grids: each grid's cartesian product (`expand_grid`), in the
    order of `grids`; a configuration already produced by an earlier grid is skipped
    with a note. `limit` bounds the total."""
    configs: list[Config] = []
    notes: list[str] = []
    seen: set[str] = set()
    total = 0
    for i, grid in enumerate(grids):
        size = math.prod(len(normalize_values(n, v)) for n, v in grid.items())
        total += size
        if total > limit:
            raise ValueError(
                f"the grids have more than {limit} combinations in all; narrow the ranges"
            )
        expansion = expand_grid(grid, base=base, limit=limit)
        where = f"grid {i + 1}: " if len(grids) > 1 else ""
        notes.extend(where + note for note in expansion.notes)
        for config in expansion.configs:
            key = config.key()
            if key in seen:
                notes.append(f"{where}skipped {config.label()}: already in an earlier grid")
                continue
            seen.add(key)
            configs.append(config)
    return Expansion(configs, notes)


def merge_grids(*grids: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge grids left to right: a later grid replaces an earlier one key by key
    (command-line values override the experiment file's)."""
    merged: dict[str, Any] = {}
    for grid in grids:
        for key, value in (grid or {}).items():
            merged[key] = value
    return merged


# -- experiment files -----------------------------------------------------------------


def _parse_table(table: Any, where: str, what: str, scalars: bool = False) -> dict[str, list[Any]]:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: {what} must be a table")
    try:
        values = {k: normalize_values(k, v) for k, v in table.items()}
    except ValueError as exc:
        raise ValueError(f"{where}: {what} {exc}") from None
    if scalars:
        for key, vals in values.items():
            if len(vals) != 1:
                raise ValueError(
                    f"{where}: {what} {key} takes one value, got {len(vals)}; "
                    f"put lists and ranges in [grid] or [[grid]]"
                )
    return values


def parse_experiment(text: str, name: str = "experiment", path: Path | None = None) -> Experiment:
    """Parse the TOML text of an experiment file (see the module docstring)."""
    where = str(path) if path is not None else "experiment"
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - set(EXPERIMENT_KEYS))
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed at the top level: "
            f"{', '.join(EXPERIMENT_KEYS)} (configuration options go in [grid] or [base])"
        )
    for key in ("name", "title"):
        if key in doc and not isinstance(doc[key], str):
            raise ValueError(f"{where}: {key} must be a string")
    base = {k: v[0] for k, v in _parse_table(doc.get("base", {}), where, "[base]", scalars=True).items()}
    raw = doc.get("grid", {})
    if isinstance(raw, list):
        if not raw:
            raise ValueError(f"{where}: grid must be a table ([grid]) or tables ([[grid]])")
        grids = [_parse_table(t, where, f"[[grid]] #{i + 1}") for i, t in enumerate(raw)]
    elif isinstance(raw, dict):
        grids = [_parse_table(raw, where, "[grid]")]
    else:
        raise ValueError(f"{where}: grid must be a table ([grid]) or tables ([[grid]])")
    exp_name = doc.get("name", name)
    return Experiment(
        name=exp_name, title=doc.get("title", exp_name), grid=grids[0], path=path,
        grids=grids, base=base,
    )


def load_experiment(path: str | os.PathLike) -> Experiment:
    """Read an experiment file (TOML, never executed); the name defaults to its stem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    return parse_experiment(text, name=path.stem, path=path)


def experiment_grid(
    path: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    base: Config | Mapping[str, Any] | None = None,
) -> tuple[Experiment, Expansion]:
    """The experiment of `path` (or an empty one), expanded to configs.

    Each grid of the file is `[base]`, then the grid's own keys, then `overrides`
    (command-line values, field -> values or range text), each replacing the one
    before key by key; the configurations are the union of the grids' products.
    `base` gives the fields none of them names.
    """
    experiment = load_experiment(path) if path is not None else Experiment("compare", "compare")
    grids = [
        {k: normalize_values(k, v) for k, v in merge_grids(experiment.base, g, overrides).items()}
        for g in experiment.grids
    ]
    experiment = dataclasses.replace(experiment, grid=grids[0], grids=grids)
    return experiment, expand_grids(grids, base=base)


def varied_fields(configs: Iterable[Config]) -> list[str]:
    """The `Config` fields whose values differ between `configs`, in `Config` order."""
    dicts = [c.to_dict() for c in configs]
    if not dicts:
        return []
    return [
        f.name
        for f in dataclasses.fields(Config)
        if len({repr(d[f.name]) for d in dicts}) > 1
    ]
