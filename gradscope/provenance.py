"""Where a number came from: versions, seeds, threads, time and the command line.

`run_provenance(config, ...)` is stored with every `Result`; `network_record` adds what a
user's network was (the checkpoint's path, sha256, module and layer, or the custom
cell); `environment()` goes with every report (read from package metadata, so writing
a report never imports torch); `sha256_file` and `command_text` serve manifests and
checkpoint records.

May import: `gradscope.config`, `gradscope.results`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import shlex
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .config import Config
from .results import ENGINE_VERSION


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def run_provenance(config: Config, command: str | None = None, threads: int | None = None) -> dict[str, Any]:
    """What one run was computed with: versions, engine, seed, dtype, device, threads
    (the torch intra-op threads its transport ran on: `analyze` passes the number it
    chose or was given), UTC time and the command line."""
    import torch

    from . import __version__

    return {
        "gradscope": __version__,
        "engine": ENGINE_VERSION,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "seed": config.seed,
        "dtype": config.torch_dtype_name,
        "device": config.device,
        "threads": threads if threads is not None else torch.get_num_threads(),
        "time_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command if command is not None else " ".join(sys.argv),
    }


FIXED_WEIGHTS = ("fixed: every trial runs the same network; trials vary the inputs, "
                 "the initial state and the readout only")


def network_record(config: Config, record: dict[str, Any]) -> dict[str, Any]:
    """`{"checkpoint": {...}}` or `{"custom_cell": {...}}` for a run of a user's network:
    what `gradscope.model.networks` found, with the file's sha256 and a word on the
    weights."""
    out = {**record, "weights": FIXED_WEIGHTS}
    path = config.checkpoint
    if path is not None and not record.get("in_memory"):  # a module in memory: its record says what it is
        out["path"] = path
        out["sha256"] = sha256_file(path)
    return {"custom_cell" if config.custom else "checkpoint": out}


def network_text(provenance: dict[str, Any]) -> str | None:
    """What user's network a run used, in a phrase (None for a drawn network), e.g.
    `checkpoint m.pt (module 'rnn', nn.LSTM, layer 1 of 2, sha256 0e5f...; weights fixed: ...)`."""
    ck, custom = provenance.get("checkpoint"), provenance.get("custom_cell")
    if ck:
        layers = ck.get("layers", 1)
        part = ("" if layers == 1 else f", the whole stack of {layers} layers" if ck.get("layer") is None
                else f", layer {ck['layer']} of {layers}")
        module = f"module {ck['module']!r}, " if ck.get("module") else ""
        return (f"checkpoint {ck['path']} ({module}{ck['module_type']}{part}, sha256 {ck['sha256'][:12]}...; "
                f"weights {ck['weights']})")
    if custom:
        return f"custom cell {custom['cell']} (state {custom['state_dim']}; weights {custom['weights']})"
    return None


def network_lines(results: Sequence[Any], labels: Sequence[str]) -> list[str]:
    """One line per run of a user's network, for a report's "What was run"."""
    texts = [(label, network_text(r.provenance)) for r, label in zip(results, labels)]
    return [f"{label}: {text}" for label, text in texts if text]


def environment() -> dict[str, Any]:
    """Versions of gradscope and what it runs on (no torch import: read from metadata)."""
    import matplotlib

    from . import __version__

    return {
        "gradscope": __version__,
        "numpy": np.__version__,
        "torch": _version("torch"),
        "matplotlib": matplotlib.__version__,
        "python": platform.python_version(),
    }


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def command_text(command: str | Sequence[str] | None) -> str | None:
    """A command as one shell-quoted line (`None` stays `None`)."""
    if command is None:
        return None
    if isinstance(command, str):
        return command
    return shlex.join(str(c) for c in command)
