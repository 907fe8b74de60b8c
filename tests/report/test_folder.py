"""Output folders written whole (`report.folder`): an interrupted write leaves the earlier
folder as it was, a finished one replaces it whole (nothing stale, and Ctrl-C during
the swap is held off), a folder gradscope did not write is refused unless forced, and
then written into with its other files kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradscope.report.folder import (
    EMPTY,
    FOREIGN,
    MISSING,
    REPORT,
    RUN,
    folder_state,
    output_folder,
)


def test_ctrl_c_while_a_finished_report_replaces_the_old_one_waits_until_it_is_done(tmp_path, monkeypatch):
    """A SIGINT that lands between the two renames of the swap (or in the removal of the
    old folder) is held off: the new report stands whole, no hidden copy is left behind."""
    import os
    import signal

    from gradscope.report import folder as folder_mod

    target = tmp_path / "report"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps({"config_keys": [], "artefacts": {}, "which": "old"}))
    real_replace, calls = os.replace, []

    def replace_with_interrupt(src, dst):
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C right after the old report moved aside
        return real_replace(src, dst)

    monkeypatch.setattr(folder_mod.os, "replace", replace_with_interrupt)
    with folder_mod.output_folder(target) as out:
        (out.path / "manifest.json").write_text(json.dumps({"config_keys": [], "artefacts": {}, "which": "new"}))
    assert json.loads((target / "manifest.json").read_text())["which"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no .report.*.old or .partial left


def _earlier_run(folder: Path) -> dict[str, bytes]:
    """A gradscope run folder (as `decay --out` leaves it); returns its bytes by name."""
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps({"schema_version": 1, "summary": {},
                                                    "config": {"cell": "lstm", "act": "tanh"}}))
    (folder / "curves.npz").write_bytes(b"the earlier curves")
    (folder / "decay.pdf").write_bytes(b"the earlier figure")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_the_state_of_a_folder(tmp_path: Path) -> None:
    assert folder_state(tmp_path / "new") == MISSING
    (tmp_path / "empty").mkdir()
    assert folder_state(tmp_path / "empty") == EMPTY
    _earlier_run(tmp_path / "run")
    assert folder_state(tmp_path / "run") == RUN
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "manifest.json").write_text(json.dumps({"config_keys": [], "artefacts": []}))
    assert folder_state(tmp_path / "report") == REPORT
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "result.json").write_text('{"mine": true}')  # a result.json gradscope did not write
    assert folder_state(tmp_path / "mine") == FOREIGN
    (tmp_path / "file").write_text("x")
    assert folder_state(tmp_path / "file") == FOREIGN


@pytest.mark.parametrize("interrupt", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_write_leaves_the_earlier_folder_whole(tmp_path: Path, interrupt: BaseException) -> None:
    target = tmp_path / "run"
    before = _earlier_run(target)
    with pytest.raises(type(interrupt)):
        with output_folder(target) as out:
            assert out.path != target and out.path.parent == tmp_path  # staged beside the target
            (out.path / "result.json").write_text("{half written")
            raise interrupt
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before  # not one byte changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # the staging folder is gone


def test_a_finished_write_replaces_the_earlier_folder_whole(tmp_path: Path) -> None:
    target = tmp_path / "run"
    _earlier_run(target)
    with output_folder(target) as out:
        (out.path / "result.json").write_text(json.dumps({"schema_version": 1, "summary": {}, "config": {}}))
    assert out.replaced == "the earlier run (lstm tanh)"
    assert sorted(p.name for p in target.iterdir()) == ["result.json"]  # nothing stale left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    with output_folder(tmp_path / "new" / "deeper") as fresh:
        (fresh.path / "summary.txt").write_text("ok")
    assert fresh.replaced is None and (tmp_path / "new" / "deeper" / "summary.txt").read_text() == "ok"


def test_a_folder_gradscope_did_not_write_is_refused_unless_forced(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    (mine / "data.csv").write_text("1,2\n")
    with pytest.raises(ValueError) as info:
        with output_folder(mine, option="--out"):
            pytest.fail("the block must not run")
    message = str(info.value)
    assert "--out" in message and "holds files that gradscope did not write (data.csv, notes.txt)" in message
    assert "--force" in message
    assert sorted(p.name for p in mine.iterdir()) == ["data.csv", "notes.txt"]  # nothing written
    with output_folder(mine, force=True) as out:
        assert out.path == mine  # written in place
        (out.path / "result.json").write_text("{}")
    assert out.replaced is None
    assert (mine / "notes.txt").read_text() == "my notes" and (mine / "result.json").is_file()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="--report .* is a file, not a folder"):
        with output_folder(tmp_path / "file", force=True, option="--report"):
            pytest.fail("the block must not run")
