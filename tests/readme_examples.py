"""The README's examples as data, in the order a reader meets them: every `gradscope` and
`python examples/...` command of its ```bash blocks, and its ```python blocks.

`tests/test_docs.py` runs them all, at reduced sizes, in a fresh clone of the
repository. Blocks fenced ```sh and ```py are shown, not run: they start a Dask
cluster (`tests/runs/test_dask.py` runs a real one instead). Run as a script, this module times each shell example at full size, as the
README quotes them (run it on a quiet 2-core machine, from a fresh clone):

    python tests/readme_examples.py            # prints seconds per example
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


@dataclass(frozen=True)
class Example:
    """One README command: its words (`argv`, without a redirection), the file its
    stdout goes to (`> FILE`), and the exit status the README promises (`# exits 3`)."""

    line: str
    argv: tuple[str, ...]
    stdout: str | None = None
    exit_code: int = 0


def examples(text: str | None = None) -> list[Example | str]:
    """The README's examples in the order a reader meets them: an `Example` for each
    `gradscope ...` and `python examples/...` command of the bash blocks (set-up parts
    such as `pip install` and `pytest` are left out) and the code of each python block
    as a string (a block may read what an earlier one of either kind wrote)."""
    text = README.read_text(encoding="utf-8") if text is None else text
    out: list[Example | str] = []
    for kind, block in re.findall(r"```(bash|python)\n(.*?)```", text, flags=re.S):
        if kind == "python":
            out.append(block)
            continue
        for raw in block.splitlines():
            code, _, comment = raw.partition("#")
            for part in code.split("&&"):
                part = part.strip()
                if not (part.startswith("gradscope ") or part.startswith("python examples/")):
                    continue
                words = shlex.split(part)
                stdout = None
                if ">" in words:
                    at = words.index(">")
                    words, stdout = words[:at], words[at + 1]
                promised = re.search(r"exits (\d+)", comment)
                out.append(Example(part, tuple(words), stdout, int(promised.group(1)) if promised else 0))
    return out


def shell_examples(text: str | None = None) -> list[Example]:
    """The shell commands of `examples`, in order."""
    return [ex for ex in examples(text) if isinstance(ex, Example)]


def python_examples(text: str | None = None) -> list[str]:
    """The code of the README's python blocks, in order."""
    return [ex for ex in examples(text) if isinstance(ex, str)]


def main() -> int:
    """Run every shell example at full size; print its wall time and its CPU time (user +
    system of the child: on a busy machine, the better guess of the time on a quiet one,
    with one torch thread as `OMP_NUM_THREADS=1` sets)."""
    import os
    import resource
    import subprocess

    for ex in shell_examples():
        argv = [sys.executable, "-m", "gradscope", *ex.argv[1:]] if ex.argv[0] == "gradscope" else [
            sys.executable, *ex.argv[1:]]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        with open(ex.stdout if ex.stdout else os.devnull, "w") as sink:
            proc = subprocess.run(argv, stdout=sink, stderr=subprocess.PIPE, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"{time.perf_counter() - start:7.1f} s wall {cpu:7.1f} s cpu  exit {proc.returncode}  {ex.line}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
