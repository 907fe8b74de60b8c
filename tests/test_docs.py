"""The README keeps its promises: every subcommand and option it names exists, every
subcommand's --help shows its option groups and an example that parses, and every
example (shell and Python) runs in order on a fresh clone and leaves it clean."""

import json
import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gradscope.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _code_lines():
    """Lines of the README's shell code blocks that call gradscope."""
    # every fenced block, paired open-close (a ```py block's closing fence opens nothing)
    blocks = [code for lang, code in re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)
              if lang in ("", "bash", "sh")]
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


#: The order of the option groups in a --help page ("Other": options of no group, --help).
GROUP_ORDER = ("Network", "Run", "Input", "Numerics", "Grid", "Output", "Other")


def _help_sections(text: str) -> dict[str, str]:
    """The sections of a --help page (a heading at column 0 ending in ':') -> their text."""
    sections, current = {"Usage": ""}, "Usage"
    for line in text.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            current = line[:-1]
            sections[current] = ""
        else:
            sections[current] += line + "\n"
    return sections


@pytest.mark.parametrize("name", sorted(main.commands))
def test_help_of_every_subcommand_shows_its_option_groups_and_a_working_example(name, monkeypatch):
    """Each subcommand's --help: its usage line; one section per group its options declare
    (or one "Options" section where they declare none), in the house order; every option
    in its own group's section; and an example line that names the command and parses with
    the command's own options and choices (a misspelt option or value would not)."""
    command = main.commands[name]
    result = CliRunner().invoke(main, [name, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("Usage: ") and f" {name} [OPTIONS]" in text.splitlines()[0]
    ctx = command.make_context(name, [], resilient_parsing=True)
    options = [p for p in command.get_params(ctx) if isinstance(p, click.Option) and p.get_help_record(ctx)]
    grouped = any(hasattr(p, "group") for p in options)
    heading = {p.name: f"{getattr(p, 'group', 'Other')} options" if grouped else "Options" for p in options}
    sections = _help_sections(text)
    shown = [h for h in sections if h == "Options" or h.endswith(" options")]
    want = sorted(set(heading.values()), key=lambda h: GROUP_ORDER.index(h.split()[0]) if grouped else 0)
    assert shown == want, (shown, want)
    assert grouped == (name not in ("cells", "replot"))  # the commands that run a configuration group theirs
    for p in options:
        flags = " ".join(p.get_help_record(ctx)[0].split())  # "-n, --hidden INTEGER"
        assert flags in " ".join(sections[heading[p.name]].split()), (p.name, heading[p.name])
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # replot's example names a committed report
    examples = [line.strip() for line in text.split("Example:")[1].splitlines()
                if line.strip().startswith(f"gradscope {name}")]
    assert examples, f"{name} --help shows no example"
    for line in examples:
        command.make_context(name, shlex.split(line)[2:])  # raises on an unknown option or a bad value
    with pytest.raises(click.UsageError):
        command.make_context(name, shlex.split(examples[0])[2:] + ["--no-such-option"])  # the check bites


def test_readme_quickstart_has_exactly_two_setup_commands():
    quick = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", quick, flags=re.S)
    assert len(commands) == 2
    assert "torch==2.13.0" in commands[0] and "gradscope decay" in commands[0] and "--out reports/" in commands[0]
    assert "torch==2.13.0" in commands[1] and ".[test]" in commands[1] and "pytest" in commands[1]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "torch==2.13.0" in ci and '".[test]"' in ci and "pytest" in ci


def _clone(tmp_path: Path) -> Path:
    """A fresh `git clone` of this repository whose HEAD is the working tree as it is now
    (uncommitted changes committed in the clone), so the test checks what is on disk."""
    root = Path(__file__).resolve().parents[1]
    dst = tmp_path / "clone"
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "advice.detachedHead=false"]
    subprocess.run([*git, "clone", "-q", str(root), str(dst)], check=True, capture_output=True)
    subprocess.run([*git, "-C", str(dst), f"--work-tree={root}", "add", "-A"], check=True, capture_output=True)
    subprocess.run([*git, "-C", str(dst), "commit", "-q", "--allow-empty", "-m", "the working tree"],
                   check=True, capture_output=True)
    subprocess.run([*git, "-C", str(dst), "reset", "-q", "--hard"], check=True, capture_output=True)
    # files of the clone's first checkout that the working tree has moved or deleted
    subprocess.run([*git, "-C", str(dst), "clean", "-q", "-d", "-f"], check=True, capture_output=True)
    return dst


#: Small sizes for every example (the README's own sizes take minutes): options that
#: win over the README's because they come last, and python-block replacements.
REDUCE = ["--steps", "20", "--trials", "2", "--transient", "10", "--format", "svg"]
#: The spectrum needs a few more steps than its frame transient.
REDUCE_SPECTRUM = ["--steps", "120", "--trials", "2", "--transient", "10", "--frame-transient", "20",
                   "--format", "svg"]
#: Reduced values of the options the README's examples set (later values win): scalars
#: for every command, list options for compare and sweep.
REDUCE_SCALARS = {"-n": "16"}
REDUCE_LISTS = {"--hidden": "8,16", "--gain": "0.5:3:3", "--bias-std": "0:1:2", "--input-std": "0:2:2",
                "--seed": "0:1"}
PY_REDUCE = {"steps=2000, trials=8": "steps=30, trials=2, transient=10", "hidden=64": "hidden=8",
             "hidden=32, steps=500": "hidden=8, steps=40", "steps=200": "steps=30, trials=2, transient=10"}


@pytest.mark.slow
def test_readme_examples_run_in_order_on_a_fresh_clone_and_leave_it_clean(tmp_path, monkeypatch):
    """Every README example, in order, at reduced sizes, in a fresh clone; each exits as
    the README says, and afterwards `git status --porcelain` is empty: no example writes
    a committed file or leaves an untracked one."""
    import torch

    clone = _clone(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small work: one thread beats two fighting over two cores
    try:
        _run_examples(clone, tmp_path, monkeypatch)
    finally:
        torch.set_num_threads(threads)


def _run_examples(clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy
    import sys

    from readme_examples import Example, examples

    monkeypatch.chdir(clone)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # never the user's run cache
    everything = examples((clone / "README.md").read_text(encoding="utf-8"))
    assert any(isinstance(ex, Example) and ex.argv[:2] == ("gradscope", "replot") for ex in everything)
    assert any(isinstance(ex, str) for ex in everything)
    blocks = 0
    for ex in everything:  # in the order a reader meets them: a block may read what an earlier one wrote
        if isinstance(ex, str):
            blocks += 1
            _run_python_block(ex, blocks)
        elif ex.argv[0] == "gradscope":
            _run_shell_example(ex)
        else:  # python examples/NAME.py --reduced
            monkeypatch.setattr(sys, "argv", [ex.argv[1], *ex.argv[2:]])
            with pytest.raises(SystemExit) as done:
                runpy.run_path(ex.argv[1], run_name="__main__")
            assert done.value.code == 0, ex.line
    assert json.loads(Path("scratch/lstm.json").read_text())["config"]["forget_bias"] == 1.0
    picked = json.loads(Path("scratch/lstm-vs-rnn/manifest.json").read_text())
    assert [c["label"] for c in picked["configs"]] == ["rnn tanh N=64", "lstm tanh N=64"]
    assert Path("scratch/mini/report.md").is_file() and Path("scratch/mini/figures/overlay.pdf").is_file()
    assert json.loads(Path("scratch/track/summary.json").read_text()), "the track of the monitor's log is empty"

    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], capture_output=True,
                            text=True, check=True).stdout
    assert status == "", f"the README examples changed the clone:\n{status}"


def _run_shell_example(ex) -> None:
    """One `gradscope ...` line of the README, at reduced sizes; it exits as promised."""
    args = list(ex.argv[1:])
    # the promised exit 3 (a state that overflows) needs the README's own size
    if ex.argv[1] in ("decay", "compare", "sweep", "spectrum") and not ex.exit_code:
        keep = {"--trials"} & set(args)  # a trial count the README sets matches its input file: kept
        reduce = REDUCE_SPECTRUM if ex.argv[1] == "spectrum" else REDUCE
        args += [w for opt, v in zip(reduce[::2], reduce[1::2]) if opt not in keep for w in (opt, v)]
        args += [w for opt, v in REDUCE_SCALARS.items() if opt in args for w in (opt, v)]
    if ex.argv[1] in ("compare", "sweep"):
        args += [w for opt, v in REDUCE_LISTS.items() if opt in args for w in (opt, v)]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == ex.exit_code, f"{ex.line}: {res.output}"
    if ex.stdout:
        Path(ex.stdout).write_text(res.stdout, encoding="utf-8")


def _run_python_block(code: str, number: int) -> None:
    """One python block of the README, at reduced sizes, with the checks of what it made."""
    for old, new in PY_REDUCE.items():
        code = code.replace(old, new)
    namespace: dict = {}
    exec(compile(code, f"README python block {number}", "exec"), namespace)
    if "same" in namespace:  # the first block saves and loads a result
        assert namespace["same"].summary == namespace["result"].document()["summary"]
    if "spec" in namespace:  # the low-level block
        assert namespace["out"]["log_spectral"].shape[1] == 41 and namespace["spec"].shape[1] == 8
