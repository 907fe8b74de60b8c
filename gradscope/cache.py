"""A cache of finished runs, keyed by `Config.key()`.

Each entry is a folder `<directory>/<key>/` written by `Result.save` (`result.json` and
`curves.npz`). The folder is written under a temporary name and renamed into place, so
an interrupted write never leaves an entry that looks whole; an unreadable or corrupt
entry is a miss (and is recomputed), never an error.

Claims: before computing a run, a sweep claims it (`RunCache.claim`): an exclusive
`flock` on `<directory>/.claims/<key>.lock`, so two sweeps that share runs never compute
one twice at the same time on one machine. The operating system drops the lock when
its process dies (even by SIGKILL), so a claim never goes stale. (Without `fcntl`, as
on Windows, every claim succeeds: runs are still stored atomically, but two sweeps may
compute the same run at once.)

The default directory is `$XDG_CACHE_HOME/gradscope`, else `~/.cache/gradscope`.

May import: `gradscope.results`, `gradscope.config`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .config import Config
from .results import ENGINE_VERSION, SCHEMA_VERSION, Result, Status

try:  # POSIX: advisory locks that die with their process
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

Compute = Callable[[Config], Result]


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/gradscope`, or `~/.cache/gradscope` when that is unset."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg) if xdg else Path.home() / ".cache"
    return root / "gradscope"


class RunCache:
    """Finished `Result`s stored under `directory/<config.key()>/`.

    Arguments:
        directory: where entries live (created on the first `put`); `None` for
            `default_cache_dir()`.
    """

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def __repr__(self) -> str:
        return f"RunCache({str(self.directory)!r})"

    def path(self, config: Config) -> Path:
        """The folder of `config`'s entry (whether or not it exists)."""
        return self.directory / config.key()

    def get(self, config: Config, curves: bool = True) -> Result | None:
        """The cached result of `config`, or `None` when absent, unreadable or not the
        same configuration.

        `curves=False` reads the summary only (`Result.curves` is `{}`; the arrays file
        is opened to check that it is whole, not read): what a sweep of thousands of
        runs needs, in a fraction of the time and memory.
        """
        folder = self.path(config)
        if not (folder / "result.json").is_file():
            return None
        try:
            result = Result.load(folder) if curves else _load_summary(folder)
        except Exception:  # a corrupt entry is a miss: it will be recomputed
            return None
        try:
            if result.config.key() != config.key() or "status" not in result.summary:
                return None
            if result.status != Status.ERROR and result.provenance.get("engine") != ENGINE_VERSION:
                return None  # measured by another engine version: recompute
        except Exception:
            return None
        return result

    def __contains__(self, config: Config) -> bool:
        return self.get(config) is not None

    def put(self, result: Result) -> Path:
        """Store `result` under its config key, atomically; returns the entry's folder."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path(result.config)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=self.directory))
        try:
            result.save(tmp)
            _replace_dir(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    def claim(self, config: Config) -> Claim | None:
        """Claim the right to compute `config` on this machine.

        Returns a `Claim` (call `release()` once the run is stored or given up; it is
        also a context manager), or `None` while another process holds the claim.
        A process that dies drops its claims with it.
        """
        folder = self.directory / ".claims"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{config.key()}.lock"
        if fcntl is None:  # pragma: no cover - Windows: no lock, see the module docstring
            return Claim(path, None)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return None
            # a holder that released it between our open and flock unlinked that file:
            # the lock is only ours if the path still names the file we locked
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.write(fd, f"{os.getpid()}\n".encode())
                return Claim(path, fd)
            os.close(fd)

    def keys(self) -> list[str]:
        """Keys of the entries on disk that have a `result.json` (sorted)."""
        if not self.directory.is_dir():
            return []
        return sorted(
            p.name
            for p in self.directory.iterdir()
            if not p.name.startswith(".") and (p / "result.json").is_file()
        )

    def __len__(self) -> int:
        return len(self.keys())


class Claim:
    """A run claimed by this process (`RunCache.claim`); `release()` gives it back."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path, self._fd = path, fd

    def release(self) -> None:
        """Remove the lock file while holding it, then unlock (idempotent)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self._fd)  # closing the descriptor drops the lock
        self._fd = None

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _load_summary(folder: Path) -> Result:
    """A cache entry's `Result` without its arrays (`curves={}`), for large sweeps."""
    import numpy as np

    doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{folder}: not schema version {SCHEMA_VERSION}")
    with np.load(folder / "curves.npz", allow_pickle=False):  # reads the zip directory only
        pass
    return Result(Config.from_dict(doc["config"]), doc["summary"], {}, doc["provenance"])


def _replace_dir(src: Path, dst: Path) -> None:
    """Rename folder `src` onto `dst`, replacing an existing `dst` with one rename."""
    try:
        os.replace(src, dst)  # works when dst does not exist (or is an empty folder)
        return
    except OSError:
        if not dst.exists():
            raise
    old = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", suffix=".old", dir=dst.parent))
    os.rmdir(old)
    os.replace(dst, old)
    try:
        os.replace(src, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            os.replace(old, dst)
        raise
    shutil.rmtree(old, ignore_errors=True)


def as_cache(cache: RunCache | str | os.PathLike | None) -> RunCache | None:
    """`None` -> no cache; a path -> `RunCache(path)`; a `RunCache` as it is."""
    if cache is None or isinstance(cache, RunCache):
        return cache
    return RunCache(cache)


def lookup(
    config: Config, cache: RunCache | str | os.PathLike | None, compute: Compute
) -> tuple[Result, bool]:
    """`(result, cached)`: the cached result of `config`, or `compute(config)` stored
    in the cache at once (every status is stored: a run that went non-finite is a
    finished measurement)."""
    cache = as_cache(cache)
    if cache is not None:
        hit = cache.get(config)
        if hit is not None:
            return hit, True
    result = compute(config)
    if cache is not None:
        cache.put(result)
    return result, False


def run_cached(
    config: Config, cache: RunCache | str | os.PathLike | None, compute: Compute
) -> Result:
    """The cached result of `config`, or `compute(config)` stored in `cache` at once."""
    return lookup(config, cache, compute)[0]
