"""Flee's rules for places, day by day: move chances, attraction scores, spawn weights, closures, routes.

These change only at a few places a day, so they live here in plain NumPy; the
people who act on them move on the engine's backends (:mod:`refuge.backends.travel`). Each rule follows Flee 3.1
(``flee.py``, ``moving.py``, ``scoring.py``, ``spawning.py``):

* a place's move chance comes from its type: conflict zones ``conflict_movechance``,
  camps ``camp_movechance`` (IDP camps ``idpcamp_movechance``), towns ``default_movechance``,
  forwarding hubs and markers 1; a non-camp place whose chance is under 0.005 becomes a camp;
* a place's score is 1, times ``foreign_weight`` abroad, ``camp_weight`` at a camp, and
  ``conflict_weight ** (decay * intensity)`` in conflict, where the decay steps every 30
  days since the conflict started (``conflict_spawn_decay``);
* people spawn at conflict zones with weight population x intensity x decay;
* a route is a path of open links looking ``awareness_level`` places ahead (markers do
  not count), weighted ``(weight_softening + score) / (softening + km) ** distance_power``
  times the capacity multiplier of its end, all to the power ``weight_power``;
* closures take links (of a country pair, of a place, or one link) out of use for
  a period, or turn a camp into a town and back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .reader import FleeScenario


@dataclass
class Places:
    """The state of every place and arc on one day; changed in place by conflicts and closures."""

    scenario: FleeScenario
    camp: np.ndarray
    conflict: np.ndarray  # intensity; -1 for none, as Flee
    since: np.ndarray  # day the conflict started (-1 for conflict zones from day 0)
    population: np.ndarray
    base_chance: np.ndarray  # move chance by type, before population scaling
    arc_open: np.ndarray  # (arcs,) bool
    arc_generation: np.ndarray  # (arcs,) uint8: times each arc was closed (travellers on it turn back)

    @classmethod
    def start(cls, scenario: FleeScenario) -> Places:
        rules = scenario.settings.rules()
        kind = np.array(scenario.kind)
        chance = np.select(
            [kind == "camp", kind == "conflict", (kind == "forward") | (kind == "marker")],
            [np.where(scenario.idp, rules.idpcamp_movechance, rules.camp_movechance), rules.conflict_movechance, 1.0],
            rules.default_movechance,
        )
        camp = (kind == "camp") | (chance < 0.005)
        arcs = len(scenario.network.tail)
        return cls(scenario, camp, np.where(kind == "conflict", 1.0, -1.0), np.full(len(kind), -1),
                   scenario.population.astype(float), chance, np.ones(arcs, dtype=bool),
                   np.zeros(arcs, dtype=np.uint8))  # fmt: skip

    # -- conflicts ------------------------------------------------------------------------------

    def change_conflicts(self, day: int) -> bool:
        """Conflicts starting on ``day`` (Flee's ``add_conflict_zone``) and ending (``remove_conflict_zone``: the
        place becomes a town); whether any did."""
        starting = np.flatnonzero(self.scenario.onsets[day])
        ending = np.flatnonzero(self.scenario.ends[day])
        rules = self.scenario.settings.rules()
        self.conflict[starting] = self.scenario.onsets[day, starting]
        self.base_chance[starting] = rules.conflict_movechance
        self.since[starting] = day
        self.conflict[ending] = -1.0
        self.base_chance[ending] = rules.default_movechance
        return len(starting) + len(ending) > 0

    def decay(self, day: int) -> np.ndarray:
        steps = self.scenario.settings.spawn_rules.conflict_spawn_decay
        if not steps:
            return np.ones(len(self.conflict))
        index = np.minimum((day - self.since) // 30, len(steps) - 1)
        return np.asarray(steps, dtype=float)[np.maximum(index, 0)]

    def spawn_weights(self, day: int) -> np.ndarray:
        """Where people leave from: conflict zones, by population x intensity x decay."""
        return np.where(self.conflict > 0, self.population * self.conflict * self.decay(day), 0.0)

    def scores(self, day: int) -> np.ndarray:
        rules = self.scenario.settings.rules()
        score = np.where(self.scenario.foreign, rules.foreign_weight, 1.0)
        score = score * np.where(self.camp, rules.camp_weight, 1.0)
        conflict = self.conflict > 0
        exponent = np.where(conflict, self.decay(day) * self.conflict, 0.0)
        return score * np.where(conflict, rules.conflict_weight**exponent, 1.0)

    def move_chance(self) -> np.ndarray:
        rules = self.scenario.settings.rules()
        if rules.movechance_pop_scale_factor == 0:
            return self.base_chance.copy()
        size = np.maximum(self.population, self.scenario.capacity) / rules.movechance_pop_base
        return self.base_chance * size**rules.movechance_pop_scale_factor

    # -- closures -------------------------------------------------------------------------------

    def enact_closures(self, day: int) -> bool:
        """Closures starting or ending on ``day`` (Flee's ``enact_border_closures``); whether links changed."""
        changed = False
        for c in self.scenario.closures:
            for opening, when in ((False, c.start), (True, c.end)):
                if day == when:
                    changed |= self._enact(c, opening)
        return changed

    def _enact(self, closure, opening: bool) -> bool:
        net, rules = self.scenario.network, self.scenario.settings.rules()
        if closure.kind in ("camp", "idpcamp"):
            p = net.index(closure.name1)
            self.camp[p], self.conflict[p] = opening, -1.0
            idp = closure.kind == "idpcamp"
            self.base_chance[p] = ((rules.idpcamp_movechance if idp else rules.camp_movechance) if opening
                                   else rules.default_movechance)  # fmt: skip
            return False
        if closure.kind == "remove_forced_redirection":
            return False  # Flee keeps the flag but no rule of its reads it
        country = np.array(self.scenario.country)
        tail, head = net.tail, net.head
        if closure.kind == "country":
            a, b = closure.name1, closure.name2
            arcs = ((country[tail] == a) & (country[head] == b)) | ((country[tail] == b) & (country[head] == a))
        elif closure.kind == "location":
            p = net.index(closure.name1)
            arcs = (tail == p) | (head == p)
        else:
            p, q = net.index(closure.name1), net.index(closure.name2)
            arcs = ((tail == p) & (head == q)) | ((tail == q) & (head == p))
        if opening:
            self.arc_open[arcs] = True
        else:
            closing = arcs & self.arc_open
            self.arc_generation[closing] += 1
            self.arc_open[closing] = False
        return bool(arcs.any())

    # -- routes ---------------------------------------------------------------------------------

    def routes(self, width: int | None = None) -> Routes:
        """Every route from every place over open links, as Flee's ``calculateLinkWeight`` walks them.

        ``width`` pads the routes' places to a fixed number (the most any day's routes hold).
        """
        net = self.scenario.network
        awareness = self.scenario.settings.rules().awareness_level
        marker = np.array(self.scenario.kind) == "marker"
        start, end, km, paths, first = [0], [], [], [], []
        for origin in range(len(net.places)):
            for arc in net.arcs_from(origin):
                if self.arc_open[arc]:
                    self._walk(arc, 0.0, [origin], 1, awareness, marker, end, km, paths)
                    first += [arc] * (len(end) - len(first))
            start.append(len(end))
        path = np.full((max(len(paths), 1), width or max(map(len, paths), default=1)), -1, dtype=np.int16)
        for i, p in enumerate(paths):
            path[i, : len(p)] = p
        return Routes(np.array(start, dtype=np.int32), np.array(end, dtype=np.int32), np.array(km),
                      np.array(first, dtype=np.int32), path)  # fmt: skip

    def _walk(self, arc, prior, visited, step, awareness, marker, end, km, paths):
        net = self.scenario.network
        there = int(net.head[arc])
        distance = prior + float(net.length[arc])
        if marker[there]:
            step -= 1
        else:
            end.append(there)
            km.append(distance)
            paths.append([*visited[1:], there])
        if awareness > step:  # markers do not count, so a chain of them is walked to its end, as Flee does
            for onward in net.arcs_from(there):
                if self.arc_open[onward] and net.head[onward] not in visited:
                    self._walk(onward, distance, [*visited, there], step + 1, awareness, marker, end, km, paths)


@dataclass(frozen=True)
class Routes:
    """Routes from each place ``p`` at ``start[p]:start[p+1]``: their end, length (km), first arc, places in order."""

    start: np.ndarray
    end: np.ndarray
    km: np.ndarray
    first: np.ndarray
    path: np.ndarray  # (routes, most hops) places after the origin, -1 padded

    def arrays(self, scores: np.ndarray, rules) -> tuple:
        """The routes as the kernels take them, with each route's weight on a day (before its end's capacity
        factor and ``weight_power``): ``(start, end, km, first, path, weight)``."""
        weight = (rules.weight_softening + scores[self.end]) / (rules.softening + self.km) ** rules.distance_power
        return self.start, self.end, self.km, self.first, self.path, weight
