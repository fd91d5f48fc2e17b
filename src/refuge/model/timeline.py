"""The weekly clock every backend shares.

A step is one week (seed 004 counts deportations per week) and a year is 52
steps, so year ``y`` is steps ``(y - start) * 52`` up to the next year's first.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

WEEKS_PER_YEAR = 52
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True)
class Timeline:
    """Whole calendar years ``start .. end`` (both included), in weekly steps."""

    start: int = 1990
    end: int = 2040

    @property
    def years(self) -> np.ndarray:
        return np.arange(self.start, self.end + 1)

    @property
    def steps(self) -> int:
        return len(self.years) * WEEKS_PER_YEAR

    @property
    def times(self) -> np.ndarray:
        """Decimal year at the start of each step."""
        return self.start + np.arange(self.steps) / WEEKS_PER_YEAR

    @property
    def year_index(self) -> np.ndarray:
        """The year (counted from ``start``) of each step."""
        return np.repeat(np.arange(len(self.years)), WEEKS_PER_YEAR)

    def step_of(self, when: float) -> int:
        """The step in which the decimal year ``when`` falls, clipped to the timeline."""
        step = int(np.floor((when - self.start) * WEEKS_PER_YEAR + 1e-9))
        return min(max(step, 0), self.steps)


def decimal_year(value: object) -> float:
    """A date written as ``2027``, ``"2027-03"``, ``"2027-03-15"`` or a date, as a decimal year.

    Raises ``ValueError`` with the allowed forms for anything else.
    """
    if isinstance(value, dt.date):
        return value.year + (value.timetuple().tm_yday - 1) / 365.25
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        match = _DATE.match(value.strip())
        if match:
            year, month, day = (int(g) if g else None for g in match.groups())
            try:
                date = dt.date(year, month or 1, day or 1)
            except ValueError as err:
                raise ValueError(f"{value!r} is not a calendar date ({err})") from None
            return decimal_year(date)
    raise ValueError(f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
