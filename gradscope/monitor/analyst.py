"""The monitor's analyst: one snapshot in, its files, its analysis and its logs out.

A `Snapshot` is what the training loop hands over (a copy of the recurrent weights as
arrays, the batch of inputs, the metrics given); `Analyst.handle` writes the snapshot
as a weights-only checkpoint under `log_dir/snapshots/` (and its inputs beside it),
analyses it exactly as its recorded command does (`decay --checkpoint ... --threads 1`,
on one torch thread), stores the result in the run cache, appends one JSON document to
`log_dir/gradscope.jsonl` and writes the TensorBoard scalars. It runs in the monitor's
worker process (`monitor.worker`), or inline. What the training process needs back
(the scalars for a `log` callable, messages) is returned as replies.

Every file is written atomically (a temporary name, then renamed). A write that fails
(a full disk, a folder made read-only) is a reply of kind `message`, never an exception:
training goes on.

May import: `gradscope.monitor.settings`, `gradscope.analysis`, `gradscope.model`,
`gradscope.cache`, `gradscope.results`, `gradscope.figures`, `gradscope.config`.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..results import atomic_path, json_safe
from .settings import Plan, scalars_of

JSONL = "gradscope.jsonl"
SNAPSHOTS = "snapshots"
FIGURES = "figures"


@dataclass
class Snapshot:
    """The weights of one training step (`name -> array`, a copy), the batch of training
    inputs given with it (None: the plan's input), and the metrics given."""

    step: int
    state: dict[str, np.ndarray]
    inputs: np.ndarray | None = None
    metrics: dict[str, float] = field(default_factory=dict)


def snapshot_name(step: int) -> str:
    return f"step-{step:08d}"


class Analyst:
    """Analyses snapshots and writes what the monitor logs (see the module docstring).

    Arguments:
        log_dir: the monitor's folder (created by the monitor).
        plan: how a snapshot is analysed (`settings.Plan`).
        keep_last: keep only the newest N snapshots (None: all).
        figure_every: every K analyses, a gain-against-lag figure (0: none).
        tensorboard: write TensorBoard scalars (None: when tensorboard is installed).
        cache: the run cache's folder (None: no cache).
    """

    def __init__(self, log_dir: str, plan: Plan, keep_last: int | None = None, figure_every: int = 0,
                 tensorboard: bool | None = None, cache: str | None = None) -> None:
        self.log_dir, self.plan = Path(log_dir), plan
        self.keep_last, self.figure_every = keep_last, figure_every
        self.tensorboard, self.cache_dir = tensorboard, cache
        self.writer: Any = None
        self.analysed = 0

    # -- messages ------------------------------------------------------------------------
    def handle(self, message: tuple) -> list[tuple]:
        """`("snapshot", Snapshot)` or `("metrics", [(step, {name: value}), ...])`; the
        replies: `("result", step, scalars)`, `("failed", step, text)`, `("message",
        kind, text)`."""
        kind, payload = message
        if kind == "metrics":
            return self._metrics(payload)
        return self._snapshot(payload)

    def _metrics(self, records: list[tuple[int, dict[str, float]]]) -> list[tuple]:
        if not records:
            return []
        lines = "".join(json.dumps({"step": s, "metrics": m}, allow_nan=False) + "\n"
                        for s, m in (json_safe(r) for r in records))
        return self._append(lines)

    def _snapshot(self, snap: Snapshot) -> list[tuple]:
        replies: list[tuple] = []
        try:
            checkpoint, inputs, loop = self._write_snapshot(snap)
        except OSError as exc:
            return [_disk(self.log_dir, exc), ("failed", snap.step, f"snapshot not written: {_reason(exc)}")]
        config = self.plan.config(str(checkpoint), None if inputs is None else str(inputs), loop)
        argv = self.plan.command(config)
        try:
            result = self._analyse(config, argv)
        except Exception as exc:  # an analysis that fails: said, and the next one is tried
            text = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            replies += self._append(json.dumps({"step": snap.step, "checkpoint": str(checkpoint),
                                                "command": argv, "error": text}) + "\n")
            return replies + [("failed", snap.step, f"the analysis of step {snap.step} failed ({text})")]
        scalars = scalars_of(result.summary)
        doc = {"step": snap.step, "checkpoint": str(checkpoint), "inputs": None if inputs is None else str(inputs),
               "command": argv, "metrics": snap.metrics, "scalars": scalars, "summary": result.document()}
        replies += self._append(json.dumps(json_safe(doc), allow_nan=False) + "\n")
        replies += self._store(result)
        replies += self._tensorboard(snap.step, scalars)
        if self.figure_every and self.analysed % self.figure_every == 0:
            replies += self._figure(snap.step, result)
        if self.writer is not None:
            self.writer.flush()
        replies += self._prune()
        self.analysed += 1
        return replies + [("result", snap.step, scalars)]

    # -- the pieces ----------------------------------------------------------------------
    def _write_snapshot(self, snap: Snapshot) -> tuple[Path, Path | None, bool]:
        """The weights as a checkpoint `snapshots/step-N.pt` (and the inputs as
        `step-N-inputs.npy`, the trials' streams): `(checkpoint, inputs, input_loop)`."""
        import torch

        from ..model.networks.memory import batch_streams

        folder = self.log_dir / SNAPSHOTS
        folder.mkdir(parents=True, exist_ok=True)
        name = snapshot_name(snap.step)
        checkpoint = (folder / f"{name}.pt").resolve()
        with atomic_path(checkpoint) as tmp:
            torch.save({k: torch.from_numpy(v) for k, v in snap.state.items()}, tmp)
        if snap.inputs is None:
            return checkpoint, None, False
        trials = int(self.plan.options["trials"])
        streams = batch_streams(snap.inputs, trials, self.plan.batch_first)
        inputs = (folder / f"{name}-inputs.npy").resolve()
        with atomic_path(inputs) as tmp, open(tmp, "wb") as fh:
            np.save(fh, streams)
        needed = int(self.plan.options["transient"]) + int(self.plan.options["steps"])
        return checkpoint, inputs, streams.shape[0] < needed

    def _analyse(self, config: Any, argv: list[str]) -> Any:
        from ..analysis import analyze

        return analyze(config, command=shlex.join(argv), threads=1, lags=self.plan.lags)

    def _append(self, text: str) -> list[tuple]:
        try:
            with open(self.log_dir / JSONL, "a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            return [_disk(self.log_dir, exc)]
        return []

    def _store(self, result: Any) -> list[tuple]:
        if self.cache_dir is None:
            return []
        from ..cache import RunCache

        try:
            RunCache(self.cache_dir).put(result)
        except OSError as exc:
            return [("message", "cache", f"cannot store the analysis in the run cache {self.cache_dir!r} "
                     f"({_reason(exc)}); gradscope track will compute it again")]
        return []

    def _tensorboard(self, step: int, scalars: dict[str, float]) -> list[tuple]:
        if self.writer is None and self.tensorboard is not False:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self.tensorboard = False
                return [("message", "tensorboard", "TensorBoard scalars need the tensorboard package: pip install "
                         "'gradscope-rnn[monitor]' (gradscope.jsonl and log= are written all the same)")]
            try:
                self.writer = SummaryWriter(log_dir=str(self.log_dir))
            except OSError as exc:
                self.tensorboard = False
                return [_disk(self.log_dir, exc)]
        for tag, value in scalars.items() if self.writer is not None else ():
            self.writer.add_scalar(tag, value, global_step=step)
        return []

    def _figure(self, step: int, result: Any) -> list[tuple]:
        """The gain-against-lag figure of this analysis: `figures/gain-step-N.png`, and
        the same image in TensorBoard (`gradscope/gain_against_lag`)."""
        from ..figures.decay_figure import decay_figure
        from ..figures.style import save_figure

        try:
            fig = decay_figure(result, width=6.75, style="screen")
            (self.log_dir / FIGURES).mkdir(exist_ok=True)
            path, = save_figure(fig, self.log_dir / FIGURES / f"gain-{snapshot_name(step)}", formats=("png",), dpi=100)
            if self.writer is not None:
                import matplotlib.image

                image = matplotlib.image.imread(path)[..., :3]
                self.writer.add_image("gradscope/gain_against_lag", image, global_step=step, dataformats="HWC")
        except OSError as exc:
            return [_disk(self.log_dir, exc)]
        return []

    def _prune(self) -> list[tuple]:
        """Keep the newest `keep_last` snapshots (and their inputs)."""
        if not self.keep_last:
            return []
        folder = self.log_dir / SNAPSHOTS
        snaps = sorted(folder.glob("step-*.pt"))
        try:
            for old in snaps[: max(0, len(snaps) - self.keep_last)]:
                old.unlink(missing_ok=True)
                (folder / f"{old.stem}-inputs.npy").unlink(missing_ok=True)
        except OSError as exc:
            return [_disk(self.log_dir, exc)]
        return []

    def close(self) -> None:
        if self.writer is not None:
            try:
                self.writer.close()
            except OSError:  # a full disk at the last flush: said already
                pass
            self.writer = None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _disk(log_dir: Path, exc: OSError) -> tuple:
    """The reply for a write that failed: said once per kind by the monitor."""
    kind = "full" if exc.errno == errno.ENOSPC else "write"
    return ("message", kind, f"cannot write to log_dir {str(log_dir)!r} ({_reason(exc)}): what cannot be "
            "written is not logged; training goes on")


def ensure_writable(log_dir: Path) -> str | None:
    """Create `log_dir` and write a file in it: None when it works, else why not (a
    one-line reason). A `log_dir` that is a file raises `ValueError` (a mistake to fix,
    not a condition to live with)."""
    if log_dir.exists() and not log_dir.is_dir():
        raise ValueError(f"log_dir {str(log_dir)!r} is a file, not a folder: give a folder for the monitor's logs")
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        probe = log_dir / f".gradscope-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return _reason(exc)
    return None
