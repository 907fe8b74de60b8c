"""Benchmark gradscope's Lyapunov spectrum against its floor, as ratios in one run.

Run from the repository root:

    python benchmarks/bench_spectrum.py              # the issue's figures (~3-5 min idle)
    python benchmarks/bench_spectrum.py --quick      # T = 1000, no memory rows (~30 s)

Rows (tanh RNN, default PyTorch init, N(0, 1) input, one trial, one thread; the
trajectory is built before any timing, except in M and W):

    F32 / F64  the floor: T chained N x N products `q = q @ J_t` (`torch.bmm`), J_t cycling
               through 256 real step Jacobians of the same trajectory, a scalar rescale
               every 64 steps (float32 / float64)
    S32 / S64  lyapunov_spectrum, all N exponents, qr_every=auto (float32 / float64)
    Q32        the same with qr_every=1 (a QR every step, as the research codes do, but
               still with J never formed)
    K16        the top 16 exponents at N = 1024 (float32), and the whole
               gradscope.analysis.spectrum of that config (draws + unroll + spectrum)
    M          peak RSS of gradscope.analysis.spectrum in a subprocess at T = 100 (the
               baseline: python, torch, gradscope), 10^4 and 10^5 (N = 256, top 16,
               float32): memory must not grow with T

Each timed row is the best of --repeat runs, F and S in interleaved rounds so that a
change of machine load hits them alike. A markdown table goes to stdout and JSON to
benchmarks/results/spectrum[-quick].json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

from gradscope.analysis import simulate
from gradscope.config import Config
from gradscope.numerics.spectrum import lyapunov_spectrum

HERE = Path(__file__).resolve().parent
POOL = 256


def _loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def floor_chain(cell, traj, steps: int) -> float:
    """T chained products over a pool of real step Jacobians (the floor of any spectrum)."""
    jac = cell.jacobian(cell.linearize(traj.states[:POOL], traj.inputs[:POOL]))
    dim = jac.shape[-1]
    q = torch.eye(dim, dtype=jac.dtype).expand(1, dim, dim).contiguous()
    t0 = time.perf_counter()
    for t in range(steps):
        q = torch.bmm(q, jac[t % POOL])
        if t % 64 == 63:
            q = q / torch.linalg.matrix_norm(q).reshape(-1, 1, 1)
    return time.perf_counter() - t0


def spectrum_rows(n: int, steps: int, dtype: str, repeat: int, every_step: bool) -> dict:
    config = Config(cell="rnn", act="tanh", hidden=n, steps=steps, trials=1, dtype=dtype).resolved()
    cell, traj, _, _ = simulate(config)
    floor, spec, one, out = [], [], [], None
    for _ in range(repeat):  # interleaved rounds
        floor.append(floor_chain(cell, traj, steps))
        t0 = time.perf_counter()
        out = lyapunov_spectrum(cell, traj.states, traj.inputs)
        spec.append(time.perf_counter() - t0)
        if every_step:
            t0 = time.perf_counter()
            lyapunov_spectrum(cell, traj.states, traj.inputs, qr_every=1)
            one.append(time.perf_counter() - t0)
    row = {"N": n, "T": steps, "dtype": dtype, "floor_s": min(floor), "spectrum_s": min(spec),
           "ratio": min(spec) / min(floor), "qr_count": int(out["lyapunov_qr_count"]),
           "lambda_1": float(out["lyapunov_spectrum"][0, 0]),
           "sum_rule_error": float(abs(out["lyapunov_spectrum"].sum() - out["mean_log_det"][0])
                                   / abs(out["mean_log_det"][0]))}
    if every_step:
        row.update(qr_every_1_s=min(one), qr_every_1_ratio=min(one) / min(floor))
    return row


def top16_row(n: int, steps: int, repeat: int) -> dict:
    from gradscope.analysis import spectrum

    config = Config(cell="rnn", act="tanh", hidden=n, steps=steps, trials=1, dtype="float32",
                    exponents=16).resolved()
    cell, traj, _, _ = simulate(config)
    alone = _best(lambda: lyapunov_spectrum(cell, traj.states, traj.inputs, 16), repeat)
    whole = _best(lambda: spectrum(config), 1)
    return {"N": n, "T": steps, "exponents": 16, "spectrum_s": alone, "whole_spectrum_command_s": whole}


# Peak RSS from /proc/self/status VmHWM: getrusage's ru_maxrss survives exec on Linux and
# would report the (larger) benchmark process that forked the child.
_CHILD = """
import sys, time, torch
torch.set_num_threads(1)
from gradscope.analysis import spectrum
from gradscope.config import Config
t0 = time.perf_counter()
r = spectrum(Config(cell="rnn", act="tanh", hidden=256, steps=int(sys.argv[1]), trials=1,
                    dtype="float32", exponents=16))
hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
print(time.perf_counter() - t0, hwm, r.summary["lambda_1"])
"""


def memory_row(steps: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(steps)], capture_output=True, text=True,
                          check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    seconds, rss_kib, lam = proc.stdout.split()  # VmHWM in kB
    return {"T": steps, "seconds": float(seconds), "peak_rss_mib": int(rss_kib) / 1024, "lambda_1": float(lam)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T = 1000, one repeat, no memory rows")
    parser.add_argument("--repeat", type=int, default=2, help="best of (default 2)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    steps = 1000 if args.quick else 10_000
    repeat = 1 if args.quick else args.repeat
    result = {"machine": {"cpu_count": os.cpu_count(), "torch": torch.__version__,
                          "python": platform.python_version(), "threads": 1,
                          "loadavg_start": _loadavg()}, "rows": {}}
    rows = result["rows"]
    print("full spectrum, N = 256 ...", file=sys.stderr)
    rows["full_float32"] = spectrum_rows(256, steps, "float32", repeat, every_step=True)
    rows["full_float64"] = spectrum_rows(256, steps, "float64", repeat, every_step=False)
    print("top 16 at N = 1024 ...", file=sys.stderr)
    rows["top16_n1024"] = top16_row(1024, steps, repeat)
    if not args.quick:
        print("memory against T ...", file=sys.stderr)
        rows["memory"] = [memory_row(t) for t in (100, 10_000, 100_000)]
    result["machine"]["loadavg_end"] = _loadavg()
    rows["peak_rss_this_process_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    f32, f64, top = rows["full_float32"], rows["full_float64"], rows["top16_n1024"]
    lines = [
        "| row | what | seconds | ratio | target |",
        "|---|---|---|---|---|",
        f"| F32 | {steps} chained 256 x 256 products, float32 | {f32['floor_s']:.2f} | | |",
        f"| S32 | full spectrum (256), auto, float32 | {f32['spectrum_s']:.2f} | S32/F32 = {f32['ratio']:.2f} | <= 3 |",
        f"| Q32 | full spectrum, QR every step, float32 | {f32['qr_every_1_s']:.2f} | Q32/F32 = {f32['qr_every_1_ratio']:.2f} | |",
        f"| F64 | {steps} chained products, float64 | {f64['floor_s']:.2f} | | |",
        f"| S64 | full spectrum (256), auto, float64 | {f64['spectrum_s']:.2f} | S64/F64 = {f64['ratio']:.2f}, "
        f"S64/F32 = {f64['spectrum_s'] / f32['floor_s']:.2f} | (report) |",
        f"| K16 | top 16 at N = 1024, float32 (whole command) | {top['spectrum_s']:.2f} "
        f"({top['whole_spectrum_command_s']:.2f}) | | < 20 s |",
    ]
    for m in rows.get("memory", []):
        lines.append(f"| M | analysis.spectrum, N = 256, top 16, T = {m['T']} | {m['seconds']:.1f} | "
                     f"peak RSS {m['peak_rss_mib']:.0f} MiB | flat in T |")
    print("\n".join(lines))
    print(f"QRs: float32 {f32['qr_count']} / float64 {f64['qr_count']} over {int(steps * 0.9)} counted steps; "
          f"sum rule relative error {f32['sum_rule_error']:.1e} (float32), {f64['sum_rule_error']:.1e} (float64); "
          f"load average {result['machine']['loadavg_start']} -> {result['machine']['loadavg_end']}")
    out = args.out or HERE / "results" / f"spectrum{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
