"""The command line of a claims script (`examples/textbook.py`, `critical_init.py`):
run an experiment, evaluate claims over it, write the report and its `check.json`.

May import: `gradscope.report`, `gradscope.runs.execute`, and everything below.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..report.check_json import check_summary
from ..results import write_text_atomic
from .reports import write_report


def claims_check(toml, name: str, claims, reduced: dict, cache=None) -> dict:
    """The reduced run's numbers and claim verdicts (what a report commits as check.json).

    `claims(results) -> [{"claim", "verdict", "numbers", "text"}, ...]`.
    """
    from .execute import run_experiment

    _, results = run_experiment(toml, overrides=reduced, cache=cache)
    verdicts = [{k: v for k, v in c.items() if k != "text"} for c in claims(results)]
    return check_summary(results, verdicts, name=name)


def claims_main(toml, report_dir, name: str, title: str, command: str, claims, reduced: dict,
                description: str, argv=None, extra_figures=None) -> int:
    """The command line of a claims script (`examples/textbook.py`, `critical_init.py`):
    run the experiment (cached), evaluate the claims, write the report with them as
    findings, and its `check.json` at reduced size. `--reduced` writes the small version.
    `extra_figures(results, width=, style=, fontsize=) -> {name: (Figure, caption)}` adds
    figures of the script's own after the comparison figures."""
    import argparse

    import torch

    from ..cache import RunCache
    from .execute import run_experiment

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--reduced", action="store_true", help="the small version, in seconds (no cache)")
    parser.add_argument("--out", type=Path, default=None, help=f"report folder [default: {report_dir}]")
    parser.add_argument("--no-cache", action="store_true", help="compute every run")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small matrices: one thread beats two fighting for two cores
    cache = None if (args.no_cache or args.reduced) else RunCache()
    expansion, results = run_experiment(toml, overrides=reduced if args.reduced else None, cache=cache)
    found = claims(results)
    out = args.out or (Path(f"reports/{name}-reduced") if args.reduced else Path(report_dir))
    write_report(results, out, name=name, title=title,
                 command=command + (" --reduced" if args.reduced else ""), notes=expansion.notes,
                 findings=[c["text"] for c in found],
                 figures=None if extra_figures is None else with_extra_figures(extra_figures))
    write_text_atomic(out / "check.json",
                      json.dumps(claims_check(toml, name, claims, reduced), indent=2) + "\n")
    for c in found:
        print(c["text"])
    print(f"wrote {out}/report.md and check.json")
    return 0


def with_extra_figures(extra):
    """A report's figure builder: the comparison figures, then `extra`'s."""

    def build(results, labels, width=None, style=None, fontsize=None, theory=None):
        from ..figures.comparison import report_figures
        from ..report.document import FIGURE_CAPTIONS

        figs = report_figures(results, labels, width=width, style=style, fontsize=fontsize, theory=theory)
        drawn = {k: (fig, FIGURE_CAPTIONS[k]) for k, fig in figs.items()}
        return {**drawn, **extra(results, width=width, style=style, fontsize=fontsize)}

    return build
