"""How well a calibration's own posterior, run through the full model on its drawn paths, gives back the record.

The likelihood sees the latent route through a linearisation; this runs the full model instead, as every
reported figure does, so a calibration whose paths do not reproduce its data shows here
(``docs/calibration.md`` section 0: the backtest's origins under the secant sat 26-45% under the record).

    python benchmarks/origin_fit.py out/backtest/origin-2019 2019   # a backtest origin (drivers blind after it)
    python benchmarks/origin_fit.py calibration/until-2025 2025 --known
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from refuge.systems.korea.calibration.likelihood import COLUMNS, simulate_posterior
from refuge.systems.korea.calibration.posterior import Posterior
from refuge.systems.korea.evidence import arrivals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a calibration's folder (posterior.csv, latent.csv)")
    parser.add_argument("until", type=int, help="the last year it was calibrated on")
    parser.add_argument("--known", action="store_true", help="drivers as history knows them, not blind after until")
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    posterior = Posterior.load(args.folder)
    rows = np.random.default_rng(0).integers(0, len(posterior.samples), args.draws)
    blind = None if args.known else args.until
    runs = simulate_posterior(posterior, rows, args.until, blind, 0)[..., COLUMNS.index("arrivals")]
    median = np.median(runs, axis=0)
    record = arrivals()["total"]
    years = range(1995, args.until + 1)
    ape = [abs(median[y - 1990] - record[y]) / record[y] * 100 for y in years]
    for y, error in zip(years, ape, strict=True):
        print(f"{y}  record {record[y]:6.0f}  model median {median[y - 1990]:7.0f}  APE {error:5.1f}%")
    print(f"MAPE {np.mean(ape):.1f}% over {years.start}-{years.stop - 1} ({args.draws} posterior draws on their paths)")


if __name__ == "__main__":
    main()
