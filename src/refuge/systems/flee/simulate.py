"""A Flee scenario run day by day, in the order of Flee's ``run.py``.

Each day ``t``:

1. conflicts starting on ``t`` start (and the spawn weights are brought up to date);
2. the day's new people appear at conflict zones, drawn with the spawn weights;
3. closures starting or ending on ``t`` take effect;
4. people move, on the engine's backend (:mod:`refuge.backends.travel`), with the day's move chances,
   scores and route weights;
5. the people at each place are counted.

How many people appear each day is fixed by the data, not drawn: as Flee at its
github HEAD (whose ``out.csv`` the reference holds), the day's rise in the scored
camps' UNHCR counts, less any "refugee debt" left by earlier falls; on day 0 the
camps' own counts are placed in the camps instead (``insert_day0``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...backends.random import member_keys
from ...backends.travel import travellers
from ...errors import DataError, RunError
from .reader import FleeScenario
from .rules import Places


@dataclass(frozen=True)
class Schedule:
    """People appearing each day, the running UNHCR count, and the refugee debt (Flee's columns)."""

    new: np.ndarray
    raw: np.ndarray
    debt: np.ndarray


def schedule(scenario: FleeScenario) -> Schedule:
    """The daily inflow the data fix (see the module's docstring)."""
    in_camps = scenario.camp_data.sum(axis=1)
    days = scenario.days
    new, raw, debt = np.zeros(days, np.int64), np.zeros(days, np.int64), np.zeros(days, np.int64)
    owed = 0
    raw[0] = scenario.total[0] + in_camps[0]
    new[0] = 0 if scenario.settings.spawn_rules.insert_day0 else in_camps[0]
    for t in range(1, days):
        rise = int(in_camps[t] - in_camps[t - 1])
        raw[t] = raw[t - 1] + rise
        arriving = rise - owed
        if arriving < 0:
            owed, arriving = -arriving, 0
        elif owed > 0:
            owed = 0
        new[t], debt[t] = arriving, owed
    return Schedule(new, raw, debt)


@dataclass(frozen=True)
class FleeRun:
    """People at each place at the end of each day, and the totals Flee reports."""

    scenario: FleeScenario
    backend: str
    seed: int
    places: np.ndarray  # (days, places) people at each place
    travelling: np.ndarray  # (days,) people on links
    schedule: Schedule
    agent_steps: int
    bytes_per_person: int

    @property
    def camps(self) -> np.ndarray:
        """(days, scored camps) people in each scored camp."""
        return self.places[:, list(self.scenario.camps)]

    @property
    def total(self) -> np.ndarray:
        return self.places.sum(axis=1) + self.travelling


def simulate(scenario: FleeScenario, *, seed: int = 0, backend: str = "agents",
             running: Callable[[], object] | None = None) -> FleeRun:  # fmt: skip
    """Run ``scenario`` with Flee's rules on ``backend``; the same seed gives the same numbers.

    ``running`` is called once, after the first day: the compiled kernels are loaded by then, and
    the days to come leave the GIL free for other threads most of the time.
    """
    plan = schedule(scenario)
    rules = scenario.settings.rules()
    places = Places.start(scenario)
    net = scenario.network
    key = member_keys(seed, 1)[0]
    initial = np.zeros(len(net.places), np.int64)
    initial[list(scenario.camps)] = scenario.camp_data[0]
    if backend in ("counts", "mean") and (rules.awareness_level != 1 or "marker" in scenario.kind):
        raise RunError("the counts and mean backends need awareness_level 1 and no marker locations (routes one "
                       "link long); use --backend agents")  # fmt: skip
    movers = travellers(backend, initial, int(plan.new.sum()), places.routes().path.shape[1], key)
    arcs = (net.start, net.order, net.tail, net.head, net.length, places.arc_generation, places.arc_open)
    numbers = np.array([rules.weight_power, rules.capacity_buffer, rules.max_move_speed])
    capacity = scenario.capacity.astype(float)
    routes = places.routes(movers.width)
    weights = places.spawn_weights(0)
    at_places = np.zeros((scenario.days, len(net.places)), movers.count.dtype)
    travelling = np.zeros(scenario.days, movers.count.dtype)
    steps = 0
    for t in range(scenario.days):
        if places.change_conflicts(t):
            weights = places.spawn_weights(t)
        if plan.new[t] > 0:
            if not weights.sum() > 0:
                raise DataError(f"{scenario.folder}: on day {t}, {plan.new[t]} people must leave but no conflict "
                                "zone with a population is in conflict (locations.csv, conflicts.csv)")  # fmt: skip
            came = movers.spawn(t, int(plan.new[t]), weights)
            if scenario.settings.spawn_rules.take_from_population:
                _take_from_population(scenario, places, came, t)
        if places.enact_closures(t):
            routes = places.routes(movers.width)
        weights = places.spawn_weights(t)
        place = (places.move_chance(), places.scores(t), capacity, places.camp, movers.count)
        movers.step_day(t, place, arcs, routes.arrays(place[1], rules), numbers)
        at_places[t] = movers.count
        travelling[t] = movers.travelling
        steps += movers.people
        if t == 0 and running is not None:
            running()
    return FleeRun(scenario, backend, seed, at_places, travelling, plan, steps, movers.bytes_per_person)


def _take_from_population(scenario: FleeScenario, places: Places, came: np.ndarray, day: int) -> None:
    """The people who left taken from where they lived; more than live there is refused, as Flee refuses it."""
    left = places.population - np.where(places.conflict > 0, came, 0)
    short = np.flatnonzero(left < -1e-6)  # the mean backend's expected people: a rounding error is not short
    if len(short):
        p = short[0]
        raise DataError(f"{scenario.folder / 'input_csv' / 'locations.csv'}, field population: on day {day}, "
                        f"{int(came[p]):,} people leave {scenario.network.places[p][:40]!r}, where "
                        f"{int(places.population[p]):,} are left (after hasten); with take_from_population the "
                        "conflict zones must hold everyone who leaves them")  # fmt: skip
    places.population = left
