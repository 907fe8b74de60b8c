"""Make a small real-looking data set, hourly weather, for --input: writes examples/data/weather.csv.

    python examples/weather.py                      # examples/data/weather.csv (committed)
    python examples/weather.py --out my.csv --hours 5000

Three columns, one row per hour, standardised (mean 0, standard deviation 1, as a
network's inputs usually are): temperature (a yearly and a daily cycle, weather fronts
lasting days, sensor noise), relative humidity (highest when it is coolest, with its own
slow weather) and air pressure (fronts, a half-daily tide). Made here, never downloaded,
the same bytes on every run (seeded): a stand-in for a user's own sensor file.

    gradscope decay --cell gru --input-size 3 --input examples/data/weather.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT = HERE / "data" / "weather.csv"


def weather(hours: int, seed: int = 2024) -> np.ndarray:
    """`(hours, 3)`: temperature, humidity, pressure in physical units."""
    rng = np.random.default_rng(seed)
    t = np.arange(hours, dtype=np.float64)
    day, year = 2 * np.pi * t / 24, 2 * np.pi * (t / (24 * 365.25) + 0.3)
    front = np.zeros(hours)  # weather fronts: an AR(1) process with a time scale of ~3 days
    for i in range(1, hours):
        front[i] = front[i - 1] * (1 - 1 / 72) + rng.normal(0, 0.35)
    temperature = 11 - 9 * np.cos(year) - 4 * np.cos(day - 0.8) + 1.2 * front + rng.normal(0, 0.3, hours)
    damp = np.zeros(hours)
    for i in range(1, hours):
        damp[i] = damp[i - 1] * (1 - 1 / 30) + rng.normal(0, 1.5)
    humidity = np.clip(75 - 1.6 * (temperature - temperature.mean()) + damp + rng.normal(0, 2, hours), 15, 100)
    pressure = 1013 - 4.5 * front + 0.8 * np.cos(2 * day) + rng.normal(0, 0.2, hours)
    return np.stack([temperature, humidity, pressure], axis=1)


def write(path: Path, hours: int) -> None:
    data = weather(hours)
    z = (data - data.mean(axis=0)) / data.std(axis=0)
    lines = ["temperature,humidity,pressure"] + [",".join(f"{v:.4f}" for v in row) for row in z]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT, help=f"the CSV file [default: {DEFAULT}]")
    parser.add_argument("--hours", type=int, default=2000, help="rows (default 2000: enough for 200 + 1000 steps)")
    args = parser.parse_args(argv)
    write(args.out, args.hours)
    print(f"wrote {args.out} ({args.hours} hours x 3 columns, standardised)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
