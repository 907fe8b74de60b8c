"""`Result`: everything one run measured, with its status; atomic save and load; and the
reading every table, sentence and figure shares: `Status` and `HorizonKind` (enums with
human messages), `horizon_of` (measured, censored, exploding), `trial_horizons`.

On disk a result is a folder with `result.json` (schema version, resolved config,
provenance, summary) and `curves.npz` (every array, `-inf`/`inf` kept). Both are
written to a temporary file first and renamed into place, so an interrupted write
never leaves a file that looks whole.

May import: `gradscope.config`.
"""

from __future__ import annotations

import contextlib
import enum
import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from .config import Config

SCHEMA_VERSION = 1
#: Bumped whenever a change of the numerics or of the summary's wording makes earlier
#: results stale; cached runs of another engine version are recomputed.
ENGINE_VERSION = 8
_UMASK = os.umask(0o022)
os.umask(_UMASK)

#: Every key `analyze` puts in `Result.summary`, in display order. Units: rates are
#: natural log per step; lags and times are steps.
SUMMARY_KEYS = (
    "status",  # ok | nonfinite
    "growth_rate",  # slope of the median log spectral gain over lags [K/2, K_last]
    "growth_rate_q10",
    "growth_rate_q90",
    "growth_rate_se",  # standard error of the per-trial slopes
    "rms_growth_rate",  # the same for the RMS gain (what mean-field theory predicts)
    "loss_grad_rate",  # the same for the loss gradient |dL/ds_{T-k}|
    "factor_per_step",  # exp(growth_rate)
    "half_life",  # ln 2 / |rate| when vanishing, else null
    "doubling_time",  # ln 2 / rate when exploding, else null
    "horizon",  # first lag with median spectral gain < eps (null if never)
    "horizon_censored",  # true when the gain never fell below eps within the window
    "explosion_lag",  # first lag with median spectral gain > 1/eps (null if never)
    "nonfinite_step",  # forward step (counted from the start, transient included) that went non-finite
    "analysed_lags",  # K_last: the last lag with a finite median
    "regime",  # vanishing | marginal | exploding
    "pascanu_rate",  # log(gamma sigma_max(W_hh)) (rnn, indrnn: a bound there), median over trials
    "mean_field_rate",  # 0.5 ln chi (rnn only)
    "mean_field_chi",
    "mean_field_q",
    "annealed_rate",  # 0.5 ln mean_t ||J_t||_F^2 / D, median over trials
    "median_step_gain",  # median over trials and steps of the per-step gain ||J_t||_2 (x/step)
    "at_lags",  # the lags asked for (`analyze(lags=...)`, `decay --at-lag`), else null
    "log_gain_at_lags",  # at each of them: ln of the median spectral gain ||P(T, T-k)||_2
    "log_loss_grad_at_lags",  # ln of the median loss gradient |dL/ds_{T-k}|
    "log_input_sensitivity_at_lags",  # ln of the median input sensitivity ||ds_T/dx_{T-k}||_2
    "gamma",  # sup |phi'| of the activation
    "sigma_max_whh",  # median over trials of the largest singular value of W_hh
    "lambda_1",  # top Lyapunov exponent, median over trials (null unless exponents > 0)
    "lambda_1_se",  # its standard error: across trials, or within the one trial (batch means)
    "kaplan_yorke_dim",  # Kaplan-Yorke dimension (null: beyond the exponents estimated)
    "kaplan_yorke_dim_se",
    "n_positive",  # number of positive exponents (median over trials)
    "entropy",  # metric entropy: the sum of the positive exponents (ln/step)
    "entropy_se",
    "sum_exponents",  # sum of the estimated exponents (all D of them: checkable identity)
    "sum_exponents_se",
    "mean_log_det",  # time average of log|det J_t| (equals sum_exponents when exponents = D)
    "sum_rule_error",  # max over trials of |sum_exponents - mean_log_det| / max(1, |mean_log_det|)
    "exponents_unresolved",  # exponents reported -inf (singular Jacobians, rank test on R)
    "qr_every_mean",  # counted steps per QR re-orthonormalisation
    "attractor",  # what the state settled on: fixed point | periodic | quasi-periodic | chaotic (constant input); contracting | marginal | chaotic (driven); converging; diverged; mixed
    "attractor_period",  # its period in steps, when periodic
    "attractor_trials",  # how many trials settled on each kind
    "lyapunov",  # the median spectrum over trials, K numbers (-inf written as null)
    "lyapunov_se",  # the standard error of each
    "fast_check",  # fast mode: worst relative shortfall of its spectral and input-sensitivity estimates against an exact SVD at the checked lags (block ends and seeded offsets; a shortfall over 1e-3 redoes that chunk more accurately)
    "step_gain_check",  # fast mode: the same for the per-step gains ||J_t||_2 at the checked steps (what the checks found there, not a bound elsewhere)
    "params",  # parameter count of one network (PyTorch's module)
    "warnings",  # sentences that say what happened and what to do
    "notes",  # sentences that say what is so, with nothing to act on (a theory that does not apply, a null in JSON)
)

