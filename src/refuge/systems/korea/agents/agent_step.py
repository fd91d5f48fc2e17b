"""Compiled kernels of the agents backend: one week for every person of one ensemble member.

Each person's draws come from the counter-based stream of (member key, step,
decision, row), so a person's week does not depend on threads or chunks. One
Philox block gives the stay-or-leave uniforms of four rows; the blocks of
``SWEEP`` rows are made in one pass before those rows are walked (a loop the
compiler vectorises, unlike a block made where it is used). A leaver's uniform,
rescaled to (0, 1) below the chance to leave, picks the flow; a stayer's,
rescaled above it, decides whether they gain kin (a rescaled uniform keeps
2^-32 / p of resolution: ample for the weekly chances of this model); only a
person entering transit draws a second block, for the route.

People are split into chunks of rows (:func:`chunk_rows`); each chunk counts
what it moved and who is where, and the integer chunk totals are summed, so
the chunk size changes nothing but speed.

A person's *class* within a stock is what makes their hazards differ from the
stock's average: kin in the South and age at risk in the North, savings in
hiding, route and leg in transit. Hazards per class are tabulated once per
week (:func:`hazard_tables`), so the per-person work is a lookup and a draw.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ....backends.compiled import parallel_and_serial
from ....backends.random import decision_id, fill_uniforms, uniforms

SMALLEST_CHUNK = 4_096
CHUNKS = 64
#: rows whose stay-or-leave uniforms are made in one pass (8 KiB of them; a chunk's worth would leave the cache)
SWEEP = 1_024
#: fewer rows run on one thread: waking the others each week costs more than it saves at 10,000 people
#: on a busy machine (at 100,000 two threads ran 1.1-1.2 times as fast at load 7, threads waiting passively)
PARALLEL_FROM = 1 << 16


def chunk_rows(count: int) -> int:
    """Rows per chunk: about ``CHUNKS`` chunks to share among threads, none under ``SMALLEST_CHUNK`` rows."""
    return max(SMALLEST_CHUNK, -(-count // CHUNKS))


#: the at-risk pool is renewed: at this age a person at risk leaves it and a newcomer of AGE_IN takes the place
AGE_OUT = 60
AGE_IN = 16
MOVE = decision_id("agents:move")
ROUTE = decision_id("agents:route")
BIRTH = decision_id("agents:birth")
CLASSES_AT_RISK = 4
SAVINGS_TIERS = 4


@nb.njit(cache=True, inline="always")
def class_of(i, s, kin, age, savings, route, leg, at_risk, hiding, transit, max_legs, tier_usd):
    """Index of person ``i``'s class in their stock ``s`` (see the module docstring); reads only what it needs."""
    if s == at_risk:
        return kin[i] * 2 + (1 if 18 <= age[i] < 40 else 0)
    if s == hiding:
        return min(savings[i] // tier_usd, SAVINGS_TIERS - 1)
    if s == transit:
        return route[i] * max_legs + leg[i]
    return 0


@nb.njit(cache=True, error_model="numpy")
def hazard_tables(rates, census, weights, outflows, nout, route_exit, route_flow, route_weight, transit, max_legs,
                  p_leave, cum, route_cum):  # fmt: skip
    """This week's chance to leave and the split among flows, per (stock, sex, class) with people in it.

    A flow's hazard for a class is the model's per-capita rate times the class's
    weight over the stock's average weight (from ``census``), so the stock's
    expected total is the model's. Exits from transit go by route: a person's
    route ends in one exit flow, which gets the summed rate of all exits. Where
    every class of a stock weighs one, the average is exactly one and each hazard
    is the model's rate, so the weighing (divisions, the week's cost here) is skipped.
    """
    stocks, _, classes = census.shape
    routes = route_flow.shape[0]
    haz = np.zeros(outflows.shape[1])
    mean_weight = np.ones(outflows.shape[1])
    for s in range(stocks):
        if nout[s] == 0:
            continue
        alike = True
        for c in range(classes):
            for j in range(nout[s]):
                alike = alike and weights[s, c, j] == 1.0
        for x in range(2):
            people = 0.0
            for c in range(classes):
                people += census[s, x, c]
            exits = 0.0
            for j in range(nout[s]):
                f = outflows[s, j]
                if route_exit[f]:
                    exits += rates[f, x]
                if alike:
                    continue
                weighted = 0.0
                for c in range(classes):
                    weighted += census[s, x, c] * weights[s, c, j]
                mean_weight[j] = weighted / people if weighted > 0.0 else -1.0
            for c in range(classes):
                if census[s, x, c] == 0:
                    continue  # nobody in the class: nobody to draw for
                total = 0.0
                for j in range(nout[s]):
                    f = outflows[s, j]
                    if route_exit[f]:
                        r = c // max_legs
                        h = exits if s == transit and r < routes and route_flow[r] == f else 0.0
                    elif alike:
                        h = rates[f, x]
                    elif mean_weight[j] > 0.0:
                        h = rates[f, x] * weights[s, c, j] / mean_weight[j]
                    else:
                        h = rates[f, x]
                    haz[j] = h
                    total += h
                p_leave[s, x, c] = -math.expm1(-total)
                acc = 0.0
                for j in range(nout[s]):
                    acc += haz[j] / total if total > 0.0 else 0.0
                    cum[s, x, c, j] = acc
    for x in range(2):
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


def _move_people(people, count, rows, week, flows, routes, money, places, tally, census):
    """One week for rows ``0 .. count-1`` in chunks of ``rows``: leave or stay, pay, move on, age, gain kin.

    The arguments come in groups: ``people`` the columns of :class:`.people.People` and the events
    recorded; ``week`` ``(k0, k1, step, new_year)``; ``flows`` this week's chances and splits and what
    each flow is (:func:`hazard_tables`); ``routes`` the route split and the legs' weeks and costs;
    ``money`` ``(river fee, remittance, chance to gain kin)``; ``places`` the special stocks and the
    class limits (:func:`class_of`); ``tally`` and ``census`` per chunk, filled here.

    Order for each person:

    1. leave their stock with this week's chance for their stock, sex and class,
       along a flow drawn from the split;
    2. on an attempt, count it; on crossing into China, note the step and pay the
       river fee; on entering transit, draw a route and pay its first edge;
    3. otherwise, in transit, move to the next edge when this one's weeks are up
       and pay it;
    4. get money from kin in the South; at risk without kin, gain kin at ``p_kin``;
    5. at a new year, age one year (at risk, someone reaching ``AGE_OUT`` is replaced by a newcomer of
       ``AGE_IN``: the pool of people who may cross ages out and is renewed); count the person in
       ``census`` if their stock has classes
       (the caller fills the other stocks' single class from the aggregate state).

    A model whose people are alike (none of the Korean stocks with classes, no attempts) takes
    :func:`_walk_alike`, the same steps without the tests that do nothing there.
    """
    stock, sex, age, kin, attempts, route, leg, leg_weeks, savings, cost, crossed, event = people
    k0, k1, step, new_year = week
    p_leave, cum, outflows, nout, targets, attempt, crossing, enters_transit = flows
    route_cum, legs, leg_length, leg_cost = routes
    fee, remittance, p_kin = money
    at_risk, hiding, transit, max_legs, tier_usd = places
    recording = event.shape[0] > 0
    alike = at_risk < 0 and hiding < 0 and transit < 0 and not (attempt.any() or crossing.any())
    chunks = (count + rows - 1) // rows
    for chunk in nb.prange(chunks):
        for f in range(tally.shape[1]):
            tally[chunk, f, 0] = 0
            tally[chunk, f, 1] = 0
        census[chunk] = 0
        start, end = chunk * rows, min(count, (chunk + 1) * rows)
        u = np.empty(SWEEP)
        leavers = np.empty(SWEEP, dtype=np.int64)
        for first in range(start & ~3, end, SWEEP):  # rows in sweeps whose uniforms stay in the first-level cache
            lo, hi = max(first, start), min(end, first + SWEEP)
            fill_uniforms(u[: (hi - first + 3) & ~3], k0, k1, step, MOVE, first >> 2)
            if alike:
                _walk_alike(lo, hi, u[lo - first :], leavers, stock, sex, age, event, p_leave, cum, outflows, nout,
                            targets, tally[chunk], recording, new_year)  # fmt: skip
            else:
                for i in range(lo, hi):
                    s = stock[i]
                    x = sex[i]
                    moved = -1
                    if nout[s] > 0:
                        c = class_of(i, s, kin, age, savings, route, leg, at_risk, hiding, transit, max_legs, tier_usd)
                        u0 = u[i - first]
                        p = p_leave[s, x, c]
                        if u0 < p:
                            u1 = u0 / p
                            j = 0
                            for k in range(nout[s] - 1):  # the first j with u1 <= cum[j], without a branch to guess
                                j += u1 > cum[s, x, c, k]
                            moved = outflows[s, j]
                        elif s == transit:
                            r = route[i]
                            if leg_weeks[i] < 255:
                                leg_weeks[i] += 1
                            if leg[i] + 1 < legs[r] and leg_weeks[i] >= leg_length[r, leg[i]]:
                                leg[i] += 1
                                leg_weeks[i] = 0
                                _pay(i, leg_cost[r, leg[i]], savings, cost)
                        if moved >= 0:
                            stock[i] = targets[moved]
                            tally[chunk, moved, x] += 1
                            if attempt[moved] or crossing[moved] or enters_transit[moved]:
                                if attempt[moved] and attempts[i] < 255:
                                    attempts[i] += 1
                                if crossing[moved]:
                                    if crossed[i] < 0:
                                        crossed[i] = step
                                    _pay(i, fee, savings, cost)
                                if enters_transit[moved]:
                                    u2 = uniforms(k0, k1, step, ROUTE, i)[0]
                                    r = 0
                                    last = route_cum.shape[1] - 1
                                    while r < last and u2 * route_cum[x, last] > route_cum[x, r]:
                                        r += 1
                                    route[i] = r
                                    leg[i] = 0
                                    leg_weeks[i] = 0
                                    _pay(i, leg_cost[r, 0], savings, cost)
                        s = stock[i]
                        if s in (at_risk, hiding) and kin[i] == 1:
                            savings[i] = min(savings[i] + remittance, 65535)
                        elif s == at_risk and moved < 0 and (u0 - p) / (1.0 - p) < p_kin:
                            kin[i] = 1
                    if recording:
                        event[i] = moved
                    if new_year and age[i] < 255:
                        age[i] += 1
                        if stock[i] == at_risk and age[i] >= AGE_OUT:  # ages out; a young person takes the place
                            age[i] = AGE_IN
                            savings[i] = 0
                            attempts[i] = 0
                            crossed[i] = -1
                    s = stock[i]
                    if s in (at_risk, hiding, transit):
                        c = class_of(i, s, kin, age, savings, route, leg, at_risk, hiding, transit, max_legs, tier_usd)
                        census[chunk, s, x, c] += 1


@nb.njit(cache=True, inline="always", error_model="numpy")
def _walk_alike(start, end, u, leavers, stock, sex, age, event, p_leave, cum, outflows, nout, targets, tally,
                recording, new_year):  # fmt: skip
    """Rows ``start .. end-1`` (their uniforms ``u`` from row ``start``) of a model whose people are alike:
    steps 1 and 5 of :func:`_move_people` only.

    Without the Korean system's stocks and attempts (a model of another system), every other step does
    nothing, so the rows are taken in two passes with the same moves: the first lists the leavers
    (in ``leavers``, without a branch on the draw, which no processor guesses) and ages everyone, the
    second moves the leavers.
    """
    n = 0
    for i in range(start, end):
        s = stock[i]
        leavers[n] = i
        n += u[i - start] < p_leave[s, sex[i], 0]  # zero for a stock without outflows: nobody leaves it
        if recording:
            event[i] = -1
        if new_year and age[i] < 255:
            age[i] += 1
    for k in range(n):
        i = leavers[k]
        s = stock[i]
        x = sex[i]
        u1 = u[i - start] / p_leave[s, x, 0]
        j = 0
        for c in range(nout[s] - 1):
            j += u1 > cum[s, x, 0, c]
        moved = outflows[s, j]
        stock[i] = targets[moved]
        tally[moved, x] += 1
        if recording:
            event[i] = moved


#: one week of people on all cores, and on one (see ``PARALLEL_FROM``)
move_people, move_people_serial = parallel_and_serial(_move_people, error_model="numpy")


@nb.njit(cache=True)
def add_chunks(moved_by_chunk, census_by_chunk, moved, census):
    """Sum the chunks' counts into ``moved`` and ``census``, in place (no arrays made each week)."""
    moved[:] = 0
    census[:] = 0
    flat = census.reshape(-1)
    by_chunk = census_by_chunk.reshape(census_by_chunk.shape[0], -1)
    for chunk in range(moved_by_chunk.shape[0]):
        for f in range(moved.shape[0]):
            moved[f, 0] += moved_by_chunk[chunk, f, 0]
            moved[f, 1] += moved_by_chunk[chunk, f, 1]
        for k in range(flat.shape[0]):
            flat[k] += by_chunk[chunk, k]


@nb.njit(cache=True)
def apply_moves(state, tally, moved, sources, targets, census, plain):
    """Move the week's counts ``(flows, 2)`` between stocks of the aggregate state; add them to ``tally``.

    Stocks whose people are alike (``plain``) have one class, counted from the state.
    """
    for f in range(moved.shape[0]):
        for x in range(2):
            k = moved[f, x]
            if k != 0:
                if sources[f] >= 0:
                    state[sources[f], x] -= k
                state[targets[f], x] += k
                tally[f, x] += k
    for s in plain:
        for x in range(2):
            census[s, x, 0] = state[s, x]


@nb.njit(cache=True, inline="always")
def _pay(i, usd, savings, cost):
    """Pay a broker: from savings as far as they go, the rest on credit; the full fee is the cost."""
    fee = np.uint32(usd)
    cost[i] = min(np.uint64(cost[i]) + fee, np.uint64(4294967295))
    savings[i] = savings[i] - min(np.uint32(savings[i]), fee)


@nb.njit(cache=True, error_model="numpy")
def new_people(stock, sex, age, kin, savings, route, crossed, start, end, into, x, p_kin, mean_savings, transit,
               route_cum, k0, k1, step):  # fmt: skip
    """Fill rows ``start .. end-1`` with people arriving in stock ``into``, sex ``x``.

    Age is uniform over 16-59 years, savings exponential with mean ``mean_savings``,
    kin in the South with chance ``p_kin``, a route drawn from ``route_cum`` when they
    start in transit; each from the row's own stream.
    """
    for i in range(start, end):
        u0, u1, u2, u3 = uniforms(k0, k1, step, BIRTH, i)
        stock[i] = into
        sex[i] = x
        age[i] = 16 + int(u0 * 44)
        kin[i] = 1 if u1 < p_kin else 0
        savings[i] = min(int(-mean_savings * math.log(u2)), 65535)
        route[i] = 255
        if into == transit:
            r = 0
            while r < route_cum.shape[0] - 1 and u3 * route_cum[-1] > route_cum[r]:
                r += 1
            route[i] = r
        crossed[i] = -1
