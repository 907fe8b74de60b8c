"""Helpers of the command-line tests: small run sizes, a run through click's test
runner, and the check that an error is one clean line with the right exit code."""

from __future__ import annotations

from click.testing import CliRunner

from gradscope.cli import main

SMALL = ["--hidden", "8", "--steps", "50", "--trials", "2", "--transient", "20"]
NONFINITE = ["--act", "relu", "--gain", "6", "--init", "normal", "--steps", "600",
             "--hidden", "8", "--trials", "2", "--transient", "20"]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


def assert_clean_error(res, code: int) -> str:
    out = res.output
    assert res.exit_code == code, out
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit)
    return errors[0]