#: Arrays in `Result.curves` (all natural logs). Shapes: B trials, T steps.
CURVE_KEYS = {
    "lag": "(T+1,) lags k = 0..T",
    "log_spectral": "(B, T+1) log ||P(T, T-k)||_2",
    "log_rms": "(B, T+1) log ||P(T, T-k)||_F / sqrt(D)",
    "log_loss_grad": "(B, T+1) log ||dL/ds_{T-k}||, L = r . h_T",
    "log_input_sensitivity": "(B, T+1) log ||ds_T/dx_{T-k}||_2 (lag T: NaN, the input lies in the transient)",
    "log_weight_grad": "(B, T+1) log ||dL/dW_hh from step T-k||_F (lag T: NaN)",
    "log_step_gain": "(B, T) log ||J_t||_2 for t = 1..T",
    "log_step_rms": "(B, T) log ||J_t||_F / sqrt(D)",
    "lyapunov_spectrum": "(B, K) exponents, natural log per step, descending (K = exponents; -inf: lost)",
    "lyapunov_se": "(B, K) standard error of each, from batch means over blocks of time",
    "lyapunov_blocks": "(B, K, nb) the exponents of each of nb consecutive blocks of time",
    "lyapunov_history": "(B, K, H) running estimates at H log-spaced checkpoints",
    "lyapunov_history_steps": "(H,) steps counted after the frame transient at those checkpoints",
    "lyapunov_resolved": "(B,) how many exponents are finite (the rest failed the rank test on R)",
    "lyapunov_mean_log_det": "(B,) time average of log|det J_t| over the counted steps (NaN unless K = D)",
}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it onto `path`.

    On error the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def json_safe(value: Any) -> Any:
    """Replace non-finite floats (and numpy scalars) by JSON-ready values (`None`)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Result:
    """One run: resolved config, summary figures, arrays and provenance.

    Arguments:
        config: the resolved `Config`.
        summary: the figures of `SUMMARY_KEYS` (non-finite values already `None`).
        curves: arrays of `CURVE_KEYS` (natural logs; `-inf` for a zero gain).
        provenance: versions, seed, dtype, device, threads, time, command line.
    """

    config: Config
    summary: dict[str, Any]
    curves: dict[str, np.ndarray] = field(repr=False)
    provenance: dict[str, Any]

    @property
    def status(self) -> str:
        return self.summary["status"]

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def document(self) -> dict[str, Any]:
        """The JSON document of `--json` and `result.json`."""
        return json_safe(
            {
                "schema_version": SCHEMA_VERSION,
                "config": self.config.to_dict(),
                "config_key": self.config.key(),
                "provenance": self.provenance,
                "summary": self.summary,
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.document(), indent=2, allow_nan=False)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write `result.json` and `curves.npz` into `directory` (created), atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / "curves.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **self.curves)
        write_text_atomic(directory / "result.json", self.to_json() + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Result:
        """Read a folder written by `save` (no pickles are ever loaded)."""
        directory = Path(directory)
        path = directory / "result.json" if directory.is_dir() else directory
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read {path}: {exc}") from None
        if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"{path} is not a gradscope result (schema_version {SCHEMA_VERSION} expected)"
            )
        for key in ("config", "summary", "provenance"):
            if not isinstance(doc.get(key), dict):
                raise ValueError(f"{path} is not a gradscope result: its {key!r} is "
                                 f"{'missing' if key not in doc else 'not an object'}")
        try:
            with np.load(path.parent / "curves.npz", allow_pickle=False) as npz:
                curves = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"cannot read {path.parent / 'curves.npz'}: {exc}") from None
        _check_curves(curves, path.parent / "curves.npz")
        return cls(
            config=Config.from_dict(doc["config"]),
            summary=doc["summary"],
            curves=curves,
            provenance=doc["provenance"],
        )


def _check_curves(curves: dict[str, np.ndarray], path: Path) -> None:
    """Every known curve numeric and of the shape `CURVE_KEYS` gives it, the sizes
    (B, T, K, ...) the same across curves; ValueError naming the first that is not."""
    sizes: dict[str, int] = {}
    lag = curves.get("lag")
    if lag is not None and lag.ndim == 1 and lag.dtype.kind in "biuf":
        if len(lag) == 0 or not np.all(np.isfinite(lag)):
            raise ValueError(f"{path}: lag is {'empty' if len(lag) == 0 else 'not finite'}: no lags to draw")
        sizes["T"] = len(lag) - 1
    for key, value in curves.items():
        spec = CURVE_KEYS.get(key)
        if spec is None:
            continue  # a curve of a later version: kept, not checked
        if value.dtype.kind not in "biuf":
            raise ValueError(f"{path}: {key} holds {value.dtype}, not numbers")
        dims = [d.strip() for d in spec[1 : spec.index(")")].split(",") if d.strip()]
        if value.ndim != len(dims):
            raise ValueError(f"{path}: {key} has shape {value.shape}, expected {spec[: spec.index(')') + 1]}")
        for name, size in zip(dims, value.shape):
            base, extra = (name[:-2], 1) if name.endswith("+1") else (name, 0)
            if sizes.setdefault(base, size - extra) != size - extra:
                raise ValueError(f"{path}: {key} has shape {value.shape}, which does not match the other "
                                 f"curves ({base} = {sizes[base]})")


# -- the kinds a run's outcome can take, with the words for them --------------------------
class _Words(str, enum.Enum):
    """A str enum that prints and formats as its value (`"ok"`) and compares equal to it."""

    __str__ = str.__str__
    __format__ = str.__format__

    @property
    def message(self) -> str:
        return _MESSAGES[self]


class Status(_Words):
    """How a run ended (`summary["status"]`)."""

    OK = "ok"
    NONFINITE = "nonfinite"
    ERROR = "error"


class HorizonKind(_Words):
    """What a run's horizon is: measured (the median gain fell below eps), censored (it
    neither fell below eps nor exploded within the window: the horizon lies beyond it),
    exploding (the gain grows: no horizon applies), or unknown."""

    MEASURED = "measured"
    CENSORED = "censored"
    EXPLODING = "exploding"
    UNKNOWN = "unknown"


_MESSAGES = {
    Status.OK: "finished",
    Status.NONFINITE: "the state became non-finite: the analysis stops at the last finite state",
    Status.ERROR: "the run failed",
    HorizonKind.MEASURED: "the median gain fell below eps at this lag",
    HorizonKind.CENSORED: "the gain stayed above eps over the whole window: the horizon lies beyond it",
    HorizonKind.EXPLODING: "the gain grows: no horizon applies",
    HorizonKind.UNKNOWN: "no horizon was measured",
}


@dataclass(frozen=True)
class Horizon:
    """A run's horizon: its `kind` and the lag that goes with it (the horizon, the window
    length for a censored one, the explosion lag, which may be None, for an exploding one)."""

    kind: HorizonKind
    lag: int | None

    @property
    def text(self) -> str:
        """Short table text: `8`, `> 1000`, `n/a (explodes)`, `-`."""
        if self.kind == HorizonKind.MEASURED:
            return f"{self.lag}"
        if self.kind == HorizonKind.CENSORED:
            return f"> {self.lag}"
        if self.kind == HorizonKind.EXPLODING:
            return "n/a (explodes)"
        return "-"


def number(summary: Mapping[str, Any], key: str) -> Any:
    """A summary value, with non-finite floats as None."""
    value = summary.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def horizon_of(summary: Mapping[str, Any], steps: int | None = None) -> Horizon:
    """The horizon's outcome, read the same way by every table, sentence and figure. An
    exploding run (an explosion lag, an exploding regime, or a state that became
    non-finite) has no horizon, even when an older summary marks it censored."""
    h = number(summary, "horizon")
    if h is not None:
        return Horizon(HorizonKind.MEASURED, int(h))
    lag = number(summary, "explosion_lag")
    if lag is not None or summary.get("regime") == "exploding" or summary.get("status") == Status.NONFINITE:
        return Horizon(HorizonKind.EXPLODING, None if lag is None else int(lag))
    if summary.get("horizon_censored"):
        window = number(summary, "analysed_lags") or steps
        return Horizon(HorizonKind.CENSORED, None if window is None else int(window))
    return Horizon(HorizonKind.UNKNOWN, None)


def trial_horizons(curves: Mapping[str, Any], eps: float) -> Any:
    """Per trial, the first lag at which the spectral gain falls below `eps` (`inf`
    when it never does within the curve); None without a `(trials, lags)` curve."""
    curve = curves.get("log_spectral")
    if curve is None or np.ndim(curve) != 2 or np.size(curve) == 0:
        return None
    below = np.asarray(curve, dtype=np.float64) < math.log(eps)
    lag = np.asarray(curves.get("lag", np.arange(below.shape[1])))
    return np.where(below.any(axis=1), lag[np.argmax(below, axis=1)].astype(float), np.inf)
