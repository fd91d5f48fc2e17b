"""The flows of the North Korean system and their hazards, each with the mechanisms it carries.

Hazards are weekly, per person of the source stock, one value per sex (female, male: the model's
strata; see ``refuge.model.definition``).
Competing flows out of one stock are split from their total by every backend.
"""

import numpy as np

from ...model.definition import Flow, Term, per_stratum

#: the flows that end in the South: what the record counts as arrivals
ARRIVALS = ("direct_defection", "reach_embassy", "transfer_to_south")

# -- shared terms -------------------------------------------------------------------
# Helpers, and the model's terms (``d.<name>``): all terms but ``attempts`` read no stocks, so they are
# computed ahead of the weeks (see ``refuge.model.definition``), as are the flows marked reads_stocks=False.


def kin_share(s):
    """M8: people in the South per person at risk, the reach of their money and news."""
    return s.total("sk_settled", "sk_reception") / np.maximum(s.total("nk_at_risk"), 1.0)


def open_north(d):
    """M12: the share of traffic across the North's border that its closure lets through."""
    return 1.0 - d.north_border_closure


def open_china(d):
    """M12: the share of movement through China to third countries that China's closure lets through."""
    return 1.0 - d.china_closure


def affordability(d, p):
    """M6: a dearer broker slows escapes."""
    return d.broker_cost ** -p.cost_elasticity


def sex_weights(female_ratio):
    """Weights (female, male) with mean one, so a rate per sponsor keeps its total."""
    return per_stratum(2.0 * female_ratio / (1.0 + female_ratio), 2.0 / (1.0 + female_ratio))


def route(d):
    """How open the broker route is (``route_permeability``) and the ratio of women to men it carries beyond
    the sexes' attempts (``route_female_tilt``): both inferred from the record (see ``drivers.LATENT``)."""
    tilt = np.sqrt(d.route_female_tilt)
    return d.route_permeability * per_stratum(tilt, 1.0 / tilt)


def attempt_rate(s, d, p):
    """Attempts to cross per person at risk before news from the South: M1 push less M12 aid, cut by M2, M3, M10
    deterrence and by the North's closure."""
    push = p.push_floor + d.food_crisis * (1.0 - p.aid_relief * d.aid)
    deterrence = np.exp(
        -p.security_deterrence * d.border_security
        - p.punishment_deterrence * d.punishment
        - p.propaganda_deterrence * d.counter_propaganda
    )
    return p.attempt_base * push * deterrence * open_north(d) * per_stratum(p.female_attempt_ratio, 1.0)


def attempts(s, d, p):
    """Attempts to cross per person at risk, raised by M8 news from the South. Four flows share it."""
    return d.attempt_rate * (1.0 + p.news_effect * kin_share(s))


def caught(s, d, p):
    """M2: share of attempts stopped by the guards."""
    return np.minimum(p.catch_at_border * d.border_security, 0.9)


def shot(s, d, p):
    """M2: share of attempts ending in death under orders to shoot."""
    return np.minimum(p.shot_at_border * d.lethal_force, 0.09)


def passes(s, d, p):
    """M2: share of attempts that get past the guards alive."""
    return 1.0 - d.caught - d.shot


def brokered(s, d, p):
    """M6: crossings a broker takes straight on to a third country, per crossing into hiding (the fast pipeline).

    Brokers reach more people as their network grows, fewer as the price of a
    crossing rises, and none while China stops movement; how open the route is
    from year to year beyond that, and whom it carries, are inferred from the
    record, not written by hand (see :func:`route`). A more open route draws extra crossers rather
    than diverting those who would hide, so the hidden population depends on
    it only through the news that arrivals send home. (Letting it act on the
    road out of hiding too was tried twice: with one year's linearisation the
    hidden stock it drains fed back on later years unseen and the fit got
    worse, 23% against 16%; with that drain in the filter's state, it fitted
    about as well, 17.7% against 18.2%: ``docs/calibration.md`` section 0.)
    """
    return p.pipeline_share * d.broker_network * affordability(d, p) * open_china(d) * route(d)


def rescue_route(s, d, p):
    """M8, M6, M2: how a rescue paid from the South gets through, per sponsor's rate: past the guards and both
    closures, along the broker route, at the broker's price; split between the sexes as attempts are."""
    return (sex_weights(p.female_attempt_ratio) * d.passes * affordability(d, p) * open_north(d) * open_china(d)
            * route(d))


