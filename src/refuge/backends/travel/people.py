"""The ``agents`` backend's travellers: a row a person, moved one day at a time by a compiled kernel.

A person is a row: where they are (a place ``p >= 0``, or an arc ``a`` as ``-(a + 1)``
while travelling), how far along the arc they are, the arc's closure count when
they set out, the places left on their route, and the day they next leave where
they are. The day goes person by person (each sees the counts the people before
them left, as capacity needs), in the order of :mod:`refuge.backends.travel`.

Deciding each day to leave with the place's chance ``c`` is the same law as waiting
a geometric number of days, ``P(wait >= k) = (1 - c) ** k``, drawn once on arrival,
so the people who stay (most of them, most days) cost a comparison, not a random
draw. A place whose chance changes has everyone there draw their wait again from
that day (the law has no memory, so this is exact).

Random numbers are Philox counters keyed by (day, decision, person, decision
within the day), so a person's draws do not depend on anyone else's.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..random import ROUNDS, decision_id, philox4x32, unit

WAIT = decision_id("travel.wait")
ROUTE = decision_id("travel.route")
SPAWN = decision_id("travel.spawn")
#: the wake day of someone who never leaves (a place whose chance is 0)
NEVER = np.int32(2**31 - 1)
#: the counters within a day of the draws of a new person's wake day, and of a wake day drawn again
UNDRAWN, REDRAWN = 0xFFFFFFFE, 0xFFFFFFFF


@nb.njit(cache=True, inline="always")
def _wake(first, chance, scale, day, person, counter, key):
    """The day someone who may first leave on day ``first`` leaves a place with ``chance`` and its
    :func:`_wait_scale`: ``P(wait >= k) = (1 - chance) ** k``, drawn at (day, WAIT, person, counter).

    Waits under a day (``u > 1 - chance``) need no logarithm, and a place everyone leaves no draw.
    """
    if chance >= 1.0:
        return np.int32(first)
    u = unit(philox4x32(day, WAIT, person, counter, key[0], key[1], ROUNDS)[0])
    if u > 1.0 - chance:
        return np.int32(first)
    wait = -np.log(u) * scale  # inf where the chance is 0
    return np.int32(first + wait) if wait < NEVER - first else NEVER


@nb.njit(cache=True, inline="always")
def _wait_scale(chance):
    """``-1 / log(1 - chance)`` per place: a wait is ``-log(u)`` times it (a product, once a day, not a
    division per draw)."""
    out = np.empty(len(chance))
    for p in range(len(chance)):
        c = min(max(chance[p], 0.0), 1.0)
        out[p] = np.inf if c == 0.0 else 0.0 if c == 1.0 else -1.0 / np.log1p(-c)  # never, at once
    return out


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

    ``people`` is ``(at, progress, generation, route, wake)``; ``place``, ``arcs``, ``routes`` and
    ``rules`` as :mod:`refuge.backends.travel` gives them (``count`` is kept up to date).

    One function, its arrays unpacked once: a call per person to a helper taking
    arrays costs more in reference counting than the person's whole day. It lets
    go of the GIL, so other threads (making the plot's figure) run meanwhile.
    """
    at, progress, generation, route, wake = people
    chance, camp, count, capacity = place[0], place[3], place[4], place[2]
    arc_start, arc_order, tail, head, length, arc_generation, arc_open = arcs
    route_start, route_end, route_arc, route_path, route_weight = routes[0], routes[1], routes[3], routes[4], routes[5]
    weight = np.empty(max(1, np.max(np.diff(route_start))))
    power, buffer, speed = rules[0], rules[1], rules[2]
    width = route.shape[1]
    scale = _wait_scale(chance)
    due = np.empty(n, np.int32)
    for phase in range(2):  # 0: who is due to leave a place sets out; 1: everyone on a link travels
        m = 0  # who they are, found first by a loop tight enough to cost little per person
        for i in range(n):
            if (at[i] >= 0 and wake[i] <= day) if phase == 0 else at[i] < 0:
                due[m] = i
                m += 1
        for k in range(m):
            i = due[k]
            if phase == 0 and wake[i] < 0:  # new today: when they leave is drawn now
                wake[i] = _wake(day, chance[at[i]], scale[at[i]], day, i, UNDRAWN, key)
                if wake[i] > day:
                    continue
            moving = phase == 0
            hop = 0
            moved = 0.0
            while True:
                if moving:
                    p = at[i]
                    arc = -1
                    if route[i, 0] < 0:  # choose a route, by weight times its end's capacity factor
                        first, last = route_start[p], route_start[p + 1]
                        if first < last:
                            total = 0.0
                            for r in range(first, last):
                                w = route_weight[r] * capacity_factor(count[route_end[r]], capacity[route_end[r]],
                                                                      buffer)
                                weight[r - first] = w if power == 1.0 else w**power
                                total += weight[r - first]
                            u = unit(philox4x32(day, ROUTE, i, hop, key[0], key[1], ROUNDS)[0])
                            chosen = first + min(int(u * (last - first)), last - first - 1)
                            if total > 0.0:
                                target = u * total
                                for r in range(first, last):
                                    target -= weight[r - first]
                                    if target < 0.0 or r == last - 1:
                                        chosen = r
                                        break
                            goal = route_end[chosen]
                            if not (camp[goal] and capacity_factor(count[goal], capacity[goal], buffer) < 0.5):
                                arc = route_arc[chosen]  # (bound for a camp nearly full, the route is dropped)
                                for h in range(width - 1):  # the places after the first, for the days to come
                                    route[i, h] = route_path[chosen, h + 1]
                    else:  # on a route chosen earlier: its next link, if it is still open
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
                            arc = -1
                            for h in range(width):
                                route[i, h] = -1
                        else:
                            for h in range(width - 1):
                                route[i, h] = route[i, h + 1]
                            route[i, width - 1] = -1
                    if arc < 0:  # no way on: they stay, and may leave again from tomorrow
                        wake[i] = _wake(day + 1, chance[p], scale[p], day, i, 2 * hop + 1, key)
                        break
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
                hop += 1
                there = head[a]
                if generation[i] != arc_generation[a]:  # the link closed under them: back to where they set out
                    there = tail[a]
                    moved = speed
                at[i] = there
                count[there] += 1
                # distance left today: they may leave again at once; else from tomorrow
                wake[i] = _wake(day if moved < speed else day + 1, chance[there], scale[there], day, i, 2 * hop, key)
                if wake[i] > day:
                    break
                moving = True


