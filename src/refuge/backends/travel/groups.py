"""The ``counts`` and ``mean`` backends' travellers: groups of people, for routes one link long.

Where every route is one link, taken at once, people at a place are alike to the
rules; people on a link differ only in how many days they have been on it and
whether it closed under them. The day then moves groups, in the order of
:mod:`refuge.backends.travel`:

1. at each place in turn, movers are drawn from its people with its move chance
   and split over its routes by weight (the counts as they stand when the place's
   turn comes); those bound for a camp nearly full stay;
2. every group on a link goes a day's distance further; who arrives with distance
   left decides again at once, and may set out with a full day's distance on the
   new link.

``counts`` draws whole people (exact binomials from counter-based streams, one
counter per draw of the day, in a fixed order); ``mean`` takes expected values.
They agree with ``agents`` in distribution where the person-by-person order does
not matter: where no camp is near its capacity (the agents backend lets each
person see the counts the one before left).
"""

from __future__ import annotations

import heapq
from collections import defaultdict

import numpy as np

from ..random import binomial, decision_id
from .people import capacity_factor

#: the streams of the day's draws
SPAWN, MOVE = "travel.spawn", "travel.move"


class Expected:
    """The ``mean`` backend's draws: expected values."""

    def binomial(self, n: float, p: float) -> float:
        return n * p


class Exact:
    """The ``counts`` backend's draws: exact binomials, each from its own counter of the day."""

    def __init__(self, key: np.ndarray, day: int, decision: str):
        self.k0, self.k1, self.day, self.base, self.drawn = int(key[0]), int(key[1]), day, decision_id(decision), 0

    def binomial(self, n: float, p: float) -> float:
        self.drawn += 1
        return float(binomial(round(n), min(max(p, 0.0), 1.0), self.k0, self.k1, self.day,
                              (self.base + self.drawn) % 2**32))  # fmt: skip


class Groups:
    """People at places (``count``) and on links, by (arc, days on it, the arc's closure count at entry)."""

    def __init__(self, count: np.ndarray):
        self.count = count.astype(float)
        self.on_links: dict[tuple[int, int, int], float] = defaultdict(float)

    @property
    def travelling(self) -> float:
        return sum(self.on_links.values())

    def spawn(self, new: int, weights: np.ndarray, draws) -> np.ndarray:
        """``new`` people spread over places by ``weights``; how many came to each place."""
        share = weights / weights.sum()
        came, left = np.zeros(len(weights)), float(new)
        for p in np.flatnonzero(share):
            rest = share[p:].sum()
            came[p] = draws.binomial(left, min(share[p] / rest, 1.0))
            left -= came[p]
        self.count += came
        return came

    def step_day(self, draws, place: tuple, arcs: tuple, routes: tuple, rules: np.ndarray) -> None:
        """One day's travel for groups (the module's docstring gives the order)."""
        chance = place[0]
        leaving = []
        for p in range(len(self.count)):
            movers = draws.binomial(self.count[p], chance[p])
            if movers > 0:
                leaving += self._set_out(p, movers, draws, place, arcs, routes, rules)
        for arc, amount in leaving:
            self.on_links[(arc, 0, int(arcs[5][arc]))] += amount
        groups = list(self.on_links.items())
        self.on_links.clear()
        deciding: dict[tuple[float, int], float] = defaultdict(float)  # arrived with distance left: (km, place)
        queue: list[tuple[float, int]] = []  # the same keys, nearest first
        for (arc, days, generation), amount in groups:
            self._travel(arc, days, generation, amount, 0.0, arcs, rules, deciding, queue)
        while queue:  # by distance moved, so groups that reach a place alike decide together
            moved, there = heapq.heappop(queue)
            movers = draws.binomial(deciding.pop((moved, there)), chance[there])
            if movers > 0:
                for arc, going in self._set_out(there, movers, draws, place, arcs, routes, rules):
                    self._travel(arc, 0, int(arcs[5][arc]), going, moved, arcs, rules, deciding, queue)

    def _set_out(self, p, movers, draws, place, arcs, routes, rules) -> list[tuple[int, float]]:
        """Movers at ``p`` split over its routes by weight; the groups that set out, by arc."""
        first, last = routes[0][p], routes[0][p + 1]
        if first == last:
            return []
        ends = routes[1][first:last]
        factor = np.array([capacity_factor(self.count[e], place[2][e], rules[1]) for e in ends])
        weight = (routes[5][first:last] * factor) ** rules[0]
        share = weight / weight.sum() if weight.sum() > 0 else np.full(len(ends), 1.0 / len(ends))
        out, left = [], movers
        for k, end in enumerate(ends):
            rest = share[k:].sum()
            going = left if k == len(ends) - 1 else draws.binomial(left, share[k] / rest if rest > 0 else 0.0)
            left -= going
            if going <= 0 or (place[3][end] and factor[k] < 0.5):
                continue  # a camp nearly full: they forget the route and stay
            self.count[p] -= going
            out.append((int(routes[3][first + k]), going))
        return out

    def _travel(self, arc, days, generation, amount, moved, arcs, rules, deciding, queue) -> None:
        """A group a day's distance further along ``arc``; arrivals with distance left go to ``deciding``."""
        speed, length = rules[2], arcs[4][arc]
        progress = (days + 1) * speed
        moved += speed
        if progress <= length:
            self.on_links[(arc, days + 1, generation)] += amount
            return
        moved += length - progress
        if generation != arcs[5][arc]:  # the link closed under them: back to where they set out
            self.count[arcs[2][arc]] += amount
            return
        there = int(arcs[3][arc])
        self.count[there] += amount
        if moved < speed:
            if (moved, there) not in deciding:
                heapq.heappush(queue, (moved, there))
            deciding[(moved, there)] += amount


class Crowd:
    """People in groups, drawn whole (``exact``: the ``counts`` backend) or as expected values (``mean``)."""

    width = 1
    bytes_per_person = 0

    def __init__(self, initial: np.ndarray, key: np.ndarray, *, exact: bool):
        self.groups = Groups(initial)
        self.key, self.exact, self.people = key, exact, float(initial.sum())

    @property
    def count(self) -> np.ndarray:
        return self.groups.count

    @property
    def travelling(self) -> float:
        return self.groups.travelling

    def _draws(self, day: int, decision: str):
        return Exact(self.key, day, decision) if self.exact else Expected()

    def spawn(self, day: int, new: int, weights: np.ndarray) -> np.ndarray:
        self.people += new
        return self.groups.spawn(new, weights, self._draws(day, SPAWN))

    def step_day(self, day: int, place: tuple, arcs: tuple, routes: tuple, rules: np.ndarray) -> None:
        self.groups.step_day(self._draws(day, MOVE), place, arcs, routes, rules)
