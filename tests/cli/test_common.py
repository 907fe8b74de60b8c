"""What the command bodies share (`cli.common`): an error is one line with its exit code
(1 at run time, 2 for usage), an --out that cannot be written is refused, a failed
write leaves no partial file, and --out replaces an earlier gradscope folder whole and
refuses any other unless --force."""

from __future__ import annotations

import os

import pytest
from cli_helpers import SMALL, assert_clean_error, run


def test_missing_input_file_is_a_clean_error(tmp_path):
    res = run("decay", *SMALL, "--input", str(tmp_path / "missing.npy"))
    assert res.exit_code in (1, 2), res.output
    assert "Traceback" not in res.output
    assert res.output.count("Error:") == 1


def test_library_runtime_error_exit_1(monkeypatch):
    import gradscope.analysis as analysis

    def boom(*a, **k):
        raise RuntimeError("CUDA out of memory\nsecond line")

    monkeypatch.setattr(analysis, "analyze", boom)
    line = assert_clean_error(run("decay", *SMALL), 1)
    assert "CUDA out of memory" in line


def test_cuda_without_cuda_is_one_plain_line(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    line = assert_clean_error(run("decay", *SMALL, "--device", "cuda"), 1)
    assert line.startswith("Error: device cuda was asked for") and "RuntimeError" not in line


def test_unwritable_out_exit_1(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run("decay", *SMALL, "--out", str(blocker / "sub"))
    line = assert_clean_error(res, 1)
    assert "--out" in line
    assert blocker.read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_readonly_out_exit_1_nothing_written(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        res = run("decay", *SMALL, "--out", str(ro))
        assert_clean_error(res, 1)
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_failed_figure_write_leaves_no_partial_file(tmp_path, monkeypatch, fake_analyze):
    """An error while saving leaves only complete files (atomic writes), exit 1."""
    import gradscope.figures.style as style

    real = style.save_figure

    def failing(fig, stem, formats=("pdf",), dpi=300):
        real(fig, stem, formats=formats[:1], dpi=dpi)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(style, "save_figure", failing)
    res = run("decay", *SMALL, "--out", str(tmp_path))
    assert_clean_error(res, 1)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def test_out_replaces_a_gradscope_folder_and_refuses_others(tmp_path, fake_analyze):
    out = tmp_path / "run"
    assert run("decay", *SMALL, "--out", str(out), "-q").exit_code == 0
    (out / "decay.pdf").unlink()
    res = run("decay", *SMALL, "--out", str(out), "--format", "png", "-q")
    assert res.exit_code == 0, res.output
    assert "note: replaced the earlier run (rnn sigmoid) in " in res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["curves.npz", "decay.png", "result.json", "summary.txt"]

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("1,2\n")
    ran = len(fake_analyze)
    line = assert_clean_error(run("decay", *SMALL, "--out", str(mine)), 2)
    assert "gradscope did not write (data.csv)" in line and "--force" in line
    assert len(fake_analyze) == ran  # refused before anything ran
    res = run("decay", *SMALL, "--out", str(mine), "--force", "-q")
    assert res.exit_code == 0, res.output
    assert (mine / "data.csv").read_text() == "1,2\n" and (mine / "result.json").is_file()
