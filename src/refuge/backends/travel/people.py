"""The ``agents`` backend's travellers: a row a person, moved one day at a time by a compiled kernel.

A person is a row: where they are (a place ``p >= 0``, or an arc ``a`` as ``-(a + 1)``
while travelling), how far along the arc they are, the arc's closure count when
they set out, and the places left on their route. The day goes person by person
(each sees the counts the people before them left, as capacity needs), in the
order of :mod:`refuge.backends.travel`.

Random numbers are Philox counters keyed by (day, decision, person, decision
within the day), so a person's draws do not depend on anyone else's. One Philox
block gives four words: the decision to move takes one word of the block of
persons ``4k .. 4k+3`` (most people stay, and a draw is most of a stayer's cost);
the route, drawn only by movers, has its own counter.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..random import ROUNDS, decision_id, philox4x32

MOVE = decision_id("travel.move")
ROUTE = decision_id("travel.route")
SPAWN = decision_id("travel.spawn")
_TO_UNIT = 1.0 / 4294967296.0


@nb.njit(cache=True, inline="always")
def _unit(word):
    return (np.float64(word) + 0.5) * _TO_UNIT


@nb.njit(cache=True, inline="always")
def _word(words, k):
    """Word ``k`` of a Philox block: person ``4j + k``'s share of block ``j``."""
    w0, w1, w2, w3 = words
    return w0 if k == 0 else w1 if k == 1 else w2 if k == 2 else w3


@nb.njit(cache=True, inline="always")
def capacity_factor(people_there, capacity, buffer):
    """How much a place still attracts as it fills: 1 below ``buffer`` of capacity, 0 at it, linear between."""
    if capacity < 1:
        return 1.0
    if people_there <= buffer * capacity:
        return 1.0
    if people_there >= capacity:
        return 0.0
    return 1.0 - (people_there - buffer * capacity) / (capacity * (1.0 - buffer))


