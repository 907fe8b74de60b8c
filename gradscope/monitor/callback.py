"""`GradientFlowCallback`: the monitor in a Lightning `Trainer`, logging its scalars
through the trainer's own loggers.

    from gradscope.monitor import GradientFlowCallback
    trainer = Trainer(callbacks=[GradientFlowCallback("encoder.lstm", every_n_steps=100)])

The callback finds the recurrent module by its attribute path on the LightningModule
when training starts, runs a `Monitor` on it (its log_dir under the trainer's log
folder), updates it after each optimizer step (`trainer.global_step`), and hands each
analysis's scalars to every logger of the trainer (`log_metrics(scalars, step)`), so
they sit beside the loss in TensorBoard, CSV, W&B or MLflow. Lightning is imported when
the class is first used (`pip install 'gradscope-rnn[lightning]'`): `lightning.pytorch`,
or `pytorch_lightning` when only that one is in use.

May import: `gradscope.monitor.loop`.
"""

from __future__ import annotations

import functools
import operator
import sys
from pathlib import Path
from typing import Any, Callable


def _lightning_callback_base() -> type:
    """Lightning's `Callback` class, of the namespace in use."""
    if "pytorch_lightning" in sys.modules and "lightning" not in sys.modules:
        from pytorch_lightning import Callback
        return Callback
    try:
        from lightning.pytorch import Callback
    except ImportError:
        try:
            from pytorch_lightning import Callback
        except ImportError:
            raise ImportError("GradientFlowCallback needs Lightning: pip install 'gradscope-rnn[lightning]'") from None
    return Callback


@functools.lru_cache(maxsize=None)
def callback_class(base: type | None = None) -> type:
    """`GradientFlowCallback`, built on Lightning's `Callback` (imported now)."""
    base = base or _lightning_callback_base()

    class GradientFlowCallback(base):  # type: ignore[misc, valid-type]
        """Watch the gradient flow of a recurrent module while a Lightning model trains.

        Arguments:
            module: the attribute path of the recurrent module on the LightningModule
                (`"lstm"`, `"encoder.rnn"`); None: the module itself (the one recurrent
                module it holds).
            every_n_steps: analyse every N optimizer steps (`trainer.global_step`).
            log_dir: the monitor's folder [default: `gradscope/` in the trainer's log folder].
            inputs: `inputs(batch) -> tensor`, the training inputs of a batch to analyse
                on (e.g. `lambda batch: batch[0]`); None: the analysis's own input.
            background, lags, keep_last, tensorboard, cache, and the analysis options
                (`steps`, `trials`, ...): as for `Monitor` (TensorBoard off by default:
                the trainer's logger writes the scalars).
        """

        def __init__(self, module: str | None = None, every_n_steps: int = 100, log_dir: str | Path | None = None,
                     inputs: Callable[[Any], Any] | None = None, **monitor_options: Any) -> None:
            super().__init__()
            from .loop import whole_number

            self.path, self.every = module, whole_number(every_n_steps, "every_n_steps", "analyse every N steps")
            self.log_dir, self.inputs = log_dir, inputs
            monitor_options.setdefault("tensorboard", False)
            self.options = monitor_options
            self.monitor: Any = None
            self._last = -1

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            from .loop import Monitor

            target = pl_module if self.path is None else _attribute(pl_module, self.path)
            log_dir = self.log_dir or Path(trainer.log_dir or trainer.default_root_dir or ".") / "gradscope"
            self.monitor = Monitor(target, every=self.every, log_dir=log_dir,
                                   log=functools.partial(_to_loggers, trainer), **self.options)

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            step = trainer.global_step  # counted after the optimizer step
            if self.monitor is None or step % self.every or step == self._last:
                return
            self._last = step
            inputs = self.inputs(batch) if self.inputs is not None else None
            self.monitor.update(step, inputs=inputs)

        def on_train_end(self, trainer: Any, pl_module: Any) -> None:
            if self.monitor is not None:
                self.monitor.close()  # the pending analyses, logged now

        def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
            if self.monitor is not None:
                self.monitor.close(cancel=True)

        def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
            if self.monitor is not None:
                self.monitor.close()

    GradientFlowCallback.__module__ = __name__
    return GradientFlowCallback


def _attribute(obj: Any, path: str) -> Any:
    try:
        return operator.attrgetter(path)(obj)
    except AttributeError:
        raise ValueError(f"GradientFlowCallback: {type(obj).__name__} has no attribute {path!r} "
                         "(give the attribute path of the recurrent module, e.g. 'encoder.lstm')") from None


def _to_loggers(trainer: Any, scalars: dict[str, float], step: int) -> None:
    """Hand the scalars to every logger of the trainer, at the training step analysed."""
    for logger in trainer.loggers:
        logger.log_metrics(scalars, step=step)
