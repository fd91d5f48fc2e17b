"""The Korean traits: what a North Korean carries beyond stock and sex, declared for the engine's agents backend.

The engine's ``agents`` (:mod:`refuge.backends.agents`) moves people one by one from the model's
hazards; this module declares the Korean :class:`~refuge.backends.agents.traits.Traits`: the
columns (age, kin in the South, savings, attempts, route and leg, cost paid, week of first
crossing), the class a person's traits put them in (kin and age at risk, savings in hiding,
route edge in transit), the weight of each flow per class, and the hooks of
:mod:`.agent_step` (remittances, kin gained when people settle, ageing, route legs). A person's
hazard is the model's rate for their stock and sex times their class's weight over the stock's
average weight, so the stock's expected outflow is the model's. With ``heterogeneous=False``
every weight is one and the backend draws from the same distribution as ``counts``; the
tests check that it does.

Exits from transit go by route: the route a person draws on entering transit
(with the chance of each exit flow at that moment) fixes whether the journey
ends in a third country or an embassy (a destined flow); the exit hazard is the sum of
the exit rates, so the aggregate exits keep the model's split while the split holds still.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ....backends import agents as engine
from ....backends.agents import Traits
from ....errors import RunError
from ....model.definition import Model
from ....model.timeline import Timeline
from ..routes import NO_ROUTES, RouteGraph, load_routes
from . import agent_step
from .agent_step import CLASSES_AT_RISK, COLUMNS, SAVINGS_TIERS, Week, route_split

#: the agents' step is a week: remittances and the legs of a route count weeks
WEEKS_PER_YEAR = 52

#: the North Korean flows that are an attempt to cross, and those that end across the river
ATTEMPTS = ("cross_to_china", "brokered_crossing", "caught_at_border", "shot_at_border", "kin_funded_escape")
CROSSINGS = ("cross_to_china", "brokered_crossing", "kin_funded_escape")
#: what a recorded move keeps of a person's traits (beside their sex)
RECORDED = ("age", "kin", "attempts", "route", "savings", "cost", "crossed")


@dataclass(frozen=True)
class Assumptions:
    """Individual-level figures the evidence does not give; guesses to be calibrated, kept in one place.

    The weights are relative hazards within a stock; the backend rescales them to
    average one over the people in the stock, so they move *who* leaves, not how many.
    """

    kin_attempt: float = 2.0  # M8: money and news from kin in the South raise the will and means to leave
    young_attempt: float = 1.5  # adults of 18-39 try more often than older people
    savings_escape: tuple[float, ...] = (0.25, 1.0, 2.0, 4.0)  # M6: brokers go with those who can pay
    savings_tier_usd: int = 1_000
    kin_per_settler: float = 3.0  # relatives at risk who gain kin in the South when one person settles
    remittance_usd_per_week: int = 20  # about $1,000 a year sent home
    mean_savings_usd: float = 100.0


class Agents(engine.Agents):
    """The engine's agents with the Korean traits, accepted by ``run(..., backend=Agents(...))``.

    ``record=True`` keeps every move of every person; :meth:`take_events` hands
    over those of the last block simulated.
    """

    def __init__(self, *, heterogeneous: bool = True, routes: RouteGraph | None = None, record: bool = False,
                 assumptions: Assumptions | None = None):  # fmt: skip
        self.heterogeneous = heterogeneous
        self.routes = routes
        self.assumptions = assumptions or Assumptions()
        super().__init__(self._traits, record=record)

    def _traits(self, model: Model, timeline: Timeline) -> KoreanTraits:
        return KoreanTraits(model, timeline, heterogeneous=self.heterogeneous, routes=self.routes,
                            assumptions=self.assumptions)  # fmt: skip


class KoreanTraits(Traits):
    """The Korean traits of one model and timeline (see the module docstring)."""

    def __init__(self, model: Model, timeline: Timeline, *, heterogeneous: bool = True,
                 routes: RouteGraph | None = None, assumptions: Assumptions | None = None):  # fmt: skip
        if model.strata.size != 2:
            raise RunError(f"backend agents: the model has {model.strata.size} strata "
                           f"({', '.join(model.strata.names)}); allowed: 2, the sexes its people carry")  # fmt: skip
        if timeline.steps_per_year != WEEKS_PER_YEAR:
            raise RunError(f"backend agents: steps_per_year {timeline.steps_per_year} is not allowed; "
                           f"allowed: {WEEKS_PER_YEAR}, the weeks its remittances and route legs count")  # fmt: skip
        self.model, self.timeline = model, timeline
        self.assumptions = a = assumptions or Assumptions()
        special = ("nk_at_risk", "china_hiding", "in_transit")  # stocks whose people differ, where the model has them
        self.at_risk, self.hiding, self.transit = (model.stock_index.get(s, -1) for s in special)
        self.graph = graph = NO_ROUTES if self.transit < 0 else routes or load_routes(model=model)
        names = [f.name for f in model.flows]
        sources, targets = model.sources, model.targets
        self.max_legs = graph.weeks.shape[1]
        classes = max(CLASSES_AT_RISK, SAVINGS_TIERS, len(graph.names) * self.max_legs)
        self.route_exit = np.zeros(len(model.flows), dtype=np.bool_)
        self.route_exit[graph.flows] = True
        flows = (np.array([n in ATTEMPTS for n in names]), np.array([n in CROSSINGS for n in names]),
                 (targets == self.transit) & (sources != self.transit))  # fmt: skip
        self._settle = np.flatnonzero([n == "settle" for n in names])
        self._places = (self.at_risk, self.hiding, self.transit, self.max_legs, a.savings_tier_usd)
        self._flows = flows
        self._route_cum = np.zeros((2, len(graph.names)))
        self._year = (None, None)
        super().__init__(columns=dict(COLUMNS), classes=classes, weights=self._weights(heterogeneous, classes),
                         destinations=self._destinations(classes), class_of=agent_step.class_of,
                         born=agent_step.born, live=agent_step.live, recorded=RECORDED)  # fmt: skip

    # -- the declaration ---------------------------------------------------------

    def _weights(self, heterogeneous: bool, classes: int) -> np.ndarray:
        """Relative hazard of each (flow, class); ones when people are alike."""
        model, a = self.model, self.assumptions
        weights = np.ones((len(model.flows), classes))
        if not heterogeneous:
            return weights
        sources, targets = model.sources, model.targets
        attempt, _, enters_transit = self._flows
        for f, flow in enumerate(model.flows):
            if self.at_risk >= 0 and sources[f] == self.at_risk:
                for c in range(CLASSES_AT_RISK):
                    kin, young = divmod(c, 2)
                    if flow.name == "kin_funded_escape":
                        weights[f, c] = float(kin)
                    elif attempt[f]:
                        weights[f, c] = a.kin_attempt**kin * a.young_attempt**young
            if self.hiding >= 0 and sources[f] == self.hiding and enters_transit[f]:
                weights[f, :SAVINGS_TIERS] = a.savings_escape
            if self.transit >= 0 and sources[f] == self.transit and targets[f] == model.stock_index.get("detained"):
                legs = self.graph.capture.reshape(-1)
                weights[f, : legs.size] = np.where(legs > 0, legs, 1.0)
        return weights

    def _destinations(self, classes: int) -> np.ndarray:
        """In transit, the route (class // legs) fixes the exit flow: the one the route ends in."""
        out = np.full((len(self.model.stocks), classes), -1, dtype=np.int64)
        if self.transit >= 0:
            routes = np.arange(classes) // self.max_legs
            on_route = routes < len(self.graph.names)
            out[self.transit, on_route] = self.graph.flows[routes[on_route]]
        return out

    # -- each week ---------------------------------------------------------------

    def context(self, state, rates, step, moved) -> Week:
        """The hooks' values this week (:class:`.agent_step.Week`): the route split for those entering transit
        comes from the exit flows' rates, the chance to gain kin from the people who settled last week."""
        a, graph = self.assumptions, self.graph
        year = self.timeline.start + max(step, 0) / WEEKS_PER_YEAR
        if self._year[0] != int(year) or step < 0:
            shares = self._route_weights(self.timeline.start if step < 0 else year)
            flows = np.unique(graph.flows).size
            self._year = (int(year), (shares, graph.crossing_fee(year), np.cumsum(shares / flows)))
        shares, fee, newcomers = self._year[1]
        settlers = self._settled(state) if moved is None else int(moved[self._settle].sum())
        if rates is None:
            self._route_cum[:] = 0.0
        else:
            route_split(rates, self.route_exit, graph.flows, shares, self._route_cum)
        money = (float(fee), a.remittance_usd_per_week, self._kin_chance(state, settlers), a.mean_savings_usd)
        return Week(*self._places, *money, self._route_cum, graph.legs, graph.weeks, graph.cost, newcomers, *self._flows)

    def _settled(self, state) -> int:
        settled = self.model.stock_index.get("sk_settled")
        return 0 if settled is None else int(state[settled].sum())

    def _kin_chance(self, state, settlers: int) -> float:
        """M8: each new settler gives ``kin_per_settler`` people at risk kin in the South."""
        if self.at_risk < 0:
            return 0.0
        return min(1.0, settlers * self.assumptions.kin_per_settler / max(int(state[self.at_risk].sum()), 1))

    def _route_weights(self, year: float) -> np.ndarray:
        graph = self.graph
        weights = np.zeros(len(graph.names))
        for f in np.unique(graph.flows):
            weights += graph.route_weights(f, year)
        return weights

    def label(self, table):
        """Route numbers as route names (``none`` before a first route), and each person a number of their own."""
        routes = [*self.graph.names, "none"]
        table["route"] = pd.Categorical.from_codes(np.minimum(table["route"], len(routes) - 1), categories=routes)
        table["person"] = people(table)
        return table


def people(table: pd.DataFrame) -> np.ndarray:
    """A number for each person within their member, from moves sorted by member, row (``person``) and step.

    A row of the people table holds one person, except in the pool at risk:
    there someone who reaches :data:`~.agent_step.AGE_OUT` leaves it and a
    newcomer of :data:`~.agent_step.AGE_IN` takes their row. A person's year of
    birth (year less age) never changes, so a later one in the same row is the
    newcomer, numbered ``row + k * 10**d`` (the ``k``-th newcomer of the row, ``d``
    the digits of the member's largest row).
    """
    row, member = table["person"].to_numpy(np.int64), table["member"].to_numpy()
    if not row.size:
        return row
    birth = np.floor(table["year"].to_numpy()) - table["age"].to_numpy(np.int64)
    same = np.r_[False, (member[1:] == member[:-1]) & (row[1:] == row[:-1])]
    renewed = same & (birth > np.r_[np.inf, birth[:-1]])
    newcomer = pd.Series(renewed).groupby([member, row]).cumsum().to_numpy()
    digits = pd.Series(row).groupby(member).max().astype(str).str.len()  # one string a member
    return row + newcomer * 10 ** pd.Series(member).map(digits).to_numpy(np.int64)
