"""`gradscope replot` on damaged or hostile folders: one-line errors, and an --out that
would replace or enter the folder it reads is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np

from gradscope.results import Result


def _cli_replot(*args: str):
    from click.testing import CliRunner

    from gradscope.cli import main

    return CliRunner().invoke(main, ["replot", *args])


def _one_line_error(res, *needles: str) -> None:
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), res.output
    assert "Traceback" not in res.output and all(n in lines[0] for n in needles), lines[0]


def test_replot_refuses_damaged_runs_and_manifests_in_one_line(
        report: tuple[Path, dict[str, Any], list[Result]], make_result: Callable[..., Result], tmp_path: Path) -> None:
    run = make_result("rnn", "tanh", rate=-0.1).save(tmp_path / "run")
    doc = json.loads((run / "result.json").read_text())
    for name, change in (("no-summary", lambda d: d.pop("summary")), ("null-summary", lambda d: d.update(summary=None))):
        bad = tmp_path / name
        shutil.copytree(run, bad)
        d = json.loads(json.dumps(doc))
        change(d)
        (bad / "result.json").write_text(json.dumps(d))
        _one_line_error(_cli_replot(str(bad), "--out", str(tmp_path / f"{name}-out")), "summary")
    for name, curves in (("short", {"log_spectral": np.zeros(5)}), ("nan-lag", {"lag": np.full(3, np.nan)})):
        bad = tmp_path / name
        shutil.copytree(run, bad)
        with np.load(run / "curves.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
        np.savez(bad / "curves.npz", **{**arrays, **curves})
        _one_line_error(_cli_replot(str(bad), "--out", str(tmp_path / f"{name}-out")), "curves.npz")
    src, manifest, _ = report
    for name, change, needle in (
            ("figure-list", {"figure_options": [1, 2]}, "figure_options"),
            ("escape", {"config_keys": ["../../../etc"] + manifest["config_keys"][1:]}, "config key")):
        bad = tmp_path / name
        shutil.copytree(src, bad)
        (bad / "manifest.json").write_text(json.dumps({**manifest, **change}))
        _one_line_error(_cli_replot(str(bad), "--out", str(tmp_path / f"{name}-out")), needle)
        assert not (tmp_path / f"{name}-out").exists()


def test_replot_out_never_replaces_or_enters_the_folder_it_reads(
        report: tuple[Path, dict[str, Any], list[Result]], tmp_path: Path) -> None:
    src = tmp_path / "cells"
    shutil.copytree(report[0], src)
    run = next((src / "runs").iterdir())
    before = sorted(p.relative_to(src) for p in src.rglob("*"))
    _one_line_error(_cli_replot(str(run), "--out", str(src)), "replaced whole")  # the report holding the run
    _one_line_error(_cli_replot(str(src), "--out", str(src / "redrawn")), "inside")
    _one_line_error(_cli_replot(str(src), "--out", str(src)), "drop --out")
    assert sorted(p.relative_to(src) for p in src.rglob("*")) == before
