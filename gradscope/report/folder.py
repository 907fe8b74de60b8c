"""Output folders written whole: a run or report folder replaces an earlier gradscope
folder as a whole (nothing stale is left behind), and a folder gradscope did not write
is refused unless asked.

    with output_folder("reports/cells", force=False) as out:
        ...write every file into out.path...      # a staging folder beside the target
    print(out.replaced)                           # "the earlier report (12 runs)" or None

Everything is written into a staging folder beside the target and renamed into place
at the end, so an interrupted write leaves the earlier folder as it was; the earlier
folder is removed only after the new one is in place. A folder that is not a gradscope
output (`--force`) is written into directly, and its other files are kept.

May import: `gradscope.results`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

MISSING, EMPTY, REPORT, RUN, FOREIGN = "missing", "empty", "report", "run", "foreign"


def _json(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def folder_state(path: str | os.PathLike) -> str:
    """`missing`, `empty`, `report` (a gradscope report: `manifest.json`), `run` (a
    gradscope run: `result.json`), or `foreign` (anything else, a file included)."""
    p = Path(path)
    if not p.exists():
        return MISSING
    if not p.is_dir():
        return FOREIGN
    if not any(p.iterdir()):
        return EMPTY
    manifest = _json(p / "manifest.json")
    if manifest is not None and "config_keys" in manifest and "artefacts" in manifest:
        return REPORT
    result = _json(p / "result.json")
    if result is not None and "schema_version" in result and "summary" in result:
        return RUN
    return FOREIGN


def describe(path: str | os.PathLike, state: str | None = None) -> str:
    """A few words on what a gradscope folder holds: `the earlier report "cells" (12
    runs)`, `the earlier run (rnn tanh N=64)`."""
    p = Path(path)
    state = state or folder_state(p)
    if state == REPORT:
        manifest = _json(p / "manifest.json") or {}
        runs = len(list((p / "runs").glob("*/result.json"))) if (p / "runs").is_dir() else 0
        name = manifest.get("name")
        return f"the earlier report{f' {name!r}' if name else ''} ({runs} run{'s' if runs != 1 else ''})"
    if state == RUN:
        config = (_json(p / "result.json") or {}).get("config") or {}
        what = " ".join(str(config[k]) for k in ("cell", "act") if k in config)
        return f"the earlier run{f' ({what})' if what else ''}"
    return "an empty folder" if state == EMPTY else "nothing"


def check_output(path: str | os.PathLike, force: bool = False, option: str = "--out") -> str:
    """The folder's state, after refusing what may not be written: a file, a folder
    that gradscope did not write (unless `force`), a folder that cannot be written.
    Raises `ValueError` (usage) or `PermissionError` (runtime) naming `option`."""
    p = Path(path)
    state = folder_state(p)
    if state == FOREIGN and p.exists() and not p.is_dir():
        raise ValueError(f"{option} {str(p)!r} is a file, not a folder")
    if state == FOREIGN and not force:
        entries = sorted(q.name for q in p.iterdir())
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise ValueError(
            f"{option} {str(p)!r} holds files that gradscope did not write ({shown}): choose an empty "
            f"or new folder, or pass --force to write into it (its other files are kept)"
        )
    if p.exists() and not os.access(p, os.W_OK):
        raise PermissionError(f"cannot write to {option} {str(p)!r}: permission denied")
    return state


@dataclass
class Output:
    """Where to write (`path`: a staging folder, or the target itself with `--force`)
    and, once written, what was replaced (`replaced`, None when nothing was)."""

    target: Path
    path: Path
    replaced: str | None = None


@contextlib.contextmanager
def output_folder(path: str | os.PathLike, force: bool = False, option: str = "--out",
                  keep: tuple[str, ...] = ()) -> Iterator[Output]:
    """Write a gradscope folder whole (see the module docstring). On an error inside
    the block the staging folder is removed and the target is left as it was. `keep`:
    names in an earlier gradscope folder that move into the new one (files the caller
    put there that the runs read, such as a training script's checkpoints)."""
    target = Path(path)
    state = check_output(target, force, option)
    if state == FOREIGN:  # --force: written in place, other files kept
        target.mkdir(parents=True, exist_ok=True)
        yield Output(target, target, replaced=None)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        out = Output(target, stage)
        yield out
        mask = os.umask(0)
        os.umask(mask)
        stage.chmod(0o777 & ~mask)  # mkdtemp makes 0700; give the folder the usual mode
        if state in (REPORT, RUN):
            out.replaced = describe(target, state)
            for name in keep:
                if (target / name).exists() and not (stage / name).exists():
                    os.replace(target / name, stage / name)
            with _uninterrupted():  # half-swapped, --out would be gone and the old folder hidden
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
                os.replace(target, old / "folder")
                os.replace(stage, target)
                shutil.rmtree(old, ignore_errors=True)
        else:
            with _uninterrupted():
                if state == EMPTY:
                    target.rmdir()
                os.replace(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ctrl-C (SIGINT) is held off until the block is done: the report is then written
    whole, and the interrupt, come too late to stop anything, is dropped. Only in the
    main thread, where Python delivers signals."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
