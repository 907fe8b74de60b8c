"""The README's Python API in one run: analyze a Config, read the summary and curves, save and load."""

import sys
import tempfile

from gradscope import Config, Result, analyze


def main(quick: bool = "--quick" in sys.argv) -> None:
    config = Config(cell="lstm", act="tanh", hidden=16 if quick else 64, steps=200 if quick else 2000,
                    trials=2 if quick else 8, seed=0)
    result = analyze(config)
    print(result.summary["growth_rate"], result.summary["horizon"], result.status)
    assert result.curves["log_spectral"].shape == (config.trials, config.steps + 1)
    with tempfile.TemporaryDirectory() as folder:
        result.save(folder)
        same = Result.load(folder)
    assert same.config.key() == config.key()
    assert abs(same.summary["growth_rate"] - result.summary["growth_rate"]) <= 1e-12
    print("ok: analyze -> Result -> save -> load round-trips")


if __name__ == "__main__":
    main()
