"""Map where a tanh RNN turns from order to chaos (gain x bias std, N = 256) beside mean field; write reports/phase-diagram/.

    python examples/phase_diagram.py                     # the committed report (cached runs)
    python examples/phase_diagram.py --reduced           # the small version, in seconds (no cache)
    python examples/phase_diagram.py --gains 26 --biases 11 --trials 4 --steps 500   # a finer map

A vanilla tanh RNN without input, W_hh ~ N(0, g^2/N) and b ~ N(0, sigma_b^2): the
classic phase diagram of random networks (Poole et al. 2016; Schoenholz et al. 2017).
For each bias std it finds the gain where the measured median growth rate (and the top
Lyapunov exponent) changes sign, and compares it with the gain where mean field puts
chi = 1. The runs go through `gradscope sweep`'s executor (--jobs workers, cached), so
an interrupted run resumes; `--gains/--biases/--trials/--steps` raise the size.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORT = HERE.parent / "reports" / "phase-diagram"
NAME = "phase-diagram"
COMMAND = "python examples/phase_diagram.py"
TITLE = "Order to chaos: a tanh RNN's phase diagram, measured beside mean field"
MEASURES = ("growth_rate", "lambda_1")
#: The committed size (about 20 minutes on a shared 2-core machine with the engine of
#: the time); every value can be raised from the command line.
SIZE = {"gains": 21, "biases": 6, "hidden": 256, "steps": 200, "transient": 200, "trials": 2}
REDUCED = {"gains": 6, "biases": 3, "hidden": 48, "steps": 80, "transient": 50, "trials": 2}


def grid(gains: int, biases: int, hidden: int, steps: int, transient: int, trials: int) -> dict:
    """The sweep: gain 0.5-3.0 against bias std 0-1, everything else fixed."""
    return {"cell": "rnn", "act": "tanh", "init": "normal", "input": "zeros", "hidden": hidden,
            "steps": steps, "transient": transient, "trials": trials, "exponents": 1, "seed": 0,
            "gain": f"0.5:3.0:{gains}", "bias_std": f"0:1:{biases}"}


def claims(results) -> list[dict]:
    """Per bias std and measure: where it changes sign along the gain, beside mean field."""
    from gradscope.numerics.theory.critical import MeanFieldTheory
    from gradscope.text.findings import gain_crossings

    out = []
    for measure in MEASURES:
        for row in gain_crossings(results, measure, theory=MeanFieldTheory()):
            g, g_mf, step = row["measured"], row["mean_field"], row["step"]
            close = g is not None and g_mf is not None and abs(g - g_mf) <= step
            name = "growth rate" if measure == "growth_rate" else "lambda_1"
            out.append({
                "claim": f"{measure} at bias std {row['value']:g}",
                "verdict": "within one grid step of mean field" if close else "more than one grid step off",
                "numbers": {"bias_std": row["value"], "measured": g, "mean_field": g_mf, "grid_step": step},
                "text": _sentence(row["value"], name, g, g_mf, step),
            })
    return out


def _sentence(bias: float, name: str, g: float | None, g_mf: float | None, step: float) -> str:
    theory = f"mean field puts chi = 1 at g = {g_mf:.3f}" if g_mf is not None else "no mean-field crossing"
    if g is None:
        return f"Bias std {bias:g}: the median {name} does not change sign in the grid ({theory})."
    diff = f", {g - g_mf:+.3f} from it; grid step {step:.3g}" if g_mf is not None else ""
    return f"Bias std {bias:g}: the median {name} changes sign at g = {g:.3f} ({theory}{diff})."


def run(size: dict, jobs: int | None = None, cache=None):
    from gradscope.runs.execute import run_grid
    from gradscope.runs.grid import expand_grid

    expansion = expand_grid(grid(**size))
    return run_grid(expansion.configs, cache=cache, jobs=jobs, command=COMMAND, curves=False)


def check(cache=None, results=None) -> dict:
    """The reduced run's numbers and verdicts, as committed in reports/phase-diagram/check.json."""
    from gradscope.report.check_json import check_summary

    results = results if results is not None else run(REDUCED, jobs=1, cache=cache)
    verdicts = [{k: v for k, v in c.items() if k != "text"} for c in claims(results)]
    return check_summary(results, verdicts, name=NAME)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="the small version, in seconds (no cache)")
    parser.add_argument("--out", type=Path, default=None, help=f"report folder [default: {REPORT}]")
    parser.add_argument("--no-cache", action="store_true", help="compute every run")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes [default: one per core]")
    for key, value in SIZE.items():
        parser.add_argument(f"--{key}", type=int, default=None, help=f"[default: {value}]")
    args = parser.parse_args(argv)
    from gradscope import write_sweep_report
    from gradscope.cache import RunCache
    from gradscope.results import write_text_atomic

    size = dict(REDUCED if args.reduced else SIZE)
    size.update({k: getattr(args, k) for k in SIZE if getattr(args, k) is not None})
    cache = None if (args.no_cache or args.reduced) else RunCache()
    results = run(size, jobs=args.jobs, cache=cache)
    found = claims(results)
    out = args.out or (Path(f"reports/{NAME}-reduced") if args.reduced else REPORT)
    extra = [f"--{k} {v}" for k, v in size.items() if v != SIZE[k] and not args.reduced]
    command = " ".join([COMMAND] + (["--reduced"] if args.reduced else []) + extra)
    write_sweep_report(results, out, MEASURES, name=NAME, title=TITLE, command=command,
                       findings=[c["text"] for c in found])
    reduced = check(results=results if args.reduced and size == REDUCED else None)
    write_text_atomic(out / "check.json", json.dumps(reduced, indent=2) + "\n")
    for c in found:
        print(c["text"])
    print(f"wrote {out}/report.md and check.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
