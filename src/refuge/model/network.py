"""Places and the links between them, as model data: arrays a compiled kernel can walk.

A system with geography (Flee's scenarios: towns, camps, conflict zones and the
roads between them) declares its places and two-way links once; the network
keeps each link as two arcs and indexes the arcs leaving each place (compressed
rows), so "every move along every link" is one loop over arrays, not objects.

>>> net = Network.build(["a", "b", "c"], [("a", "b", 10.0), ("b", "c", 5.0)])
>>> [net.places[net.head[k]] for k in net.arcs_from(1)]
['a', 'c']
>>> float(net.length[net.arcs_from(1)[1]])
5.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError


@dataclass(frozen=True)
class Network:
    """``places`` by name; arcs ``tail -> head`` of ``length`` (km); those leaving ``p`` at ``start[p]:start[p+1]``.

    Arc ``2i`` runs link ``i`` as written and arc ``2i + 1`` back, so ``arc ^ 1`` is the arc's reverse.
    """

    places: tuple[str, ...]
    tail: np.ndarray  # (arcs,) int32
    head: np.ndarray  # (arcs,) int32
    length: np.ndarray  # (arcs,) float64
    order: np.ndarray  # (arcs,) int32: arcs grouped by tail, in the order the links were given
    start: np.ndarray  # (places + 1,) int32

    @classmethod
    def build(cls, places: list[str], links: list[tuple[str, str, float]]) -> Network:
        index = {name: i for i, name in enumerate(places)}
        if len(index) != len(places):
            raise ModelError("a network's places must have distinct names")
        tail, head, length = [], [], []
        for a, b, km in links:
            for name in (a, b):
                if name not in index:
                    raise ModelError(f"link {a!r} - {b!r}: no place named {name!r}")
            tail += [index[a], index[b]]
            head += [index[b], index[a]]
            length += [float(km), float(km)]
        tail_a = np.array(tail, dtype=np.int32)
        order = np.argsort(tail_a, kind="stable").astype(np.int32)
        start = np.zeros(len(places) + 1, dtype=np.int32)
        np.cumsum(np.bincount(tail_a, minlength=len(places)), out=start[1:])
        return cls(tuple(places), tail_a, np.array(head, dtype=np.int32), np.array(length), order, start)

    def arcs_from(self, place: int) -> np.ndarray:
        """The arcs leaving ``place``, in the order their links were given."""
        return self.order[self.start[place] : self.start[place + 1]]

    def index(self, name: str) -> int:
        return self.places.index(name)