def arrest_rate(s, d, p):
    """M4 enforcement and M12 refugee status: arrests in China per person in hiding, before crowding."""
    protection = 1.0 - d.refugee_status
    return p.arrest_in_china * d.china_enforcement * protection * per_stratum(1.0, p.male_arrest_ratio)


def graduations(s, d, p):
    """M7: people the Hanawon programme's places (stretched by overflow) can graduate a week."""
    return d.reception_capacity * p.reception_overflow / p.hanawon_weeks


# -- hazards --------------------------------------------------------------------------


def cross_to_china(s, d, p):
    """Crossings without a broker's onward route: they join the hidden population in China."""
    return d.attempts * d.passes


def brokered_crossing(s, d, p):
    """M6, M2: the fast pipeline, weeks from the North to a third country; guards, shooting and fees act on it."""
    return d.attempts * d.passes * d.brokered


def caught_at_border(s, d, p):
    return d.attempts * d.caught


def shot_at_border(s, d, p):
    return d.attempts * d.shot


def kin_funded_escape(s, d, p):
    """M8: settled defectors pay brokers to bring relatives out past the guards and through China."""
    return p.kin_rescue * s.total("sk_settled") / np.maximum(s.total("nk_at_risk"), 1.0) * d.rescue_route


def direct_defection(s, d, p):
    """Soldiers and officials who go straight to the South, across the DMZ or by sea."""
    return p.direct_defection * per_stratum(p.female_direct_ratio, 1.0)


def deported_from_china(s, d, p):
    """M4 enforcement, M5 crowding beyond what host communities can hide, M12 refugee status."""
    return d.arrest_rate * (1.0 + (s.total("china_hiding") / p.hiding_capacity) ** 2)


def return_home(s, d, p):
    """M3: those who went for food go back when return goes unpunished."""
    return p.return_home * (1.0 - d.punishment) * open_north(d)


def died_in_china(s, d, p):
    return p.died_in_china


def leave_china(s, d, p):
    """M6: brokers take people on towards a third country or an embassy; M12 refugee status opens the way.
    Women and men leave at their own rates, which the record infers: women trafficked in China may be held
    where they hide, or found sooner by brokers."""
    refugee_route = 1.0 + p.refugee_route * d.refugee_status
    sexes = per_stratum(p.female_onward_ratio, 1.0)
    return p.onward_escape * d.broker_network * affordability(d, p) * refugee_route * open_china(d) * sexes


def reach_third_country(s, d, p):
    return (1.0 - p.embassy_share) / p.transit_weeks * open_china(d)


def reach_embassy(s, d, p):
    return p.embassy_share / p.transit_weeks * open_china(d)


def caught_in_transit(s, d, p):
    """M4: arrests on the road through China."""
    return p.arrest_in_transit * d.china_enforcement * (1.0 - d.refugee_status)


def died_in_transit(s, d, p):
    return p.died_in_transit


def transfer_to_south(s, d, p):
    return 1.0 / p.third_country_weeks


def resettled_abroad(s, d, p):
    """M11: resettlement outside Korea, open from 2006."""
    return p.resettle_abroad * d.resettlement_abroad


def deported_by_third_country(s, d, p):
    return p.deported_by_third_country


def settle(s, d, p):
    """M7: vetting and the Hanawon programme, whose places limit graduations a week."""
    return np.minimum(1.0 / p.reception_weeks, d.graduations / np.maximum(s.total("sk_reception"), 1.0))


def emigrate_onward(s, d, p):
    """M11: settled defectors who move on to the UK, Canada and elsewhere."""
    return p.emigrate_onward


def died_in_south(s, d, p):
    """The settled population dies: ~31,000 of ~34,500 arrivals still lived in the South in 2025."""
    return p.died_in_south


def re_defect(s, d, p):
    """M9: return to the North, lured or coerced."""
    return p.redefect_base * (1.0 + p.redefect_campaign * d.redefection_campaign)


def released(s, d, p):
    """M3: detention lasts months under lenient policy and years under harsh."""
    weeks = p.lenient_detention_weeks * (p.harsh_detention_weeks / p.lenient_detention_weeks) ** d.punishment
    return 1.0 / weeks


def died_in_detention(s, d, p):
    return p.detention_mortality * d.punishment


def newly_at_risk(s, d, p):
    """M12: people reaching the border provinces from the interior (regime collapse), half of each sex."""
    return d.at_risk_inflow / 2.0


