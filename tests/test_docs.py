"""The README keeps its promises: every subcommand and option it names exists, every
subcommand's --help runs, and the Python API section runs as written."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradscope.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _code_lines():
    """Lines of the README's shell code blocks that call gradscope."""
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", README, flags=re.S)
    for block in blocks:
        for line in block.splitlines():
            line = line.split("#", 1)[0]
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("gradscope "):
                    yield part


def test_readme_names_every_subcommand_and_they_exist():
    named = {line.split()[1] for line in _code_lines()}
    assert named, "the README shows no gradscope command"
    assert named <= set(main.commands), named - set(main.commands)
    for name in main.commands:  # and every subcommand is documented with an example
        assert f"gradscope {name}" in README, name


def test_every_option_in_the_readme_exists():
    for line in _code_lines():
        name = line.split()[1]
        command = main.commands[name]
        known = {opt for p in command.params for opt in getattr(p, "opts", [])}
        for option in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", line):
            assert option in known, f"{line!r}: {name} has no option {option}"


def test_every_option_the_readme_mentions_in_prose_exists():
    options = set(re.findall(r"`(--[a-z][a-z0-9-]*)", README))
    known = {opt for cmd in main.commands.values() for p in cmd.params for opt in getattr(p, "opts", [])}
    known.add("--help")
    root = Path(__file__).resolve().parents[1]
    # options of the example scripts (their command line is gradscope.runs.claims.claims_main)
    scripts = "".join(p.read_text() for p in [*(root / "examples").glob("*.py"), root / "gradscope" / "runs" / "claims.py"])
    known |= {o for o in options if f'"{o}"' in scripts}
    assert options - known == set()


@pytest.mark.parametrize("name", sorted(main.commands))
def test_help_of_every_subcommand(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output or "Usage" in result.output


def test_readme_quickstart_has_exactly_two_setup_commands():
    quick = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", quick, flags=re.S)
    assert len(commands) == 2
    assert "torch==2.13.0" in commands[0] and "gradscope decay" in commands[0] and "--out reports/" in commands[0]
    assert "torch==2.13.0" in commands[1] and ".[test]" in commands[1] and "pytest" in commands[1]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "torch==2.13.0" in ci and '".[test]"' in ci and "pytest" in ci


def test_python_api_section_runs(tmp_path, monkeypatch):
    api = README.split("## Python API", 1)[1]
    first = re.search(r"```python\n(.*?)```", api, flags=re.S).group(1)
    first = first.replace("steps=2000, trials=8", "steps=60, trials=2").replace("hidden=64", "hidden=8")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(first, "README", "exec"), namespace)
    assert namespace["same"].summary == namespace["result"].document()["summary"]
    low_level = re.findall(r"```python\n(.*?)```", api, flags=re.S)[1]
    low_level = low_level.replace("hidden=32, steps=500", "hidden=8, steps=80")
    namespace = {}
    exec(compile(low_level, "README", "exec"), namespace)
    assert namespace["out"]["log_spectral"].shape == (8, 81)
    assert namespace["spec"].shape == (8, 8)
    commands = re.findall(r"```python\n(.*?)```", api, flags=re.S)[2]
    assert "from gradscope import" in commands
    commands = commands.replace("steps=200", "steps=40, trials=2, transient=10")
    namespace = {}
    exec(compile(commands, "README", "exec"), namespace)
    assert (tmp_path / "scratch" / "mini" / "report.md").is_file()
    assert (tmp_path / "scratch" / "mini" / "figures" / "overlay.pdf").is_file()
