"""What `compare` and `sweep` share (`cli.grid_command`): an --out that holds the run
cache is refused (the report folder is replaced whole)."""

from __future__ import annotations

from click.testing import CliRunner

from gradscope.cli import main


def test_compare_and_sweep_refuse_an_out_that_holds_the_cache(tmp_path):
    """A report folder is replaced whole: the cache inside it would go with it."""
    for command in ("compare", "sweep"):
        out = tmp_path / command
        res = CliRunner().invoke(main, [command, "-n", "8", "-T", "20", "--transient", "5", "-b", "2", "--gain",
                                        "0.5,1", "--jobs", "1", "--cache", str(out / "cache"), "--out", str(out)])
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and "the run cache" in lines[0], res.output
        assert not out.exists()
