"""People are conserved: every year, all stocks (the dead included) hold the initial population plus inflows."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import refuge
from refuge.model.timeline import Timeline
from refuge.scenarios import Scenario
from refuge.scenarios.schema import LeverSpec

MODEL = refuge.north_korea()
TIMELINE = Timeline(1990, 2000)
UNCERTAIN = [p for p in MODEL.parameters if p.prior is not None]
LEVERABLE = [d for d in MODEL.drivers if np.isfinite(d.bounds[1])] + [
    d for d in MODEL.drivers if d.name in ("at_risk_inflow", "border_security", "china_enforcement")
]


@st.composite
def parameters(draw):
    chosen = draw(st.lists(st.sampled_from(UNCERTAIN), max_size=6, unique_by=lambda p: p.name))
    return {p.name: draw(st.floats(p.prior.low, p.prior.high)) for p in chosen}


@st.composite
def levers(draw):
    out = []
    for driver in draw(st.lists(st.sampled_from(LEVERABLE), max_size=4)):
        start = draw(st.integers(1990, 1999))
        high = driver.bounds[1] if np.isfinite(driver.bounds[1]) else 50_000.0
        out.append(LeverSpec(lever=driver.name, start=start, until=start + draw(st.integers(1, 5)),
                             set=draw(st.floats(0.0, high))))  # fmt: skip
    return tuple(out)


def _check_conserved(results, exact):
    data = results.data
    everyone = data.stocks.sum(["stock", "sex"])
    initial = sum(sum(v) for v in MODEL.initial.values())
    inflows = [f.name for f in MODEL.flows if f.source is None]
    arrived = data.flows.sel(flow=inflows).sum(["flow", "sex"]).cumsum("year")
    expected = initial + arrived
    if exact:
        np.testing.assert_array_equal(everyone.values, expected.values)
    else:
        np.testing.assert_allclose(everyone.values, expected.values, rtol=1e-9)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parameters(), levers(), st.integers(0, 2**31))
def test_counts_conserve_people_exactly(params, lever_list, seed):
    scenario = Scenario("random", "", levers=lever_list)
    results = refuge.run(scenario, members=3, seed=seed, timeline=TIMELINE, parameters=params)
    _check_conserved(results, exact=True)
    assert (results.data.stocks >= 0).all()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parameters(), levers())
def test_mean_conserves_people_to_float_precision(params, lever_list):
    scenario = Scenario("random", "", levers=lever_list)
    results = refuge.run(scenario, members=1, backend="mean", timeline=TIMELINE, parameters=params)
    _check_conserved(results, exact=False)
    assert (results.data.stocks >= -1e-6).all()


def test_the_dead_are_the_deaths_on_the_way_and_those_in_the_south():
    """``deaths`` counts the journey's deaths; with the deaths in the South they are every person the dead stock
    gains (``deaths`` once silently left the South's out, beside a label that claimed them all)."""
    result = refuge.run("baseline", members=3, seed=2, timeline=Timeline(1990, 2000))
    gained = result.data.stocks.sel(stock="dead").sum("sex").diff("year")
    journey = result.outputs().sel(variable="deaths").isel(year=slice(1, None))
    south = result.data.flows.sel(flow="died_in_south").sum("sex").isel(year=slice(1, None))
    np.testing.assert_array_equal(gained.values, (journey + south).values)
    assert (south > 0).any() and (journey > 0).any()
    assert "on the way" in refuge.north_korea().output("deaths").label
