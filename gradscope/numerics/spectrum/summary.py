"""Figures of a Lyapunov spectrum: medians over trials with standard errors, the
Kaplan-Yorke dimension, the positive exponents and their sum (the metric entropy), the
sum rule `sum_j lambda_j = mean_t log|det J_t|`, and the warnings that go with them.

Standard errors: across trials (B > 1) that of the median, `1.2533 std / sqrt(B)` (the
normal approximation), which says how well the ensemble's median is known; with one
trial, from batch means over blocks of time (`lyapunov_se` of the spectrum).

May import: `gradscope.numerics.metrics`, `gradscope.numerics.spectrum.qr`.
"""

from __future__ import annotations

import math

import numpy as np

from ..metrics import kaplan_yorke, measured_median, median
from .qr import batch_means_se

# kaplan_yorke, measured_median, median

#: Relative tolerance of the sum rule, by dtype: beyond it a warning says the QR lost
#: accuracy. Measured agreement is ~1e-13 (float64) and ~1e-9 (float32).
SUM_RULE_TOL = {"float64": 1e-8, "float32": 1e-5}
MEDIAN_SE = math.sqrt(math.pi / 2)  # SE of a median / SE of a mean, normal samples
RANK_TOL_TEXT = {"float32": "64 eps", "float64": "1024 eps"}


def _se(per_trial: np.ndarray, per_block: np.ndarray | None) -> float | None:
    """SE of the median over trials `(B,)`, or with one trial that of its time average
    from the block values `(1, nb)` (batch means)."""
    v = np.asarray(per_trial, dtype=np.float64)
    if v.size > 1:
        if not np.isfinite(v).all():
            return None
        return float(MEDIAN_SE * np.std(v, ddof=1) / math.sqrt(v.size))
    if per_block is None:
        return None
    se = float(batch_means_se(np.asarray(per_block, dtype=np.float64))[0])
    return se if math.isfinite(se) else None


def spectrum_figures(lyap: dict[str, np.ndarray], state_dim: int, dtype: str) -> tuple[dict, list[str]]:
    """The summary figures of `lyapunov_spectrum(...)`'s output and the warnings.

    Returns `(figures, warnings)` with the keys `lyapunov`, `lyapunov_se` (per index
    over trials), `lambda_1`, `lambda_1_se`, `kaplan_yorke_dim` (+`_se`), `n_positive`,
    `entropy` (+`_se`), `sum_exponents` (+`_se`), `mean_log_det`, `sum_rule_error`,
    `exponents_unresolved` and `qr_every_mean`.
    """
    spec = np.asarray(lyap["lyapunov_spectrum"], dtype=np.float64)  # (B, K)
    trials, k = spec.shape
    blocks = lyap.get("lyapunov_blocks")  # (B, K, nb)
    blocks = np.asarray(blocks, dtype=np.float64) if blocks is not None else np.full((trials, k, 1), np.nan)
    warnings: list[str] = []
    with np.errstate(invalid="ignore"):
        per_index = median(spec, axis=0)
    f: dict = {"lyapunov": [float(v) for v in per_index]}
    f["lyapunov_se"] = [_se(spec[:, j], blocks[:, j]) for j in range(k)]
    f["lambda_1"], f["lambda_1_se"] = float(per_index[0]), f["lyapunov_se"][0]
    ky = [kaplan_yorke(row) for row in spec]
    f["kaplan_yorke_dim"] = None if any(v is None for v in ky) else float(median(ky))
    ky_blocks = np.array([[kaplan_yorke(col) for col in row.T] for row in blocks[:1]], dtype=object)
    ky_blocks = None if any(v is None for v in ky_blocks.ravel()) else ky_blocks.astype(np.float64)
    f["kaplan_yorke_dim_se"] = None if f["kaplan_yorke_dim"] is None else _se(np.array(ky), ky_blocks)
    f["n_positive"] = float(median((spec > 0).sum(axis=1)))
    entropy = np.where(spec > 0, spec, 0.0).sum(axis=1)
    f["entropy"] = float(median(entropy))
    f["entropy_se"] = _se(entropy, np.where(spec[:1, :, None] > 0, blocks[:1], 0.0).sum(axis=1))
    sums = spec.sum(axis=1)
    f["sum_exponents"] = measured_median(sums)
    f["sum_exponents_se"] = _se(sums, blocks[:1].sum(axis=1))
    log_det = np.asarray(lyap.get("mean_log_det", np.full(trials, np.nan)), dtype=np.float64)
    f["mean_log_det"] = measured_median(log_det) if k == state_dim else None
    f["sum_rule_error"] = None
    resolved = np.asarray(lyap.get("lyapunov_resolved", np.full(trials, k)))
    f["exponents_unresolved"] = int(k - resolved.min())
    qrs = int(lyap.get("lyapunov_qr_count", 0))
    counted = int(lyap["lyapunov_history_steps"][-1]) if len(lyap.get("lyapunov_history_steps", [])) else 0
    f["qr_every_mean"] = counted / qrs if qrs else None

    if k == state_dim and np.isfinite(sums).all() and np.isfinite(log_det).all():
        err = np.abs(sums - log_det) / np.maximum(1.0, np.abs(log_det))
        f["sum_rule_error"] = float(err.max())
        tol = SUM_RULE_TOL.get(dtype, 1e-5)
        if f["sum_rule_error"] > tol:
            warnings.append(
                f"the sum of the exponents differs from mean log|det J| by {f['sum_rule_error']:.2g} "
                f"(relative; tolerance {tol:g}): the QR lost accuracy; rerun with --qr-every 1 "
                "or --dtype float64"
            )
    if f["exponents_unresolved"]:
        warnings.append(
            f"{f['exponents_unresolved']} of {k} exponents are -inf (null in JSON) in at least one "
            f"trial: the step Jacobians are singular in those directions to working precision "
            f"(a rank test on R, |R_jj| <= {RANK_TOL_TEXT.get(dtype, '64 eps')} of the largest), "
            "as when relu units are off or W_hh = 0"
            + ("; in float32 a direction that shrinks e^12 faster than the top one within a QR "
               "interval also reads so: rerun with --dtype float64 to resolve it" if dtype == "float32" else "")
        )
    spread = float(lyap.get("lyapunov_max_spread", 0.0))
    limit = 0.75 * math.log(1 / np.finfo(np.dtype(dtype)).eps)
    if math.isfinite(spread) and spread > limit:
        warnings.append(
            f"the frame's columns drifted e^{spread:.0f} apart within one QR interval ({dtype} resolves "
            f"about e^{limit / 0.75:.0f}): the smallest exponents are imprecise; use --qr-every auto "
            "or 1, or --dtype float64"
        )
    if f["kaplan_yorke_dim"] is None and k < state_dim:
        warnings.append(
            f"the first {k} exponents sum to a positive number in some trial: the Kaplan-Yorke "
            f"dimension lies beyond them (ask for more exponents, up to {state_dim}: --exponents all)"
        )
    elif f["kaplan_yorke_dim"] is None:
        warnings.append(
            f"all {k} exponents sum to a positive number in some trial (median {f['sum_exponents']:.3g} "
            "per step): the map expands volume, so the state has no bounded attractor of lower "
            "dimension and the Kaplan-Yorke dimension is not defined"
        )
    return f, warnings

