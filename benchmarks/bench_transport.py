"""Benchmark gradscope's all-lag transport against its physical floor and the naive ways.

Run from the repository root:

    python benchmarks/bench_transport.py --threads 1          # N = 256 and 64, T = 10^4
    python benchmarks/bench_transport.py --threads 2
    python benchmarks/bench_transport.py --threads 1 --big    # + T = 10^5 in a subprocess
    python benchmarks/bench_transport.py --quick              # T = 1000, a smoke run

Rows (tanh RNN, float32, one trial, the trajectory built before any timing):

    A  transport(spectral="fast", quantities=("spectral", "rms"))
    B  T chained N x N products `q = q @ J_t` over a pool of 256 real step Jacobians
       (B0: plain, rescaled by a scalar every 64 steps so float32 never goes denormal;
        B1: + a Frobenius renormalisation after every step, as transport does)
    C  torch.autograd.functional.jacobian of the step, per step, + chained products +
       svdvals: timed over a prefix of steps and extrapolated linearly to T
    D  transport(quantities=("loss_grad",))
    E  retain-grad BPTT: unroll with autograd, h.retain_grad() on every state,
       (r * h_T).sum().backward(), read every .grad norm
    G  transport with every quantity, and the whole gradscope.analyze of the same config
    F  (--big) gradscope.analyze at T = 10^5 in a subprocess: wall time and peak RSS

Every time is the best of --repeat runs, A B0 B1 D E in interleaved rounds so that a
change of machine load hits them alike (C: one run of its prefix; G: --analyze-repeat). A markdown table goes
to stdout and JSON to benchmarks/results/transport-<threads>t[-quick].json.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import torch
from common import chain_floor, loadavg, machine

from gradscope.analysis import simulate
from gradscope.config import Config
from gradscope.numerics.transport import transport

HERE = Path(__file__).resolve().parent
POOL = 256  # distinct real Jacobians cycled through by the floor chain
RESCALE_EVERY = 64  # plain chain: scalar rescale period (denormals would distort timing)


# ----------------------------------------------------------------------------- helpers
def machine_info(threads: int) -> dict:
    return {**machine(), "threads": threads, "torch_num_threads": torch.get_num_threads()}


def best_of(fn, repeat: int) -> tuple[float, object]:
    """(best wall time in seconds, last return value) over `repeat` calls."""
    best, value = math.inf, None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def make_trajectory(n: int, steps: int, dtype: str = "float32"):
    config = Config(cell="rnn", act="tanh", hidden=n, steps=steps, trials=1, dtype=dtype).resolved()
    cell, traj, readout, _ = simulate(config)
    return config, cell, traj, readout


# ------------------------------------------------------------------------------ floors
def jacobian_pool(cell, traj) -> torch.Tensor:
    """`(POOL, 1, N, N)` real step Jacobians (the last POOL steps of the window)."""
    k = min(POOL, traj.steps)
    with torch.no_grad():
        return cell.jacobian(cell.linearize(traj.states[-k - 1 : -1], traj.inputs[-k:])).contiguous()


def chain_normalised(pool: torch.Tensor, steps: int) -> float:
    """T products, each followed by a Frobenius renormalisation (as transport does)."""
    n = pool.shape[-1]
    q = torch.eye(n, dtype=pool.dtype).expand(1, n, n).contiguous()
    k = pool.shape[0]
    norms = torch.empty(steps, dtype=pool.dtype)
    with torch.no_grad():
        for t in range(steps):
            q = torch.bmm(q, pool[t % k])
            nrm = torch.linalg.vector_norm(q)
            q.div_(nrm)
            norms[t] = nrm
    return float(norms.double().log().sum())


# ------------------------------------------------------------------------ naive ways
def naive_autograd(cell, traj, prefix: int) -> tuple[float, np.ndarray]:
    """C over the last `prefix` steps: (seconds, log spectral norms at lags 1..prefix)."""
    T = traj.steps
    n = traj.states.shape[-1]
    p = torch.eye(n, dtype=traj.states.dtype)
    out = []
    t0 = time.perf_counter()
    for t in range(T, T - prefix, -1):  # J_t = d s_t / d s_{t-1}, x_t = inputs[t-1]
        x = traj.inputs[t - 1]
        jac = torch.autograd.functional.jacobian(lambda h: cell.step(h, x), traj.states[t - 1])
        jac = jac.reshape(n, n)
        p = p @ jac
        out.append(float(torch.linalg.svdvals(p)[0]))
    seconds = time.perf_counter() - t0
    with np.errstate(divide="ignore"):
        return seconds, np.log(np.asarray(out, dtype=np.float64))


def bptt_retain_grad(cell, traj, readout) -> tuple[np.ndarray, torch.Tensor]:
    """E: the loss-gradient norm at every lag by plain autograd.

    Returns the float32 norms `(T+1,)` by lag, as a user would read them, and the
    gradients themselves `(T+1, D)` (for the checks, not timed separately).
    """
    T = traj.steps
    h = traj.states[0].clone().requires_grad_(True)
    hs = [h]
    with torch.enable_grad():
        for t in range(T):
            h = cell.step(h, traj.inputs[t])
            h.retain_grad()
            hs.append(h)
        (readout * h).sum().backward()
    grads = torch.stack([g.grad[0] for g in reversed(hs)])  # lag k <-> state T-k
    norms = torch.linalg.vector_norm(grads, dim=-1)
    return norms.double().numpy(), grads


# -------------------------------------------------------------------------------- rows
def run_size(n: int, steps: int, args) -> dict:
    r = args.repeat
    res: dict = {"N": n, "T": steps}
    print(f"\n# N = {n}, T = {steps}: building the trajectory", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    config, cell, traj, readout = make_trajectory(n, steps)
    res["build_trajectory_s"] = time.perf_counter() - t0
    assert traj.steps == steps, "the tanh RNN should stay finite"

    def run_a():
        with torch.no_grad():
            return transport(cell, traj.states, traj.inputs, readout, "fast", quantities=("spectral", "rms"))

    def run_d():
        with torch.no_grad():
            return transport(cell, traj.states, traj.inputs, readout, "fast", quantities=("loss_grad",))

    pool = jacobian_pool(cell, traj)
    rows = {
        "A": run_a,
        "B0": lambda: chain_floor(pool, steps),
        "B1": lambda: chain_normalised(pool, steps),
        "D": run_d,
        "E": lambda: bptt_retain_grad(cell, traj, readout),
    }
    # interleaved rounds: a change of machine load hits every row alike
    best, value = {k: math.inf for k in rows}, {}
    for _ in range(r):
        for k, fn in rows.items():
            t, value[k] = best_of(fn, 1)
            best[k] = min(best[k], t)
    for k in rows:
        res[f"{k}_s"] = best[k]
    out_a, log_b1, out_d, (e_norms, e_grads) = value["A"], value["B1"], value["D"], value["E"]
    del rows, value
    print("  " + ", ".join(f"{k} {res[k + '_s']:.3f} s" for k in ("A", "B0", "B1", "D", "E")),
          file=sys.stderr, flush=True)
    d_log = out_d["log_loss_grad"][0]
    e_zero = np.flatnonzero(e_norms == 0.0)
    res["E_zero_lags"] = int(e_zero.size)  # the float32 norm is exactly 0
    res["E_first_zero_lag"] = int(e_zero[0]) if e_zero.size else None
    # the float32 norm squares its entries, so it is 0 once ||g|| < ~1e-19 (sqrt of the
    # smallest float32); the gradient itself is all zeros only from ~1e-45 on
    all_zero = np.flatnonzero((e_grads == 0).all(dim=-1).numpy())
    res["E_grad_all_zero_lags"] = int(all_zero.size)
    res["E_first_grad_all_zero_lag"] = int(all_zero[0]) if all_zero.size else None
    e_norms64 = torch.linalg.vector_norm(e_grads.double(), dim=-1).numpy()
    del e_grads
    res["D_nonfinite_lags"] = int((~np.isfinite(d_log)).sum())
    res["D_log_loss_grad_at_T"] = float(d_log[-1])
    # agreement with autograd (its norm taken in float64) while its entries are far from
    # float32's smallest normal number (||g|| > 1e-30)
    ok = e_norms64 > 1e-30
    with np.errstate(divide="ignore"):
        res["D_vs_E_max_abs_log_diff"] = float(np.max(np.abs(d_log[ok] - np.log(e_norms64[ok]))))
    res["D_vs_E_lags_compared"] = int(ok.sum())

    prefix = min(args.naive_prefix, steps)
    c_prefix_s, c_log = naive_autograd(cell, traj, prefix)
    res["C_prefix_steps"] = prefix
    res["C_prefix_s"] = c_prefix_s
    res["C_s"] = c_prefix_s * steps / prefix  # extrapolated linearly
    # C multiplies in linear scale: in float32 its product underflows to exactly 0 (log
    # -inf) after some lags; compare where it is still finite and count the rest
    res["C_nonfinite_lags"] = int((~np.isfinite(c_log)).sum())
    finite = c_log > math.log(1e-30)  # well inside float32's normal range
    res["C_vs_A_max_abs_log_diff"] = float(
        np.max(np.abs(c_log[finite] - out_a["log_spectral"][0, 1 : prefix + 1][finite]))
    ) if finite.any() else None
    print(f"  C {c_prefix_s:.2f} s over {prefix} steps -> {res['C_s']:.1f} s", file=sys.stderr, flush=True)

    def run_all():
        with torch.no_grad():
            return transport(cell, traj.states, traj.inputs, readout, "fast")

    res["G_transport_all_s"], _ = best_of(run_all, max(1, min(r, args.analyze_repeat)))
    from gradscope import analyze

    res["G_analyze_s"], _ = best_of(
        lambda: analyze(Config(cell="rnn", act="tanh", hidden=n, steps=steps, trials=1,
                               dtype="float32", spectral="fast"), command="bench"),
        max(1, min(r, args.analyze_repeat)),
    )
    print(f"  G transport(all) {res['G_transport_all_s']:.3f} s, analyze {res['G_analyze_s']:.3f} s",
          file=sys.stderr, flush=True)

    res["A_over_B0"] = res["A_s"] / res["B0_s"]
    res["A_over_B1"] = res["A_s"] / res["B1_s"]
    res["C_over_A"] = res["C_s"] / res["A_s"]
    res["D_over_E"] = res["D_s"] / res["E_s"]
    res["B1_log_norm_sum"] = log_b1
    return res


BIG_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time, torch
    torch.set_num_threads(int(sys.argv[1]))
    from gradscope import analyze
    from gradscope.config import Config
    t0 = time.perf_counter()
    res = analyze(Config(cell="rnn", act="tanh", hidden=256, steps=int(sys.argv[2]), trials=1,
                         dtype="float32", spectral="fast"), command="bench --big")
    wall = time.perf_counter() - t0
    print(json.dumps({"analyze_s": wall, "status": res.status,
                      "growth_rate": res.summary["growth_rate"],
                      "self_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    """
)


