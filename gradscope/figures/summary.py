"""A `Result`'s summary read the same way by every table, sentence and figure.

The horizon has three outcomes that must never be confused: it was *measured* (the
median gain fell below eps), it is *censored* (the gain neither fell below eps nor
exploded within the window: the horizon lies beyond it), or it does *not apply* (the
gain grows: the run explodes, and the explosion lag says when it passed 1/eps).

May import: nothing of gradscope's (numpy inside functions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

MEASURED, CENSORED, EXPLODING, UNKNOWN = "measured", "censored", "exploding", "unknown"


@dataclass(frozen=True)
class Horizon:
    """What a run's horizon is: `kind` (measured | censored | exploding | unknown) and
    the lag that goes with it (the horizon, the window length for a censored one, the
    explosion lag, which may be None, for an exploding one)."""

    kind: str
    lag: int | None

    @property
    def text(self) -> str:
        """Short table text: `8`, `> 1000`, `n/a (explodes)`, `-`."""
        if self.kind == MEASURED:
            return f"{self.lag}"
        if self.kind == CENSORED:
            return f"> {self.lag}"
        if self.kind == EXPLODING:
            return "n/a (explodes)"
        return "-"


def number(summary: Mapping[str, Any], key: str) -> Any:
    """A summary value, with non-finite floats (and bools standing in for numbers) as None."""
    value = summary.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def horizon_of(summary: Mapping[str, Any], steps: int | None = None) -> Horizon:
    """The horizon's outcome. An exploding run (an explosion lag, an exploding regime,
    or a state that became non-finite) has no horizon, even when an older summary marks
    it censored."""
    h = number(summary, "horizon")
    if h is not None:
        return Horizon(MEASURED, int(h))
    lag = number(summary, "explosion_lag")
    if lag is not None or summary.get("regime") == "exploding" or summary.get("status") == "nonfinite":
        return Horizon(EXPLODING, None if lag is None else int(lag))
    if summary.get("horizon_censored"):
        window = number(summary, "analysed_lags") or steps
        return Horizon(CENSORED, None if window is None else int(window))
    return Horizon(UNKNOWN, None)


def trial_horizons(curves: Mapping[str, Any], eps: float) -> Any:
    """Per trial, the first lag at which the spectral gain falls below `eps` (`inf`
    when it never does within the curve); None without a `(trials, lags)` curve."""
    import numpy as np

    curve = curves.get("log_spectral")
    if curve is None or np.ndim(curve) != 2 or np.size(curve) == 0:
        return None
    below = np.asarray(curve, dtype=np.float64) < math.log(eps)
    lag = np.asarray(curves.get("lag", np.arange(below.shape[1])))
    return np.where(below.any(axis=1), lag[np.argmax(below, axis=1)].astype(float), np.inf)