FLOWS = (
    Flow("cross_to_china", "nk_at_risk", "china_hiding", cross_to_china, ("M1", "M2", "M3", "M8", "M10", "M12"), "crossed into China"),
    Flow("brokered_crossing", "nk_at_risk", "in_transit", brokered_crossing, ("M6", "M2", "M1"), "crossed with a broker straight onto a route out of China"),
    Flow("caught_at_border", "nk_at_risk", "detained", caught_at_border, ("M2",), "caught by North Korean guards"),
    Flow("shot_at_border", "nk_at_risk", "dead", shot_at_border, ("M2",), "killed at the border"),
    Flow("kin_funded_escape", "nk_at_risk", "in_transit", kin_funded_escape, ("M8", "M6", "M2"), "brought out by brokers paid from the South"),
    Flow("direct_defection", "nk_at_risk", "sk_reception", direct_defection, ("M7",), "defected straight to the South", reads_stocks=False),
    Flow("deported_from_china", "china_hiding", "detained", deported_from_china, ("M4", "M5", "M12"), "arrested in China and sent back"),
    Flow("return_home", "china_hiding", "nk_at_risk", return_home, ("M3", "M1"), "went back to the North", reads_stocks=False),
    Flow("died_in_china", "china_hiding", "dead", died_in_china, ("M4",), "died in hiding", reads_stocks=False),
    Flow("leave_china", "china_hiding", "in_transit", leave_china, ("M6", "M12"), "left China with a broker", reads_stocks=False),
    Flow("reach_third_country", "in_transit", "third_country", reach_third_country, ("M6",), "reached a third country", reads_stocks=False),
    Flow("reach_embassy", "in_transit", "sk_reception", reach_embassy, ("M6",), "reached an embassy", reads_stocks=False),
    Flow("caught_in_transit", "in_transit", "detained", caught_in_transit, ("M4", "M12"), "arrested on the way and sent back", reads_stocks=False),
    Flow("died_in_transit", "in_transit", "dead", died_in_transit, ("M6",), "died on the way", reads_stocks=False),
    Flow("transfer_to_south", "third_country", "sk_reception", transfer_to_south, ("M6", "M7"), "flown to the South", reads_stocks=False),
    Flow("resettled_abroad", "third_country", "elsewhere", resettled_abroad, ("M11", "M12"), "resettled outside Korea", reads_stocks=False),
    Flow("deported_by_third_country", "third_country", "detained", deported_by_third_country, ("M4",), "sent back by a third country", reads_stocks=False),
    Flow("settle", "sk_reception", "sk_settled", settle, ("M7",), "settled in the South"),
    Flow("emigrate_onward", "sk_settled", "elsewhere", emigrate_onward, ("M11",), "left the South for a third country", reads_stocks=False),
    Flow("died_in_south", "sk_settled", "dead", died_in_south, ("M7",), "died in the South", reads_stocks=False),
    Flow("re_defect", "sk_settled", "re_defected", re_defect, ("M9", "M10"), "went back to the North", reads_stocks=False),
    Flow("released", "detained", "nk_at_risk", released, ("M3",), "released after punishment", reads_stocks=False),
    Flow("died_in_detention", "detained", "dead", died_in_detention, ("M3",), "died in detention", reads_stocks=False),
    Flow("newly_at_risk", None, "nk_at_risk", newly_at_risk, ("M12",), "reached the border provinces", reads_stocks=False),
)

#: terms the hazards above share, computed once a week; all but attempts ahead of the weeks
TERMS = (
    Term("attempt_rate", attempt_rate, "attempts to cross per person at risk before news from the South", reads_stocks=False),
    Term("caught", caught, "share of attempts stopped by the guards", reads_stocks=False),
    Term("shot", shot, "share of attempts ending in death", reads_stocks=False),
    Term("passes", passes, "share of attempts that pass the border", reads_stocks=False),
    Term("brokered", brokered, "brokered crossings per crossing into hiding", reads_stocks=False),
    Term("rescue_route", rescue_route, "the way through for a rescue paid from the South, per sponsor's rate", reads_stocks=False),
    Term("arrest_rate", arrest_rate, "arrests in China per person in hiding, before crowding", reads_stocks=False),
    Term("graduations", graduations, "graduations from the Hanawon programme a week", reads_stocks=False),
    Term("attempts", attempts, "attempts to cross per person at risk"),
)