@nb.njit(cache=True, nogil=True)
def step_day(n, day, key, people, place, arcs, routes, rules):
    """One day's travel for people ``0 .. n-1`` (:mod:`refuge.backends.travel` gives the order and the arrays).

    ``people`` is ``(at, progress, generation, route)``; ``place``, ``arcs``, ``routes`` and ``rules``
    as :mod:`refuge.backends.travel` gives them (``count`` is kept up to date).

    One function, its arrays unpacked once: a call per person to a helper taking
    arrays costs more in reference counting than the person's whole day. It lets
    go of the GIL, so other threads (loading the plotting library) run meanwhile.
    """
    at, progress, generation, route = people
    chance, camp, count, capacity = place[0], place[3], place[4], place[2]
    arc_start, arc_order, tail, head, length, arc_generation, arc_open = arcs
    route_start, route_end, route_arc, route_path, route_weight = routes[0], routes[1], routes[3], routes[4], routes[5]
    weight = np.empty(max(1, np.max(np.diff(route_start))))
    power, buffer, speed = rules[0], rules[1], rules[2]
    width = route.shape[1]
    w0 = w1 = w2 = w3 = np.uint32(0)
    block = -1
    for phase in range(2):  # 0: everyone at a place may set out; 1: everyone on a link travels
        for i in range(n):
            if phase == 0:
                p = at[i]
                if p < 0:
                    continue
                if block != i >> 2:
                    w0, w1, w2, w3 = philox4x32(day, MOVE, i >> 2, 0, key[0], key[1], ROUNDS)
                    block = i >> 2
                if _unit(_word((w0, w1, w2, w3), i & 3)) >= chance[p]:
                    continue  # most people, most days: they stay
            elif at[i] >= 0:
                continue
            moving = phase == 0
            hop = 0
            moved = 0.0
            while True:
                if moving:
                    p = at[i]
                    if route[i, 0] < 0:  # choose a route, by weight times its end's capacity factor
                        first, last = route_start[p], route_start[p + 1]
                        if first == last:
                            break
                        total = 0.0
                        for r in range(first, last):
                            w = route_weight[r] * capacity_factor(count[route_end[r]], capacity[route_end[r]], buffer)
                            weight[r - first] = w if power == 1.0 else w**power
                            total += weight[r - first]
                        u = _unit(philox4x32(day, ROUTE, i, hop, key[0], key[1], ROUNDS)[0])
                        chosen = first + min(int(u * (last - first)), last - first - 1)
                        if total > 0.0:
                            target = u * total
                            for r in range(first, last):
                                target -= weight[r - first]
                                if target < 0.0 or r == last - 1:
                                    chosen = r
                                    break
                        arc, goal = route_arc[chosen], route_end[chosen]
                        if camp[goal] and capacity_factor(count[goal], capacity[goal], buffer) < 0.5:
                            break  # bound for a camp nearly full: the route is dropped
                        for h in range(width - 1):  # the places after the first, for the days to come
                            route[i, h] = route_path[chosen, h + 1]
                    else:  # on a route chosen earlier: its next link, if it is still open
                        arc = -1
                        for k in range(arc_start[p], arc_start[p + 1]):
                            a = arc_order[k]
                            if arc_open[a] and head[a] == route[i, 0]:
                                arc = a
                                break
                        end = 0
                        while end + 1 < width and route[i, end + 1] >= 0:
                            end += 1
                        goal = route[i, end]
                        if arc < 0 or (camp[goal] and capacity_factor(count[goal], capacity[goal], buffer) < 0.5):
                            for h in range(width):
                                route[i, h] = -1
                            break
                        for h in range(width - 1):
                            route[i, h] = route[i, h + 1]
                        route[i, width - 1] = -1
                    count[p] -= 1
                    at[i] = -(arc + 1)
                    progress[i] = 0.0
                    generation[i] = arc_generation[arc]
                    if phase == 0:
                        break
                a = -at[i] - 1  # travel on
                progress[i] += speed
                moved += speed
                if progress[i] <= length[a]:
                    break
                moved += length[a] - progress[i]
                progress[i] = 0.0
                if generation[i] != arc_generation[a]:  # the link closed under them: back to where they set out
                    at[i] = tail[a]
                    count[tail[a]] += 1
                    break
                at[i] = head[a]
                count[head[a]] += 1
                if moved >= speed:
                    break
                hop += 1  # distance left today: decide again at once
                if _unit(_word(philox4x32(day, MOVE, i >> 2, hop, key[0], key[1], ROUNDS), i & 3)) >= chance[head[a]]:
                    break
                moving = True


@nb.njit(cache=True)
def spawn(first, new, day, key, cumulative, people, count):
    """``new`` people from row ``first`` on, each at a place drawn with the spawn weights' ``cumulative`` sums."""
    at, progress, generation, route = people
    total = cumulative[-1]
    for j in range(first, first + new):
        w0, _, _, _ = philox4x32(day, SPAWN, j, 0, key[0], key[1], ROUNDS)
        p = np.searchsorted(cumulative, _unit(w0) * total, side="right")
        p = min(p, len(cumulative) - 1)
        at[j] = p
        progress[j] = 0.0
        generation[j] = 0
        route[j, :] = -1
        count[p] += 1


class Travellers:
    """People to move by the rows above, with room made for everyone who will come."""

    def __init__(self, initial: np.ndarray, coming: int, width: int, key: np.ndarray):
        self.people, self.width, self.key = int(initial.sum()), width, key
        size = self.people + coming
        at = np.zeros(size, np.int32)
        at[: self.people] = np.repeat(np.arange(len(initial)), initial)  # place by place
        self.rows = (at, np.zeros(size, np.float32), np.zeros(size, np.uint8), np.full((size, width), -1, np.int16))
        self.count = initial.copy()
        self.bytes_per_person = sum(a.nbytes for a in self.rows) // max(size, 1)

    @property
    def travelling(self) -> int:
        return self.people - int(self.count.sum())

    def spawn(self, day: int, new: int, weights: np.ndarray) -> np.ndarray:
        before = self.count.copy()
        spawn(self.people, new, day, self.key, np.cumsum(weights), self.rows, self.count)
        self.people += new
        return self.count - before

    def step_day(self, day: int, place: tuple, arcs: tuple, routes: tuple, rules: np.ndarray) -> None:
        step_day(self.people, day, self.key, self.rows, place, arcs, routes, rules)
