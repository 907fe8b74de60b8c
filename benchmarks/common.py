"""What the benchmark scripts share: the machine record, best-of timing, the chained-product
floor, one busy background process, and markdown tables.

Not part of the package: run the scripts from the repository root (`python benchmarks/...`).
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
POOL = 64  # distinct real step Jacobians cycled through by the floor chain
RESCALE_EVERY = 64  # the floor: a scalar rescale every 64 products (denormals would distort it)


def loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def machine() -> dict:
    import torch

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_model": model,
        "logical_cpus": os.cpu_count(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": loadavg(),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of `repeat` calls, in seconds."""
    best = math.inf
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best of `repeat` rounds, the functions taking turns within a round, so that a change
    of machine load hits them alike."""
    best = {k: math.inf for k in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            best[key] = min(best[key], best_of(fn, 1))
    return best


def jacobian_pool(cell, traj):
    """`(POOL, B, D, D)` real step Jacobians: the last POOL steps of the window."""
    import torch

    k = min(POOL, traj.steps)
    with torch.no_grad():
        return cell.jacobian(cell.linearize(traj.states[-k - 1 : -1], traj.inputs[-k:])).contiguous()


def chain_floor(pool, steps: int) -> float:
    """The floor of an exact all-lag product: `steps` chained `(B, D, D)` products
    `q = q @ J_t` (one `torch.bmm` over the trials), cycling through the pool; a scalar
    rescale every RESCALE_EVERY products keeps the numbers normal. Returns the log scale."""
    import torch

    b, d = pool.shape[1], pool.shape[-1]
    q = torch.eye(d, dtype=pool.dtype).expand(b, d, d).contiguous()
    log_scale = 0.0
    with torch.no_grad():
        for t in range(steps):
            q = torch.bmm(q, pool[t % pool.shape[0]])
            if t % RESCALE_EVERY == RESCALE_EVERY - 1:
                s = float(q.abs().amax())
                if s > 0:
                    q.div_(s)
                    log_scale += math.log(s)
    return log_scale


@contextlib.contextmanager
def busy(active: bool = True, seconds: float = 1800.0) -> Iterator[None]:
    """One busy background process (a bounded CPU loop) for the duration of the block."""
    if not active:
        yield
        return
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.5)  # let it get going
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def write_json(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data.setdefault("machine", {})["loadavg_end"] = loadavg()
    path.write_text(json.dumps(data, indent=2, default=float) + "\n")
    return path


def table(header: list[str], rows: list[list[object]]) -> str:
    """A markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{digits}f}"
