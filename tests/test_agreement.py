"""The counts ensemble agrees with the mean backend.

The mean backend is the expected path when hazards are linear in the state;
this model's few nonlinear terms (crowding in China, kin in the South, reception
places) act on stocks of thousands, where the gap between the mean of the
stochastic path and the deterministic path is far below 1% (a delta-method
argument: relative variance of a stock of N is about 1/N). The test therefore
allows four standard errors of the ensemble mean plus 1% of the value.
"""

import numpy as np
import pytest

import refuge

VARIABLES = ["arrivals_south_korea", "arrivals_south_korea_female", "hiding_in_china", "deported_from_china",
             "crossings_to_china", "deaths"]  # fmt: skip


@pytest.fixture(scope="module")
def both(short):
    # one parameter set for every member (not posterior draws): the test is about chance alone
    counts = refuge.run("baseline", members=200, seed=11, timeline=short, calibrated=False).outputs()
    mean = refuge.run("baseline", members=1, backend="mean", timeline=short, calibrated=False).outputs()
    return counts, mean


@pytest.mark.parametrize("variable", VARIABLES)
def test_counts_mean_matches_mean_backend(both, variable):
    counts, mean = both
    years = [1996, 2000, 2005, 2010, 2012]
    ensemble = counts.sel(variable=variable, year=years)
    expected = mean.sel(variable=variable, year=years).isel(member=0).values
    centre = ensemble.mean("member").values
    stderr = ensemble.std("member").values / np.sqrt(ensemble.sizes["member"])
    tolerance = 4 * stderr + 0.01 * np.abs(expected)
    assert np.all(np.abs(centre - expected) <= tolerance), (variable, centre, expected, tolerance)


def test_counts_spread_is_that_of_chance(both):
    """Arrivals are sums of many rare events: their spread across members is near Poisson."""
    counts, _mean = both
    arrivals = counts.sel(variable="arrivals_south_korea", year=2005)
    ratio = float(arrivals.var("member") / arrivals.mean("member"))
    assert 0.5 < ratio < 3.0