@nb.njit(cache=True, nogil=True)
def redraw(n, day, key, people, chance, changed):
    """Everyone at a place whose chance has ``changed`` draws the day they leave again, from ``day`` on."""
    at, wake = people[0], people[4]
    scale = _wait_scale(chance)
    for i in range(n):
        p = at[i]
        if p >= 0 and changed[p]:
            wake[i] = _wake(day, chance[p], scale[p], day, i, REDRAWN, key)


@nb.njit(cache=True)
def spawn(first, new, day, key, cumulative, people, count):
    """``new`` people from row ``first`` on, each at a place drawn with the spawn weights' ``cumulative`` sums."""
    at, progress, generation, route, wake = people
    total = cumulative[-1]
    for j in range(first, first + new):
        w0, _, _, _ = philox4x32(day, SPAWN, j, 0, key[0], key[1], ROUNDS)
        p = np.searchsorted(cumulative, unit(w0) * total, side="right")
        p = min(p, len(cumulative) - 1)
        at[j] = p
        progress[j] = 0.0
        generation[j] = 0
        route[j, :] = -1
        wake[j] = -1  # drawn by the day's kernel, with the chance it sees
        count[p] += 1


class Travellers:
    """People to move by the rows above, with room made for everyone who will come."""

    def __init__(self, initial: np.ndarray, coming: int, width: int, key: np.ndarray):
        self.people, self.width, self.key = int(initial.sum()), width, key
        size = self.people + coming
        at = np.zeros(size, np.int32)
        at[: self.people] = np.repeat(np.arange(len(initial)), initial)  # place by place
        self.rows = (at, np.zeros(size, np.float32), np.zeros(size, np.uint8), np.full((size, width), -1, np.int16),
                     np.full(size, NEVER, np.int32))  # fmt: skip
        self.count = initial.copy()
        self.chance = np.full(len(initial), np.nan)  # as the people's wake days were drawn: none yet
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
        self._settle(day, place[0])
        step_day(self.people, day, self.key, self.rows, place, arcs, routes, rules)

    def _settle(self, day: int, chance: np.ndarray) -> None:
        """Wake days drawn again where a place's chance is not the one they were drawn with."""
        changed = ~(chance == self.chance)
        if changed.any():
            redraw(self.people, day, self.key, self.rows, chance, changed)
            self.chance = chance.copy()
