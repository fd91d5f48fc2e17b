"""Backend ``counts``: whole people, drawn each week; the ensemble is an array axis.

Competing risks out of a stock are split from one total hazard: the number
leaving is ``Binomial(n, 1 - exp(-H))``, and the leavers are shared among the
stock's flows by successive conditional binomials (a multinomial draw).
Inflows are rounded stochastically. One compiled kernel does the draws for
all members, in parallel when there are enough of them to pay for waking the
threads; each member draws from its own counter-based stream
(``refuge.backends.random``), so results do not depend on threads or chunks.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..model.definition import Model
from .compiled import PARALLEL_MEMBERS, parallel_and_serial
from .random import binomial, decision_id, stochastic_round, uniforms


class CountsBackend:
    name = "counts"
    dtype = np.int64

    def __init__(self, model: Model, keys: np.ndarray, timeline=None):
        self._keys = keys
        sources, targets = model.sources, model.targets
        order = np.argsort(sources, kind="stable")
        outflows = order[sources[order] >= 0]
        stocks = np.unique(sources[outflows])
        self._stocks = stocks
        self._starts = np.searchsorted(sources[outflows], stocks, side="left")
        self._ends = np.searchsorted(sources[outflows], stocks, side="right")
        self._outflows = outflows
        self._inflows = order[sources[order] < 0]
        self._sources = sources
        self._targets = targets
        strata = model.strata.names
        self._leave_ids = _ids([f"leave:{model.stocks[s].name}" for s in range(len(model.stocks))], strata)
        self._split_ids = _ids([f"split:{model.stocks[s].name}" for s in range(len(model.stocks))], strata)
        self._flow_ids = _ids([f"flow:{f.name}" for f in model.flows], strata)
        self._moved = None

    def step(self, state: np.ndarray, rates: np.ndarray, step: int, tally: np.ndarray) -> None:
        """Draw one week for every member, in place, adding what each flow moved to ``tally``."""
        if self._moved is None or self._moved.shape != rates.shape:
            self._moved = np.empty(rates.shape, dtype=np.int64)
        kernel = draw_week if state.shape[0] >= PARALLEL_MEMBERS else draw_week_serial
        kernel(
            state, rates, tally, self._moved, self._keys, step, self._stocks, self._starts, self._ends, self._outflows,
            self._inflows, self._sources, self._targets, self._leave_ids, self._split_ids, self._flow_ids,
        )  # fmt: skip


def _ids(names: list[str], strata: tuple[str, ...]) -> np.ndarray:
    return np.array([[decision_id(f"{n}/{x}") for x in strata] for n in names], dtype=np.uint32)


_ONE_BY_ONE = 24


@nb.njit(cache=True, inline="always", error_model="numpy")
def _split_one_by_one(left, rates, moved, m, x, flows, first, last, total, k0, k1, step, decision):
    """Few leavers: each picks a flow with one uniform (a categorical draw per person)."""
    u0 = u1 = u2 = u3 = 0.0
    for person in range(left):
        slot = person % 4
        if slot == 0:
            u0, u1, u2, u3 = uniforms(k0, k1, step, decision, person // 4)
        u = (u0 if slot == 0 else u1 if slot == 1 else u2 if slot == 2 else u3) * total
        j = first
        while j < last - 1 and u > rates[m, flows[j], x]:
            u -= rates[m, flows[j], x]
            j += 1
        moved[m, flows[j], x] += 1


@nb.njit(cache=True, inline="always", error_model="numpy")
def _split_by_binomials(left, rates, moved, m, x, flows, first, last, total, k0, k1, step, decisions):
    """Many leavers, or one flow: successive conditional binomials, the largest flow taking the rest."""
    largest = first
    for j in range(first, last):
        if rates[m, flows[j], x] > rates[m, flows[largest], x]:
            largest = j
    for j in range(first, last):
        if j == largest:
            continue
        if left == 0:
            break
        f = flows[j]
        k = binomial(left, min(rates[m, f, x] / total, 1.0), k0, k1, step, decisions[f, x])
        moved[m, f, x] += k
        left -= k
        total -= rates[m, f, x]
    moved[m, flows[largest], x] += left


def _draw_week(state, rates, tally, moved, keys, step, stocks, starts, ends, outflows, inflows, sources, targets,
               leave_ids, split_ids, flow_ids):  # fmt: skip
    members = state.shape[0]
    flows = rates.shape[1]
    strata = rates.shape[2]
    for m in nb.prange(members):
        k0, k1 = keys[m, 0], keys[m, 1]
        for f in range(flows):
            for x in range(strata):
                moved[m, f, x] = 0
        for i in range(stocks.shape[0]):
            stock = stocks[i]
            for x in range(strata):
                n = state[m, stock, x]
                if n <= 0:
                    continue
                total = 0.0
                for j in range(starts[i], ends[i]):
                    total += rates[m, outflows[j], x]
                if total <= 0.0:
                    continue
                left = binomial(n, -math.expm1(-total), k0, k1, step, leave_ids[stock, x])
                if left == 0:
                    continue
                if left <= _ONE_BY_ONE and ends[i] - starts[i] > 1:
                    _split_one_by_one(left, rates, moved, m, x, outflows, starts[i], ends[i], total,
                                      k0, k1, step, split_ids[stock, x])  # fmt: skip
                else:
                    _split_by_binomials(left, rates, moved, m, x, outflows, starts[i], ends[i], total,
                                        k0, k1, step, flow_ids)  # fmt: skip
        for j in range(inflows.shape[0]):
            f = inflows[j]
            for x in range(strata):
                moved[m, f, x] = stochastic_round(rates[m, f, x], k0, k1, step, flow_ids[f, x])
        for f in range(flows):
            for x in range(strata):
                k = moved[m, f, x]
                if k != 0:
                    if sources[f] >= 0:
                        state[m, sources[f], x] -= k
                    state[m, targets[f], x] += k
                    tally[m, f, x] += k


#: one week of every member on all cores, and on one (see ``PARALLEL_MEMBERS``)
draw_week, draw_week_serial = parallel_and_serial(_draw_week, error_model="numpy")
