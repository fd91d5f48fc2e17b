"""The Korean traits' compiled hooks: what a week does to a North Korean's traits, bound into the engine's step.

The engine's agents backend (:mod:`refuge.backends.agents`) moves people; these hooks
(:class:`~refuge.backends.agents.traits.Traits`) say what class a person's traits put them in,
how a newcomer's traits are drawn and what a week does to them. ``traits`` is the tuple of
columns in the order of :data:`COLUMNS`; ``week`` the hooks' context, a :class:`Week`.

A person's *class* within a stock: kin in the South and age at risk in the North, savings in
hiding, route and leg in transit. Only a person entering transit draws a second block of their
stream, for the route.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np

from ....backends.random import decision_id, uniforms

#: trait -> dtype: 14 bytes a person beside the engine's stock, sex and class (17 in all); hooks read ``traits[AGE]``, ...
COLUMNS: dict[str, type] = {
    "age": np.uint8,  # years
    "kin": np.uint8,  # 1 when relatives are already in the South (M8)
    "attempts": np.uint8,  # attempts to cross so far (saturates at 255)
    "route": np.uint8,  # broker route (stays at the last route taken after the journey; 255: none yet)
    "leg": np.uint8,  # edge on the route
    "leg_weeks": np.uint8,  # weeks on that edge
    "savings": np.uint16,  # dollars at hand (saturates at 65,535)
    "cost": np.uint32,  # dollars paid to brokers so far
    "crossed": np.int16,  # step of the first crossing into China (-1: not in this run)
}
AGE, KIN, ATTEMPTS, ROUTE, LEG, LEG_WEEKS, SAVINGS, COST, CROSSED = range(len(COLUMNS))
NO_ROUTE = 255
#: the at-risk pool is renewed: at this age a person at risk leaves it and a newcomer of AGE_IN takes the place
AGE_OUT = 60
AGE_IN = 16
CHOOSE_ROUTE = decision_id("agents:route")
CLASSES_AT_RISK = 4
SAVINGS_TIERS = 4


class Week(NamedTuple):
    """What the hooks read in a week (:meth:`.agents.KoreanTraits.context` makes it)."""

    at_risk: int  # the stocks whose people differ (-1: the model has none)
    hiding: int
    transit: int
    max_legs: int  # classes in transit are route * max_legs + leg
    tier_usd: int  # classes in hiding are savings tiers of this many dollars
    fee: float  # dollars a broker asks to cross the river this year
    remittance: int  # dollars a week from kin in the South
    p_kin: float  # chance this week that a person at risk without kin gains kin in the South (M8)
    mean_savings: float  # newcomers' mean savings, dollars
    route_cum: np.ndarray  # (sexes, routes) chance of each route, cumulated, for those entering transit this week
    legs: np.ndarray  # (routes,) edges on each route
    leg_weeks: np.ndarray  # (routes, legs) weeks on each edge
    leg_cost: np.ndarray  # (routes, legs) broker fee on entering each edge
    newcomers: np.ndarray  # (routes,) cumulated route shares of people who start in transit
    attempt: np.ndarray  # (flows,) the flow is an attempt to cross
    crossing: np.ndarray  # (flows,) the flow ends across the river, in China
    enters_transit: np.ndarray  # (flows,) the flow starts a journey in transit


@nb.njit(cache=True, inline="always")
def class_of(traits, stock, start, end, week, out):
    """Each person's class in their stock (see the module docstring), rows ``start .. end-1`` into ``out``."""
    age, kin, savings, route, leg = traits[AGE], traits[KIN], traits[SAVINGS], traits[ROUTE], traits[LEG]
    for i in range(start, end):
        s = stock[i]
        c = 0
        if s == week.at_risk:
            c = kin[i] * 2 + (1 if 18 <= age[i] < 40 else 0)
        elif s == week.hiding:
            c = min(savings[i] // week.tier_usd, SAVINGS_TIERS - 1)
        elif s == week.transit:
            c = route[i] * week.max_legs + leg[i]
        out[i - start] = c


@nb.njit(cache=True, error_model="numpy")
def born(traits, start, end, into, x, u, week):
    """Newcomers to stock ``into``: age uniform over 16-59 years, savings exponential with the assumed mean,
    kin in the South with this week's chance, a route drawn from the week's route shares when they start
    in transit; each from one of the four uniforms ``u[i - start]`` of their own stream."""
    age, kin, savings, route, crossed = traits[AGE], traits[KIN], traits[SAVINGS], traits[ROUTE], traits[CROSSED]
    newcomers = week.newcomers
    for i in range(start, end):
        u0, u1, u2, u3 = u[i - start, 0], u[i - start, 1], u[i - start, 2], u[i - start, 3]
        age[i] = 16 + int(u0 * 44)
        kin[i] = 1 if u1 < week.p_kin else 0
        savings[i] = min(int(-week.mean_savings * math.log(u2)), 65535)
        route[i] = NO_ROUTE
        if into == week.transit:
            r = 0
            while r < newcomers.shape[0] - 1 and u3 * newcomers[-1] > newcomers[r]:
                r += 1
            route[i] = r
        crossed[i] = -1


@nb.njit(cache=True, inline="always", error_model="numpy")
def live(traits, stock, sex, start, end, moved, u, p, clock, week):
    """A week of people ``start .. end-1``, each now in ``stock[i]`` after the engine moved them along
    ``moved[i - start]`` (or not, -1); ``clock`` is ``(k0, k1, step, new_year)``.

    1. on an attempt, count it; on crossing into China, note the step and pay the
       river fee; on entering transit, draw a route and pay its first edge;
    2. otherwise, in transit, move to the next edge when this one's weeks are up and pay it;
    3. get money from kin in the South; at risk without kin, gain kin at ``p_kin`` (from the
       stayer's own uniform, ``(u - p) / (1 - p)``);
    4. at a new year, age one year (at risk, someone reaching ``AGE_OUT`` is replaced by a newcomer of
       ``AGE_IN``: the pool of people who may cross ages out and is renewed).
    """
    age, kin, attempts, route, leg, leg_weeks, savings, cost, crossed = traits
    at_risk, hiding, transit, route_cum = week.at_risk, week.hiding, week.transit, week.route_cum
    k0, k1, step, new_year = clock
    for i in range(start, end):
        s = stock[i]
        f = moved[i - start]
        if f >= 0:
            if week.attempt[f] or week.crossing[f] or week.enters_transit[f]:
                if week.attempt[f] and attempts[i] < 255:
                    attempts[i] += 1
                if week.crossing[f]:
                    if crossed[i] < 0:
                        crossed[i] = step
                    _pay(i, week.fee, savings, cost)
                if week.enters_transit[f]:
                    u2 = uniforms(k0, k1, step, CHOOSE_ROUTE, i)[0]
                    r = 0
                    last = route_cum.shape[1] - 1
                    x = sex[i]
                    while r < last and u2 * route_cum[x, last] > route_cum[x, r]:
                        r += 1
                    route[i] = r
                    leg[i] = 0
                    leg_weeks[i] = 0
                    _pay(i, week.leg_cost[r, 0], savings, cost)
        elif s == transit:
            r = route[i]
            if leg_weeks[i] < 255:
                leg_weeks[i] += 1
            if leg[i] + 1 < week.legs[r] and leg_weeks[i] >= week.leg_weeks[r, leg[i]]:
                leg[i] += 1
                leg_weeks[i] = 0
                _pay(i, week.leg_cost[r, leg[i]], savings, cost)
        if s in (at_risk, hiding) and kin[i] == 1:
            savings[i] = min(savings[i] + week.remittance, 65535)
        elif s == at_risk and f < 0 and (u[i - start] - p[i - start]) / (1.0 - p[i - start]) < week.p_kin:
            kin[i] = 1
        if new_year and age[i] < 255:
            age[i] += 1
            if s == at_risk and age[i] >= AGE_OUT:  # ages out; a young person takes the place
                age[i] = AGE_IN
                savings[i] = 0
                attempts[i] = 0
                crossed[i] = -1
                cost[i] = 0  # paid by the one who aged out; the newcomer has paid no broker


@nb.njit(cache=True, inline="always")
def _pay(i, usd, savings, cost):
    """Pay a broker: from savings as far as they go, the rest on credit; the full fee is the cost."""
    fee = np.uint32(usd)
    cost[i] = min(np.uint64(cost[i]) + fee, np.uint64(4294967295))
    savings[i] = savings[i] - min(np.uint32(savings[i]), fee)


@nb.njit(cache=True, error_model="numpy")
def route_split(rates, route_exit, route_flow, route_weight, route_cum):
    """This week's chance of each route for a person entering transit, cumulated, per sex, into ``route_cum``:
    each route's share among the routes ending in its exit flow, times that flow's share of the exits' rates."""
    routes = route_flow.shape[0]
    for x in range(route_cum.shape[0]):
        exits = 0.0
        flows_out = 0
        for f in range(route_exit.shape[0]):
            if route_exit[f]:
                exits += rates[f, x]
                flows_out += 1
        acc = 0.0
        for r in range(routes):
            f = route_flow[r]
            acc += route_weight[r] * (rates[f, x] / exits if exits > 0.0 else 1.0 / flows_out)
            route_cum[x, r] = acc
