"""The report's numbers as files (`report.files`): one summary row per configuration in
CSV and JSON, and the curves in long format, log-thinned to at most 500 lags."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from gradscope.report.write import write_report
from gradscope.results import SUMMARY_KEYS, Result


def test_summary_files_have_one_row_per_configuration(report: tuple[Path, dict[str, Any], list[Result]]) -> None:
    out, _, results = report
    rows = json.loads((out / "summary.json").read_text())
    assert [r["config_id"] for r in rows] == [r.config.key() for r in results]
    assert set(SUMMARY_KEYS) <= set(rows[0]) and {"cell", "act", "hidden", "gain"} <= set(rows[0])
    assert rows[4]["status"] == "nonfinite"
    assert rows[2]["horizon"] is None and rows[2]["horizon_censored"] is True
    with open(out / "summary.csv", encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert [r["config_id"] for r in csv_rows] == [r["config_id"] for r in rows]
    assert float(csv_rows[1]["growth_rate"]) == pytest.approx(-0.15)


def test_curves_csv_is_long_and_thinned(tmp_path: Path, make_result: Callable[..., Result]) -> None:
    long = make_result("rnn", "tanh", rate=-0.001, steps=3000, trials=2)
    write_report([long], tmp_path, name="long")
    with open(tmp_path / "curves.csv", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["config_id", "trial", "lag", "quantity", "log_value"]
        rows = list(reader)
    spectral = [r for r in rows if r[3] == "log_spectral" and r[1] == "0"]
    lags = [int(r[2]) for r in spectral]
    assert len(lags) <= 500 and lags[0] == 0 and lags[-1] == 3000 and lags == sorted(set(lags))
    assert float(spectral[-1][4]) == pytest.approx(long.curves["log_spectral"][0, -1])
    assert {r[3] for r in rows} == {"log_spectral", "log_rms", "log_loss_grad", "log_input_sensitivity", "log_weight_grad"}
