"""How far the latent walks could take the fit: the shipped posterior's samples run on smoothed paths.

For ``--samples`` rows of the shipped posterior, the filter's smoothed paths (linearised about
0, then about the first pass's paths) are run through the full model, and the MAPE of the median
run against the record is printed: at the posterior's own ``sigma_arrivals`` and steps, and with
them set free (``--free SIGMA STEP``), to see whether a freer walk could reach the record. Also the
pipeline's share of each year's arrivals (what the walks scale) and the correlation of the women's
and men's misses.

    python benchmarks/latent_headroom.py --samples 60 --free 0.10 0.6 --free 0.10 0.3
"""

from __future__ import annotations

import argparse
from importlib import resources

import numpy as np

from refuge.systems.korea.calibration import likelihood as lk
from refuge.systems.korea.calibration.latent import LOADINGS, sample_paths
from refuge.systems.korea.calibration.posterior import Posterior
from refuge.systems.korea.drivers import LATENT
from refuge.systems.korea.evidence import arrivals

FIRST, LAST = 1990, 2025


def mape(sims: np.ndarray, truth) -> tuple[float, float]:
    """MAPE (%) of the median run against the record ``truth`` (by year): arrivals 1995-2025, women 2001-2025."""
    median = np.median(sims, axis=0)
    total = [abs(median[y - FIRST, 0] / truth.total[y] - 1) for y in range(1995, LAST + 1)]
    women = [abs(median[y - FIRST, 1] / truth.female[y] - 1) for y in range(2001, LAST + 1)]
    return 100 * float(np.mean(total)), 100 * float(np.mean(women))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--free", nargs=2, type=float, action="append", default=[], metavar=("SIGMA", "STEP"))
    args = parser.parse_args()
    post = Posterior.load(resources.files("refuge.systems.korea.data") / "posterior")
    rows = np.linspace(0, len(post.samples) - 1, args.samples).astype(int)
    values = post.parameters(rows)
    targets, truth = lk.Targets(LAST), arrivals()
    run = lambda x: lk.simulate_batch(values, LAST, None, lk.latent_paths(x))  # noqa: E731

    def smoothed(sigma, steps, centre=None):
        sims = lk.simulate_routes(values, LAST, centre=centre)
        filtered = targets.filtered(sims, sigma, steps, np.ones_like(steps), np.zeros_like(steps), centre)
        return sample_paths(filtered, steps, np.zeros(filtered.mean.shape)), sims

    own_sigma = post.samples["sigma_arrivals"].to_numpy()[rows]
    own_steps = np.stack([post.samples[c].to_numpy()[rows] for c in ("permeability_step", "tilt_step")], axis=-1)
    settings = [("the posterior's", own_sigma, own_steps)]
    settings += [(f"sigma {s:g}, steps {k:g}", np.full(len(rows), s), np.full((len(rows), 2), k)) for s, k in args.free]
    for label, sigma, steps in settings:
        first, sims = smoothed(sigma, steps)
        second, _ = smoothed(sigma, steps, first)
        print(f"{label}: MAPE (total, women) about 0: {mape(run(first), truth)}, re-linearised: "
              f"{mape(run(second), truth)}")
        if label == "the posterior's":
            routes = lk.split_routes(sims)
            pipe = sum(routes[s][1] * np.exp(first @ LOADINGS[s]) for s in ("female", "male"))
            share = np.median(pipe / np.maximum(run(first)[..., 0], 1e-9), axis=0)
            every_other = {y: round(float(share[y - FIRST]), 2) for y in range(1995, LAST + 1, 2)}
            print("pipeline share of arrivals:", every_other)
            median = np.median(run(first), axis=0)
            years = range(2001, LAST + 1)
            miss_f = [np.log(truth.female[y] / median[y - FIRST, 1]) for y in years]
            miss_m = [np.log(truth.male[y] / (median[y - FIRST, 0] - median[y - FIRST, 1])) for y in years]
            print("correlation of women's and men's misses:", round(float(np.corrcoef(miss_f, miss_m)[0, 1]), 2))
    print("latent walks:", LATENT)


if __name__ == "__main__":
    main()
