"""The clock every backend shares: whole calendar years of equal steps.

A system chooses its step: the North Korean system's is a week (seed 004 counts
deportations per week), 52 a year; a daily system's 365. Year ``y`` is steps
``(y - start) * steps_per_year`` up to the next year's first.

>>> Timeline(2000, 2001, steps_per_year=12).steps
24
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, RunError

#: what a run's results are totals and ends of: calendar years, or each step
RESOLUTIONS = ("year", "step")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True)
class Timeline:
    """Whole calendar years ``start .. end`` (both included), in ``steps_per_year`` steps each (weeks by default)."""

    start: int
    end: int
    steps_per_year: int = 52

    def __post_init__(self) -> None:
        steps = self.steps_per_year
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
            raise ModelError(f"timeline: steps_per_year {self.steps_per_year!r} is not allowed; "
                             "allowed: a whole number, 1 or more")  # fmt: skip
        for name in ("start", "end"):
            year = getattr(self, name)
            if isinstance(year, bool) or not isinstance(year, int | np.integer):
                raise ModelError(f"timeline: {name} {year!r} is not allowed; allowed: a year, a whole number")
        if self.end < self.start:
            raise ModelError(f"timeline: end {self.end} is before start {self.start}; allowed: an end in or after "
                             "the start year")  # fmt: skip

    @property
    def years(self) -> np.ndarray:
        return np.arange(self.start, self.end + 1)

    @property
    def steps(self) -> int:
        return len(self.years) * self.steps_per_year

    @property
    def times(self) -> np.ndarray:
        """Decimal year at the start of each step."""
        return self.start + np.arange(self.steps) / self.steps_per_year

    @property
    def year_index(self) -> np.ndarray:
        """The year (counted from ``start``) of each step."""
        return np.repeat(np.arange(len(self.years)), self.steps_per_year)

    def period_index(self, resolution: str) -> np.ndarray:
        """The period each step adds to, counted from the first: its year (``"year"``) or itself (``"step"``)."""
        if resolution not in RESOLUTIONS:
            raise RunError(f"resolution: {resolution!r} is not allowed; allowed: {', '.join(RESOLUTIONS)}")
        return self.year_index if resolution == "year" else np.arange(self.steps)

    def check_window(self, start: int, end: int) -> None:
        """Refuse a window of years (a comparison's, a sensitivity analysis's) reversed or outside the timeline."""
        if not self.start <= start <= end <= self.end:
            raise RunError(f"--start {start} and --end {end} must satisfy {self.start} <= start <= end <= {self.end}")

    def first_step_from(self, when: float) -> int:
        """The first step that starts at or after the decimal year ``when``, clipped to the timeline: a lever
        from a date never acts before it (nor in the year before, from December 31)."""
        step = int(np.ceil((when - self.start) * self.steps_per_year - 1e-9))
        return min(max(step, 0), self.steps)


def decimal_year(value: object) -> float:
    """A date written as ``2027``, ``"2027-03"``, ``"2027-03-15"`` or a date, as a decimal year.

    Raises ``ValueError`` with the allowed forms for anything else.
    """
    if isinstance(value, dt.date):
        return value.year + (value.timetuple().tm_yday - 1) / 365.25
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9999:
        return float(value)
    if isinstance(value, str):
        match = _DATE.match(value.strip())
        if match:
            year, month, day = (int(g) if g else None for g in match.groups())
            try:
                date = dt.date(year, 1 if month is None else month, 1 if day is None else day)
            except ValueError as err:
                raise ValueError(f"{value!r} is not a calendar date ({err})") from None
            return decimal_year(date)
    raise ValueError(f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
