"""Backend ``agents``: individual people with attributes, on routes, moved by the model's hazards.

Each ensemble member holds its people as columns (:class:`~refuge.systems.korea.agents.people.People`).
Each week a person leaves their stock with the model's per-capita hazard for
their stock and sex, times a weight for their class (kin in the South and age
at risk in the North, savings in hiding, edge of the route in transit) divided
by the stock's average weight, so the stock's expected outflow is the model's.
With ``heterogeneous=False`` every weight is one and the backend draws from
the same distribution as ``counts``; the tests check that it does.

Exits from transit go by route: the route a person draws on entering transit
(with the chance of each exit flow at that moment) fixes whether the journey
ends in a third country or an embassy; the exit hazard is the sum of the exit
rates, so the aggregate exits keep the model's split while the split holds still.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ....backends.random import decision_id, stochastic_round
from ....errors import RunError
from ....model.definition import Model
from ....model.timeline import Timeline
from ..routes import NO_ROUTES, RouteGraph, load_routes
from .agent_step import (
    CLASSES_AT_RISK,
    PARALLEL_FROM,
    SAVINGS_TIERS,
    add_chunks,
    apply_moves,
    chunk_rows,
    hazard_tables,
    move_people,
    move_people_serial,
    new_people,
)
from .people import People

#: the agents' step is a week: remittances and the legs of a route count weeks
WEEKS_PER_YEAR = 52

#: the North Korean flows that are an attempt to cross, and those that end across the river
ATTEMPTS = ("cross_to_china", "brokered_crossing", "caught_at_border", "shot_at_border", "kin_funded_escape")
CROSSINGS = ("cross_to_china", "brokered_crossing", "kin_funded_escape")


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


class Agents:
    """A configured agents backend, accepted by ``run(..., backend=Agents(...))``.

    ``record=True`` keeps every move of every person; :meth:`take_events` hands
    over those of the last block simulated.
    """

    name = "agents"

    def __init__(self, *, heterogeneous: bool = True, routes: RouteGraph | None = None, record: bool = False,
                 assumptions: Assumptions | None = None):  # fmt: skip
        self.heterogeneous = heterogeneous
        self.routes = routes
        self.record = record
        self.assumptions = assumptions or Assumptions()
        self.last: AgentsBackend | None = None

    def __call__(self, model: Model, keys: np.ndarray, timeline: Timeline | None = None) -> AgentsBackend:
        backend = AgentsBackend(model, keys, timeline, options=self)
        if self.record:  # keep the people (and their moves) only when asked to
            self.last = backend
        return backend

    def take_events(self, first_member: int = 0) -> pd.DataFrame:
        """Moves of the last block as a table, members numbered from ``first_member``; clears them."""
        if self.last is None or not self.record:
            raise RunError("no moves were recorded; build the backend with Agents(record=True) and run it first")
        return self.last.take_events(first_member)


@dataclass
class _Member:
    people: People
    census: np.ndarray
    event: np.ndarray
    settled_last_week: int = 0
    events: list = field(default_factory=list)
    #: the kernel's counts per chunk, kept from week to week (resized when the number of chunks changes)
    moved_by_chunk: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 2), dtype=np.int64))
    census_by_chunk: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 2, 0), dtype=np.int64))


class AgentsBackend:
    """The people of a block of ensemble members and their week; built by :class:`Agents`."""

    name = "agents"
    dtype = np.int64

    def __init__(self, model: Model, keys: np.ndarray, timeline: Timeline | None = None, *,
                 options: Agents | None = None):  # fmt: skip
        options = options or Agents()
        if model.strata.size != 2:
            raise RunError(f"backend agents: the model has {model.strata.size} strata "
                           f"({', '.join(model.strata.names)}); allowed: 2, the sexes its people carry")  # fmt: skip
        self._model = model
        self._keys = keys
        self._timeline = timeline or Timeline()
        if self._timeline.steps_per_year != WEEKS_PER_YEAR:
            raise RunError(f"backend agents: steps_per_year {self._timeline.steps_per_year} is not allowed; "
                           f"allowed: {WEEKS_PER_YEAR}, the weeks its remittances and route legs count")  # fmt: skip
        self._options = options
        self._a = options.assumptions
        special = ("nk_at_risk", "china_hiding", "in_transit")  # stocks whose people differ, where the model has them
        self._at_risk, self._hiding, self._transit = (model.stock_index.get(s, -1) for s in special)
        self.graph = NO_ROUTES if self._transit < 0 else options.routes or load_routes(model=model)
        sources, targets = model.sources, model.targets
        self._targets = targets
        self._sources = sources
        stocks = len(model.stocks)
        widest = max(1, max(int((sources == s).sum()) for s in range(stocks)))
        self._outflows = np.zeros((stocks, widest), dtype=np.int64)
        self._nout = np.zeros(stocks, dtype=np.int64)
        for f in np.flatnonzero(sources >= 0):
            s = sources[f]
            self._outflows[s, self._nout[s]] = f
            self._nout[s] += 1
        self._inflows = np.flatnonzero(sources < 0)
        self._flow_ids = np.array([[decision_id(f"flow:{f.name}/{x}") for x in model.strata.names] for f in model.flows],
                                  dtype=np.uint32)  # fmt: skip
        self._route_exit = np.zeros(len(model.flows), dtype=np.bool_)
        self._route_exit[self.graph.flows] = True
        names = [f.name for f in model.flows]
        self._attempt = np.array([n in ATTEMPTS for n in names])
        self._crossing = np.array([n in CROSSINGS for n in names])
        self._enters_transit = (targets == self._transit) & (sources != self._transit)
        self._settle = np.flatnonzero([n == "settle" for n in names])
        self._plain = np.setdiff1d(np.arange(stocks), [self._at_risk, self._hiding, self._transit])
        self._moved = np.zeros((len(model.flows), 2), dtype=np.int64)
        self._max_legs = self.graph.weeks.shape[1]
        self._classes = max(CLASSES_AT_RISK, SAVINGS_TIERS, len(self.graph.names) * self._max_legs)
        self._weights = self._class_weights(options.heterogeneous)
        self._p_leave = np.zeros((stocks, 2, self._classes))
        self._cum = np.zeros((stocks, 2, self._classes, widest))
        self._route_cum = np.zeros((2, len(self.graph.names)))
        self._year_cache = (None, None)
        self._members = [self._populate(m) for m in range(len(keys))]

    # -- set-up ------------------------------------------------------------------

    def _class_weights(self, heterogeneous: bool) -> np.ndarray:
        """Relative hazard of each (stock, class, outflow); ones when people are alike."""
        weights = np.ones((len(self._model.stocks), self._classes, self._outflows.shape[1]))
        if not heterogeneous:
            return weights
        a = self._a
        names = [f.name for f in self._model.flows]
        for j, f in enumerate(self._outflows[self._at_risk, : self._nout[self._at_risk]] if self._at_risk >= 0 else ()):
            for c in range(CLASSES_AT_RISK):
                kin, young = divmod(c, 2)
                if names[f] == "kin_funded_escape":
                    weights[self._at_risk, c, j] = float(kin)
                elif self._attempt[f]:
                    weights[self._at_risk, c, j] = a.kin_attempt**kin * a.young_attempt**young
        for j, f in enumerate(self._outflows[self._hiding, : self._nout[self._hiding]] if self._hiding >= 0 else ()):
            if self._enters_transit[f]:
                weights[self._hiding, :SAVINGS_TIERS, j] = a.savings_escape
        for j, f in enumerate(self._outflows[self._transit, : self._nout[self._transit]] if self._transit >= 0 else ()):
            if self._targets[f] == self._model.stock_index.get("detained"):
                legs = self.graph.capture.reshape(-1)
                weights[self._transit, : legs.size, j] = np.where(legs > 0, legs, 1.0)
        return weights

    def _populate(self, m: int) -> _Member:
        initial = self._model.initial_state(1, dtype=np.int64)[0]
        people = People(capacity=int(initial.sum()) + 1024)
        census = np.zeros((len(self._model.stocks), 2, self._classes), dtype=np.int64)
        p_kin = self._kin_chance(initial, self._kin_settled(initial))
        weights = self._route_weights(self._timeline.start)
        for s in range(initial.shape[0]):
            for x in range(2):
                self._add(people, census, m, s, x, int(initial[s, x]), p_kin, weights, step=-1)
        return _Member(people, census, np.zeros(0 if not self._options.record else people.capacity, dtype=np.int8))

    def _kin_settled(self, state) -> int:
        settled = self._model.stock_index.get("sk_settled")
        return 0 if settled is None else int(state[settled].sum())

    def _kin_chance(self, state, settlers: int) -> float:
        """M8: each new settler gives ``kin_per_settler`` people at risk kin in the South."""
        if self._at_risk < 0:
            return 0.0
        return min(1.0, settlers * self._a.kin_per_settler / max(int(state[self._at_risk].sum()), 1))

    def _route_weights(self, year: float) -> np.ndarray:
        graph = self.graph
        weights = np.zeros(len(graph.names))
        for f in np.unique(graph.flows):
            weights += graph.route_weights(f, year)
        return weights

    def _add(self, people: People, census, m, s, x, n, p_kin, route_weights, step) -> None:
        if n <= 0:
            return
        start, end = people.add(n)
        k0, k1 = self._keys[m]
        flows = np.unique(self.graph.flows).size
        new_people(people.stock, people.sex, people.age, people.kin, people.savings, people.route, people.crossed,
                   start, end, s, x, p_kin, self._a.mean_savings_usd, self._transit, np.cumsum(route_weights / flows),
                   k0, k1, step)  # fmt: skip
        rows = slice(start, end)
        classes = self._class_of(people, rows, s)
        np.add.at(census[s, x], classes, 1)

    def _class_of(self, people: People, rows: slice, s: int) -> np.ndarray:
        if s == self._at_risk:
            young = (people.age[rows] >= 18) & (people.age[rows] < 40)
            return people.kin[rows].astype(np.int64) * 2 + young
        if s == self._hiding:
            return np.minimum(people.savings[rows] // self._a.savings_tier_usd, SAVINGS_TIERS - 1).astype(np.int64)
        if s == self._transit:
            return people.route[rows].astype(np.int64) * self._max_legs + people.leg[rows]
        return np.zeros(rows.stop - rows.start, dtype=np.int64)

    # -- the week ----------------------------------------------------------------

    def step(self, state: np.ndarray, rates: np.ndarray, step: int, tally: np.ndarray) -> None:
        """Move every person of every member for one week, in place; add what each flow moved to ``tally``.

        1. tabulate this week's hazards per (stock, sex, class) from the model's rates;
        2. move people (:func:`~refuge.systems.korea.agents.agent_step.move_people`);
        3. add the inflows as new people;
        4. update the aggregate state and the tally from what moved.
        """
        year = self._timeline.start + step / WEEKS_PER_YEAR
        if self._year_cache[0] != int(year):
            self._year_cache = (int(year), (self._route_weights(year), self.graph.crossing_fee(year)))
        route_weights, fee = self._year_cache[1]
        new_year = step > 0 and step % WEEKS_PER_YEAR == 0
        for m, member in enumerate(self._members):
            self._step_member(m, member, state[m], rates[m], step, tally[m], route_weights, fee, new_year)

    def _step_member(self, m, member: _Member, state, rates, step, tally, route_weights, fee, new_year) -> None:
        people = member.people
        k0, k1 = self._keys[m]
        hazard_tables(rates, member.census, self._weights, self._outflows, self._nout, self._route_exit,
                      self.graph.flows, route_weights, self._transit, self._max_legs, self._p_leave, self._cum,
                      self._route_cum)  # fmt: skip
        p_kin = self._kin_chance(state, member.settled_last_week)
        rows = chunk_rows(people.count)
        chunks = max(1, -(-people.count // rows))
        if member.moved_by_chunk.shape[0] != chunks:
            member.moved_by_chunk = np.empty((chunks, rates.shape[0], 2), dtype=np.int64)
            member.census_by_chunk = np.empty((chunks, *member.census.shape), dtype=np.int64)
        if self._options.record and member.event.shape[0] < people.count:
            member.event = np.empty(people.capacity, dtype=np.int8)
        kernel = move_people if people.count >= PARALLEL_FROM else move_people_serial
        columns = (*people.columns, member.event)  # stock, sex, age, kin, ..., crossed: COLUMNS' order
        flows = (self._p_leave, self._cum, self._outflows, self._nout, self._targets, self._attempt, self._crossing,
                 self._enters_transit)  # fmt: skip
        kernel(columns, people.count, rows, (k0, k1, step, new_year), flows,
               (self._route_cum, self.graph.legs, self.graph.weeks, self.graph.cost),
               (fee, self._a.remittance_usd_per_week, p_kin),
               (self._at_risk, self._hiding, self._transit, self._max_legs, self._a.savings_tier_usd),
               member.moved_by_chunk, member.census_by_chunk)  # fmt: skip
        moved = self._moved
        add_chunks(member.moved_by_chunk, member.census_by_chunk, moved, member.census)
        if self._options.record:
            self._keep_events(member, step)
        for f in self._inflows:
            for x in range(2):
                n = int(stochastic_round(rates[f, x], k0, k1, step, self._flow_ids[f, x]))
                self._add(people, member.census, m, self._targets[f], x, n, p_kin, route_weights, step)
                moved[f, x] += n
        member.settled_last_week = sum(int(moved[f, 0] + moved[f, 1]) for f in self._settle)
        apply_moves(state, tally, moved, self._sources, self._targets, member.census, self._plain)

    # -- journeys ----------------------------------------------------------------

    def _keep_events(self, member: _Member, step: int) -> None:
        people = member.people
        rows = np.flatnonzero(member.event[: people.count] >= 0)
        if rows.size:
            table = people.table()
            columns = {name: table[name][rows] for name in _EVENT_COLUMNS[:-1]}
            member.events.append({"step": np.full(rows.size, step, np.int16), "person": rows.astype(np.int64),
                                  "flow": member.event[rows].copy(), **columns})  # fmt: skip

    def take_events(self, first_member: int = 0) -> pd.DataFrame:
        """Every recorded move, one row each: who, when, along which flow, and their attributes then."""
        frames = []
        for m, member in enumerate(self._members):
            for part in member.events:
                frames.append(pd.DataFrame({"member": np.full(part["step"].size, first_member + m), **part}))
            member.events = []
        if not frames:
            return pd.DataFrame(columns=["member", "step", "person", "flow", *_EVENT_COLUMNS])
        table = pd.concat(frames, ignore_index=True).sort_values(["member", "person", "step"], kind="stable")
        flows = [f.name for f in self._model.flows]
        table["year"] = self._timeline.start + table["step"] / WEEKS_PER_YEAR
        table["flow"] = pd.Categorical.from_codes(table["flow"], categories=flows)
        table["sex"] = pd.Categorical.from_codes(table["sex"], categories=list(self._model.strata.names))
        routes = [*self.graph.names, "none"]
        table["route"] = pd.Categorical.from_codes(np.minimum(table["route"], len(routes) - 1), categories=routes)
        return table.reset_index(drop=True)

    # -- inspection --------------------------------------------------------------

    def people(self, member: int = 0) -> People:
        """The people of one member (for analysis and tests)."""
        return self._members[member].people

    def census(self, member: int = 0) -> np.ndarray:
        """People per (stock, sex, class) of one member, as the kernel counted them."""
        return self._members[member].census


_EVENT_COLUMNS = ("sex", "age", "kin", "attempts", "route", "savings", "cost", "crossed", "year")
