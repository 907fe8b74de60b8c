"""The report's numbers as files: one summary row per run (`summary.csv`,
`summary.json`) and the curves in long format (`curves.csv`, <= 500 log-spaced lags).

May import: `gradscope.figures` and everything below it.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..config.naming import unique_labels
from ..figures.curves import log_spaced_indices
from ..results import (
    CURVE_KEYS,
    SUMMARY_KEYS,
    Result,
    atomic_path,
    json_safe,
    write_text_atomic,
)

#: Curves written to `curves.csv` (those indexed by lag, shape `(B, T+1)`).


#: Curves written to `curves.csv` (those indexed by lag, shape `(B, T+1)`).
LAG_CURVES = tuple(k for k, v in CURVE_KEYS.items() if v.startswith("(B, T+1)"))


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def summary_rows(results: Sequence[Result], labels: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One flat row per run: `config_id`, `label`, the resolved config fields and
    every summary key (non-finite numbers as `None`)."""
    labels = list(labels) if labels is not None else unique_labels([r.config for r in results])
    rows = []
    for result, label in zip(results, labels):
        row: dict[str, Any] = {"config_id": result.config.key(), "label": label}
        row.update(result.config.resolved().to_dict())
        for key in SUMMARY_KEYS:
            row[key] = result.summary.get(key)
        rows.append(json_safe(row))
    return rows


def write_summary_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    fields = list(rows[0]) if rows else ["config_id", "label", *SUMMARY_KEYS]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    write_text_atomic(path, buf.getvalue())


def write_curves_csv(path: Path, results: Sequence[Result], max_points: int = 500) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["config_id", "trial", "lag", "quantity", "log_value"])
        for result in results:
            if "lag" not in result.curves:
                continue
            key = result.config.key()
            lag = np.asarray(result.curves["lag"])
            idx = log_spaced_indices(len(lag), max_points)
            lags = [str(int(v)) for v in lag[idx]]
            for quantity in LAG_CURVES:
                curve = result.curves.get(quantity)
                if curve is None or np.ndim(curve) != 2 or np.shape(curve)[1] != len(lag):
                    continue
                values = np.asarray(curve, dtype=np.float64)[:, idx]
                for trial in range(values.shape[0]):
                    for k, v in zip(lags, values[trial]):
                        # 10 significant digits: ample for plotting; full precision is in the NPZ
                        text = f"{v:.10g}" if np.isfinite(v) else _csv_value(v)
                        writer.writerow([key, trial, k, quantity, text])
