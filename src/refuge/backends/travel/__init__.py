"""Travel along a network, a day at a time: people leave places, choose routes and walk their links.

A system with geography (places and links, :class:`~refuge.model.network.Network`)
says each day, as arrays, what its rules make of every place and route; the
backends move people by them, and by nothing of their own:

* ``place``: ``(chance of leaving, score, capacity, camp, count)`` per place
  (``count``, the people there, is the backend's, kept up to date as people move);
* ``arcs``: ``(start, order, tail, head, length, generation, open)``, the network's
  arcs with their closure counts and whether each is open today;
* ``routes``: ``(start, end, km, first, path, weight)``, the routes from each place
  ``p`` at ``start[p]:start[p+1]``: where each ends, its length, its first arc, its
  places after the origin (``-1`` padded) and its weight today;
* ``rules``: ``(weight_power, capacity_buffer, speed)``.

The day, in this order:

1. everyone at a place leaves with the place's chance; a leaver with no route picks
   one, with probability in proportion to its weight times its end's capacity factor
   (:func:`~.people.capacity_factor`), all to ``weight_power``, and sets out on its
   first link, unless the route has vanished or ends at a camp nearly full (factor
   under one half), when they forget it and stay;
2. everyone on a link goes ``speed`` km further; who reaches the end of a link closed
   since they set out goes back to its start; who arrives having gone less than a
   day's distance decides again at once (and may set out again, with a full day's
   distance on the new link).

The backends: ``agents`` (:mod:`.people`), one row a person, each seeing the counts
the people before them left; ``counts`` and ``mean`` (:mod:`.groups`), groups of
people, whole or expected, where every route is one link long.
"""

from __future__ import annotations

import numpy as np

from ...errors import RunError

BACKENDS = ("agents", "counts", "mean")


def travellers(backend: str, initial: np.ndarray, coming: int, width: int, key: np.ndarray):
    """People to move on ``backend``: ``initial`` at each place, room for ``coming`` more, routes of up to
    ``width`` places; ``key`` their random stream."""
    if backend == "agents":
        from .people import Travellers

        return Travellers(initial, coming, width, key)
    if backend not in BACKENDS:
        raise RunError(f"backend {backend!r} cannot move people along links; choose one of {', '.join(BACKENDS)}")
    if width != 1:
        raise RunError(f"the {backend} backend moves groups along routes one link long, and these routes hold up to "
                       f"{width} places; use the agents backend")  # fmt: skip
    from .groups import Crowd

    return Crowd(initial, key, exact=backend == "counts")
