"""Traits a system declares for its people: the one place where people come to differ.

The engine's agents carry a stock and a stratum. A system that wants more declares
:class:`Traits`: the columns its people carry, the *class* their traits put them in
within their stock, each flow's relative hazard per class, and three compiled hooks
(Numba ``njit`` functions), each one loop over a range of rows ``start .. end-1``:

* ``class_of(traits, stock, start, end, context, out)``: each person's class in their stock, into
  ``out[i - start]`` (a function of the traits and the stock alone: the backend keeps it from the
  end of one step, after ``live``, to the draws of the next);
* ``born(traits, start, end, stock, stratum, u, context)``: draw newcomers' traits, ``u[i - start]``
  four uniforms of person ``i``'s own stream;
* ``live(traits, stock, stratum, start, end, moved, u, p, clock, context)``: what one step does to
  people's traits, after the backend has moved them (``stock[i]`` where they are now,
  ``moved[i - start]`` the flow that took them there or -1, ``u[i - start]`` their uniform of the step
  and ``p[i - start]`` their chance to leave: ``(u - p) / (1 - p)`` is a stayer's uniform of their
  own; ``clock`` is ``(k0, k1, step, new_year)``).

``traits`` is the tuple of trait columns in the order declared; ``context`` the tuple
:meth:`Traits.context` returns each step (a system's money, routes, places): a flat tuple of
numbers and arrays (a ``NamedTuple`` reads best), since the parallel kernel cannot hand a tuple
inside a tuple to its threads. A hook touches only its rows, so the rows' order and the threads
change nothing. The backend draws who leaves from the model's rate for their stock and stratum
times their class's weight over the stock's mean weight, so weights move *who* leaves, not how
many.

A toy camp whose vulnerable people are resettled three times as often:

>>> import numba as nb, numpy as np
>>> @nb.njit
... def vulnerable(traits, stock, start, end, context, out):
...     out[: end - start] = traits[0][start:end]
>>> @nb.njit
... def one_in_three(traits, start, end, stock, stratum, u, context):
...     traits[0][start:end] = u[: end - start, 0] < 1 / 3
>>> weights = np.ones((2, 2)); weights[1] = (1.0, 3.0)    # flows (flee, resettle) x classes (not, vulnerable)
>>> camp = Traits(columns={"vulnerable": np.uint8}, classes=2, weights=weights,
...               class_of=vulnerable, born=one_in_three)
>>> camp.bytes_per_person
1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numba as nb
import numpy as np


@nb.njit(cache=True)
def no_class(traits, stock, start, end, context, out):
    """Everyone is in their stock's one class."""
    out[: end - start] = 0


@nb.njit(cache=True)
def no_birth(traits, start, end, stock, stratum, u, context):
    """New people keep the columns' zeros."""
    return


@nb.njit(cache=True)
def no_change(traits, stock, stratum, start, end, moved, u, p, clock, context):
    """A step changes nobody's traits."""
    return


@dataclass(eq=False)
class Traits:
    """What a system's people carry beyond stock and stratum, and how it weighs on their hazards (see the module).

    ``weights`` is ``(flows, classes)``; ones (the default) move everyone alike. ``destinations``
    ``(stocks, classes)`` names the flow a person of a class must leave their stock by (-1: they draw
    among its flows, as everyone else): such a *destined* flow is taken at the summed rate of the
    stock's destined flows, only by the people bound to it (a route fixes where a journey ends).
    ``recorded`` names the traits a recorded move keeps (all by default).
    """

    columns: dict[str, Any] = field(default_factory=dict)
    classes: int = 1
    weights: np.ndarray | None = None
    destinations: np.ndarray | None = None
    class_of: Any = no_class
    born: Any = no_birth
    live: Any = no_change
    recorded: tuple[str, ...] | None = None

    @property
    def alike(self) -> bool:
        """No hooks: people differ by stock and stratum only, and the backend takes its short walk."""
        return self.class_of is no_class and self.born is no_birth and self.live is no_change

    @property
    def bytes_per_person(self) -> int:
        return sum(np.dtype(dtype).itemsize for dtype in self.columns.values())

    def context(self, state: np.ndarray, rates: np.ndarray | None, step: int, moved: np.ndarray | None) -> tuple:
        """Values the hooks read this step, for one member: its state and hazards at the step's start and what
        it moved the step before (``rates`` and ``moved`` are ``None`` for the people a run starts with, made at
        ``step`` -1). The same types every step (the hooks are compiled for them)."""
        return ()

    def label(self, table):
        """The recorded moves as a table with the system's labels (e.g. route names for route numbers)."""
        return table


#: people alike: no traits
NO_TRAITS = Traits()
