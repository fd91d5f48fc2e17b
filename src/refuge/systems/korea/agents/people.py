"""People as a table of NumPy columns (struct of arrays), one row per person, no object per person.

The dtypes are part of the design: bytes per person decide how many people fit
in memory, so every column is as small as its values allow.

>>> people = People(capacity=4)
>>> start, end = people.add(6)
>>> (start, end, people.count, people.bytes_per_person)
(0, 6, 6, 16)
"""

from __future__ import annotations

import numpy as np

NO_ROUTE = 255

#: name -> dtype; what each column holds is in the docstring of :class:`People`.
COLUMNS: dict[str, type] = {
    "stock": np.uint8,
    "sex": np.uint8,
    "age": np.uint8,
    "kin": np.uint8,
    "attempts": np.uint8,
    "route": np.uint8,
    "leg": np.uint8,
    "leg_weeks": np.uint8,
    "savings": np.uint16,
    "cost": np.uint32,
    "crossed": np.int16,
}


class People:
    """Everyone one ensemble member has ever had, alive or dead, as columns.

    * ``stock``: index of the model stock the person is in;
    * ``sex``: 0 female, 1 male (the model's sex axis);
    * ``age``: years;
    * ``kin``: 1 when relatives are already in the South (M8);
    * ``attempts``: attempts to cross so far (saturates at 255);
    * ``route``, ``leg``, ``leg_weeks``: broker route, edge on it and weeks on that edge
      (``route`` stays at the last route taken after the journey; 255: none yet);
    * ``savings``: dollars at hand (saturates at 65,535);
    * ``cost``: dollars paid to brokers so far;
    * ``crossed``: step of the first crossing into China (-1: not in this run).
    """

    def __init__(self, capacity: int = 1024):
        self.count = 0
        self._columns = {name: np.zeros(max(capacity, 1), dtype=dtype) for name, dtype in COLUMNS.items()}

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self._columns[name]
        except KeyError:
            raise AttributeError(f"no column named {name!r}") from None

    @property
    def columns(self) -> tuple[np.ndarray, ...]:
        """Every column, in the order of ``COLUMNS`` (one lookup, not one per column: the week reads them all)."""
        return tuple(self._columns.values())

    @property
    def capacity(self) -> int:
        return len(self._columns["stock"])

    @property
    def bytes_per_person(self) -> int:
        return sum(np.dtype(dtype).itemsize for dtype in COLUMNS.values())

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
