"""Gradient flow watched while a model trains: `Monitor` for any training loop, its
Lightning callback `GradientFlowCallback`, and `track`, the report of a training run
(`gradscope track`).

    from gradscope import Monitor
    with Monitor(model.lstm, every=100, log_dir="runs/gradscope") as monitor:
        for step, (x, y) in enumerate(loader, 1):
            ...; optimizer.step()
            monitor.update(step, inputs=x, loss=loss.item())

- `loop`: `Monitor` (snapshots, the hand-over, what comes back);
- `settings`: the plan of a snapshot's analysis, its command, the scalars logged;
- `analyst`: one snapshot analysed and logged (jsonl, TensorBoard, cache);
- `worker`: the background process;
- `callback`: `GradientFlowCallback` (Lightning, imported when it is first used);
- `sources`, `tracking`: `gradscope track` (checkpoints and a monitor's logs, read and
  analysed through the run cache, written as a report).

Nothing heavy loads with this package (a worker process imports it first); its names
load on first use.

May import: `gradscope.monitor.*` (lazily, by name).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Monitor", "GradientFlowCallback", "track"]


def __getattr__(name: str) -> Any:
    if name == "Monitor":
        from .loop import Monitor

        return Monitor
    if name == "GradientFlowCallback":
        from .callback import callback_class

        return callback_class()
    if name == "track":
        from .tracking import track

        return track
    raise AttributeError(f"module 'gradscope.monitor' has no attribute {name!r}")
