"""People as a table of NumPy columns (struct of arrays), one row per person, no object per person.

Every person has a stock and a stratum; a system's declared traits add columns
(:class:`~refuge.backends.agents.traits.Traits`). The dtypes are part of the design:
bytes per person decide how many people fit in memory.

>>> people = People({"age": np.uint8}, capacity=4)
>>> start, end = people.add(6)
>>> (start, end, people.count, people.bytes_per_person)
(0, 6, 6, 4)
"""

from __future__ import annotations

import numpy as np

_NO_CLASS = np.zeros(0, dtype=np.uint8)


class People:
    """Everyone one ensemble member has ever had, alive or dead, as columns: ``stock`` (index of the model's
    stock), ``stratum`` (index on the model's strata), then, where traits are declared, ``class`` (the class
    the traits put the person in, kept from one step to the next) and the traits, in the order declared."""

    def __init__(self, traits: dict | None = None, capacity: int = 1024, stocks: int = 256, classes: int = 1):
        self.count = 0
        stock = np.uint8 if stocks <= 256 else np.uint16
        klass = {"class": np.uint8 if classes <= 256 else np.uint16} if traits else {}
        columns = {"stock": stock, "stratum": np.uint8, **klass, **(traits or {})}
        self._columns = {name: np.zeros(max(capacity, 1), dtype=dtype) for name, dtype in columns.items()}
        self._traits = tuple(traits or ())

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self._columns[name]
        except KeyError:
            raise AttributeError(f"no column named {name!r}") from None

    @property
    def traits(self) -> tuple[np.ndarray, ...]:
        """The trait columns, in the order declared (the hooks' ``traits``)."""
        return tuple(self._columns[name] for name in self._traits)

    @property
    def classes(self) -> np.ndarray:
        """The ``class`` column; empty where people are alike (they have none)."""
        return self._columns.get("class", _NO_CLASS)

    @property
    def capacity(self) -> int:
        return len(self._columns["stock"])

    @property
    def bytes_per_person(self) -> int:
        return sum(column.itemsize for column in self._columns.values())

    @property
    def nbytes(self) -> int:
        """Bytes held by the columns, spare capacity included."""
        return sum(column.nbytes for column in self._columns.values())

    def add(self, count: int) -> tuple[int, int]:
        """Make room for ``count`` new people; return their rows ``start, end``."""
        start, end = self.count, self.count + count
        if end > self.capacity:
            size = max(end, self.capacity + self.capacity // 2)
            for name, column in self._columns.items():
                grown = np.zeros(size, dtype=column.dtype)
                grown[:start] = column[:start]
                self._columns[name] = grown
        self.count = end
        return start, end

    def table(self) -> dict[str, np.ndarray]:
        """The rows in use, column by column (views)."""
        return {name: column[: self.count] for name, column in self._columns.items()}
