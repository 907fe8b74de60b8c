"""`Monitor`: gradient flow through time, measured while a model trains.

    monitor = Monitor(model.lstm, every=100, log_dir="runs/gradscope")
    for step, (x, y) in enumerate(loader, 1):
        ...; optimizer.step()
        monitor.update(step, inputs=x, loss=loss.item())   # analyses every 100th step
    monitor.close()                                         # or `with Monitor(...) as monitor:`

On a step it analyses, `update` copies the recurrent weights (and the batch given) and
hands them to one background worker process (`monitor.worker`); training goes on at
once. The worker analyses the copy exactly as the recorded command would
(`gradscope decay --checkpoint SNAPSHOT ... --threads 1`) and logs it (`monitor.analyst`):
`log_dir/gradscope.jsonl`, the snapshots, TensorBoard scalars under `gradscope/`, and
the scalars handed to `log` (`wandb.log`, `mlflow.log_metrics`) here, in the training
process, when they come back. When the worker falls behind, the step is skipped and
that is said once: training is never held up, and at most `max_pending` snapshots wait.
A log_dir that cannot be written is said once and training goes on; nothing is left
running when the script ends, is interrupted or is killed.

May import: `gradscope.monitor.*`, `gradscope.analysis`, `gradscope.model`, `gradscope.config`.
"""

from __future__ import annotations

import atexit
import math
import operator
import sys
import weakref
from pathlib import Path
from typing import Any, Callable

from .analyst import Analyst, Snapshot, ensure_writable
from .settings import Plan

#: Seconds `close()` (and the end of the script) waits for pending analyses by default.
CLOSE_TIMEOUT = 120.0
#: Metrics given on steps that are not analysed are sent on in batches of at most this.
METRICS_BATCH = 10_000