def run_big(threads: int, steps: int) -> dict:
    print(f"\n# F: analyze N = 256, T = {steps} in a subprocess", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", BIG_CHILD, str(threads), str(steps)],
        capture_output=True, text=True, check=True,
    )
    wall = time.perf_counter() - t0
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    return {
        "T": steps,
        "N": 256,
        "subprocess_wall_s": wall,
        "analyze_s": child["analyze_s"],
        "peak_rss_mib": rss_kib / 1024,
        "status": child["status"],
        "growth_rate": child["growth_rate"],
    }


# ------------------------------------------------------------------------------ report
def table(results: dict) -> str:
    lines = [
        f"threads = {results['machine']['threads']}, {results['machine']['cpu_model']}, "
        f"torch {results['machine']['torch']}, float32, tanh RNN, 1 trial",
        "",
        "| N | T | row | what | seconds | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in results["sizes"]:
        n, t = s["N"], s["T"]
        pre = f"| {n} | {t} "
        lines += [
            pre + f"| A | transport fast, (spectral, rms) | {s['A_s']:.3f} | | | |",
            pre + f"| B0 | {t} chained products (floor) | {s['B0_s']:.3f} | A/B0 = {s['A_over_B0']:.2f} "
            f"| <= 1.5 | {'yes' if s['A_over_B0'] <= 1.5 else 'NO'} |",
            pre + f"| B1 | chained products + renormalise | {s['B1_s']:.3f} | A/B1 = {s['A_over_B1']:.2f} "
            f"| <= 1.5 | {'yes' if s['A_over_B1'] <= 1.5 else 'NO'} |",
            pre + f"| C | autograd jacobian + products + svdvals ({s['C_prefix_steps']} steps "
            f"took {s['C_prefix_s']:.2f} s, extrapolated) | {s['C_s']:.1f} | C/A = {s['C_over_A']:.0f} "
            f"| >= 50 | {'yes' if s['C_over_A'] >= 50 else 'NO'} |",
            pre + f"| D | transport, (loss_grad,) only | {s['D_s']:.3f} | | | |",
            pre + f"| E | retain-grad BPTT (norm exactly 0 at {s['E_zero_lags']} lags, from lag "
            f"{s['E_first_zero_lag']}; grad all-zero from lag {s['E_first_grad_all_zero_lag']}; "
            f"D: {s['D_nonfinite_lags']} non-finite) | {s['E_s']:.3f} "
            f"| D/E = {s['D_over_E']:.2f} | <= 2 | {'yes' if s['D_over_E'] <= 2 else 'NO'} |",
            pre + f"| G1 | transport, every quantity | {s['G_transport_all_s']:.3f} "
            f"| G1/A = {s['G_transport_all_s'] / s['A_s']:.2f} | | |",
            pre + f"| G2 | whole analyze (unroll + transport + summary) | {s['G_analyze_s']:.3f} "
            f"| G2/A = {s['G_analyze_s'] / s['A_s']:.2f} | | |",
        ]
    big = results.get("big")
    if big:
        ok = big["peak_rss_mib"] < 1024
        lines.append(
            f"| 256 | {big['T']} | F | analyze in a subprocess (peak RSS {big['peak_rss_mib']:.0f} MiB) "
            f"| {big['analyze_s']:.1f} | | RSS < 1 GiB | {'yes' if ok else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="T = 1000, 1 repeat, 50-step naive prefix")
    ap.add_argument("--big", action="store_true", help="also T = 10^5 analyze in a subprocess (minutes)")
    ap.add_argument("--big-steps", type=int, default=100_000)
    ap.add_argument("--sizes", default="256,64", help="comma-separated N ('' for none: --big alone)")
    ap.add_argument("--steps", type=int, default=None, help="T (default 10000; 1000 with --quick)")
    ap.add_argument("--repeat", type=int, default=None, help="best of (default 3; 1 with --quick)")
    ap.add_argument("--analyze-repeat", type=int, default=1,
                    help="best of, for the slow G rows (default 1)")
    ap.add_argument("--naive-prefix", type=int, default=None, help="steps of C actually run (default 300)")
    ap.add_argument("--out", default=None, help="JSON path (default benchmarks/results/transport-<t>t.json)")
    args = ap.parse_args(argv)
    steps = args.steps or (1000 if args.quick else 10_000)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.naive_prefix = args.naive_prefix or (50 if args.quick else 300)

    torch.set_num_threads(args.threads)
    results = {"machine": machine_info(args.threads), "sizes": []}
    results["config"] = {
        "cell": "rnn", "act": "tanh", "dtype": "float32", "trials": 1, "steps": steps,
        "repeat": args.repeat, "naive_prefix": args.naive_prefix, "quick": args.quick,
        "floor_pool": POOL, "plain_chain_rescale_every": RESCALE_EVERY,
    }
    for n in (int(x) for x in args.sizes.split(",") if x.strip()):
        results["sizes"].append(run_size(n, steps, args))
    if args.big:
        results["big"] = run_big(args.threads, args.big_steps)
    results["machine"]["loadavg_end"] = loadavg()

    print(table(results))
    out = Path(args.out) if args.out else HERE / "results" / (
        f"transport-{args.threads}t{'-quick' if args.quick else ''}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
