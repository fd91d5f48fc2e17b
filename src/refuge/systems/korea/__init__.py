"""The North Korean defection system: stocks, flows, drivers and parameters with their evidence."""

import dataclasses
from functools import cache

from ...model.definition import Driver, Model, Output, Stock, Strata
from .drivers import DRIVERS
from .flows import ARRIVALS, FLOWS, TERMS
from .mechanisms import MECHANISMS
from .parameters import PARAMETERS

STOCKS = (
    Stock("nk_at_risk", "North Korea, at risk", "people in the border provinces who may try to cross"),
    Stock("china_hiding", "China, hiding", "crossed, living hidden, mostly with Korean-Chinese hosts"),
    Stock("in_transit", "in transit", "on a broker route through China to a third country or an embassy"),
    Stock("third_country", "third country", "waiting for transfer, e.g. in Thai detention"),
    Stock("sk_reception", "South Korea, reception", "vetting and the Hanawon resettlement programme"),
    Stock("sk_settled", "South Korea, settled", "settled citizens of the South"),
    Stock("elsewhere", "elsewhere", "resettled in the US, UK, Canada, Japan and other countries"),
    Stock("detained", "detained / repatriated", "caught, sent back and punished in the North; may try again"),
    Stock("re_defected", "re-defected", "returned to the North from the South"),
    Stock("dead", "dead", "killed at the border, on the way, or in detention"),
)

#: every stock and flow is split by sex: women and men attempt, are caught and defect at different rates,
#: and the record counts the women who arrive
SEXES = Strata("sex", ("female", "male"))

#: 1990. The at-risk pool is the population of the four border provinces (an
#: assumption, ~3 million); 607 defectors had settled in the South by 1989
#: (EVIDENCE.md §1), almost all men (seed 004: "military personnel or political
#: figures"); a few hundred were hiding in China (EVIDENCE.md §2: ~1,300 known in 1997).
INITIAL = {
    "nk_at_risk": (1_500_000, 1_500_000),
    "china_hiding": (200, 300),
    "sk_settled": (61, 546),
}

_DEATHS = ("shot_at_border", "died_in_china", "died_in_transit", "died_in_detention")

OUTPUTS = (
    Output("arrivals_south_korea", "arrivals in the South", flows=ARRIVALS, observed=True),
    Output("arrivals_south_korea_female", "arrivals in the South, women", flows=ARRIVALS, stratum="female",
           observed=True),
    Output("crossings_to_china", "crossings into China", flows=("cross_to_china",)),
    Output("hiding_in_china", "hiding in China at year end", stock="china_hiding"),
    Output("in_transit", "in transit at year end", stock="in_transit"),
    Output("deported_from_china", "deported from China", flows=("deported_from_china", "caught_in_transit")),
    Output("caught_at_border", "caught at the border by the North", flows=("caught_at_border",)),
    Output("deaths", "deaths on the way (shot at the border, in China, in transit, in detention)", flows=_DEATHS),
    Output("re_defections", "re-defections", flows=("re_defect",)),
    Output("resettled_elsewhere", "resettled outside Korea", flows=("resettled_abroad", "emigrate_onward")),
    Output("south_korea_reception", "in reception in the South at year end", stock="sk_reception"),
    Output("south_korea_settled", "settled in the South at year end", stock="sk_settled"),
    Output("time_abroad", "years abroad before arrival in the South (mean of the year's arrivals)",
           flows=ARRIVALS, clock=True),
    Output("brokered_crossings", "crossings straight onto a broker's route (the fast pipeline)",
           flows=("brokered_crossing", "kin_funded_escape")),
)

#: Time abroad runs while people are in China, on the road and in third countries (EVIDENCE.md §4c).
CLOCK_STOCKS = ("china_hiding", "in_transit", "third_country")


@cache
def north_korea() -> Model:
    """The model of the North Korean defection system with its default parameters."""
    return Model(
        name="north-korea",
        stocks=STOCKS,
        flows=FLOWS,
        drivers=DRIVERS,
        parameters=PARAMETERS,
        initial=INITIAL,
        outputs=OUTPUTS,
        mechanisms=MECHANISMS,
        clock_stocks=CLOCK_STOCKS,
        strata=SEXES,
        terms=TERMS,
        steps_per_year=52,  # hazards per week (seed 004 counts deportations per week)
    )


def blind_driver(driver: Driver, origin: float) -> Driver:
    """``driver`` as known at the end of year ``origin``: knots dated after it, or whose evidence appeared after it
    (:meth:`~refuge.model.definition.Driver.known_at`), dropped, the last known value held.

    Interpolating towards a later knot would leak it, so between the last knot
    known and the origin the blind driver holds that knot's value too. A knot at
    the turn of the year after (``origin + 1``: the 2012 crackdown's for an origin of
    2011) is that year's event, not known. A driver whose first knot comes later
    holds the value it had before that knot.
    """
    end = origin + 1.0
    known = {t: v for t, v in driver.knots.items() if driver.known_at(t) < end}
    if not known:
        first = min(driver.knots)
        known = {end: driver.knots[first]}
    published = {t: driver.known_at(t) for t in known if t in driver.published}
    return dataclasses.replace(driver, knots=known, published=published)


@cache
def blind_model(origin: int) -> Model:
    """The model as a forecaster at the end of ``origin`` knows it: no driver knot dated after that.

    Each driver holds the value it had at the end of ``origin`` (the forecast
    does not know the 2012 crackdown, the 2020 sealing or anything else to come).
    """
    model = north_korea()
    return dataclasses.replace(model, drivers=tuple(blind_driver(d, origin) for d in model.drivers))