class Monitor:
    """Analyses a recurrent module's gradient flow every `every` training steps.

    Arguments:
        module: `nn.RNN/LSTM/GRU` (stacked too), their `*Cell`, a model holding one of
            them (`name` picks one of several), or a cell module of yours in a module of
            its own (built with `cell_args` for the analysis).
        every: analyse every N-th step (`update(step)` with `step % every == 0`).
        log_dir: the folder of `gradscope.jsonl`, `snapshots/`, the TensorBoard events.
        lags: lags at which the gain, loss gradient and input sensitivity are reported
            and logged (the lag your task needs; default 10 and 100, within the window).
        background: analyse in one worker process (False: inline, in `update`; for
            debugging and tests).
        log: a callable given `(scalars, step=step)` for every analysis (`wandb.log`,
            `mlflow.log_metrics`), called in this process.
        keep_last: keep only the newest N snapshots (None: all).
        figure_every: every K analyses, a gain-against-lag figure (PNG, and in TensorBoard).
        tensorboard: TensorBoard scalars (None: when tensorboard is installed).
        cache: the run cache (True: the default one, as `gradscope track` uses; a folder;
            False: none).
        max_pending: snapshots that may wait for the worker before a step is skipped.
        **options: the analysis options of `decay` (`steps`, `trials`, `exponents`,
            `transient`, `seed`, `input`, `eps`, `spectral`, `dtype`, `layer`, ...);
            defaults keep one analysis of a 64-unit LSTM to about a second.

    Raises:
        ValueError: `module` is not recurrent, `every` is not a whole number >= 1,
            `log_dir` is a file, or an option does not fit (one line each).
    """

    def __init__(self, module: Any, every: int = 100, log_dir: str | Path = "runs/gradscope", *,
                 name: str | None = None, lags: Any = None, background: bool = True,
                 log: Callable[..., Any] | None = None, keep_last: int | None = None, figure_every: int = 0,
                 tensorboard: bool | None = None, cache: bool | str | Path = True, max_pending: int = 2,
                 cell_args: Any = None, **options: Any) -> None:
        from ..analysis.module import memory_network
        from ..model.networks.memory import find_recurrent

        self.every = whole_number(every, "every", "analyse every N training steps")
        self.max_pending = whole_number(max_pending, "max_pending", "snapshots that may wait")
        if keep_last is not None:
            whole_number(keep_last, "keep_last", "the newest snapshots kept")
        if log is not None and not callable(log):
            raise ValueError(f"log must be a callable such as wandb.log, got {type(log).__name__}")
        self.found = find_recurrent(module, name)
        self.plan = Plan.of(self.found, lags=lags, cell_args=cell_args, **options)
        check = self.plan.config(self.found.path)  # the options checked against the module now
        if self.found.kind == "pytorch":
            memory_network(self.found, check)
        self.log_dir = Path(log_dir)
        self.log, self.background = log, background
        self.messages: list[str] = []  # every message said (once each)
        self.analysed: list[int] = []  # steps whose analysis came back
        self.skipped: list[int] = []  # steps not analysed: the worker was behind
        self._said: set[str] = set()
        self._metrics: list[tuple[int, dict[str, float]]] = []
        self._sent = self._done = 0
        self.closed = False
        self.worker: Any = None
        self._analyst: Analyst | None = None
        reason = ensure_writable(self.log_dir)
        if reason is not None:
            self._say("disk", f"cannot write to log_dir {str(self.log_dir)!r} ({reason}): the monitor is off; "
                      "training goes on")
            self.closed = True
            return
        cache_dir = None if cache is False else str(_cache_dir(cache))
        args = {"log_dir": str(self.log_dir.resolve()), "plan": self.plan, "keep_last": keep_last,
                "figure_every": int(figure_every or 0), "tensorboard": tensorboard, "cache": cache_dir}
        if background:
            from .worker import Worker

            self.worker = Worker(args)
            # multiprocessing registered its exit function (which ends daemon workers) when
            # the worker started: ours must run before it, and atexit runs the last first
            atexit.unregister(_close_open_monitors)
            atexit.register(_close_open_monitors)
        else:
            self._analyst = Analyst(**args)
        _OPEN.add(self)

    # -- the training loop's calls ---------------------------------------------------------
    def update(self, step: int, inputs: Any = None, **metrics: Any) -> bool:
        """Call once per training step (after `optimizer.step()`): on every `every`-th
        step, snapshot the weights (and `inputs`, a batch of the training inputs that
        the analysis then runs on) and hand them to the analysis. `metrics` (`loss=`,
        `accuracy=`) are recorded with the step in `gradscope.jsonl`, for `gradscope
        track` to draw beside the gradient flow. Returns whether this step was handed
        over."""
        if step % self.every:  # the common case: nothing to do but keep the metrics
            if metrics and not self.closed:
                self._metrics.append((step, {k: _number(k, v) for k, v in metrics.items()}))
                if len(self._metrics) >= METRICS_BATCH:
                    self._send(("metrics", self._flush()))
            return False
        if self.closed:
            return False
        self._collect()
        values = {k: _number(k, v) for k, v in metrics.items()}
        if self._sent - self._done >= self.max_pending:
            self.skipped.append(step)
            self._say("behind", f"the analysis falls behind training ({self._sent - self._done} snapshots wait "
                      f"at step {step}): skipping steps until it catches up (raise every= or lower steps=, trials=)")
            if values:
                self._metrics.append((step, values))
            return False
        snap = Snapshot(int(step), _state_copy(self.found.module), _inputs_copy(inputs), values)
        if self._metrics:
            self._send(("metrics", self._flush()))
        self._sent += 1
        self._send(("snapshot", snap))
        return True

    def close(self, cancel: bool = False, timeout: float | None = CLOSE_TIMEOUT) -> None:
        """Finish the pending analyses (waiting at most `timeout` seconds; their logs
        come in now), or give them up (`cancel=True`), and end the worker. Safe to call
        twice; called for you at the end of a `with` block and of the script."""
        if self.closed:
            return
        self.closed = True
        _OPEN.discard(self)
        if self._metrics and not cancel:
            self._send(("metrics", self._flush()))
        if self._analyst is not None:
            self._analyst.close()
            return
        if cancel:
            self._dispatch(self.worker.replies())  # what came back before
            self.worker.cancel()
            left = self._sent - self._done
            if left:
                self._say("cancelled", f"{left} pending {'analysis' if left == 1 else 'analyses'} cancelled")
            return
        replies, how = self.worker.finish(timeout)
        self._dispatch(replies)
        if how == "timeout":
            self._say("timeout", f"the analysis did not finish within {timeout:g} s: "
                      f"{self._sent - self._done} pending analyses cancelled")
        elif how == "ended" and self._sent > self._done:
            self._say("ended", f"the worker process ended before it finished: {self._sent - self._done} "
                      "pending analyses lost")

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, kind: Any, *exc: Any) -> None:
        self.close(cancel=kind is not None)  # training failed or was interrupted: no waiting

    @property
    def worker_pid(self) -> int | None:
        """The background worker's process id (None inline)."""
        return None if self.worker is None else self.worker.pid

    # -- what comes back ---------------------------------------------------------------------
    def _send(self, message: tuple) -> None:
        if self._analyst is not None:
            self._dispatch(self._analyst.handle(message))
        else:
            self.worker.send(message)

    def _flush(self) -> list[tuple[int, dict[str, float]]]:
        records, self._metrics = self._metrics, []
        return records

    def _collect(self) -> None:
        if self.worker is None:
            return
        self._dispatch(self.worker.replies())
        if not self.worker.alive() and not self.closed:
            self._say("died", f"the analysis worker stopped (exit code {self.worker.process.exitcode}): "
                      "the monitor is off; training goes on")
            self.closed = True
            _OPEN.discard(self)

    def _dispatch(self, replies: list[tuple]) -> None:
        for reply in replies:
            kind = reply[0]
            if kind == "result":
                _, step, scalars = reply
                self._done += 1
                self.analysed.append(step)
                if self.log is not None and scalars:
                    try:
                        self.log(dict(scalars), step=step)
                    except Exception as exc:  # the user's logger: say it, keep training
                        self._say("log", f"log={getattr(self.log, '__name__', self.log)!s} raised "
                                  f"{type(exc).__name__}: {exc}")
            elif kind == "failed":
                self._done += 1
                self._say("failed:" + reply[2].split(" (")[0], reply[2])
            elif kind == "message":
                self._say(reply[1], reply[2])

    def _say(self, kind: str, text: str) -> None:
        """Say `text` on stderr, once per kind of message."""
        if kind in self._said:
            return
        self._said.add(kind)
        self.messages.append(text)
        print(f"gradscope monitor: {text}", file=sys.stderr, flush=True)


