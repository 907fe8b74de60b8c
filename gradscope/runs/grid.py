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

May import: `gradscope.runs.ranges`, `gradscope.config`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

from ..config import FIELD_KINDS, Config
from ..config.checks import did_you_mean, plain_name
from .ranges import MAX_CONFIGS, normalize_values, value_kind

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Top-level keys of an experiment file.
EXPERIMENT_KEYS = ("name", "title", "base", "grid")


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
            value_kind(key)
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
    unknown = [k for k in table if k not in FIELD_KINDS]
    if unknown:  # every one at once, with the closest known name
        raise ValueError(f"{where}: {what} unknown configuration key{'s' * (len(unknown) > 1)} "
                         + ", ".join(f"{k!r}{did_you_mean(k, FIELD_KINDS)}" for k in unknown)
                         + f"; allowed: {', '.join(sorted(FIELD_KINDS))}")
    values = {}
    for key, value in table.items():
        try:
            values[key] = normalize_values(key, value)
        except ValueError as exc:
            raise ValueError(f"{where}: {what} {key}: {exc}") from None
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
    except RecursionError:
        raise ValueError(f"{where}: nested too deeply to be an experiment file") from None
    unknown = [k for k in doc if k not in EXPERIMENT_KEYS]
    if unknown:
        raise ValueError(
            f"{where}: unknown key{'s' * (len(unknown) > 1)} "
            + ", ".join(f"{k!r}{did_you_mean(k, EXPERIMENT_KEYS)}" for k in unknown)
            + f"; allowed at the top level: {', '.join(EXPERIMENT_KEYS)} (configuration options go in "
            "[grid] or [base])"
        )
    for key in ("name", "title"):
        if key in doc and not isinstance(doc[key], str):
            raise ValueError(f"{where}: {key} must be a string")
    if "name" in doc and not plain_name(doc["name"]):
        raise ValueError(f"{where}: name {doc['name']!r} must be one folder's name (it names reports/NAME): "
                         "printable, no '/' or '\\', not empty, '.' or '..'")
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
    for table in (base, *grids):  # an experiment file names data, never code to import and call
        for cell in table.get("cell", []) if isinstance(table.get("cell"), list) else [table.get("cell")]:
            if isinstance(cell, str) and ":" in cell:
                raise ValueError(f"{where}: cell {cell!r} is code (module:Name), which an experiment file "
                                 "may not name: gradscope never runs code from a config file; give "
                                 "--cell module:Name on the command line instead")
    exp_name = doc.get("name", name)
    return Experiment(
        name=exp_name, title=doc.get("title", exp_name), grid=grids[0], path=path,
        grids=grids, base=base,
    )


def load_experiment(path: str | os.PathLike) -> Experiment:
    """Read an experiment file (TOML, never executed); the name defaults to its stem."""
    path = Path(path)
    try:
        if not path.is_file():  # a folder, a device or a FIFO: never read (/dev/zero does not end)
            raise ValueError(f"cannot read {path}: not a regular file")
        with open(path, "rb") as fh:
            data = fh.read(MAX_EXPERIMENT_BYTES + 1)
        if len(data) > MAX_EXPERIMENT_BYTES:
            raise ValueError(f"cannot read {path}: larger than {MAX_EXPERIMENT_BYTES >> 20} MiB, "
                             "which no experiment file needs")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    return parse_experiment(text, name=path.stem, path=path)


#: Experiment files larger than this are refused unread.
MAX_EXPERIMENT_BYTES = 1 << 20


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


