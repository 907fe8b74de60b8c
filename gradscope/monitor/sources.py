"""What `gradscope track` reads: a monitor's log_dir or its `gradscope.jsonl`, a folder
or glob of checkpoints, or checkpoint files, as training runs (`Run`s) of checkpoints in
step order.

    runs = read_sources(["runs/gradscope", "ckpts/*.pt"])

A monitor's log gives each analysed snapshot with the configuration it was analysed
with (the latest line of a step wins; a snapshot removed by `keep_last` is left out,
said in a note) and the metrics logged with `update(step, loss=...)`. A checkpoint's
step is its own `step` (or `global_step`) entry, or else the number in its file name
(`step-1200.pt`, `epoch=3-step=1200.ckpt`: the number after "step", else the last one),
which a note says; a checkpoint with neither is an error. Checkpoint files are grouped
into one run per folder.

May import: `gradscope.config`, `gradscope.model.networks.checkpoints`, `gradscope.monitor.analyst`.
"""

from __future__ import annotations

import glob
import json
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..config import CHECKPOINT_SUFFIXES, Config
from .analyst import JSONL, SNAPSHOTS

_STEP_NAMED = re.compile(r"step[=_-]?(\d+)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Point:
    """One checkpoint of a run: its file, its training step, and the configuration a
    monitor analysed it with (None for a plain checkpoint)."""

    path: str
    step: int
    config: Config | None = None


@dataclass
class Run:
    """One training run: its label, its checkpoints in step order, the metrics logged
    (`name -> [(step, value)]`), the lags its monitor reported, and notes."""

    label: str
    points: list[Point] = field(default_factory=list)
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    lags: tuple[int, ...] | None = None
    notes: list[str] = field(default_factory=list)


def read_sources(paths: Sequence[str]) -> list[Run]:
    """The runs of `paths` (see the module docstring), in the order given. Raises
    `ValueError` in one line for a path that is none of these, or a checkpoint whose step
    cannot be found."""
    if not paths:
        raise ValueError("give a monitor's log_dir, its gradscope.jsonl, or checkpoints (a folder or a glob)")
    runs: list[Run] = []
    plain: dict[str, list[str]] = {}
    for text in paths:
        p = Path(text)
        if p.is_file() and p.suffix == ".jsonl":
            runs.append(read_monitor_log(p))
        elif p.is_dir() and (p / JSONL).is_file():
            runs.append(read_monitor_log(p / JSONL))
        elif p.is_dir():
            files = sorted(str(f) for f in p.iterdir() if f.is_file() and f.name.lower().endswith(CHECKPOINT_SUFFIXES))
            if not files:
                raise ValueError(f"{text!r} holds no {JSONL} and no checkpoint files ({', '.join(CHECKPOINT_SUFFIXES)})")
            plain.setdefault(str(p), []).extend(files)
        elif p.is_file():
            if not p.name.lower().endswith(CHECKPOINT_SUFFIXES):
                raise ValueError(f"{text!r} is neither a checkpoint ({', '.join(CHECKPOINT_SUFFIXES)}) nor a monitor's "
                                 f"{JSONL}")
            plain.setdefault(str(p.parent), []).append(str(p))
        elif any(c in text for c in "*?["):
            files = sorted(f for f in glob.glob(text) if f.lower().endswith(CHECKPOINT_SUFFIXES) and Path(f).is_file())
            if not files:
                raise ValueError(f"the pattern {text!r} matches no checkpoint file")
            for f in files:
                plain.setdefault(str(Path(f).parent), []).append(f)
        else:
            raise ValueError(f"{text!r} does not exist")
    for folder, files in plain.items():
        runs.append(_checkpoint_run(folder, list(dict.fromkeys(files))))
    return runs


def read_monitor_log(path: Path) -> Run:
    """A monitor's `gradscope.jsonl`: its analysed snapshots and metrics."""
    folder = path.parent
    run = Run(folder.resolve().name or str(folder))
    latest: dict[int, dict[str, Any]] = {}
    metrics: dict[str, dict[int, float]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc}") from None
    bad = 0
    for line in lines:
        try:
            doc = json.loads(line)
            step = int(doc["step"])
        except (ValueError, KeyError, TypeError):
            bad += bool(line.strip())
            continue
        for name, value in (doc.get("metrics") or {}).items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                metrics.setdefault(name, {})[step] = float(value)
        if "summary" in doc or "error" in doc:
            latest[step] = doc
    if bad:
        run.notes.append(f"{path}: {bad} line{'s' * (bad > 1)} that are not a monitor's JSON (a write cut short?) "
                         "left out")
    gone: list[int] = []
    for step in sorted(latest):
        doc = latest[step]
        if "error" in doc:
            run.notes.append(f"{run.label}: the monitor's analysis of step {step} failed ({doc['error']})")
            continue
        point = _monitor_point(doc, step, folder)
        if point is None:
            gone.append(step)
        else:
            run.points.append(point)
            lags = (doc["summary"].get("summary") or {}).get("at_lags")
            run.lags = tuple(lags) if lags else run.lags
    if gone:
        run.notes.append(f"{run.label}: the snapshots of {len(gone)} step{'s' * (len(gone) > 1)} "
                         f"({_steps_text(gone)}) are gone (keep_last): left out")
    run.metrics = {name: sorted(values.items()) for name, values in metrics.items()}
    if not run.points:
        raise ValueError(f"{str(path)!r} holds no analysed snapshot that is still on disk")
    return run


def _monitor_point(doc: dict[str, Any], step: int, folder: Path) -> Point | None:
    """The snapshot of a monitor's line, found where it was written or, when the log
    folder was moved, in `snapshots/` beside the log; None when it is gone."""
    config = Config.from_dict(doc["summary"]["config"])
    path = Path(doc["checkpoint"])
    if not path.is_file():
        moved = folder / SNAPSHOTS / path.name
        if not moved.is_file():
            return None
        inputs = doc.get("inputs")
        changes: dict[str, Any] = {"checkpoint": str(moved.resolve())}
        if inputs:
            changes["input"] = str((folder / SNAPSHOTS / Path(inputs).name).resolve())
        config = Config.from_dict({**config.to_dict(), **changes})
        path = moved
    return Point(str(path), step, config)


def _checkpoint_run(folder: str, files: list[str]) -> Run:
    run = Run(Path(folder).resolve().name or folder)
    guessed: list[str] = []
    steps: dict[int, str] = {}
    for f in files:
        step, from_name = checkpoint_step(f)
        if from_name:
            guessed.append(f"{Path(f).name} -> {step}")
        if step in steps:
            raise ValueError(f"checkpoints {Path(steps[step]).name!r} and {Path(f).name!r} of {folder!r} both have step "
                             f"{step}: track one training run per folder")
        steps[step] = f
    run.points = [Point(steps[s], s) for s in sorted(steps)]
    if guessed:
        shown = ", ".join(guessed[:4]) + (f", ... ({len(guessed)} in all)" if len(guessed) > 4 else "")
        run.notes.append(f"{run.label}: steps read from the file names (the checkpoints hold no step entry): {shown}")
    return run


def checkpoint_step(path: str) -> tuple[int, bool]:
    """`(step, from_name)`: the checkpoint's own `step` (or `global_step`) entry, else
    the number in its file name (`from_name` True). Raises `ValueError` when neither is
    there."""
    own = _step_entry(path)
    if own is not None:
        return own, False
    stem = Path(path).name.split(".")[0]
    named = _STEP_NAMED.findall(stem)
    numbers = named or _NUMBER.findall(stem)
    if not numbers:
        raise ValueError(f"checkpoint {path!r} has no step: no 'step' entry in it and no number in its name "
                         "(save it with {'step': step, ...} or name it e.g. step-1200.pt)")
    return int(numbers[-1]), True


def _step_entry(path: str) -> int | None:
    """A top-level `step` or `global_step` number in a torch checkpoint (None otherwise)."""
    if Path(path).suffix.lower() == ".safetensors":
        return None
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # not readable as weights: the analysis will say why
        return None
    if not isinstance(obj, dict):
        return None
    for key in ("step", "global_step"):
        value = obj.get(key)
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _steps_text(steps: list[int]) -> str:
    return ", ".join(map(str, steps[:5])) + (", ..." if len(steps) > 5 else "")