def whole_number(value: Any, name: str, what: str = "") -> int:
    """`value` as an int >= 1, or `ValueError` naming `name` (and saying `what` it is)."""
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or isinstance(value, bool) or number < 1:
        raise ValueError(f"{name} must be a whole number >= 1{f' ({what})' if what else ''}, got {value!r}")
    return number


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"metric {name}={value!r} is not a number") from None
    return number if math.isfinite(number) else float("nan")


def _state_copy(module: Any) -> dict[str, Any]:
    """The module's weights, copied to the CPU as arrays (training may change them next)."""
    import torch

    out = {}
    for key, value in module.state_dict().items():
        t = value.detach()
        if t.dtype in (torch.float16, torch.bfloat16):  # numpy has neither: stored as float32
            t = t.float()
        out[key] = t.to("cpu", copy=True).numpy()
    return out


def _inputs_copy(inputs: Any) -> Any:
    if inputs is None:
        return None
    import numpy as np

    if hasattr(inputs, "detach"):
        import torch

        t = inputs.detach()
        if t.dtype in (torch.float16, torch.bfloat16):
            t = t.float()
        return t.to("cpu", copy=True).numpy()
    return np.array(inputs, copy=True)


def _cache_dir(cache: Any) -> Path:
    if cache is True:
        from ..cache import default_cache_dir

        return default_cache_dir()
    return Path(cache)


_OPEN: weakref.WeakSet = weakref.WeakSet()


def _close_open_monitors() -> None:
    """At the end of the script: finish what is pending (give it up after an unhandled
    exception, Ctrl-C included), so that no worker outlives the training."""
    interrupted = getattr(sys, "last_type", None) is not None
    for monitor in list(_OPEN):
        monitor.close(cancel=interrupted)


atexit.register(_close_open_monitors)
